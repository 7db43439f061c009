//===- runtime/cuda/CudaCodegen.cpp - Regions, kernels, scalars and syncs -----------===//
//
// The generator walks the program once per host region and once per device
// region. It keeps, per SSA value, either a TensorRef (a strided view of a
// region of the arena: views cost no code) or a ScalarRef (how the current
// kernel reaches the scalar). Op bodies are rendered in CudaOps.cpp.
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
#include "runtime/cuda/CudaCodegenImpl.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "ir/Printer.h"
#include "runtime/cuda/DevicePrelude.h"

namespace cocktail::runtime::cuda {

using ir::DType;
using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Value;

// ---- small helpers ------------------------------------------------------------------

std::string ctypeOf(DType t) {
  switch (t) {
    case DType::F32: return "float";
    case DType::F64: return "double";
    case DType::I64: return "i64";
    case DType::I32: return "int";
    case DType::I1: return "bool";
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

CodegenError Generator::error(const Op& op, const std::string& message) const {
  return CodegenError{ir::Status::error(fmt::format("CUDA code generation: '{}': {}", op.name(), message), op.loc())};
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
  for (const ir::Symbol& s : program_.symbols()) module_.symbols.push_back(s.name);
  // plan-memory's block first: its offsets are relative to it.
  if (auto bytes = program_.attrs().getInt("arena_bytes"))
    planBase_ = module_.layout.region(module_.layout.place("plan-memory: the values it placed", *bytes)).offset;
  // The arena: weights first (copied once), then inputs, then everything the program computes.
  for (const ir::WeightDecl& w : program_.weights()) {
    std::vector<int64_t> bounds;
    for (const ir::Dim& d : w.type.dims()) bounds.push_back(d.value());
    TensorRef ref = freshRef("@" + w.name, w.type.dtype(), dimsOfType(w.type, nullptr), bounds);
    weights_[w.name] = ref;
    module_.weightRegions.push_back(ref.region);
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
    module_.inputs.push_back(bv);
  }
  hostRegion(body, module_.plan);

  // Slots and the barrier go last: their offsets are known once every buffer is placed.
  module_.numSlots = std::max<int64_t>(exports_.nextSlot, 1);
  const int slots = module_.layout.place("scalar slots", 8 * module_.numSlots);
  const int barrier = module_.layout.place("grid barrier", 8);
  module_.slotsOffset = module_.layout.region(slots).offset;
  module_.barrierOffset = module_.layout.region(barrier).offset;
  module_.source = render();
  return std::move(module_);
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
  for (const BufferRegion& r : module_.layout.regions())
    out += fmt::format("//   {:>10} {:>10}  {}\n", r.offset, r.bytes, r.name);
  out += fmt::format("#define COCKTAIL_SLOTS_OFFSET {}\n#define COCKTAIL_BARRIER_OFFSET {}\n", module_.slotsOffset,
                     module_.barrierOffset);
  out += "\n// The argument block of every kernel: the arena, the symbols' values, host loop indices.\n";
  out += "struct CocktailFrame {\n  char* arena;\n";
  std::string symList;
  for (const std::string& s : module_.symbols) symList += (symList.empty() ? "" : ", ") + s;
  out += fmt::format("  i64 sym[{}];{}\n", std::max<size_t>(module_.symbols.size(), 1),
                     symList.empty() ? "" : "  // " + symList);
  out += fmt::format("  i64 idx[{}];\n}};\n", std::max(module_.numLoopIndices, 1));
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
    if (k.cooperative) out += "  unsigned int* const barrier = (unsigned int*)(A + COCKTAIL_BARRIER_OFFSET);\n";
    for (size_t i = 0; i < module_.symbols.size(); ++i)
      out += fmt::format("  const i64 sym_{} = f.sym[{}];\n", module_.symbols[i], i);
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
  module_.kernels.push_back({kernels_.back().name, kind, tiles, from ? origin(*from) : what});
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
    module_.kernels[static_cast<size_t>(current_)].kind = KernelInfo::Kind::Persistent;
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
    const BufferRegion& r = module_.layout.region(ref.region);
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
  ref.region = module_.layout.place(name, elems * ir::dtypeSize(dtype));
  ref.strides = contiguousStrides(dims);
  ref.dims = std::move(dims);
  ref.bounds = std::move(bounds);
  return ref;
}

TensorRef Generator::resultRef(const Op& op, size_t i, const std::string& name, DType dtype, std::vector<Expr> dims,
                               std::vector<int64_t> bounds) {
  auto mem = op.attrs().getInts("mem");
  const auto planBytes = program_.attrs().getInt("arena_bytes");
  if (planBase_ < 0 || !mem || i >= mem->size() || (*mem)[i] < 0) return freshRef(name, dtype, std::move(dims), std::move(bounds));
  int64_t bytes = ir::dtypeSize(dtype);
  for (int64_t b : bounds) bytes *= b;
  if ((*mem)[i] + bytes > planBytes.value_or(0))
    throw error(op, fmt::format("plan-memory put result {} at {} (+{} bytes) outside its {}-byte arena", i, (*mem)[i],
                                bytes, planBytes.value_or(0)));
  TensorRef ref;
  ref.dtype = dtype;
  ref.region = module_.layout.placeAt(name + " (planned)", planBase_ + (*mem)[i], bytes);
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

// ---- host regions ----------------------------------------------------------------------

namespace {

bool isViewOp(OpKind k) {
  switch (k) {
    case OpKind::Select:
    case OpKind::Slice:
    case OpKind::Chunk:
    case OpKind::Split:
    case OpKind::Transpose:
    case OpKind::Permute:
    case OpKind::Unsqueeze:
    case OpKind::Squeeze:
    case OpKind::Expand:
    case OpKind::ExpandAs:
      return true;
    default:
      return false;
  }
}

bool isScalarOp(const Op& op) {
  if (op.numResults() != 1 || !op.result()->type().isScalar()) return false;
  switch (op.info().opClass) {
    case OpClass::Binary:
    case OpClass::Unary:
    case OpClass::Scalar:
      return true;
    default:
      return op.kind() == OpKind::Cast;
  }
}

}  // namespace

bool Generator::isView(const Op& op) const {
  if (isViewOp(op.kind())) return true;
  if (op.kind() == OpKind::Reshape || op.kind() == OpKind::ReshapeAs || op.kind() == OpKind::Flatten) {
    auto it = tensors_.find(op.operand(0));
    return it != tensors_.end() && it->second.contiguous();
  }
  return false;
}

void Generator::hostRegion(const ir::Region& region, std::vector<HostStep>& steps) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    if (declareCommon(op)) continue;
    if (isScalarOp(op)) {
      // Computed by the first kernel that needs it (see materializeHostScalar).
      scalars_[op.result()] = ScalarRef{ScalarRef::Kind::Pending, {}, op.result()->type().dtype(), -1, &op, -1};
      continue;
    }
    if (isView(op)) {
      viewOp(op);
      continue;
    }
    switch (op.kind()) {
      case OpKind::Loop:
        if (op.attrs().getString("placement") == "host")
          hostLoop(op, steps);
        else
          deviceRegionKernel(op, steps);
        break;
      case OpKind::If:
        if (op.attrs().getString("placement") == "host")
          hostIf(op, steps);
        else
          deviceRegionKernel(op, steps);
        break;
      case OpKind::Return:
        returnKernel(op, steps);
        break;
      case OpKind::Yield:
        break;  // the caller copies the yielded values
      default:
        operatorKernel(op, steps);
        break;
    }
  }
}

bool Generator::declareCommon(const Op& op) {
  switch (op.kind()) {
    case OpKind::Constant: {
      const Value* v = op.result();
      auto it = op.attrs().all().find("value");
      if (it == op.attrs().all().end()) throw error(op, "constant without a value");
      ScalarRef s{ScalarRef::Kind::Literal, literal(it->second), v->type().dtype(), -1, nullptr, -1};
      if (const int64_t* i = std::get_if<int64_t>(&it->second)) s.literalValue = *i;
      if (const bool* b = std::get_if<bool>(&it->second)) s.literalValue = *b;
      scalars_[v] = s;
      return true;
    }
    case OpKind::Undef:
      if (op.result()->type().isScalar())
        scalars_[op.result()] = ScalarRef{ScalarRef::Kind::Literal, "0", op.result()->type().dtype(), -1, nullptr, -1};
      return true;
    case OpKind::Weight: {
      auto name = op.attrs().getString("name");
      auto it = name ? weights_.find(*name) : weights_.end();
      if (it == weights_.end()) throw error(op, "refers to a weight the program does not declare");
      tensors_[op.result()] = it->second;
      return true;
    }
    case OpKind::Island:
      throw error(op, fmt::format("the TorchScript island '{}' runs on the host interpreter, which the CUDA backend "
                                  "does not call; compile with --target cpu",
                                  op.attrs().getString("op").value_or("?")));
    case OpKind::Raise:
      throw error(op, "`raise` is not supported on the device yet");
    default:
      return false;
  }
}

void Generator::operatorKernel(const Op& op, std::vector<HostStep>& steps) {
  const int64_t tiles = op.attrs().getInt("tiles").value_or(0);
  const int id = openKernel(std::string(op.name()), KernelInfo::Kind::Operator, tiles, &op,
                            fmt::format("// {}\n", describe(op)));
  computeOp(op);
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::deviceRegionKernel(const Op& op, std::vector<HostStep>& steps) {
  const bool isLoop = op.kind() == OpKind::Loop;
  std::string comment = fmt::format("// Persistent kernel: {}\n", describe(op));
  if (auto reason = op.attrs().getString("reason")) comment += fmt::format("//   placement: {}\n", *reason);
  if (auto res = op.attrs().getString("residency")) comment += fmt::format("//   residency: {}\n", *res);
  const int id = openKernel(isLoop ? "loop" : "if", KernelInfo::Kind::Persistent, 0, &op, comment);
  for (size_t r = 0; r < op.numRegions(); ++r) findCounterProducers(op.region(r));
  if (isLoop)
    deviceLoop(op);
  else
    deviceIf(op);
  zeroTileCounters();
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::hostLoop(const Op& op, std::vector<HostStep>& steps) {
  // loop(trip, cond, init...) ^(i, carried...) yields (cond, carried...)
  const ir::Region& body = op.region(0);
  HostStep step;
  step.kind = HostStep::Kind::Loop;
  step.loopIndex = module_.numLoopIndices++;

  // Carried values live in their own storage, which is also the loop's results.
  step.initKernel =
      openKernel("loop_init", KernelInfo::Kind::Copy, 0, &op, fmt::format("// Host loop, initial carried values: {}\n", describe(op)));
  std::vector<const Value*> carriedScalars;
  for (size_t i = 2; i < op.numOperands(); ++i) {
    const Value* init = op.operand(i);
    const Value* arg = body.argument(i - 1);
    if (init->type().isScalar()) {
      const std::string expr = scalar(init);
      slotOf(arg);
      exports_.exported.insert(arg);
      line(storeSlot(arg, expr, arg->type().dtype()));
      scalars_[arg] = ScalarRef{ScalarRef::Kind::Slot, {}, arg->type().dtype(), -1, nullptr, exports_.slots.at(arg)};
    } else {
      TensorRef carried = carriedRef(op, tensor(init, op), arg);
      copyTensor(carried, tensor(init, op), "initial carried value");
      tensors_[arg] = carried;
    }
  }
  step.trip = hostScalar(op.operand(0));
  step.cond = hostScalar(op.operand(1));
  // Both must be computed by now: a pending scalar goes into this kernel.
  if (step.trip.kind == HostScalar::Kind::Slot) ensureStored(op.operand(0));
  if (step.cond.kind == HostScalar::Kind::Slot) ensureStored(op.operand(1));
  closeKernel();

  scalars_[body.argument(0)] =
      ScalarRef{ScalarRef::Kind::LoopIndex, fmt::format("f.idx[{}]", step.loopIndex), DType::I64, -1, nullptr, step.loopIndex};
  hostRegion(body, step.body);

  const Op* yield = body.terminator();
  step.yieldKernel =
      openKernel("loop_yield", KernelInfo::Kind::Copy, 0, &op, fmt::format("// Host loop, next carried values: {}\n", describe(op)));
  yieldInto(*yield, 1, [&](size_t i) { return body.argument(i); }, true);
  step.yieldCond = hostScalar(yield->operand(0));
  if (step.yieldCond.kind == HostScalar::Kind::Slot) ensureStored(yield->operand(0));
  closeKernel();

  for (size_t i = 0; i < op.numResults(); ++i) bindResult(op.result(i), body.argument(i + 1));
  steps.push_back(std::move(step));
}

void Generator::hostIf(const Op& op, std::vector<HostStep>& steps) {
  HostStep step;
  step.kind = HostStep::Kind::If;
  // The host reads the predicate, so a kernel must have stored it; one that
  // no kernel computed yet gets a kernel of its own.
  step.cond = hostScalar(op.operand(0));
  if (scalars_.at(op.operand(0)).kind == ScalarRef::Kind::Pending) {
    const int id = openKernel("if_predicate", KernelInfo::Kind::Copy, 0, &op,
                              fmt::format("// Host branch predicate: {}\n", describe(op)));
    ensureStored(op.operand(0));
    closeKernel();
    steps.push_back(HostStep::launch(id));
  }
  std::vector<TensorRef> results = ifResults(op);
  for (int branch = 0; branch < 2; ++branch) {
    std::vector<HostStep>& out = branch == 0 ? step.body : step.elseBody;
    const ir::Region& region = op.region(static_cast<size_t>(branch));
    hostRegion(region, out);
    const int id = openKernel(branch == 0 ? "if_then_yield" : "if_else_yield", KernelInfo::Kind::Copy, 0, &op,
                              fmt::format("// Host branch results: {}\n", describe(op)));
    yieldIfResults(op, *region.terminator(), results, true);
    closeKernel();
    out.push_back(HostStep::launch(id));
  }
  steps.push_back(std::move(step));
}

void Generator::returnKernel(const Op& ret, std::vector<HostStep>& steps) {
  const int id = openKernel("outputs", KernelInfo::Kind::Copy, 0, &ret, "// The program's outputs, contiguous, with their dims.\n");
  for (size_t i = 0; i < ret.numOperands(); ++i) {
    const Value* v = ret.operand(i);
    BoundaryValue bv;
    bv.name = fmt::format("output {}", i);
    bv.dtype = v->type().dtype();
    if (v->type().isScalar()) {
      bv.isScalar = true;
      const std::string expr = scalar(v);
      bv.slot = exports_.outputSlot(i, 1);
      line(fmt::format("if (cocktail_leader()) S[{}] = {};", bv.slot,
                       bv.dtype == DType::F64 ? fmt::format("__double_as_longlong({})", expr) : fmt::format("(i64)({})", expr)));
    } else {
      const TensorRef& src = tensor(v, ret);
      TensorRef out = freshRef(bv.name, src.dtype, src.dims, src.bounds);
      requireDeps(src);
      copyTensor(out, src, bv.name);
      bv.region = out.region;
      bv.rank = static_cast<int>(src.dims.size());
      bv.slot = exports_.outputSlot(i, std::max(bv.rank, 1));
      for (size_t d = 0; d < src.dims.size(); ++d)
        line(fmt::format("if (cocktail_leader()) S[{}] = {};", bv.slot + static_cast<int>(d), src.dims[d].str()));
    }
    module_.outputs.push_back(bv);
  }
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::ensureStored(const Value* v) {
  // Makes the current kernel compute (and, being exported, store) a scalar
  // the host will read; one already computed elsewhere was stored there.
  ScalarRef& s = scalars_.at(v);
  if (s.kind == ScalarRef::Kind::Pending) (void)scalar(v);
}

void Generator::bindResult(const Value* result, const Value* carried) {
  if (result->type().isScalar()) {
    scalars_[result] = scalars_.at(carried);
    // A host loop's carried scalar lives in its slot; the result is the same slot.
    if (scalars_[result].kind == ScalarRef::Kind::Slot) {
      exports_.slots[result] = exports_.slots.at(carried);
      exports_.exported.insert(result);
    }
  } else {
    tensors_[result] = tensors_.at(carried);
  }
}

TensorRef Generator::carriedRef(const Op& loop, const TensorRef& init, const Value* arg) {
  // The carried storage holds any iteration's value: the IR type's dims
  // where they are known, the initial value's where they are `?`.
  std::vector<Expr> dims = init.dims;
  std::vector<int64_t> bounds = init.bounds;
  const ir::Type& t = arg->type();
  for (size_t d = 0; d < t.dims().size() && d < dims.size(); ++d) {
    if (t.dims()[d].isConstant()) dims[d] = t.dims()[d].value();
    if (t.dims()[d].isSymbol()) dims[d] = Expr::code("sym_" + t.dims()[d].symbolName());
  }
  TensorRef ref = resultRef(loop, static_cast<size_t>(arg->index() - 1), ir::printValueName(arg, loop) + " (carried)",
                            t.dtype(), dims, bounds);
  ref.deps = init.deps;
  return ref;
}

std::vector<TensorRef> Generator::ifResults(const Op& op) {
  // Results take the dims of their type, which both branches' yields have
  // (a `?` dim, which could differ between them, is refused).
  std::vector<TensorRef> results;
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    if (r->type().isScalar()) {
      results.emplace_back();
      continue;
    }
    std::vector<int64_t> bounds = boundsOfType(r->type());
    std::vector<Expr> dims;
    for (size_t d = 0; d < r->type().dims().size(); ++d) {
      const ir::Dim& dim = r->type().dims()[d];
      if (dim.isUnknown()) throw error(op, "an `if` result with a `?` dim is not supported yet");
      dims.push_back(dim.isConstant() ? Expr(dim.value()) : Expr::code("sym_" + dim.symbolName()));
    }
    TensorRef ref = resultRef(op, i, ir::printValueName(r, op) + " (if result)", r->type().dtype(), dims, bounds);
    tensors_[r] = ref;
    results.push_back(ref);
  }
  return results;
}

void Generator::yieldIfResults(const Op& op, const Op& yield, const std::vector<TensorRef>& results, bool host) {
  syncBeforeRead(yield.operands(), "the branch's results");
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    const Value* y = yield.operand(i);
    if (r->type().isScalar()) {
      const std::string expr = scalar(y);
      if (host) {
        slotOf(r);
        exports_.exported.insert(r);
        line(storeSlot(r, expr, r->type().dtype()));
        scalars_[r] = ScalarRef{ScalarRef::Kind::Slot, {}, r->type().dtype(), -1, nullptr, exports_.slots.at(r)};
      } else {
        line(fmt::format("{} = {};", scalarName(r), expr));
      }
    } else {
      copyTensor(results[i], tensor(y, yield), "branch result");
    }
  }
}

// ---- device regions ---------------------------------------------------------------------

void Generator::deviceRegion(const ir::Region& region) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    if (declareCommon(op)) continue;
    if (op.info().opClass == OpClass::Terminator) continue;
    if (isScalarOp(op)) {
      if (op.kind() == OpKind::ToScalar) syncBeforeRead(op.operands(), "to_scalar reads a tensor element");
      defineLocalScalar(op.result(), scalarOpExpr(op), describe(op));
      if (op.kind() == OpKind::ToScalar && op.operand(0)->type().isTensor())
        recordAccess(&op, {tensor(op.operand(0), op)}, {});
      continue;
    }
    if (isView(op)) {
      viewOp(op);
      continue;
    }
    if (op.kind() == OpKind::Loop) {
      deviceLoop(op);
      continue;
    }
    if (op.kind() == OpKind::If) {
      deviceIf(op);
      continue;
    }
    computeOp(op);
  }
}

void Generator::gridSync(const std::string& why) {
  line(fmt::format("cocktail_grid_sync(barrier);  // {}", why));
  accesses_.clear();
}

void Generator::deviceLoop(const Op& op) {
  // Every thread runs the loop; the carried scalars are variables of the
  // enclosing scope (they are the loop's results), the carried tensors have
  // their own storage, which the yield overwrites between two grid barriers.
  const ir::Region& body = op.region(0);
  const int id = valueId(body.argument(0));
  line(fmt::format("// {}", describe(op)));
  if (op.attrs().getString("placement") == "host")
    line("// (placed on the host, but nested in a device region: it runs here)");
  syncBeforeRead(std::vector<Value*>(op.operands().begin() + 2, op.operands().end()), "the initial carried values");
  for (size_t i = 2; i < op.numOperands(); ++i) {
    const Value* init = op.operand(i);
    const Value* arg = body.argument(i - 1);
    if (init->type().isScalar()) {
      const std::string name = scalarName(arg);
      line(fmt::format("{} {} = {};  // carried", ctypeOf(arg->type().dtype()), name, scalar(init)));
      scalars_[arg] = ScalarRef{ScalarRef::Kind::Local, name, arg->type().dtype(), current_, nullptr, -1};
    } else {
      TensorRef carried = carriedRef(op, tensor(init, op), arg);
      copyTensor(carried, tensor(init, op), "initial carried value");
      tensors_[arg] = carried;
    }
  }
  const std::string cond = fmt::format("cond{}", id);
  line(fmt::format("bool {} = {};", cond, scalar(op.operand(1))));
  line(fmt::format("const i64 trip{} = {};", id, scalar(op.operand(0))));
  if (!accesses_.empty()) gridSync("the carried values are in place");
  stageResidentWeights(op);
  const std::string index = scalarName(body.argument(0));
  scalars_[body.argument(0)] = ScalarRef{ScalarRef::Kind::Local, index, DType::I64, current_, nullptr, -1};
  open(fmt::format("for (i64 {} = 0; {} < trip{} && {}; ++{})", index, index, id, cond, index));
  deviceRegion(body);
  const Op& yield = *body.terminator();
  // Scalars go through temporaries: a yield may swap two carried values.
  std::vector<std::pair<std::string, std::string>> assignments;
  for (size_t i = 1; i < yield.numOperands(); ++i) {
    const Value* arg = body.argument(i);
    if (!arg->type().isScalar()) continue;
    const std::string tmp = fmt::format("next{}_{}", id, i);
    line(fmt::format("const {} {} = {};", ctypeOf(arg->type().dtype()), tmp, scalar(yield.operand(i))));
    assignments.emplace_back(scalarName(arg), tmp);
  }
  const std::string nextCond = scalar(yield.operand(0));
  yieldInto(yield, 1, [&](size_t i) { return body.argument(i); }, false);
  for (const auto& [dst, src] : assignments) line(fmt::format("{} = {};", dst, src));
  line(fmt::format("{} = {};", cond, nextCond));
  if (!accesses_.empty()) gridSync("the next iteration reads the carried values");
  close();
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    const Value* arg = body.argument(i + 1);
    if (r->type().isScalar()) {
      scalars_[r] = scalars_.at(arg);
      if (exports_.exported.count(r)) line(storeSlot(r, scalarName(arg), r->type().dtype()));
    } else {
      tensors_[r] = tensors_.at(arg);
    }
  }
}

void Generator::deviceIf(const Op& op) {
  line(fmt::format("// {}", describe(op)));
  const std::string pred = scalar(op.operand(0));
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    if (!r->type().isScalar()) continue;
    line(fmt::format("{} {} = {{}};", ctypeOf(r->type().dtype()), scalarName(r)));
    scalars_[r] = ScalarRef{ScalarRef::Kind::Local, scalarName(r), r->type().dtype(), current_, nullptr, -1};
  }
  std::vector<TensorRef> results = ifResults(op);
  const std::vector<Access> before = accesses_;
  open(fmt::format("if ({})", pred));
  deviceRegion(op.region(0));
  yieldIfResults(op, *op.region(0).terminator(), results, false);
  const std::vector<Access> afterThen = accesses_;
  --indent_;
  line("} else {");
  ++indent_;
  accesses_ = before;
  deviceRegion(op.region(1));
  yieldIfResults(op, *op.region(1).terminator(), results, false);
  close();
  accesses_.insert(accesses_.end(), afterThen.begin(), afterThen.end());
  for (size_t i = 0; i < op.numResults(); ++i)
    if (op.result(i)->type().isScalar() && exports_.exported.count(op.result(i)))
      line(storeSlot(op.result(i), scalarName(op.result(i)), op.result(i)->type().dtype()));
}

void Generator::yieldInto(const Op& yield, size_t first, const std::function<const Value*(size_t)>& carriedArg,
                          bool host) {
  // Every block must be done reading the carried values before any block
  // overwrites them, and the yielded values must be complete: the copies'
  // access checks put the grid barrier where that is not already so. On the
  // host (`host`), carried scalars live in slots; on the device the caller
  // assigns its variables.
  auto overlapsCarried = [&](const TensorRef& src) {
    const auto [b, e] = bytesOf(src);
    for (size_t j = first; j < yield.numOperands(); ++j) {
      const Value* arg = carriedArg(j);
      if (arg->type().isScalar()) continue;
      const auto [cb, ce] = bytesOf(tensors_.at(arg));
      if (b < ce && cb < e) return true;
    }
    return false;
  };
  std::vector<size_t> staged;
  for (size_t i = first; i < yield.numOperands(); ++i) {
    const Value* arg = carriedArg(i);
    if (arg->type().isScalar()) {
      if (host) {
        exports_.exported.insert(arg);
        line(storeSlot(arg, scalar(yield.operand(i)), arg->type().dtype()));
      }
      continue;
    }
    const TensorRef& src = tensor(yield.operand(i), yield);
    const TensorRef& dst = tensors_.at(arg);
    if (bytesOf(src) == bytesOf(dst) && src.offset == dst.offset && src.strides == dst.strides)
      continue;  // the body left the value in the carried buffer
    if (!(src.dims == dst.dims))
      throw error(yield, fmt::format("yields a value of shape [{}] into a carried value of shape [{}]; a carried value "
                                     "whose shape changes across iterations is not supported yet",
                                     joinDims(src.dims), joinDims(dst.dims)));
    // A yielded value in the bytes of a carried value goes through a staging
    // copy: all carried values are read before any is written.
    if (overlapsCarried(src))
      staged.push_back(i);
    else
      copyTensor(dst, src, "carried value");
  }
  if (staged.empty()) return;
  std::vector<TensorRef> stages;
  for (size_t i : staged) {
    const TensorRef& src = tensor(yield.operand(i), yield);
    TensorRef stage = freshRef("staging for a carried value", src.dtype, src.dims, src.bounds);
    stage.deps = src.deps;
    copyTensor(stage, src, "staging: the yielded value lives in a carried value's bytes");
    stages.push_back(stage);
  }
  for (size_t k = 0; k < staged.size(); ++k) copyTensor(tensors_.at(carriedArg(staged[k])), stages[k], "carried value");
}

std::string Generator::joinDims(const std::vector<Expr>& dims) {
  std::string s;
  for (const Expr& d : dims) s += (s.empty() ? "" : ", ") + d.str();
  return s;
}

// ---- syncs -------------------------------------------------------------------------------

std::pair<int64_t, int64_t> Generator::bytesOf(const TensorRef& ref) const {
  // The whole region: a view may touch any of it.
  const BufferRegion& r = module_.layout.region(ref.region);
  return {r.offset, r.offset + std::max<int64_t>(r.bytes, 1)};
}

void Generator::syncBeforeRead(const std::vector<Value*>& operands, const std::string& why) {
  if (!kernel().cooperative) return;
  for (const Value* v : operands) {
    auto it = tensors_.find(v);
    if (it == tensors_.end()) continue;
    const auto [b, e] = bytesOf(it->second);
    for (const Access& a : accesses_)
      if (a.write && b < a.end && a.begin < e) {
        gridSync(why);
        return;
      }
  }
}

bool Generator::sameTileOfSameBlock(const Op* a, const Op* b) const {
  // Tile i of both runs on block i mod gridDim.x, and a tile-local op touches
  // only its tile's elements of a result of the same shape.
  if (!a || !b || !isTileLocal(*a) || !isTileLocal(*b)) return false;
  const auto tiles = a->attrs().getInt("tiles");
  return tiles && *tiles > 0 && b->attrs().getInt("tiles") == tiles &&
         a->attrs().getInt("tile_elems") == b->attrs().getInt("tile_elems") &&
         a->result()->type() == b->result()->type();
}

void Generator::syncForAccess(const Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes,
                              const std::string& copy) {
  // Kernels of one uOperator start after the previous kernel finished.
  if (!kernel().cooperative) return;
  bool needGrid = false, needBlock = false, needCounters = false;
  auto check = [&](const TensorRef& ref, bool write) {
    const auto [b, e] = bytesOf(ref);
    for (const Access& a : accesses_) {
      if (!(b < a.end && a.begin < e) || (!write && !a.write)) continue;
      if (a.op == op && op) continue;  // the op's own reads of its in-place operand
      // The same tile of a same-tiling op's whole result: only the block
      // waits; tiles of another tiling: the tiles' counters.
      const bool wholeResult = ref.offset.is(0) && ref.contiguous() && b == a.begin && e == a.end;
      if (sameTileOfSameBlock(op, a.op) && wholeResult)
        needBlock = true;
      else if (!write && a.write && wholeResult && waitForTiles(op, a.op))
        needCounters = true;
      else
        needGrid = true;
    }
  };
  for (const TensorRef& r : reads) check(r, false);
  for (const TensorRef& w : writes) check(w, true);
  const std::string planned = op ? op->attrs().getString("sync").value_or("none") : "";
  if (needGrid) taskWaits_.clear();  // the grid barrier covers them
  if (!needGrid) exports_.tileWaited.insert(waitedNow_.begin(), waitedNow_.end());
  waitedNow_.clear();
  if (needGrid) {
    if (!copy.empty())
      gridSync(fmt::format("copy ({}): other blocks may still use these bytes", copy));
    else if (planned == "barrier")
      gridSync("sync = barrier");
    else
      gridSync(fmt::format("other blocks wrote what it reads, or read what it writes (schedule: {})", planned));
  } else if (needBlock) {
    line(fmt::format("__syncthreads();  // sync = {}: the producer's tile is this block's", planned));
  } else if (needCounters) {
    line(fmt::format("// sync = {}: each tile waits for the producer tiles it reads (their counters)", planned));
  }
}

void Generator::recordAccess(const Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes) {
  for (const TensorRef& r : reads) {
    const auto [b, e] = bytesOf(r);
    accesses_.push_back({b, e, op, false});
  }
  for (const TensorRef& w : writes) {
    const auto [b, e] = bytesOf(w);
    accesses_.push_back({b, e, op, true});
    kernel().writes.emplace_back(b, e);
  }
}

bool Generator::isTileLocal(const Op& op) {
  const OpClass c = op.info().opClass;
  return op.kind() == OpKind::Fused || c == OpClass::Binary || c == OpClass::Unary || c == OpClass::Elementwise;
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

}  // namespace cocktail::runtime::cuda
