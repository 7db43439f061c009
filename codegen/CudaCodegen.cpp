//===- codegen/CudaCodegen.cpp - The generator: module, kernels, scalars, tensors ===//
//
// The generator walks the program once per host region and once per device
// region. It keeps, per SSA value, either a TensorRef (a strided view of a
// region of the arena: views cost no code) or a ScalarRef (how the current
// kernel reaches the scalar). This file: the module's text, kernels,
// scalars and tensors. Regions are walked in CudaRegions.cpp, the waits
// between ops decided in CudaSyncs.cpp (counters in TileCounters.cpp),
// resident weights staged in WeightStaging.cpp, op bodies rendered in
// CudaOps.cpp, CudaComputeOps.cpp and CudaLayoutOps.cpp.
//
// Scalars: inside a kernel every thread computes every scalar itself (they
// are registers). A scalar defined by a host region is computed in the
// prologue of the first kernel that needs it; a kernel that needs a scalar
// another kernel computed reads it from its slot, which the leader thread of
// the defining kernel stores. Which scalars cross kernels is only known once
// everything is generated, so the module is generated twice: the first pass
// finds the exported scalars, the second emits their stores.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaCodegenImpl.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "codegen/DevicePrelude.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

// ---- small helpers ------------------------------------------------------------------

std::string ctypeOf(DType t) {
  switch (t) {
    case DType::F32: return "float";
    case DType::F64: return "double";
    case DType::I64: return "i64";
    case DType::I32: return "int";
    case DType::I1: return "bool";
    case DType::U8: return "unsigned char";
    default: return "";
  }
}

std::string literal(const ir::AttrValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) {
    if (*i == std::numeric_limits<int64_t>::min()) return "(-9223372036854775807LL - 1)";
    return fmt::format("{}LL", *i);
  }
  if (const double* d = std::get_if<double>(&v)) {
    if (std::isinf(*d)) return *d > 0 ? "(1.0 / 0.0)" : "(-1.0 / 0.0)";
    if (std::isnan(*d)) return "(0.0 / 0.0)";
    std::string s = fmt::format("{:.17g}", *d);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "0";
}

Expr TensorRef::numel() const {
  Expr n = 1;
  for (const Expr& d : dims) n = n * d;
  return n;
}

int64_t TensorRef::boundElements() const {
  int64_t n = 1;
  for (int64_t b : bounds) n *= b;
  return n;
}

std::vector<Expr> contiguousStrides(const std::vector<Expr>& dims) {
  std::vector<Expr> strides(dims.size());
  Expr s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s = s * dims[i];
  }
  return strides;
}

bool TensorRef::contiguous() const {
  const std::vector<Expr> want = contiguousStrides(dims);
  for (size_t i = 0; i < dims.size(); ++i)
    if (!dims[i].is(1) && !(strides[i] == want[i])) return false;
  return true;
}

// ---- the generator -------------------------------------------------------------------

Generator::Generator(const ir::Program& program, const CudaCodegenOptions& options, ExportState& exports)
    : program_(program), options_(options), exports_(exports) {}

CodegenError Generator::error(const Op& op, const std::string& message, ir::ErrorKind kind) const {
  return CodegenError{ir::Status::error(fmt::format("CUDA code generation: '{}': {}", op.name(), message), op.loc(), kind)};
}

std::string Generator::describe(const Op& op) const {
  ir::PrintOptions po;
  po.locations = options_.locations;
  po.elideRegions = true;
  std::string text = ir::printOp(op, po);
  if (size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

std::string Generator::origin(const Op& op) const {
  return op.loc().known() ? fmt::format("{} at {}", op.name(), op.loc().str()) : std::string(op.name());
}

CudaModule Generator::run() {
  for (const ir::Symbol& s : program_.symbols()) plan_.symbols.push_back(s.name);
  // plan-memory's block first: its offsets are relative to it.
  if (auto arena = ir::arenaPlan(program_))
    planBase_ = layout_.region(layout_.place("plan-memory: the values it placed", arena->bytes)).offset;
  // The arena: weights first (copied once), then inputs, then everything the program computes.
  for (const ir::WeightDecl& w : program_.weights()) {
    std::vector<int64_t> bounds;
    for (const ir::Dim& d : w.type.dims()) bounds.push_back(d.value());
    TensorRef ref = freshRef("@" + w.name, w.type.dtype(), dimsOfType(w.type, nullptr), bounds);
    weights_[w.name] = ref;
    plan_.weightRegions.push_back(ref.region);
  }
  const ir::Region& body = program_.body();
  for (size_t i = 0; i < body.numArguments(); ++i) {
    const Value* arg = body.argument(i);
    BoundaryValue bv;
    bv.name = arg->name();
    bv.dtype = arg->type().dtype();
    if (arg->type().isScalar()) {
      bv.isScalar = true;
      bv.slot = slotOf(arg);
      scalars_[arg] = ScalarRef{ScalarRef::Kind::Slot, {}, arg->type().dtype(), -1, nullptr, bv.slot};
    } else {
      const std::vector<Expr> dims = dimsOfType(arg->type(), nullptr);
      TensorRef ref = freshRef("%" + arg->name(), arg->type().dtype(), dims, boundsOfType(arg->type()));
      tensors_[arg] = ref;
      bv.region = ref.region;
      bv.rank = static_cast<int>(dims.size());
    }
    plan_.inputs.push_back(bv);
  }
  hostRegion(body, plan_.steps);

  // Slots and the barrier go last: their offsets are known once every buffer is placed.
  plan_.numSlots = std::max<int64_t>(exports_.nextSlot, 1);
  const int slots = layout_.place("scalar slots", 8 * plan_.numSlots);
  const int barrier = layout_.place("grid barrier", 8);
  plan_.slotsOffset = layout_.region(slots).offset;
  plan_.barrierOffset = layout_.region(barrier).offset;
  if (!plan_.checks.empty())
    plan_.errorOffset = layout_.region(layout_.place("device error word", runtime::cuda::kDeviceErrorBytes)).offset;
  plan_.regions = layout_.regions();
  plan_.arenaBytes = layout_.size();
  std::string source = render();
  return CudaModule{std::move(source), std::move(plan_)};
}

// ---- the text of the module ------------------------------------------------------------

std::string Generator::render() const {
  std::string out;
  out += "// Generated by Cocktail's CUDA code generator from the scheduled uProgram.\n";
  out += "// Kernels: one per device region (persistent: a cooperative launch, every block\n";
  out += "// runs the loop) and one per uOperator of a host region (grid = its tiles).\n\n";
  out += devicePrelude();
  out += "\n// ---- the program ----------------------------------------------------------------\n";
  out += "// Arena layout (bytes; every tensor at its upper-bound size):\n";
  for (const BufferRegion& r : layout_.regions())
    out += fmt::format("//   {:>10} {:>10}  {}\n", r.offset, r.bytes, r.name);
  out += fmt::format("#define COCKTAIL_SLOTS_OFFSET {}\n#define COCKTAIL_BARRIER_OFFSET {}\n", plan_.slotsOffset,
                     plan_.barrierOffset);
  if (plan_.errorOffset >= 0) {
    out += fmt::format("#define COCKTAIL_ERROR_OFFSET {}\n", plan_.errorOffset);
    out += "// Checks that set the device error word (check: op, source, what):\n";
    for (size_t i = 0; i < plan_.checks.size(); ++i) {
      const DeviceCheck& c = plan_.checks[i];
      out += fmt::format("//   {:>4}: {} at {}:{}, {}\n", i, c.op, c.file.empty() ? "?" : c.file, c.line,
                         c.kind == DeviceCheck::Kind::Raise ? "raise" : fmt::format("index into dim {}", c.dim));
    }
  }
  out += "\n// The argument block of every kernel: the arena, the symbols' values, host loop indices.\n";
  out += "struct CocktailFrame {\n  char* arena;\n";
  std::string symList;
  for (const std::string& s : plan_.symbols) symList += (symList.empty() ? "" : ", ") + s;
  out += fmt::format("  i64 sym[{}];{}\n", std::max<size_t>(plan_.symbols.size(), 1),
                     symList.empty() ? "" : "  // " + symList);
  out += fmt::format("  i64 idx[{}];\n}};\n", std::max(plan_.numLoopIndices, 1));
  for (const KernelText& k : kernels_) {
    out += "\n";
    out += k.comment;
    // A cooperative kernel runs one block per SM: with that said, ptxas
    // budgets the SM's registers for it (without, it spilled the LSTM's loop
    // kernel at 48 registers).
    out += fmt::format("extern \"C\" __global__ void __launch_bounds__({}{}) {}(const CocktailFrame f) {{\n",
                       kBlockThreads, k.cooperative ? ", 1" : "", k.name);
    out += "  char* const A = f.arena;\n";
    out += "  i64* const S = (i64*)(A + COCKTAIL_SLOTS_OFFSET);\n";
    if (k.cooperative || k.usesErrors)
      out += "  unsigned int* const barrier = (unsigned int*)(A + COCKTAIL_BARRIER_OFFSET);\n";
    if (k.usesErrors) out += "  unsigned long long* const E = (unsigned long long*)(A + COCKTAIL_ERROR_OFFSET);\n";
    for (size_t i = 0; i < plan_.symbols.size(); ++i)
      out += fmt::format("  const i64 sym_{} = f.sym[{}];\n", plan_.symbols[i], i);
    for (const std::string& line : k.prologue) out += "  " + line + "\n";
    if (k.syncAfterPrologue)
      out += "  cocktail_grid_sync(barrier);  // every block has read the prologue's scalars before their bytes are reused\n";
    out += k.body;
    out += "}\n";
  }
  // The emulation harness calls kernels through one entry point per kernel,
  // since it cannot know CocktailFrame's layout.
  out += "\n#ifdef COCKTAIL_EMULATION\n";
  for (const KernelText& k : kernels_)
    out += fmt::format("extern \"C\" void cocktail_emu_{}(const void* frame) {{ {}(*(const CocktailFrame*)frame); }}\n",
                       k.name, k.name);
  out += "#endif\n";
  return out;
}

// ---- kernels ---------------------------------------------------------------------------

int Generator::openKernel(const std::string& what, KernelInfo::Kind kind, int64_t tiles, const Op* from,
                          std::string comment) {
  const int id = static_cast<int>(kernels_.size());
  KernelText k;
  k.name = fmt::format("k{}_{}", id, what);
  k.cooperative = kind != KernelInfo::Kind::Operator;
  k.comment = std::move(comment);
  kernels_.push_back(std::move(k));
  plan_.kernels.push_back({kernels_.back().name, kind, tiles, from ? origin(*from) : what, 0, kBlockThreads});
  current_ = id;
  indent_ = 1;
  accesses_.clear();
  staged_.clear();
  stagedFor_.clear();
  sharedUsed_ = 0;
  counterProducers_.clear();
  counters_.clear();
  counterOf_.clear();
  taskWaits_.clear();
  publishAfterTask_.clear();
  return id;
}

void Generator::closeKernel() {
  KernelText& k = kernel();
  for (const auto& [rb, re] : k.prologueReads)
    for (const auto& [wb, we] : k.writes)
      if (rb < we && wb < re) k.syncAfterPrologue = true;
  if (k.syncAfterPrologue && !k.cooperative) {
    // An operator kernel that needs the barrier is launched cooperatively;
    // its uTask loop serves any grid.
    k.cooperative = true;
    plan_.kernels[static_cast<size_t>(current_)].kind = KernelInfo::Kind::Persistent;
  }
  current_ = -1;
}

void Generator::line(const std::string& text) {
  kernel().body += std::string(static_cast<size_t>(2 * indent_), ' ') + text + "\n";
}

void Generator::open(const std::string& text) {
  line(text.empty() ? "{" : text + " {");
  ++indent_;
}

void Generator::close(const std::string& suffix) {
  --indent_;
  line("}" + suffix);
}

std::string Generator::bufferPointer(const TensorRef& ref) {
  KernelText& k = kernel();
  const std::string name = fmt::format("b{}", ref.region);
  if (k.declaredRegions.insert(ref.region).second) {
    const BufferRegion& r = layout_.region(ref.region);
    k.prologue.push_back(
        fmt::format("{}* const {} = ({}*)(A + {});  // {}", ctypeOf(ref.dtype), name, ctypeOf(ref.dtype), r.offset, r.name));
  }
  return name;
}

void Generator::requireDeps(const TensorRef& ref) {
  for (const Value* v : ref.deps) (void)scalar(v);
}

// ---- scalars ---------------------------------------------------------------------------

int Generator::slotOf(const Value* v) {
  auto [it, inserted] = exports_.slots.emplace(v, exports_.nextSlot);
  if (inserted) ++exports_.nextSlot;
  return it->second;
}

std::string Generator::scalarName(const Value* v) const { return fmt::format("v{}", valueId(v)); }

int Generator::valueId(const Value* v) const {
  auto [it, inserted] = ids_.emplace(v, static_cast<int>(ids_.size()));
  return it->second;
}

std::string Generator::loadSlot(const Value* v, DType t) const {
  const int slot = exports_.slots.at(v);
  if (t == DType::F64) return fmt::format("__longlong_as_double(S[{}])", slot);
  if (t == DType::I1) return fmt::format("(S[{}] != 0)", slot);
  return fmt::format("S[{}]", slot);
}

std::string Generator::storeSlot(const Value* v, const std::string& expr, DType t) {
  const int slot = slotOf(v);
  const std::string bits = t == DType::F64 ? fmt::format("__double_as_longlong({})", expr) : fmt::format("(i64)({})", expr);
  return fmt::format("if (cocktail_leader()) S[{}] = {};", slot, bits);
}

std::string Generator::scalar(const Value* v) {
  auto it = scalars_.find(v);
  if (it == scalars_.end()) {
    const Op* def = v->definingOp();
    throw CodegenError{ir::Status::error(fmt::format("CUDA code generation: a scalar operand of {} has no value here",
                                                     def ? std::string(def->name()) : "a region"),
                                         def ? def->loc() : ir::Location{})};
  }
  ScalarRef& s = it->second;
  switch (s.kind) {
    case ScalarRef::Kind::Literal:
    case ScalarRef::Kind::LoopIndex:
      return s.expr;
    case ScalarRef::Kind::Local:
      if (s.kernel == current_) return s.expr;
      // Defined by another kernel: read what its leader stored.
      return importScalar(v, s);
    case ScalarRef::Kind::Slot:
      return importScalar(v, s);
    case ScalarRef::Kind::Pending:
      return materializeHostScalar(v);
  }
  return s.expr;
}

std::string Generator::importScalar(const Value* v, ScalarRef& s) {
  KernelText& k = kernel();
  const std::string name = scalarName(v);
  if (k.imported.insert(v).second) {
    exports_.exported.insert(v);
    slotOf(v);
    k.prologue.push_back(fmt::format("const {} {} = {};", ctypeOf(s.dtype), name, loadSlot(v, s.dtype)));
  }
  return name;
}

std::string Generator::materializeHostScalar(const Value* v) {
  ScalarRef& s = scalars_.at(v);
  const Op& op = *s.pendingOp;
  // The kernel's prologue is the only place a host scalar can go: it runs
  // before anything of this kernel, after everything it depends on.
  const std::string expr = scalarOpExpr(op);
  const std::string name = scalarName(v);
  KernelText& k = kernel();
  if (op.kind() == OpKind::ToScalar && op.operand(0)->type().isTensor())
    k.prologueReads.push_back(bytesOf(tensor(op.operand(0), op)));
  k.prologue.push_back(fmt::format("const {} {} = {};  // {}", ctypeOf(s.dtype), name, expr, describe(op)));
  s.kind = ScalarRef::Kind::Local;
  s.kernel = current_;
  s.expr = name;
  if (exports_.exported.count(v)) k.prologue.push_back(storeSlot(v, name, s.dtype));
  return name;
}

void Generator::defineLocalScalar(const Value* v, const std::string& expr, const std::string& comment) {
  const DType t = v->type().dtype();
  const std::string name = scalarName(v);
  line(fmt::format("const {} {} = {};{}", ctypeOf(t), name, expr, comment.empty() ? "" : "  // " + comment));
  scalars_[v] = ScalarRef{ScalarRef::Kind::Local, name, t, current_, nullptr, -1};
  if (exports_.exported.count(v)) line(storeSlot(v, name, t));
}

HostScalar Generator::hostScalar(const Value* v) {
  const ScalarRef& s = scalars_.at(v);
  HostScalar h;
  h.dtype = s.dtype;
  if (s.kind == ScalarRef::Kind::Literal) {
    h.kind = HostScalar::Kind::Constant;
    h.value = s.literalValue;
    return h;
  }
  if (s.kind == ScalarRef::Kind::LoopIndex) {
    h.kind = HostScalar::Kind::LoopIndex;
    h.value = s.slot;
    return h;
  }
  // The host reads it from its slot: whoever defines it must store it.
  exports_.exported.insert(v);
  h.kind = HostScalar::Kind::Slot;
  h.value = slotOf(v);
  return h;
}

// ---- tensors ---------------------------------------------------------------------------

TensorRef Generator::freshRef(const std::string& name, DType dtype, std::vector<Expr> dims, std::vector<int64_t> bounds) {
  TensorRef ref;
  ref.dtype = dtype;
  int64_t elems = 1;
  for (int64_t b : bounds) elems *= b;
  ref.region = layout_.place(name, elems * ir::dtypeSize(dtype));
  ref.strides = contiguousStrides(dims);
  ref.dims = std::move(dims);
  ref.bounds = std::move(bounds);
  return ref;
}

TensorRef Generator::resultRef(const Op& op, size_t i, const std::string& name, DType dtype, std::vector<Expr> dims,
                               std::vector<int64_t> bounds) {
  const std::span<const int64_t> mem = ir::memPlan(op).offsets;
  const int64_t planBytes = ir::arenaPlan(program_).value_or(ir::ArenaPlan{}).bytes;
  if (planBase_ < 0 || i >= mem.size() || mem[i] < 0) return freshRef(name, dtype, std::move(dims), std::move(bounds));
  int64_t bytes = ir::dtypeSize(dtype);
  for (int64_t b : bounds) bytes *= b;
  if (mem[i] + bytes > planBytes)
    throw error(op, fmt::format("plan-memory put result {} at {} (+{} bytes) outside its {}-byte arena", i, mem[i],
                                bytes, planBytes));
  TensorRef ref;
  ref.dtype = dtype;
  ref.region = layout_.placeAt(name + " (planned)", planBase_ + mem[i], bytes);
  ref.strides = contiguousStrides(dims);
  ref.dims = std::move(dims);
  ref.bounds = std::move(bounds);
  return ref;
}

std::vector<Expr> Generator::dimsOfType(const ir::Type& type, const Op* op) const {
  std::vector<Expr> dims;
  for (const ir::Dim& d : type.dims()) {
    if (d.isConstant())
      dims.emplace_back(d.value());
    else if (d.isSymbol())
      dims.push_back(Expr::code("sym_" + d.symbolName()));
    else if (op)
      throw error(*op, "a dim of the result is unknown (`?`) where the generator needs it from the type");
    else
      throw CodegenError{ir::Status::error("CUDA code generation: a program input has an unknown dim")};
  }
  return dims;
}

std::vector<int64_t> Generator::boundsOfType(const ir::Type& type) const {
  std::vector<int64_t> bounds;
  for (const ir::Dim& d : type.dims()) {
    if (d.isConstant()) {
      bounds.push_back(d.value());
    } else if (d.isSymbol()) {
      const ir::Symbol* s = program_.findSymbol(d.symbolName());
      bounds.push_back(s ? s->bound : 0);
    } else {
      bounds.push_back(-1);  // unknown: the op's rule must supply it
    }
  }
  return bounds;
}

const TensorRef& Generator::tensor(const Value* v, const Op& user) {
  auto it = tensors_.find(v);
  if (it == tensors_.end()) throw error(user, "an operand tensor has no storage here (an `undef` that is read?)");
  return it->second;
}

bool Generator::isView(const Op& op) const {
  if (!ir::isView(op.kind())) return false;
  // A regrouping view (reshape) reads in place only a dense operand.
  if (!ir::hasTrait(op.kind(), ir::kRegroups)) return true;
  auto it = tensors_.find(op.operand(0));
  return it != tensors_.end() && it->second.contiguous();
}

// ---- entry point -------------------------------------------------------------------------

ir::Expected<CudaModule> generateCuda(const ir::Program& program, const CudaCodegenOptions& options) {
  ExportState exports;
  try {
    // First pass: which scalars cross kernels; second: the module, with their stores.
    { Generator(program, options, exports).run(); }
    ExportState second;
    second.exported = exports.exported;
    second.slots = exports.slots;
    second.outputSlots = exports.outputSlots;
    second.nextSlot = exports.nextSlot;
    second.tileWaited = exports.tileWaited;
    second.secondPass = true;
    return Generator(program, options, second).run();
  } catch (const CodegenError& e) {
    return e.status;
  }
}

}  // namespace cocktail::codegen
