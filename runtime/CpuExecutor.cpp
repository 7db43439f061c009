//===- runtime/CpuExecutor.cpp - Interpreting the uProgram with the CPU kernels -------===//
#include "runtime/CpuExecutor.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/Schedule.h"

#include "runtime/FusedElementwise.h"
#include "runtime/OpProfile.h"
#include "runtime/PackedWeights.h"
#include "runtime/RunArena.h"
#include "runtime/TensorPlacement.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime {

using ir::DType;
using ir::OpKind;

namespace {

/// A failure the caller's input caused (ErrorKind::User): the model's own
/// `raise`, or a loop asked for more steps than the run's limit.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Any other failure inside an op, reported with the op's location.
struct OpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Block;

/// One op with its operands and results resolved to frame slots.
struct Instr {
  const ir::Op* op = nullptr;
  std::vector<int> in;
  std::vector<int> out;
  std::vector<Block> regions;
  std::unique_ptr<IslandRunner> island;
  std::unique_ptr<FusedElementwise> fused;
  Tensor weight;
  /// A conv2d's or linear layer's constant weight (or a fused op's head's),
  /// packed at load.
  std::shared_ptr<const cpu::PackedConvWeights> packedConv;
  PackedLinearWeights packedLinear;
  size_t linearWeightOperand = 1;  // which operand packedLinear is for
  /// Slots whose value is dead after this op: cleared, so that their buffers
  /// are freed (or, being the last reference, written in place by a later op).
  std::vector<int> release;
  /// Operand i is read here for the last time and nowhere else by this op:
  /// its value may be moved out of the frame instead of copied.
  std::vector<char> lastUse;
  /// The memory plan: per result, its arena offset (-1: none) and its bytes
  /// at the bounds; `memAlias`: the results live in operand 0's buffer.
  std::vector<int64_t> mem;
  std::vector<int64_t> memBytes;
  bool memAlias = false;
  /// The row of COCKTAIL_PROFILE's table this op's time goes to.
  std::string profileRow;
};

struct Block {
  std::vector<int> args;
  std::vector<Instr> instrs;
  std::vector<int> yields;  // operands of the terminator
  /// yields[i] is defined in this block and yielded once: move, do not copy.
  std::vector<char> yieldMoves;
};

/// The state of one run: its values, and the arena the memory plan places
/// them in (empty when the program has no plan, e.g. at -O0).
struct Run {
  std::vector<RuntimeValue> frame;
  RunArena arena;
  const Instr* current = nullptr;
  const RunControl* control = nullptr;
};

/// Every slot an instruction reads, including inside its regions.
void collectUses(const Instr& ins, std::vector<int>& uses) {
  uses.insert(uses.end(), ins.in.begin(), ins.in.end());
  for (const Block& b : ins.regions) {
    for (const Instr& inner : b.instrs) collectUses(inner, uses);
    uses.insert(uses.end(), b.yields.begin(), b.yields.end());
  }
}

/// Liveness within one block: a value defined here (an argument or a result)
/// is released after the op that reads it last; yielded values are moved out.
/// Values from enclosing blocks are never released here, since a loop body
/// reads them again on the next iteration.
void planLiveness(Block& block) {
  std::unordered_map<int, int> defined;  // slot -> index of the defining op (-1: argument)
  for (int a : block.args) defined[a] = -1;
  for (size_t i = 0; i < block.instrs.size(); ++i)
    for (int o : block.instrs[i].out) defined[o] = static_cast<int>(i);
  std::unordered_map<int, int> lastUse;
  std::unordered_map<int, int> usesAt;  // slot -> reads by the op that reads it last
  for (size_t i = 0; i < block.instrs.size(); ++i) {
    std::vector<int> uses;
    collectUses(block.instrs[i], uses);
    for (int u : uses) {
      if (lastUse.count(u) && lastUse[u] == static_cast<int>(i)) {
        ++usesAt[u];
      } else {
        lastUse[u] = static_cast<int>(i);
        usesAt[u] = 1;
      }
    }
  }
  const int end = static_cast<int>(block.instrs.size());
  std::unordered_map<int, int> yieldCount;
  for (int y : block.yields) ++yieldCount[y];
  for (int y : block.yields) lastUse[y] = end;
  for (const auto& [slot, def] : defined) {
    auto it = lastUse.find(slot);
    int at = it == lastUse.end() ? def : it->second;  // never read: free right after its definition
    if (at < 0 || at >= end) continue;
    Instr& ins = block.instrs[static_cast<size_t>(at)];
    ins.release.push_back(slot);
  }
  for (Instr& ins : block.instrs) {
    ins.lastUse.assign(ins.in.size(), 0);
    for (size_t k = 0; k < ins.in.size(); ++k) {
      const int s = ins.in[k];
      bool released = std::find(ins.release.begin(), ins.release.end(), s) != ins.release.end();
      ins.lastUse[k] = released && usesAt[s] == 1;
    }
  }
  for (int y : block.yields) block.yieldMoves.push_back(defined.count(y) && yieldCount[y] == 1);
}

// ---- conversions ------------------------------------------------------------------

/// Scalars used as tensor operands become 0-d tensors with PyTorch's
/// wrapped-number dtypes: an int is i64, a bool i1, and a float f64 next to a
/// floating tensor (which the 0-d tensor does not promote, so the math
/// happens in that tensor's dtype with the full double) or f32 otherwise
/// (the default dtype, as `int_tensor * 0.5` gives).
Tensor asTensor(const RuntimeValue& v, const RuntimeValue* other = nullptr) {
  if (const Tensor* t = std::get_if<Tensor>(&v)) return *t;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return Tensor::scalarI64(*i);
  if (const double* d = std::get_if<double>(&v)) {
    const Tensor* o = other ? std::get_if<Tensor>(other) : nullptr;
    if (o && ir::isFloating(o->dtype())) return Tensor::fromBytes(DType::F64, {}, d);
    return Tensor::scalarF32(static_cast<float>(*d));
  }
  if (const bool* b = std::get_if<bool>(&v)) return Tensor::scalarBool(*b);
  throw OpError("an operand has no value (a path TorchScript marked as never taken was taken)");
}

double asDouble(const RuntimeValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toDouble();
  throw OpError("expected a number");
}

int64_t asInt(const RuntimeValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (const double* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toInt64();
  throw OpError("expected an integer");
}

bool asBool(const RuntimeValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i != 0;
  if (const double* d = std::get_if<double>(&v)) return *d != 0.0;
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toBool();
  throw OpError("expected a bool");
}

bool isIntLike(const RuntimeValue& v) { return std::holds_alternative<int64_t>(v) || std::holds_alternative<bool>(v); }

/// A scalar converted to the scalar type `t` (i64, f64, i1).
RuntimeValue castScalar(const RuntimeValue& v, DType t) {
  switch (t) {
    case DType::I64: return asInt(v);
    case DType::I1: return asBool(v);
    default: return asDouble(v);
  }
}

// ---- scalar math (TorchScript's int/float/bool ops) ------------------------------------

int64_t pyFloorDiv(int64_t a, int64_t b) {
  if (b == 0) throw OpError("integer division by zero");
  if (b == -1) {
    if (a == std::numeric_limits<int64_t>::min()) throw OpError("integer overflow in floor division");
    return -a;
  }
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t pyMod(int64_t a, int64_t b) {
  if (b == 0) throw OpError("integer modulo by zero");
  if (b == -1) return 0;  // a % -1 traps for INT64_MIN in C++
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

RuntimeValue scalarBinary(OpKind k, const RuntimeValue& a, const RuntimeValue& b, DType resultType) {
  bool ints = isIntLike(a) && isIntLike(b);
  bool bools = std::holds_alternative<bool>(a) && std::holds_alternative<bool>(b);
  RuntimeValue r;
  if (ints && k != OpKind::Div && k != OpKind::Pow) {
    int64_t x = asInt(a), y = asInt(b);
    switch (k) {
      case OpKind::Add: r = x + y; break;
      case OpKind::Sub: r = x - y; break;
      case OpKind::Mul: r = x * y; break;
      case OpKind::FloorDiv: r = pyFloorDiv(x, y); break;
      case OpKind::Remainder: r = pyMod(x, y); break;
      case OpKind::Maximum: r = std::max(x, y); break;
      case OpKind::Minimum: r = std::min(x, y); break;
      case OpKind::Eq: r = x == y; break;
      case OpKind::Ne: r = x != y; break;
      case OpKind::Lt: r = x < y; break;
      case OpKind::Le: r = x <= y; break;
      case OpKind::Gt: r = x > y; break;
      case OpKind::Ge: r = x >= y; break;
      case OpKind::And: r = bools ? RuntimeValue(bool(x && y)) : RuntimeValue(x & y); break;
      case OpKind::Or: r = bools ? RuntimeValue(bool(x || y)) : RuntimeValue(x | y); break;
      case OpKind::Xor: r = bools ? RuntimeValue(bool(x != y)) : RuntimeValue(x ^ y); break;
      default: throw OpError("unsupported scalar op");
    }
  } else {
    double x = asDouble(a), y = asDouble(b);
    switch (k) {
      case OpKind::Add: r = x + y; break;
      case OpKind::Sub: r = x - y; break;
      case OpKind::Mul: r = x * y; break;
      case OpKind::Div:
        if (y == 0.0) throw OpError("float division by zero");
        r = x / y;
        break;
      case OpKind::Pow: r = std::pow(x, y); break;
      case OpKind::FloorDiv:
        if (y == 0.0) throw OpError("float floor division by zero");
        r = std::floor(x / y);
        break;
      case OpKind::Remainder: {
        if (y == 0.0) throw OpError("float modulo by zero");
        double m = std::fmod(x, y);
        if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
        r = m;
        break;
      }
      case OpKind::Maximum: r = std::max(x, y); break;
      case OpKind::Minimum: r = std::min(x, y); break;
      case OpKind::Eq: r = x == y; break;
      case OpKind::Ne: r = x != y; break;
      case OpKind::Lt: r = x < y; break;
      case OpKind::Le: r = x <= y; break;
      case OpKind::Gt: r = x > y; break;
      case OpKind::Ge: r = x >= y; break;
      default: throw OpError("unsupported scalar op on floats");
    }
  }
  return castScalar(r, resultType);
}

RuntimeValue scalarUnary(OpKind k, const RuntimeValue& a, DType resultType) {
  if (k == OpKind::Not) return !asBool(a);
  if (k == OpKind::Neg && isIntLike(a)) return castScalar(-asInt(a), resultType);
  if (k == OpKind::Abs && isIntLike(a)) return castScalar(std::abs(asInt(a)), resultType);
  double x = asDouble(a);
  double r;
  switch (k) {
    case OpKind::Neg: r = -x; break;
    case OpKind::Abs: r = std::fabs(x); break;
    case OpKind::Sqrt: r = std::sqrt(x); break;
    case OpKind::Exp: r = std::exp(x); break;
    case OpKind::Log: r = std::log(x); break;
    case OpKind::Sin: r = std::sin(x); break;
    case OpKind::Cos: r = std::cos(x); break;
    case OpKind::Tanh: r = std::tanh(x); break;
    case OpKind::Sigmoid: r = 1.0 / (1.0 + std::exp(-x)); break;
    case OpKind::Floor: r = std::floor(x); break;
    case OpKind::Ceil: r = std::ceil(x); break;
    case OpKind::Round: r = std::nearbyint(x); break;
    case OpKind::Relu: r = x > 0 ? x : 0; break;
    case OpKind::Reciprocal: r = 1.0 / x; break;
    default: throw OpError("unsupported scalar op");
  }
  return castScalar(r, resultType);
}

cpu::BinaryOp binaryOpOf(OpKind k) {
  switch (k) {
    case OpKind::Add: return cpu::BinaryOp::Add;
    case OpKind::Sub: return cpu::BinaryOp::Sub;
    case OpKind::Mul: return cpu::BinaryOp::Mul;
    case OpKind::Div: return cpu::BinaryOp::Div;
    case OpKind::Pow: return cpu::BinaryOp::Pow;
    case OpKind::Maximum: return cpu::BinaryOp::Maximum;
    case OpKind::Minimum: return cpu::BinaryOp::Minimum;
    case OpKind::Remainder: return cpu::BinaryOp::Remainder;
    case OpKind::FloorDiv: return cpu::BinaryOp::FloorDivide;
    case OpKind::Eq: return cpu::BinaryOp::Eq;
    case OpKind::Ne: return cpu::BinaryOp::Ne;
    case OpKind::Lt: return cpu::BinaryOp::Lt;
    case OpKind::Le: return cpu::BinaryOp::Le;
    case OpKind::Gt: return cpu::BinaryOp::Gt;
    case OpKind::Ge: return cpu::BinaryOp::Ge;
    case OpKind::And: return cpu::BinaryOp::LogicalAnd;
    case OpKind::Or: return cpu::BinaryOp::LogicalOr;
    case OpKind::Xor: return cpu::BinaryOp::LogicalXor;
    default: break;
  }
  throw OpError("not a binary op");
}

cpu::UnaryOp unaryOpOf(OpKind k) {
  switch (k) {
    case OpKind::Neg: return cpu::UnaryOp::Neg;
    case OpKind::Sigmoid: return cpu::UnaryOp::Sigmoid;
    case OpKind::Tanh: return cpu::UnaryOp::Tanh;
    case OpKind::Relu: return cpu::UnaryOp::Relu;
    case OpKind::Exp: return cpu::UnaryOp::Exp;
    case OpKind::Log: return cpu::UnaryOp::Log;
    case OpKind::Sqrt: return cpu::UnaryOp::Sqrt;
    case OpKind::Rsqrt: return cpu::UnaryOp::Rsqrt;
    case OpKind::Abs: return cpu::UnaryOp::Abs;
    case OpKind::Not: return cpu::UnaryOp::LogicalNot;
    case OpKind::Gelu: return cpu::UnaryOp::Gelu;
    case OpKind::Erf: return cpu::UnaryOp::Erf;
    case OpKind::Sin: return cpu::UnaryOp::Sin;
    case OpKind::Cos: return cpu::UnaryOp::Cos;
    case OpKind::Floor: return cpu::UnaryOp::Floor;
    case OpKind::Ceil: return cpu::UnaryOp::Ceil;
    case OpKind::Round: return cpu::UnaryOp::Round;
    case OpKind::Reciprocal: return cpu::UnaryOp::Reciprocal;
    case OpKind::Silu: return cpu::UnaryOp::Silu;
    default: break;
  }
  throw OpError("not a unary op");
}

/// Bitwise and/or/xor on integer tensors, logical on bool ones (TorchScript's
/// `&`, `|`, `^` mean both).
cpu::BinaryOp logicalOrBitwise(OpKind k, const Tensor& a, const Tensor& b) {
  bool bothBool = a.dtype() == DType::I1 && b.dtype() == DType::I1;
  if (bothBool) return binaryOpOf(k);
  switch (k) {
    case OpKind::And: return cpu::BinaryOp::BitwiseAnd;
    case OpKind::Or: return cpu::BinaryOp::BitwiseOr;
    default: return cpu::BinaryOp::BitwiseXor;
  }
}

std::array<int64_t, 2> pairAttr(const ir::Op& op, const char* name) {
  auto v = op.attrs().getInts(name);
  if (!v || v->size() != 2) throw OpError(fmt::format("attribute '{}' must be a list of two ints", name));
  return {(*v)[0], (*v)[1]};
}

int64_t intAttr(const ir::Op& op, const char* name) {
  auto v = op.attrs().getInt(name);
  if (!v) throw OpError(fmt::format("missing attribute '{}'", name));
  return *v;
}

std::vector<int64_t> intsAttr(const ir::Op& op, const char* name) {
  auto v = op.attrs().getInts(name);
  if (!v) throw OpError(fmt::format("missing attribute '{}'", name));
  return *v;
}

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(std::shared_ptr<const ir::Program> program, IslandFactory islands)
      : program_(std::move(program)),
        islands_(std::move(islands)),
        signature_(Signature::of(*program_)),
        profile_(OpProfile::fromEnvironment()) {}

  ~CpuExecutor() override {
    if (profile_) fmt::print(stderr, "cocktail: time per op (COCKTAIL_PROFILE)\n{}", profile_->report());
  }

  ir::Status prepare() {
    for (const ir::WeightDecl& w : program_->weights()) {
      if (!w.type.hasDType() || !w.type.hasRank())
        return ir::Status::error(fmt::format("weight @{} has an incomplete type {}", w.name, w.type.str()));
      Shape shape;
      for (const ir::Dim& d : w.type.dims()) shape.push_back(d.value());
      int64_t bytes = numElements(shape) * ir::dtypeSize(w.type.dtype());
      if (static_cast<int64_t>(w.data.size()) != bytes)
        return ir::Status::error(fmt::format("weight @{} ({}) has {} bytes of data, expected {}", w.name, w.type.str(),
                                             w.data.size(), bytes));
      // The program's bytes, not a copy: the executor never writes a weight
      // (weights_ keeps a reference, so no in-place write takes one over).
      weights_.emplace(w.name, Tensor::borrowed(w.type.dtype(), shape, program_, w.data.data()));
    }
    try {
      body_ = compileRegion(program_->body());
    } catch (const OpError& e) {
      return ir::Status::error(e.what());
    }
    if (auto arena = ir::arenaPlan(*program_); arena && arena->bytes > 0)
      arenas_ = std::make_unique<ArenaPool>(arena->bytes, arena->align);
    return ir::Status::success();
  }

  const Signature& signature() const override { return signature_; }
  std::string device() const override { return "cpu"; }

  using Executor::run;
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs,
                                              const RunControl& control) override {
    COCKTAIL_RETURN_IF_ERROR(signature_.check(inputs));
    Run run;
    run.control = &control;
    run.frame.resize(static_cast<size_t>(numSlots_));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const RuntimeValue& v = inputs[i];
      // A float argument given as an int is still a float inside.
      bool wantsFloat = signature_.inputs[i].type.isScalar() && signature_.inputs[i].type.dtype() == DType::F64;
      run.frame[static_cast<size_t>(body_.args[i])] = wantsFloat ? RuntimeValue(asDouble(v)) : v;
    }
    if (arenas_) {
      try {
        run.arena = arenas_->acquire();
      } catch (const std::bad_alloc&) {
        return ir::Status::error(fmt::format("cannot allocate the {}-byte arena of the memory plan (arena_bytes)",
                                             ir::arenaPlan(*program_)->bytes),
                                 {}, ir::ErrorKind::Internal);
      }
    }
    std::vector<RuntimeValue> outputs;
    try {
      execBlock(body_, run);
      // The arena serves the next run: outputs that live in it leave it.
      for (int s : body_.yields) {
        RuntimeValue& v = run.frame[static_cast<size_t>(s)];
        if (const Tensor* t = std::get_if<Tensor>(&v); t && run.arena.contains(*t)) v = t->clone();
        outputs.push_back(v);
      }
    } catch (const InputError& e) {
      return runError(run, e, ir::ErrorKind::User);
    } catch (const std::exception& e) {
      return runError(run, e, ir::ErrorKind::Internal);
    }
    run.frame.clear();
    if (arenas_) arenas_->release(std::move(run.arena));
    return outputs;
  }

 private:
  /// A failed run, at the op that failed.
  static ir::Status runError(const Run& run, const std::exception& e, ir::ErrorKind kind) {
    const Instr* current = run.current;
    ir::Location loc = current ? current->op->loc() : ir::Location{};
    std::string opName = current ? std::string(current->op->name()) : "?";
    if (current && current->op->kind() == OpKind::Island)
      opName = current->op->attrs().getString("op").value_or("island");
    return ir::Status::error(fmt::format("in '{}': {}", opName, e.what()), loc, kind);
  }

  int slotOf(const ir::Value* v) {
    auto [it, inserted] = slots_.emplace(v, numSlots_);
    if (inserted) ++numSlots_;
    return it->second;
  }

  Block compileRegion(const ir::Region& region) {
    Block block;
    for (const auto& a : region.arguments()) block.args.push_back(slotOf(a.get()));
    for (const auto& opPtr : region.ops()) {
      const ir::Op& op = *opPtr;
      if (op.info().opClass == ir::OpClass::Terminator) {
        for (const ir::Value* v : op.operands()) block.yields.push_back(slotOf(v));
        continue;
      }
      Instr ins;
      ins.op = &op;
      for (const ir::Value* v : op.operands()) ins.in.push_back(slotOf(v));
      for (const auto& r : op.results()) ins.out.push_back(slotOf(r.get()));
      const ir::OpMemPlan plan = ir::memPlan(op);
      if (!plan.offsets.empty()) {
        ins.mem.assign(plan.offsets.begin(), plan.offsets.end());
        for (const auto& r : op.results()) ins.memBytes.push_back(ir::boundBytes(r->type(), *program_).value_or(-1));
        if (ins.mem.size() != op.numResults())
          throw OpError(fmt::format("the memory plan of '{}' has {} offsets for {} results", op.name(), ins.mem.size(),
                                    op.numResults()));
      }
      ins.memAlias = plan.aliasesOperand0;
      if (op.kind() == OpKind::Fused) {
        // The body runs as one kernel, not op by op.
        auto kernel = FusedElementwise::compile(op);
        if (!kernel) throw OpError(kernel.status().str());
        ins.fused = std::make_unique<FusedElementwise>(std::move(*kernel));
      } else {
        for (const auto& r : op.regions()) ins.regions.push_back(compileRegion(*r));
      }
      if (op.kind() == OpKind::Conv2d)
        ins.packedConv = packed_.forConv(*op.operand(1), op.operand(0)->type(), pairAttr(op, "stride"),
                                         pairAttr(op, "dilation"), intAttr(op, "groups"));
      if (op.kind() == OpKind::Linear) ins.packedLinear = packed_.forLinear(*op.operand(1), op.operand(0)->type());
      if (auto head = ins.fused ? ins.fused->headOperands() : std::nullopt) {
        if (head->kind == OpKind::Conv2d) {
          ins.packedConv = packed_.forConv(*op.operand(head->weight), op.operand(head->input)->type(), head->stride,
                                           head->dilation, head->groups);
        } else {
          ins.packedLinear = packed_.forLinear(*op.operand(head->weight), op.operand(head->input)->type());
          ins.linearWeightOperand = head->weight;
        }
      }
      if (op.kind() == OpKind::Weight) {
        auto name = op.attrs().getString("name").value_or("");
        auto it = weights_.find(name);
        if (it == weights_.end()) throw OpError(fmt::format("weight @{} has no data", name));
        ins.weight = it->second;
      }
      if (op.kind() == OpKind::Island) {
        if (!islands_)
          throw OpError(fmt::format("the program has a TorchScript island ({}) but this runtime has no TorchScript "
                                    "interpreter", op.attrs().getString("op").value_or("?")));
        ins.island = islands_(op.attrs().getString("graph").value_or(""));
      }
      if (profile_) ins.profileRow = profileRow(ins);
      block.instrs.push_back(std::move(ins));
    }
    planLiveness(block);
    return block;
  }

  /// COCKTAIL_PROFILE's row for `ins`: by shape, a fused op with a head is
  /// labelled with its head's kind, input and weight; any other op with its
  /// first two operands.
  std::string profileRow(const Instr& ins) const {
    const ir::Op& op = *ins.op;
    if (!profile_->byShape()) return std::string(ir::mnemonic(op.kind()));
    std::vector<size_t> shown;
    std::string name(ir::mnemonic(op.kind()));
    if (auto head = ins.fused ? ins.fused->headOperands() : std::nullopt) {
      name = fmt::format("{}({})", name, ir::mnemonic(head->kind));
      shown = {head->input, head->weight};
    } else {
      for (size_t i = 0; i < std::min<size_t>(2, op.numOperands()); ++i) shown.push_back(i);
    }
    std::string types;
    for (size_t i : shown) (types += types.empty() ? "" : " ") += op.operand(i)->type().str();
    return profile_->rowLabel(name, types);
  }

  void execBlock(const Block& block, Run& run) {
    for (const Instr& ins : block.instrs) {
      run.current = &ins;
      if (profile_ && ins.regions.empty()) {
        const auto start = std::chrono::steady_clock::now();
        const int offPlan = execPlaced(ins, run);
        profile_->add(ins.profileRow, std::chrono::steady_clock::now() - start, offPlan);
      } else {
        execPlaced(ins, run);
      }
      for (int s : ins.release) run.frame[static_cast<size_t>(s)] = std::monostate{};
    }
  }

  /// Runs one op with its results placed by the memory plan: a leaf op's
  /// kernel allocates into its slots (TensorPlacement), then every result is
  /// checked to be in its slot, on the heap, or (`mem_alias`) in its
  /// operand's buffer. Returns how many results with a slot the kernel put
  /// on the heap instead.
  int execPlaced(const Instr& ins, Run& run) {
    if (!run.arena || ins.mem.empty()) {
      exec(ins, run);
      if (run.arena && !ins.memAlias) settleResults(ins, run);
      return 0;
    }
    if (!ins.regions.empty()) {  // a loop or an if: its body places its own ops
      exec(ins, run);
      settleResults(ins, run);
      return 0;
    }
    constexpr size_t kMaxSlots = 4;
    std::array<TensorPlacement::Slot, kMaxSlots> slots;
    size_t n = 0;
    for (size_t k = 0; k < ins.mem.size() && n < kMaxSlots; ++k) {
      const ir::Type& type = ins.op->result(k)->type();
      if (ins.mem[k] >= 0 && ins.memBytes[k] >= 0)
        slots[n++] = {run.arena.slot(ins.mem[k], ins.memBytes[k]), static_cast<size_t>(ins.memBytes[k]), type.dtype(),
                      static_cast<int>(type.rank())};
    }
    {
      TensorPlacement placement(std::span<const TensorPlacement::Slot>(slots.data(), n));
      exec(ins, run);
    }
    int offPlan = 0;
    for (size_t k = 0; k < ins.mem.size(); ++k) {
      const Tensor* t = std::get_if<Tensor>(&run.frame[static_cast<size_t>(ins.out[k])]);
      offPlan += ins.mem[k] >= 0 && t && !run.arena.contains(*t);
    }
    settleResults(ins, run);
    return offPlan;
  }

  /// settle() over `count` values given by `at(k)`; on the stack for the
  /// usual handful.
  template <typename At>
  void settleEach(size_t count, At at, std::span<const int64_t> offsets, std::span<const int64_t> bytes,
                  const Run& run) const {
    std::array<RuntimeValue*, 16> small;
    std::vector<RuntimeValue*> many(count > small.size() ? count : 0);
    RuntimeValue** values = count > small.size() ? many.data() : small.data();
    for (size_t k = 0; k < count; ++k) values[k] = at(k);
    run.arena.settle(std::span<RuntimeValue* const>(values, count), offsets, bytes);
  }

  void settleResults(const Instr& ins, Run& run) const {
    settleEach(ins.out.size(), [&](size_t k) { return &run.frame[static_cast<size_t>(ins.out[k])]; }, ins.mem,
               ins.memBytes, run);
  }

  /// Loop-carried values go to their buffers in the plan before an iteration.
  void settleCarried(const Instr& loop, std::vector<RuntimeValue>& carried, const Run& run) const {
    if (loop.mem.empty()) return;
    settleEach(carried.size(), [&](size_t k) { return &carried[k]; }, loop.mem, loop.memBytes, run);
  }

  /// The value of yields[k] of `block`, moved out of the frame where that is safe.
  static RuntimeValue takeYield(const Block& block, size_t k, std::vector<RuntimeValue>& f) {
    RuntimeValue& v = f[static_cast<size_t>(block.yields[k])];
    return block.yieldMoves[k] ? std::move(v) : v;
  }

  void exec(const Instr& ins, Run& run) {
    std::vector<RuntimeValue>& f = run.frame;
    const ir::Op& op = *ins.op;
    auto in = [&](size_t i) -> const RuntimeValue& { return f[static_cast<size_t>(ins.in[i])]; };
    auto T = [&](size_t i) { return asTensor(in(i)); };
    // Operand i as a tensor, moved out of the frame when this is its last use,
    // so that a functional write can reuse its buffer.
    auto takeT = [&](size_t i) -> Tensor {
      RuntimeValue& v = f[static_cast<size_t>(ins.in[i])];
      if (ins.lastUse[i] && std::holds_alternative<Tensor>(v)) return std::get<Tensor>(std::move(v));
      return asTensor(v);
    };
    auto set = [&](RuntimeValue v, size_t i = 0) { f[static_cast<size_t>(ins.out[i])] = std::move(v); };
    // Ops without results (raise) have no result type.
    static const ir::Type kNoResult = ir::Type::scalar(DType::I1);
    const ir::Type& resultType = op.numResults() ? op.result()->type() : kNoResult;
    const ir::Attributes& a = op.attrs();

    switch (op.kind()) {
      case OpKind::Constant: {
        const auto& v = a.all().at("value");
        if (auto* i = std::get_if<int64_t>(&v)) return set(*i);
        if (auto* d = std::get_if<double>(&v)) return set(*d);
        if (auto* b = std::get_if<bool>(&v)) return set(*b);
        throw OpError("constant of an unsupported kind");
      }
      case OpKind::Weight: return set(ins.weight);
      case OpKind::Undef: return set(std::monostate{});
      case OpKind::Loop: {
        int64_t maxTrip = asInt(in(0));
        bool cond = asBool(in(1));
        // TorchScript gives a `while` loop the trip count INT64_MAX: only a
        // `for` loop's count is known before it starts.
        const int64_t limit = run.control->maxLoopTrips;
        const bool counted = maxTrip != std::numeric_limits<int64_t>::max();
        if (counted && cond && maxTrip > limit)
          throw InputError(fmt::format("the loop would run {} steps, over the limit of {}", maxTrip, limit));
        const Block& body = ins.regions[0];
        std::vector<RuntimeValue> carried;
        for (size_t i = 2; i < ins.in.size(); ++i)
          carried.push_back(ins.lastUse[i] ? std::move(f[static_cast<size_t>(ins.in[i])]) : in(i));
        for (int64_t iter = 0; iter < maxTrip && cond; ++iter) {
          if (auto why = run.control->stopReason())
            throw OpError(fmt::format("stopped at step {} of the loop: {}", iter, *why));
          if (iter == limit) throw InputError(fmt::format("the loop ran past the limit of {} steps", limit));
          settleCarried(ins, carried, run);
          f[static_cast<size_t>(body.args[0])] = iter;
          for (size_t k = 0; k < carried.size(); ++k) f[static_cast<size_t>(body.args[k + 1])] = std::move(carried[k]);
          execBlock(body, run);
          run.current = &ins;
          cond = asBool(f[static_cast<size_t>(body.yields[0])]);
          for (size_t k = 0; k < carried.size(); ++k) carried[k] = takeYield(body, k + 1, f);
        }
        settleCarried(ins, carried, run);
        for (size_t k = 0; k < carried.size(); ++k) set(std::move(carried[k]), k);
        return;
      }
      case OpKind::If: {
        const Block& branch = ins.regions[asBool(in(0)) ? 0 : 1];
        execBlock(branch, run);
        run.current = &ins;
        for (size_t k = 0; k < branch.yields.size(); ++k) set(takeYield(branch, k, f), k);
        return;
      }
      case OpKind::Fused: {
        std::vector<const RuntimeValue*> args;
        args.reserve(ins.in.size());
        for (size_t i = 0; i < ins.in.size(); ++i) args.push_back(&in(i));
        const cpu::PackedPanels* linear =
            ins.packedLinear.byAddress.empty() ? nullptr : ins.packedLinear.find(in(ins.linearWeightOperand));
        std::vector<Tensor> outs = ins.fused->run(args, PackedHead{ins.packedConv.get(), linear});
        for (size_t k = 0; k < outs.size(); ++k) set(std::move(outs[k]), k);
        return;
      }
      case OpKind::Island: {
        std::vector<RuntimeValue> args;
        for (size_t i = 0; i < ins.in.size(); ++i) args.push_back(in(i));
        std::vector<RuntimeValue> outs = ins.island->run(args);
        if (outs.size() != ins.out.size())
          throw OpError(fmt::format("the island returned {} values, expected {}", outs.size(), ins.out.size()));
        for (size_t k = 0; k < outs.size(); ++k) set(std::move(outs[k]), k);
        return;
      }
      default: break;
    }

    switch (op.info().opClass) {
      case ir::OpClass::Binary: {
        if (isScalar(in(0)) && isScalar(in(1))) return set(scalarBinary(op.kind(), in(0), in(1), resultType.dtype()));
        Tensor x = asTensor(in(0), &in(1)), y = asTensor(in(1), &in(0));
        cpu::BinaryOp bop = (op.kind() == OpKind::And || op.kind() == OpKind::Or || op.kind() == OpKind::Xor)
                                ? logicalOrBitwise(op.kind(), x, y)
                                : binaryOpOf(op.kind());
        return set(cpu::binary(bop, x, y));
      }
      case ir::OpClass::Unary:
        if (isScalar(in(0))) return set(scalarUnary(op.kind(), in(0), resultType.dtype()));
        if (op.kind() == OpKind::Not && T(0).dtype() != DType::I1) return set(cpu::unary(cpu::UnaryOp::BitwiseNot, T(0)));
        return set(cpu::unary(unaryOpOf(op.kind()), T(0)));
      default: break;
    }

    switch (op.kind()) {
      case OpKind::Where: return set(cpu::where(T(0), asTensor(in(1), &in(2)), asTensor(in(2), &in(1))));
      case OpKind::MaskedFill: return set(cpu::maskedFill(T(0), T(1), asTensor(in(2), &in(0))));
      case OpKind::Clamp: {
        Tensor x = T(0);
        if (a.getBool("float_bounds").value_or(false) && !ir::isFloating(x.dtype())) x = cpu::cast(x, DType::F32);
        return set(cpu::clamp(x, a.getFloat("min"), a.getFloat("max")));
      }
      case OpKind::Hardswish: return set(cpu::activation(cpu::Activation::Hardswish, T(0)));
      case OpKind::Hardsigmoid: return set(cpu::activation(cpu::Activation::Hardsigmoid, T(0)));
      case OpKind::LeakyRelu:
        return set(cpu::activation(cpu::Activation::LeakyRelu, T(0), {*a.getFloat("negative_slope")}));
      case OpKind::Elu:
        return set(cpu::activation(cpu::Activation::Elu, T(0),
                                   {*a.getFloat("alpha"), *a.getFloat("scale"), *a.getFloat("input_scale")}));
      case OpKind::Softplus:
        return set(cpu::activation(cpu::Activation::Softplus, T(0), {*a.getFloat("beta"), *a.getFloat("threshold")}));
      case OpKind::CastLike: return set(cpu::cast(T(0), T(1).dtype()));
      case OpKind::Raise: throw InputError(a.getString("message").value_or("the model raised an exception"));
      case OpKind::Cast: return set(cpu::cast(T(0), *a.getDType("dtype")));
      case OpKind::Size: {
        Tensor x = T(0);
        int64_t dim = ins.in.size() > 1 ? asInt(in(1)) : intAttr(op, "dim");
        return set(x.size(dim));
      }
      case OpKind::Rank: return set(T(0).dim());
      case OpKind::Numel: return set(T(0).numel());
      case OpKind::ToScalar: return set(castScalar(isScalar(in(0)) ? in(0) : RuntimeValue(T(0).toDouble()), resultType.dtype()) );
      case OpKind::ToTensor: {
        const RuntimeValue& s = in(0);
        DType dt = a.getDType("dtype").value_or(std::holds_alternative<int64_t>(s) ? DType::I64
                                                 : std::holds_alternative<bool>(s) ? DType::I1
                                                                                   : DType::F64);
        if (std::holds_alternative<Tensor>(s)) return set(cpu::cast(std::get<Tensor>(s), dt));
        Tensor t = std::holds_alternative<int64_t>(s) ? Tensor::scalarI64(std::get<int64_t>(s))
                   : std::holds_alternative<bool>(s) ? Tensor::scalarBool(std::get<bool>(s))
                                                     : Tensor::fromBytes(DType::F64, {}, &std::get<double>(s));
        return set(cpu::cast(t, dt));
      }
      case OpKind::Sum: return set(cpu::sum(T(0), intsAttr(op, "dims"), *a.getBool("keepdim"), a.getDType("dtype")));
      case OpKind::Mean: return set(cpu::mean(T(0), intsAttr(op, "dims"), *a.getBool("keepdim")));
      case OpKind::Amax: return set(cpu::amax(T(0), intsAttr(op, "dims"), *a.getBool("keepdim")));
      case OpKind::Amin: return set(cpu::amin(T(0), intsAttr(op, "dims"), *a.getBool("keepdim")));
      case OpKind::MaxDim:
      case OpKind::MinDim: {
        auto [v, i] = op.kind() == OpKind::MaxDim ? cpu::maxDim(T(0), intAttr(op, "dim"), *a.getBool("keepdim"))
                                                  : cpu::minDim(T(0), intAttr(op, "dim"), *a.getBool("keepdim"));
        set(v, 0);
        return set(i, 1);
      }
      case OpKind::Argmax: return set(cpu::argmax(T(0), a.getInt("dim"), *a.getBool("keepdim")));
      case OpKind::Argmin: return set(cpu::argmin(T(0), a.getInt("dim"), *a.getBool("keepdim")));
      case OpKind::Any: return set(cpu::any(T(0), a.getInt("dim"), *a.getBool("keepdim")));
      case OpKind::All: return set(cpu::all(T(0), a.getInt("dim"), *a.getBool("keepdim")));
      case OpKind::Softmax: return set(cpu::softmax(T(0), intAttr(op, "dim")));
      case OpKind::LogSoftmax: return set(cpu::logSoftmax(T(0), intAttr(op, "dim")));
      case OpKind::Topk: {
        auto [v, i] = cpu::topk(T(0), intAttr(op, "k"), intAttr(op, "dim"), *a.getBool("largest"));
        set(v, 0);
        return set(i, 1);
      }
      case OpKind::Cumsum: return set(cpu::cumsum(T(0), intAttr(op, "dim"), a.getDType("dtype")));
      case OpKind::Matmul: return set(cpu::matmul(T(0), T(1)));
      case OpKind::Linear: {
        Tensor bias = ins.in.size() > 2 ? T(2) : Tensor();
        return set(cpu::linear(T(0), T(1), ins.in.size() > 2 ? &bias : nullptr, ins.packedLinear.find(in(1))));
      }
      case OpKind::Addmm: return set(cpu::addmm(T(0), T(1), T(2), *a.getFloat("beta"), *a.getFloat("alpha")));
      case OpKind::Reshape:
      case OpKind::Expand: {
        std::vector<int64_t> sizes;
        for (size_t i = 1; i < ins.in.size(); ++i) sizes.push_back(asInt(in(i)));
        return set(op.kind() == OpKind::Reshape ? cpu::reshape(T(0), sizes) : cpu::expand(T(0), sizes));
      }
      case OpKind::ReshapeAs: return set(cpu::reshape(T(0), T(1).shape()));
      case OpKind::ExpandAs: return set(cpu::expand(T(0), T(1).shape()));
      case OpKind::Permute: return set(cpu::permute(T(0), intsAttr(op, "dims")));
      case OpKind::Transpose: return set(cpu::transpose(T(0), intAttr(op, "dim0"), intAttr(op, "dim1")));
      case OpKind::Unsqueeze: return set(cpu::unsqueeze(T(0), intAttr(op, "dim")));
      case OpKind::Squeeze:
        if (auto d = a.getInt("dim")) return set(cpu::squeeze(T(0), *d));
        return set(cpu::squeeze(T(0)));
      case OpKind::Flatten: return set(cpu::flatten(T(0), intAttr(op, "start"), intAttr(op, "end")));
      case OpKind::Slice:
        return set(cpu::slice(T(0), intAttr(op, "dim"), asInt(in(1)), asInt(in(2)), intAttr(op, "step")));
      case OpKind::Select: return set(cpu::select(T(0), intAttr(op, "dim"), asInt(in(1))));
      case OpKind::IndexSelect: return set(cpu::indexSelect(T(0), intAttr(op, "dim"), T(1)));
      case OpKind::Index:
      case OpKind::IndexPut: {
        bool put = op.kind() == OpKind::IndexPut;
        size_t first = put ? 2 : 1;
        std::vector<int64_t> dims = intsAttr(op, "dims");
        std::vector<std::optional<Tensor>> indices;
        for (size_t k = 0; k < dims.size(); ++k) {
          if (dims[k] < 0) throw OpError("negative index position");
          while (indices.size() < static_cast<size_t>(dims[k])) indices.push_back(std::nullopt);
          indices.push_back(T(first + k));
        }
        if (put) return set(cpu::indexPut(takeT(0), indices, T(1), a.getBool("accumulate").value_or(false)));
        return set(cpu::index(T(0), indices));
      }
      case OpKind::Gather: return set(cpu::gather(T(0), intAttr(op, "dim"), T(1)));
      case OpKind::Cat:
      case OpKind::Stack: {
        std::vector<Tensor> ts;
        for (size_t i = 0; i < ins.in.size(); ++i) ts.push_back(T(i));
        return set(op.kind() == OpKind::Cat ? cpu::cat(ts, intAttr(op, "dim")) : cpu::stack(ts, intAttr(op, "dim")));
      }
      case OpKind::Chunk:
      case OpKind::Split: {
        std::vector<Tensor> parts = op.kind() == OpKind::Chunk
                                        ? cpu::chunk(T(0), intAttr(op, "chunks"), intAttr(op, "dim"))
                                        : cpu::splitWithSizes(T(0), intsAttr(op, "sizes"), intAttr(op, "dim"));
        if (parts.size() != ins.out.size())
          throw OpError(fmt::format("produced {} pieces but the program unpacks {}", parts.size(), ins.out.size()));
        for (size_t k = 0; k < parts.size(); ++k) set(parts[k], k);
        return;
      }
      case OpKind::Flip: return set(cpu::flip(T(0), intsAttr(op, "dims")));
      case OpKind::Repeat: return set(cpu::repeat(T(0), intsAttr(op, "repeats")));
      case OpKind::Tril: return set(cpu::tril(T(0), intAttr(op, "diagonal")));
      case OpKind::Triu: return set(cpu::triu(T(0), intAttr(op, "diagonal")));
      case OpKind::SliceScatter:
        return set(cpu::sliceScatter(takeT(0), T(1), intAttr(op, "dim"), asInt(in(2)), asInt(in(3)), intAttr(op, "step")));
      case OpKind::SelectScatter: return set(cpu::selectScatter(takeT(0), T(1), intAttr(op, "dim"), asInt(in(2))));
      case OpKind::CopyInto: return set(cpu::copyInto(T(0), T(1)));
      case OpKind::Scatter: return set(cpu::scatter(T(0), intAttr(op, "dim"), T(1), T(2)));
      case OpKind::Full: {
        Shape shape;
        for (size_t i = 1; i < ins.in.size(); ++i) shape.push_back(asInt(in(i)));
        return set(cpu::full(shape, T(0), *a.getDType("dtype")));
      }
      case OpKind::FullLike: {
        Tensor like = T(0);
        return set(cpu::full(like.shape(), T(1), a.getDType("dtype").value_or(like.dtype())));
      }
      case OpKind::Arange: return set(cpu::arange(asDouble(in(0)), asDouble(in(1)), asDouble(in(2)), *a.getDType("dtype")));
      case OpKind::Embedding: return set(cpu::embedding(T(0), T(1)));
      case OpKind::Conv2d: {
        Tensor bias = ins.in.size() > 2 ? T(2) : Tensor();
        return set(cpu::conv2d(T(0), T(1), ins.in.size() > 2 ? &bias : nullptr, pairAttr(op, "stride"),
                               pairAttr(op, "padding"), pairAttr(op, "dilation"), intAttr(op, "groups"), nullptr,
                               ins.packedConv.get()));
      }
      case OpKind::BatchNorm: {
        Tensor w = T(3), b = T(4);
        return set(cpu::batchNorm(T(0), T(1), T(2), &w, &b, *a.getFloat("eps")));
      }
      case OpKind::LayerNorm: {
        Tensor w = T(1), b = T(2);
        return set(cpu::layerNorm(T(0), intsAttr(op, "shape"), &w, &b, *a.getFloat("eps")));
      }
      case OpKind::MaxPool2d:
        return set(cpu::maxPool2d(T(0), pairAttr(op, "kernel"), pairAttr(op, "stride"), pairAttr(op, "padding"),
                                  pairAttr(op, "dilation"), *a.getBool("ceil_mode")));
      case OpKind::AvgPool2d:
        return set(cpu::avgPool2d(T(0), pairAttr(op, "kernel"), pairAttr(op, "stride"), pairAttr(op, "padding"),
                                  *a.getBool("ceil_mode"), *a.getBool("count_include_pad")));
      case OpKind::AdaptiveAvgPool2d: return set(cpu::adaptiveAvgPool2d(T(0), pairAttr(op, "output_size")));
      default: break;
    }
    throw OpError(fmt::format("the CPU executor has no implementation of '{}'", op.name()));
  }

  std::shared_ptr<const ir::Program> program_;
  IslandFactory islands_;
  Signature signature_;
  std::unique_ptr<OpProfile> profile_;
  std::unordered_map<std::string, Tensor> weights_;
  PackedWeights packed_{weights_};
  std::unordered_map<const ir::Value*, int> slots_;
  int numSlots_ = 0;
  Block body_;
  std::unique_ptr<ArenaPool> arenas_;  // null without a memory plan
};

}  // namespace

ir::Expected<std::unique_ptr<Executor>> createCpuExecutor(std::shared_ptr<const ir::Program> program,
                                                          IslandFactory islands) {
  auto exec = std::make_unique<CpuExecutor>(std::move(program), std::move(islands));
  COCKTAIL_RETURN_IF_ERROR(exec->prepare());
  return std::unique_ptr<Executor>(std::move(exec));
}

}  // namespace cocktail::runtime
