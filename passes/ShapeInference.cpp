//===- passes/ShapeInference.cpp ------------------------------------------------------===//
//
// One forward walk in program order. Types follow PyTorch's rules, the same
// as the CPU kernels': broadcasting, type promotion where 0-d tensors and
// wrapped scalars do not promote within their category, reductions, views.
// Integer scalars whose value is known at compile time (constants, sizes of
// dims that are constants or symbols) are tracked so that `reshape(x, n, 4)`
// with `n = size(x, 0)` keeps the symbol.
//
//===----------------------------------------------------------------------===//
#include "passes/ShapeInference.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "passes/ShapeContradictions.h"

namespace cocktail::passes {

namespace {

using ir::Dim;
using ir::DType;
using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

int categoryOf(DType t) {
  if (t == DType::I1) return 0;
  return ir::isFloating(t) ? 2 : 1;
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::I1) return b;
  if (b == DType::I1) return a;
  bool fa = ir::isFloating(a), fb = ir::isFloating(b);
  if (fa != fb) return fa ? a : b;
  if (!fa) return ir::promoteIntegers(a, b);
  if (a == DType::F64 || b == DType::F64) return DType::F64;
  return DType::F32;
}

/// What an operand of a tensor op looks like for promotion: its dtype and
/// whether it is "dimensioned" (0-d tensors and scalars are not).
struct Operand {
  std::optional<DType> dtype;
  bool dimensioned = false;
  bool known = false;  // false when the rank is unknown (cannot rank the priority)
};

Operand operandOf(const Type& t, const Type* other) {
  if (t.isScalar()) {
    // The executor's wrapped numbers: int -> i64, bool -> i1, float -> f64
    // next to a floating tensor, else f32.
    DType d = t.dtype();
    if (d == DType::F64) {
      bool otherFloating = other && other->isTensor() && other->hasDType() && ir::isFloating(other->dtype());
      d = otherFloating ? DType::F64 : DType::F32;
    }
    return {d, false, true};
  }
  if (!t.hasDType()) return {std::nullopt, false, false};
  if (!t.hasRank()) return {t.dtype(), false, false};
  return {t.dtype(), t.rank() > 0, true};
}

/// torch.result_type for two operands; nullopt when it cannot be known.
std::optional<DType> resultDType(const Type& a, const Type& b) {
  Operand x = operandOf(a, &b), y = operandOf(b, &a);
  if (!x.dtype || !y.dtype) return std::nullopt;
  if (x.dtype == y.dtype) return x.dtype;
  if (!x.known || !y.known) {
    // Same category: the dimensioned one would win, which we cannot tell;
    // different categories: the higher one wins either way.
    if (categoryOf(*x.dtype) == categoryOf(*y.dtype)) return std::nullopt;
    return promote(*x.dtype, *y.dtype);
  }
  if (x.dimensioned == y.dimensioned) return promote(*x.dtype, *y.dtype);
  DType dimType = x.dimensioned ? *x.dtype : *y.dtype;
  DType zeroType = x.dimensioned ? *y.dtype : *x.dtype;
  if (categoryOf(zeroType) > categoryOf(dimType)) return promote(dimType, zeroType);
  return dimType;
}

/// Dims of a tensor or scalar operand (a scalar broadcasts like a 0-d tensor).
std::optional<std::vector<Dim>> dimsOf(const Type& t) {
  if (t.isScalar()) return std::vector<Dim>{};
  if (!t.hasRank()) return std::nullopt;
  return t.dims();
}

Dim broadcastDim(const Dim& a, const Dim& b) {
  if (a == b) return a;
  if (a.isConstant() && a.value() == 1) return b;
  if (b.isConstant() && b.value() == 1) return a;
  return Dim::unknown();
}

std::optional<std::vector<Dim>> broadcast(const std::vector<std::optional<std::vector<Dim>>>& shapes) {
  std::vector<Dim> out;
  for (const auto& s : shapes) {
    if (!s) return std::nullopt;
    if (s->size() > out.size()) out.insert(out.begin(), s->size() - out.size(), Dim::constant(1));
    size_t offset = out.size() - s->size();
    for (size_t i = 0; i < s->size(); ++i) out[offset + i] = broadcastDim(out[offset + i], (*s)[i]);
  }
  return out;
}

Type tensorOf(std::optional<DType> dtype, std::optional<std::vector<Dim>> dims) {
  if (!dtype) return Type::unknownTensor();
  if (!dims) return Type::unrankedTensor(*dtype);
  return Type::tensor(*dtype, std::move(*dims));
}

/// The most precise type both a and b are instances of.
Type join(const Type& a, const Type& b) {
  if (a == b) return a;
  if (a.isScalar() || b.isScalar()) return a;  // scalars never change kind; the verifier checks
  if (!a.hasDType() || !b.hasDType() || a.dtype() != b.dtype()) return Type::unknownTensor();
  if (!a.hasRank() || !b.hasRank() || a.rank() != b.rank()) return Type::unrankedTensor(a.dtype());
  std::vector<Dim> dims;
  for (size_t i = 0; i < a.dims().size(); ++i) dims.push_back(a.dims()[i] == b.dims()[i] ? a.dims()[i] : Dim::unknown());
  return Type::tensor(a.dtype(), std::move(dims));
}

/// True when `t` is at least as precise as `old` (so refining never loses what
/// the frontend knew, e.g. a weight's exact type).
bool refines(const Type& t, const Type& old) {
  if (old.isScalar()) return false;
  if (!old.hasDType()) return true;
  return join(t, old) == old && t != old;
}

std::optional<int64_t> normDim(int64_t d, int64_t rank) {
  if (d < 0) d += rank;
  if (d < 0 || d >= rank) return std::nullopt;
  return d;
}

class ShapeInference final : public Pass {
 public:
  std::string_view name() const override { return "shape-inference"; }
  std::string_view description() const override {
    return "infer dtypes and bounded symbolic shapes of every value";
  }

  ir::Status run(ir::Program& program) override {
    contradiction_ = ir::Status::success();
    inferRegion(program.body());
    if (!contradiction_.ok()) return contradiction_;
    if (ir::Op* ret = program.body().terminator())
      for (size_t i = 0; i < ret->numOperands() && i < program.resultTypes().size(); ++i)
        program.resultTypes()[i] = ret->operand(i)->type();
    return ir::Status::success();
  }

 private:
  void inferRegion(ir::Region& region) {
    for (const auto& op : region.ops()) inferOp(*op);
  }

  void setType(Value* v, const Type& t) {
    if (refines(t, v->type())) v->setType(t);
  }

  std::optional<int64_t> constantOf(const Value* v) const {
    auto it = known_.find(v);
    if (it != known_.end() && it->second.isConstant()) return it->second.value();
    return std::nullopt;
  }
  Dim dimOf(const Value* v) const {
    auto it = known_.find(v);
    return it == known_.end() ? Dim::unknown() : it->second;
  }

  void inferLoop(Op& op) {
    ir::Region& body = op.region(0);
    size_t n = op.numOperands() - 2;
    // Start from the initial values (undef ones say nothing) and iterate: the
    // body may generalise a carried type (a dim that grows). Joins only lose
    // precision, so this ends after a few rounds. Each round starts from the
    // body's types as they were, since a round may have refined them from a
    // carried type that turned out too precise.
    std::vector<std::optional<Type>> carried;
    for (size_t i = 0; i < n; ++i) carried.push_back(joinReaching({op.operand(i + 2)}));
    std::vector<std::pair<Value*, Type>> original;
    ir::walk(body, [&](Op& inner) {
      for (const auto& r : inner.results()) original.emplace_back(r.get(), r->type());
    });
    auto typeOf = [](const std::optional<Type>& t, const Value* arg) { return t ? *t : arg->type(); };
    bool converged = false;
    for (int round = 0; round < 8 && !converged; ++round) {
      if (round > 0)
        for (auto& [v, t] : original) v->setType(t);
      // A carried value only undef has reached so far (None before the first
      // step) says nothing in this round's joins, as an undef would not.
      for (size_t i = 0; i < n; ++i) {
        body.argument(i + 1)->setType(typeOf(carried[i], body.argument(i + 1)));
        if (carried[i])
          onlyUndef_.erase(body.argument(i + 1));
        else
          onlyUndef_.insert(body.argument(i + 1));
      }
      inferRegion(body);
      Op* yield = body.terminator();
      if (!yield || yield->numOperands() != n + 1) {
        for (size_t i = 0; i < n; ++i) onlyUndef_.erase(body.argument(i + 1));
        return;
      }
      converged = true;
      for (size_t i = 0; i < n; ++i) {
        const Value* y = yield->operand(i + 1);
        if (isUndef(y) || onlyUndef_.count(y)) continue;
        Type j = carried[i] ? join(*carried[i], y->type()) : y->type();
        if (!carried[i] || j != *carried[i]) {
          carried[i] = j;
          converged = false;
        }
      }
    }
    for (size_t i = 0; i < n; ++i) onlyUndef_.erase(body.argument(i + 1));
    if (!converged) {
      // Cannot happen with joins; never leave a body typed for the wrong
      // carried types: fall back to what the frontend said.
      for (auto& [v, t] : original) v->setType(t);
      return;
    }
    for (size_t i = 0; i < n && i < op.numResults(); ++i)
      if (carried[i]) op.result(i)->setType(*carried[i]);
  }

  static bool isUndef(const Value* v) { return v->definingOp() && v->definingOp()->kind() == OpKind::Undef; }

  /// The join of the values that can reach a result; undef ones cannot.
  std::optional<Type> joinReaching(const std::vector<const Value*>& values) const {
    std::optional<Type> t;
    for (const Value* v : values) {
      if (isUndef(v) || onlyUndef_.count(v)) continue;
      t = t ? join(*t, v->type()) : v->type();
    }
    return t;
  }

  void inferIf(Op& op) {
    inferRegion(op.region(0));
    inferRegion(op.region(1));
    Op* a = op.region(0).terminator();
    Op* b = op.region(1).terminator();
    if (!a || !b) return;
    for (size_t i = 0; i < op.numResults() && i < a->numOperands() && i < b->numOperands(); ++i)
      if (auto t = joinReaching({a->operand(i), b->operand(i)})) op.result(i)->setType(*t);
  }

  /// A fused body sees its inputs' types; its results are what it yields.
  void inferFused(Op& op) {
    ir::Region& body = op.region(0);
    for (size_t i = 0; i < op.numOperands() && i < body.numArguments(); ++i)
      setType(body.argument(i), op.operand(i)->type());
    inferRegion(body);
    if (Op* y = body.terminator())
      for (size_t i = 0; i < op.numResults() && i < y->numOperands(); ++i) setType(op.result(i), y->operand(i)->type());
  }

  void inferOp(Op& op) {
    // Operands that cannot go together (an input spec against a weight's
    // shape): the first is the error, at its op's source line.
    if (contradiction_.ok())
      if (auto why = shapeContradiction(op))
        contradiction_ = ir::Status::error(fmt::format("'{}' op: {}", op.name(), *why), op.loc());
    const ir::Attributes& attrs = op.attrs();
    auto operandType = [&](size_t i) -> const Type& { return op.operand(i)->type(); };
    auto set = [&](Type t, size_t i = 0) { setType(op.result(i), t); };

    switch (op.kind()) {
      case OpKind::Loop: return inferLoop(op);
      case OpKind::If: return inferIf(op);
      case OpKind::Fused: return inferFused(op);
      case OpKind::Constant:
        if (auto v = attrs.getInt("value")) known_.insert_or_assign(op.result(), Dim::constant(*v));
        return;
      case OpKind::Size: {
        const Type& x = operandType(0);
        std::optional<int64_t> d = op.numOperands() > 1 ? constantOf(op.operand(1)) : attrs.getInt("dim");
        if (x.hasRank() && d)
          if (auto nd = normDim(*d, x.rank())) {
            const Dim& dim = x.dims()[static_cast<size_t>(*nd)];
            if (!dim.isUnknown()) known_.insert_or_assign(op.result(), dim);
          }
        return;
      }
      case OpKind::Rank:
        if (operandType(0).hasRank()) known_.insert_or_assign(op.result(), Dim::constant(operandType(0).rank()));
        return;
      default: break;
    }
    if (op.numResults() == 0 || op.result()->type().isScalar()) return;

    // Scalars flowing into tensor ops: ints that are known stay known.
    switch (op.info().opClass) {
      case ir::OpClass::Binary: {
        const Type &a = operandType(0), &b = operandType(1);
        auto dims = broadcast({dimsOf(a), dimsOf(b)});
        std::optional<DType> dt;
        switch (op.kind()) {
          case OpKind::Eq: case OpKind::Ne: case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
            dt = DType::I1;
            break;
          case OpKind::And: case OpKind::Or: case OpKind::Xor: dt = resultDType(a, b); break;
          case OpKind::Div: {
            dt = resultDType(a, b);
            if (dt && !ir::isFloating(*dt)) dt = DType::F32;
            break;
          }
          default: dt = resultDType(a, b);
        }
        return set(tensorOf(dt, dims));
      }
      case ir::OpClass::Unary: {
        const Type& x = operandType(0);
        std::optional<DType> dt = x.hasDType() ? std::optional<DType>(x.dtype()) : std::nullopt;
        switch (op.kind()) {
          case OpKind::Neg: case OpKind::Abs: case OpKind::Relu: case OpKind::Floor: case OpKind::Ceil:
          case OpKind::Round: case OpKind::Not:
            break;
          default:
            if (dt && !ir::isFloating(*dt)) dt = DType::F32;
        }
        return set(tensorOf(dt, dimsOf(x)));
      }
      default: break;
    }

    switch (op.kind()) {
      case OpKind::Where:
        return set(tensorOf(resultDType(operandType(1), operandType(2)),
                            broadcast({dimsOf(operandType(0)), dimsOf(operandType(1)), dimsOf(operandType(2))})));
      case OpKind::Clamp: {
        const Type& x = operandType(0);
        if (attrs.getBool("float_bounds").value_or(false) && x.hasDType() && !ir::isFloating(x.dtype()))
          return set(tensorOf(DType::F32, dimsOf(x)));
        return set(x);
      }
      case OpKind::Hardswish:
      case OpKind::Hardsigmoid:
      case OpKind::LeakyRelu:
      case OpKind::Elu:
      case OpKind::Softplus:
      case OpKind::Mish:
      case OpKind::MaskedFill:
      case OpKind::Softmax:
      case OpKind::LogSoftmax:
      case OpKind::Flip:
      case OpKind::Tril:
      case OpKind::Triu:
      case OpKind::BatchNorm:
      case OpKind::LayerNorm:
      case OpKind::SliceScatter:
      case OpKind::SelectScatter:
      case OpKind::IndexPut:
      case OpKind::CopyInto:
      case OpKind::Scatter:
        return set(operandType(0));
      case OpKind::Cast: {
        const Type& x = operandType(0);
        return set(tensorOf(attrs.getDType("dtype"), dimsOf(x)));
      }
      case OpKind::CastLike: return set(tensorOf(dtypeOf(operandType(1)), dimsOf(operandType(0))));
      case OpKind::ToTensor: {
        const Type& s = operandType(0);
        std::optional<DType> dt = attrs.getDType("dtype");
        if (!dt && s.isScalar()) dt = s.dtype();
        return set(tensorOf(dt, std::vector<Dim>{}));
      }
      case OpKind::Sum:
      case OpKind::Mean:
      case OpKind::Amax:
      case OpKind::Amin: {
        const Type& x = operandType(0);
        std::optional<DType> dt = x.hasDType() ? std::optional<DType>(x.dtype()) : std::nullopt;
        if (op.kind() == OpKind::Sum) {
          if (auto forced = attrs.getDType("dtype")) dt = forced;
          else if (dt && !ir::isFloating(*dt)) dt = DType::I64;
        }
        return set(tensorOf(dt, reduce(x, attrs.getInts("dims").value_or(std::vector<int64_t>{}),
                                       attrs.getBool("keepdim").value_or(false))));
      }
      case OpKind::MaxDim:
      case OpKind::MinDim: {
        const Type& x = operandType(0);
        auto dims = reduce(x, {attrs.getInt("dim").value_or(0)}, attrs.getBool("keepdim").value_or(false));
        set(tensorOf(x.hasDType() ? std::optional<DType>(x.dtype()) : std::nullopt, dims), 0);
        return set(tensorOf(DType::I64, dims), 1);
      }
      case OpKind::Topk: {
        const Type& x = operandType(0);
        std::optional<std::vector<Dim>> dims;
        if (x.hasRank()) {
          dims = x.dims();
          if (auto d = normDim(attrs.getInt("dim").value_or(-1), static_cast<int64_t>(x.rank())))
            (*dims)[static_cast<size_t>(*d)] = Dim::constant(attrs.getInt("k").value_or(0));
          else if (x.rank() > 0)
            dims = std::nullopt;
        }
        set(tensorOf(dtypeOf(x), dims), 0);
        return set(tensorOf(DType::I64, dims), 1);
      }
      case OpKind::Cumsum: {
        const Type& x = operandType(0);
        std::optional<DType> dt = attrs.getDType("dtype");
        if (!dt && x.hasDType()) dt = ir::isFloating(x.dtype()) ? x.dtype() : DType::I64;
        return set(tensorOf(dt, dimsOf(x)));
      }
      case OpKind::Argmax:
      case OpKind::Argmin:
      case OpKind::Any:
      case OpKind::All: {
        const Type& x = operandType(0);
        DType dt = (op.kind() == OpKind::Argmax || op.kind() == OpKind::Argmin) ? DType::I64 : DType::I1;
        // any/all of a uint8 tensor stay uint8, as in ATen.
        if (dt == DType::I1 && x.hasDType() && x.dtype() == DType::U8) dt = DType::U8;
        std::optional<std::vector<Dim>> dims;
        bool keepdim = attrs.getBool("keepdim").value_or(false);
        if (auto d = attrs.getInt("dim")) dims = reduce(x, {*d}, keepdim);
        else if (x.hasRank()) dims = keepdim ? std::vector<Dim>(x.dims().size(), Dim::constant(1)) : std::vector<Dim>{};
        return set(tensorOf(dt, dims));
      }
      case OpKind::Matmul: return set(matmul(operandType(0), operandType(1)));
      case OpKind::Linear: {
        const Type &x = operandType(0), &w = operandType(1);
        std::optional<std::vector<Dim>> dims;
        if (x.hasRank() && w.hasRank() && w.rank() == 2 && x.rank() >= 1) {
          dims = x.dims();
          dims->back() = w.dims()[0];
        }
        return set(tensorOf(resultDType(x, w), dims));
      }
      case OpKind::Addmm: {
        const Type &m1 = operandType(1), &m2 = operandType(2);
        std::optional<std::vector<Dim>> dims;
        if (m1.rank() == 2 && m2.rank() == 2) dims = std::vector<Dim>{m1.dims()[0], m2.dims()[1]};
        return set(tensorOf(resultDType(m1, m2), dims));
      }
      case OpKind::Reshape:
      case OpKind::Expand: {
        const Type& x = operandType(0);
        std::vector<Dim> dims;
        for (size_t i = 1; i < op.numOperands(); ++i) dims.push_back(dimOf(op.operand(i)));
        if (op.kind() == OpKind::Reshape) resolveMinusOne(x, dims);
        else expandKeep(x, dims);
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::ReshapeAs:
      case OpKind::ExpandAs:
        return set(tensorOf(dtypeOf(operandType(0)), dimsOf(operandType(1))));
      case OpKind::FullLike: {
        const Type& like = operandType(0);
        std::optional<DType> dt = attrs.getDType("dtype");
        if (!dt) dt = dtypeOf(like);
        return set(tensorOf(dt, dimsOf(like)));
      }
      case OpKind::Full: {
        std::vector<Dim> dims;
        for (size_t i = 1; i < op.numOperands(); ++i) dims.push_back(dimOf(op.operand(i)));
        return set(tensorOf(attrs.getDType("dtype"), dims));
      }
      case OpKind::Arange: {
        auto s = constantOf(op.operand(0)), e = constantOf(op.operand(1)), st = constantOf(op.operand(2));
        Dim n = Dim::unknown();
        if (s && e && st && *st > 0 && op.operand(0)->type().dtype() == DType::I64 &&
            op.operand(1)->type().dtype() == DType::I64)
          n = Dim::constant(std::max<int64_t>(0, (*e - *s + *st - 1) / *st));
        else if (s == 0 && st == 1)
          n = dimOf(op.operand(1));  // arange(x.size(d)): as long as that dim (a size is never negative)
        return set(tensorOf(attrs.getDType("dtype"), std::vector<Dim>{n}));
      }
      case OpKind::Permute: {
        const Type& x = operandType(0);
        auto perm = attrs.getInts("dims");
        if (!x.hasRank() || !perm || static_cast<int64_t>(perm->size()) != x.rank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        std::vector<Dim> dims;
        for (int64_t p : *perm) {
          auto d = normDim(p, x.rank());
          if (!d) return;
          dims.push_back(x.dims()[static_cast<size_t>(*d)]);
        }
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Transpose: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        auto a = normDim(attrs.getInt("dim0").value_or(0), x.rank());
        auto b = normDim(attrs.getInt("dim1").value_or(0), x.rank());
        if (!a || !b) return;
        std::vector<Dim> dims = x.dims();
        std::swap(dims[static_cast<size_t>(*a)], dims[static_cast<size_t>(*b)]);
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Unsqueeze: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        auto d = normDim(attrs.getInt("dim").value_or(0), x.rank() + 1);
        if (!d) return;
        std::vector<Dim> dims = x.dims();
        dims.insert(dims.begin() + *d, Dim::constant(1));
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Squeeze: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        std::vector<Dim> dims;
        auto isOne = [](const Dim& d) { return d.isConstant() && d.value() == 1; };
        if (auto only = attrs.getInt("dim")) {
          if (x.rank() == 0) return set(x);
          auto d = normDim(*only, x.rank());
          if (!d) return;
          const Dim& target = x.dims()[static_cast<size_t>(*d)];
          if (!target.isConstant()) return set(tensorOf(dtypeOf(x), std::nullopt));
          for (int64_t i = 0; i < x.rank(); ++i)
            if (i != *d || !isOne(target)) dims.push_back(x.dims()[static_cast<size_t>(i)]);
        } else {
          for (const Dim& d : x.dims()) {
            if (!d.isConstant()) return set(tensorOf(dtypeOf(x), std::nullopt));
            if (!isOne(d)) dims.push_back(d);
          }
        }
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Flatten: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        if (x.rank() == 0) return set(tensorOf(dtypeOf(x), std::vector<Dim>{Dim::constant(1)}));
        auto s = normDim(attrs.getInt("start").value_or(0), x.rank());
        auto e = normDim(attrs.getInt("end").value_or(-1), x.rank());
        if (!s || !e || *s > *e) return;
        std::vector<Dim> dims(x.dims().begin(), x.dims().begin() + *s);
        dims.push_back(product(x.dims(), static_cast<size_t>(*s), static_cast<size_t>(*e) + 1));
        dims.insert(dims.end(), x.dims().begin() + *e + 1, x.dims().end());
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Slice: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        auto d = normDim(attrs.getInt("dim").value_or(0), x.rank());
        if (!d) return;
        std::vector<Dim> dims = x.dims();
        dims[static_cast<size_t>(*d)] = sliceDim(dims[static_cast<size_t>(*d)], constantOf(op.operand(1)),
                                                 constantOf(op.operand(2)), attrs.getInt("step").value_or(1));
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Select: {
        const Type& x = operandType(0);
        if (!x.hasRank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        auto d = normDim(attrs.getInt("dim").value_or(0), x.rank());
        if (!d) return;
        std::vector<Dim> dims = x.dims();
        dims.erase(dims.begin() + *d);
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::IndexSelect: {
        const Type &x = operandType(0), &idx = operandType(1);
        if (!x.hasRank() || !idx.hasRank() || idx.rank() > 1) return set(tensorOf(dtypeOf(x), std::nullopt));
        auto d = normDim(attrs.getInt("dim").value_or(0), std::max<int64_t>(x.rank(), 1));
        if (!d || x.rank() == 0) return;
        std::vector<Dim> dims = x.dims();
        dims[static_cast<size_t>(*d)] = idx.rank() == 1 ? idx.dims()[0] : Dim::constant(1);
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Gather: return set(tensorOf(dtypeOf(operandType(0)), dimsOf(operandType(1))));
      case OpKind::Index: {
        // x[..., i0, ..., i1, ...]: integer index tensors at increasing `dims`, broadcast together;
        // adjacent ones put the broadcast dims in their place, separated ones first (as ATen).
        // Boolean masks (and uint8 ones, which ATen reads as masks) make the shape depend on the data.
        const Type& x = operandType(0);
        auto positions = attrs.getInts("dims");
        const size_t k = op.numOperands() - 1;
        bool known = x.hasRank() && positions && positions->size() == k;
        std::vector<std::optional<std::vector<Dim>>> shapes;
        for (size_t i = 0; known && i < k; ++i) {
          const Type& idx = operandType(i + 1);
          const int64_t p = (*positions)[i];
          known = idx.hasRank() && idx.hasDType() && idx.dtype() != DType::I1 && idx.dtype() != DType::U8 && p >= 0 &&
                  p < x.rank() && (i == 0 || p > (*positions)[i - 1]);
          shapes.push_back(dimsOf(idx));
        }
        if (!known) return set(tensorOf(dtypeOf(x), std::nullopt));
        const std::vector<Dim> indexed = *broadcast(shapes);
        const bool adjacent = positions->back() - positions->front() + 1 == static_cast<int64_t>(k);
        std::vector<Dim> dims;
        for (int64_t d = 0, next = 0; d < x.rank(); ++d) {
          const bool isIndexed = next < static_cast<int64_t>(k) && (*positions)[static_cast<size_t>(next)] == d;
          if (isIndexed && next++ > 0) continue;
          if (isIndexed && adjacent) dims.insert(dims.end(), indexed.begin(), indexed.end());
          if (!isIndexed) dims.push_back(x.dims()[static_cast<size_t>(d)]);
        }
        if (!adjacent) dims.insert(dims.begin(), indexed.begin(), indexed.end());
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Cat:
      case OpKind::Stack: return set(catOrStack(op));
      case OpKind::Chunk:
      case OpKind::Split: return inferPieces(op);
      case OpKind::Repeat: {
        const Type& x = operandType(0);
        auto reps = attrs.getInts("repeats");
        if (!x.hasRank() || !reps || static_cast<int64_t>(reps->size()) < x.rank()) return set(tensorOf(dtypeOf(x), std::nullopt));
        std::vector<Dim> dims;
        size_t lead = reps->size() - x.dims().size();
        for (size_t i = 0; i < reps->size(); ++i) {
          if (i < lead) {
            dims.push_back(Dim::constant((*reps)[i]));
            continue;
          }
          const Dim& d = x.dims()[i - lead];
          dims.push_back(d.isConstant() ? Dim::constant(d.value() * (*reps)[i]) : ((*reps)[i] == 1 ? d : Dim::unknown()));
        }
        return set(tensorOf(dtypeOf(x), dims));
      }
      case OpKind::Embedding: {
        const Type &w = operandType(0), &idx = operandType(1);
        std::optional<std::vector<Dim>> dims;
        if (w.hasRank() && w.rank() == 2 && idx.hasRank()) {
          dims = idx.dims();
          dims->push_back(w.dims()[1]);
        }
        return set(tensorOf(dtypeOf(w), dims));
      }
      case OpKind::Conv2d: return set(conv2d(op));
      case OpKind::ConvTranspose2d: return set(convTranspose2d(op));
      case OpKind::MaxPool2d:
      case OpKind::AvgPool2d: return set(pool2d(op));
      case OpKind::AdaptiveAvgPool2d:
      case OpKind::AdaptiveMaxPool2d: {
        const Type& x = operandType(0);
        auto out = attrs.getInts("output_size");
        std::optional<std::vector<Dim>> dims;
        if (x.hasRank() && x.rank() >= 3 && out && out->size() == 2) {
          dims.emplace(x.dims().begin(), x.dims().end() - 2);
          dims->push_back(Dim::constant((*out)[0]));
          dims->push_back(Dim::constant((*out)[1]));
        }
        if (op.kind() == OpKind::AdaptiveAvgPool2d) return set(tensorOf(dtypeOf(x), dims));
        set(tensorOf(dtypeOf(x), dims), 0);
        return set(tensorOf(DType::I64, dims), 1);
      }
      default: return;
    }
  }

  static std::optional<DType> dtypeOf(const Type& t) {
    if (t.isScalar()) return t.dtype();
    return t.hasDType() ? std::optional<DType>(t.dtype()) : std::nullopt;
  }

  static Dim product(const std::vector<Dim>& dims, size_t begin, size_t end) {
    int64_t p = 1;
    for (size_t i = begin; i < end; ++i) {
      if (!dims[i].isConstant()) return end - begin == 1 ? dims[i] : Dim::unknown();
      p *= dims[i].value();
    }
    return Dim::constant(p);
  }

  static std::optional<std::vector<Dim>> reduce(const Type& x, std::vector<int64_t> dims, bool keepdim) {
    if (!x.hasRank()) return std::nullopt;
    int64_t rank = x.rank();
    std::vector<bool> reduced(static_cast<size_t>(rank), dims.empty());
    for (int64_t d : dims) {
      auto nd = normDim(d, std::max<int64_t>(rank, 1));
      if (!nd) return std::nullopt;
      if (rank > 0) reduced[static_cast<size_t>(*nd)] = true;
    }
    std::vector<Dim> out;
    for (int64_t i = 0; i < rank; ++i) {
      if (!reduced[static_cast<size_t>(i)]) out.push_back(x.dims()[static_cast<size_t>(i)]);
      else if (keepdim) out.push_back(Dim::constant(1));
    }
    return out;
  }

  static Type matmul(const Type& a, const Type& b) {
    std::optional<DType> dt = resultDType(a, b);
    if (!a.hasRank() || !b.hasRank() || a.rank() == 0 || b.rank() == 0) return tensorOf(dt, std::nullopt);
    const auto &da = a.dims(), &db = b.dims();
    if (a.rank() == 1 && b.rank() == 1) return tensorOf(dt, std::vector<Dim>{});
    if (a.rank() == 2 && b.rank() == 1) return tensorOf(dt, std::vector<Dim>{da[0]});
    if (a.rank() == 1 && b.rank() == 2) return tensorOf(dt, std::vector<Dim>{db[1]});
    if (a.rank() == 2 && b.rank() == 2) return tensorOf(dt, std::vector<Dim>{da[0], db[1]});
    // Batched: broadcast the batch dims.
    std::vector<Dim> ba(da.begin(), da.end() - std::min<int64_t>(a.rank(), 2));
    std::vector<Dim> bb(db.begin(), db.end() - std::min<int64_t>(b.rank(), 2));
    auto batch = broadcast({ba, bb});
    if (!batch) return tensorOf(dt, std::nullopt);
    if (a.rank() >= 2) batch->push_back(da[da.size() - 2]);
    if (b.rank() >= 2) batch->push_back(db.back());
    return tensorOf(dt, batch);
  }

  static Dim sliceDim(const Dim& n, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
    if (start && end && *start == 0 && *end == kMaxInt && step == 1) return n;  // x[:]
    if (!n.isConstant() || !start || !end || step <= 0) return Dim::unknown();
    int64_t size = n.value();
    auto clampIndex = [&](int64_t i) {
      if (i < 0) i += size;
      return std::clamp<int64_t>(i, 0, size);
    };
    int64_t s = clampIndex(*start), e = clampIndex(*end);
    return Dim::constant(e > s ? (e - s + step - 1) / step : 0);
  }

  /// reshape's -1: x's element count over the other sizes. Symbols cancel
  /// (x[T,4,8] as (T, -1) is [T,32]); what cannot be divided stays `?`.
  static void resolveMinusOne(const Type& x, std::vector<Dim>& dims) {
    auto minusOne = std::find_if(dims.begin(), dims.end(), [](const Dim& d) { return d.isConstant() && d.value() == -1; });
    if (minusOne == dims.end()) return;
    *minusOne = Dim::unknown();
    if (!x.hasRank()) return;
    std::vector<Dim> remaining = x.dims();
    int64_t known = 1;
    for (auto it = dims.begin(); it != dims.end(); ++it) {
      if (it == minusOne) continue;
      if (it->isConstant()) {
        known *= it->value();
        continue;
      }
      auto same = std::find(remaining.begin(), remaining.end(), *it);
      if (it->isUnknown() || same == remaining.end()) return;
      remaining.erase(same);
    }
    Dim total = product(remaining, 0, remaining.size());
    if (total.isConstant() && known > 0 && total.value() % known == 0) *minusOne = Dim::constant(total.value() / known);
  }

  static void expandKeep(const Type& x, std::vector<Dim>& dims) {
    for (size_t i = 0; i < dims.size(); ++i) {
      if (!(dims[i].isConstant() && dims[i].value() == -1)) continue;
      size_t lead = dims.size() - (x.hasRank() ? x.dims().size() : 0);
      dims[i] = (x.hasRank() && i >= lead) ? x.dims()[i - lead] : Dim::unknown();
    }
  }

  Type catOrStack(const Op& op) {
    bool stack = op.kind() == OpKind::Stack;
    int64_t d = op.attrs().getInt("dim").value_or(0);
    std::optional<DType> dt;
    std::optional<std::vector<Dim>> dims;
    int64_t total = 0;
    bool totalKnown = true;
    for (size_t i = 0; i < op.numOperands(); ++i) {
      const Type& t = op.operand(i)->type();
      auto tdt = dtypeOf(t);
      if (!tdt) return Type::unknownTensor();
      dt = i == 0 ? *tdt : promote(*dt, *tdt);
      if (!t.hasRank()) return tensorOf(dt, std::nullopt);
      if (!stack && t.rank() == 1 && t.dims()[0].isConstant() && t.dims()[0].value() == 0) continue;  // skipped by cat
      std::vector<Dim> cur = t.dims();
      int64_t rank = static_cast<int64_t>(cur.size()) + (stack ? 1 : 0);
      auto nd = normDim(d, rank);
      if (!nd) return tensorOf(dt, std::nullopt);
      if (!stack) {
        const Dim& c = cur[static_cast<size_t>(*nd)];
        if (c.isConstant()) total += c.value();
        else totalKnown = false;
      }
      if (!dims) {
        dims = cur;
        if (stack) dims->insert(dims->begin() + *nd, Dim::constant(static_cast<int64_t>(op.numOperands())));
      } else {
        for (size_t k = 0; k < dims->size(); ++k) {
          if (!stack && static_cast<int64_t>(k) == *nd) continue;
          size_t src = stack ? (static_cast<int64_t>(k) < *nd ? k : k - 1) : k;
          if (stack && static_cast<int64_t>(k) == *nd) continue;
          if (src < cur.size() && (*dims)[k] != cur[src]) (*dims)[k] = Dim::unknown();
        }
      }
      if (!stack) (*dims)[static_cast<size_t>(*nd)] = totalKnown ? Dim::constant(total) : Dim::unknown();
    }
    return tensorOf(dt, dims);
  }

  void inferPieces(Op& op) {
    const Type& x = op.operand(0)->type();
    auto dt = dtypeOf(x);
    if (!x.hasRank()) {
      for (size_t i = 0; i < op.numResults(); ++i) setType(op.result(i), tensorOf(dt, std::nullopt));
      return;
    }
    auto d = normDim(op.attrs().getInt("dim").value_or(0), x.rank());
    if (!d) return;
    const Dim& n = x.dims()[static_cast<size_t>(*d)];
    std::vector<Dim> sizes;
    if (op.kind() == OpKind::Split) {
      for (int64_t s : op.attrs().getInts("sizes").value_or(std::vector<int64_t>{})) sizes.push_back(Dim::constant(s));
    } else if (n.isConstant()) {
      int64_t chunks = std::max<int64_t>(1, op.attrs().getInt("chunks").value_or(1));
      int64_t each = (n.value() + chunks - 1) / chunks;
      for (int64_t left = n.value(); left > 0; left -= each) sizes.push_back(Dim::constant(std::min(each, left)));
    }
    for (size_t i = 0; i < op.numResults(); ++i) {
      std::vector<Dim> dims = x.dims();
      dims[static_cast<size_t>(*d)] = i < sizes.size() ? sizes[i] : Dim::unknown();
      setType(op.result(i), tensorOf(dt, dims));
    }
  }

  static Dim windowDim(const Dim& in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil) {
    if (!in.isConstant() || stride <= 0) return Dim::unknown();
    int64_t span = in.value() + 2 * pad - dilation * (kernel - 1) - 1;
    int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    // PyTorch: the last window must start inside the input (or left padding).
    if (ceil && (out - 1) * stride >= in.value() + pad) --out;
    return Dim::constant(out);
  }

  static Type conv2d(const Op& op) {
    const Type &x = op.operand(0)->type(), &w = op.operand(1)->type();
    auto dt = resultDType(x, w);
    auto stride = op.attrs().getInts("stride"), pad = op.attrs().getInts("padding"), dil = op.attrs().getInts("dilation");
    if (!x.hasRank() || x.rank() != 4 || !w.hasRank() || w.rank() != 4 || !stride || !pad || !dil) return tensorOf(dt, std::nullopt);
    const Dim& kh = w.dims()[2];
    const Dim& kw = w.dims()[3];
    if (!kh.isConstant() || !kw.isConstant()) return tensorOf(dt, std::nullopt);
    return tensorOf(dt, std::vector<Dim>{x.dims()[0], w.dims()[0],
                                         windowDim(x.dims()[2], kh.value(), (*stride)[0], (*pad)[0], (*dil)[0], false),
                                         windowDim(x.dims()[3], kw.value(), (*stride)[1], (*pad)[1], (*dil)[1], false)});
  }

  /// (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + outputPadding + 1
  static Dim transposedWindowDim(const Dim& in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                                 int64_t outputPadding) {
    if (!in.isConstant()) return Dim::unknown();
    return Dim::constant((in.value() - 1) * stride - 2 * pad + dilation * (kernel - 1) + outputPadding + 1);
  }

  /// x [N, C, H, W], w [C, O/groups, kh, kw] -> [N, O, Ho, Wo].
  static Type convTranspose2d(const Op& op) {
    const Type &x = op.operand(0)->type(), &w = op.operand(1)->type();
    auto dt = resultDType(x, w);
    const ir::Attributes& a = op.attrs();
    auto stride = a.getInts("stride"), pad = a.getInts("padding"), outPad = a.getInts("output_padding"),
         dil = a.getInts("dilation");
    auto groups = a.getInt("groups");
    if (!x.hasRank() || x.rank() != 4 || !w.hasRank() || w.rank() != 4 || !stride || !pad || !outPad || !dil ||
        !groups || stride->size() != 2 || pad->size() != 2 || outPad->size() != 2 || dil->size() != 2)
      return tensorOf(dt, std::nullopt);
    const Dim &perGroup = w.dims()[1], &kh = w.dims()[2], &kw = w.dims()[3];
    if (!kh.isConstant() || !kw.isConstant()) return tensorOf(dt, std::nullopt);
    Dim channels = perGroup.isConstant() ? Dim::constant(perGroup.value() * *groups) : Dim::unknown();
    return tensorOf(
        dt, std::vector<Dim>{
                x.dims()[0], channels,
                transposedWindowDim(x.dims()[2], kh.value(), (*stride)[0], (*pad)[0], (*dil)[0], (*outPad)[0]),
                transposedWindowDim(x.dims()[3], kw.value(), (*stride)[1], (*pad)[1], (*dil)[1], (*outPad)[1])});
  }

  static Type pool2d(const Op& op) {
    const Type& x = op.operand(0)->type();
    auto dt = dtypeOf(x);
    auto kernel = op.attrs().getInts("kernel"), stride = op.attrs().getInts("stride"), pad = op.attrs().getInts("padding");
    std::vector<int64_t> dil = op.attrs().getInts("dilation").value_or(std::vector<int64_t>{1, 1});
    bool ceil = op.attrs().getBool("ceil_mode").value_or(false);
    if (!x.hasRank() || x.rank() < 3 || !kernel || !stride || !pad || kernel->size() != 2) return tensorOf(dt, std::nullopt);
    std::vector<Dim> dims(x.dims().begin(), x.dims().end() - 2);
    for (size_t i = 0; i < 2; ++i) {
      int64_t s = (*stride)[i] == 0 ? (*kernel)[i] : (*stride)[i];
      dims.push_back(windowDim(x.dims()[x.dims().size() - 2 + i], (*kernel)[i], s, (*pad)[i], dil[i], ceil));
    }
    return tensorOf(dt, dims);
  }

  std::unordered_map<const Value*, Dim> known_;
  /// Loop-carried arguments that, so far, only an undef initial value reaches.
  std::unordered_set<const Value*> onlyUndef_;
  ir::Status contradiction_;  // the first op whose operands cannot go together
};

}  // namespace

std::unique_ptr<Pass> createShapeInferencePass() { return std::make_unique<ShapeInference>(); }

}  // namespace cocktail::passes
