//===- frontend/AtenLowering.cpp - aten:: and prim:: ops to IR ops ------------------===//
//
// The table from TorchScript op names to lowering functions: the elementwise,
// reduction, creation and nn ops here, and the families in their own files
// (containers, scalars, recurrent modules, attention, pads, ...) through
// their add*Lowerings. A lowering reads the node's inputs, checks that what
// must be constant is constant, and emits IR. When it cannot (a dynamic
// kernel size, an unsupported overload), it throws NotLowered with the
// reason, before emitting anything, and the node becomes a TorchScript
// island (or an error under --strict).
//
//===----------------------------------------------------------------------===//
#include <functional>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "frontend/Lowering.h"

namespace cocktail::frontend {

using namespace lowering;

namespace {

// ---- families ---------------------------------------------------------------------

LowerFn binary(OpKind k) {
  return [k](Lowering& L) {
    // add/sub(Tensor, Tensor|Scalar, alpha): fold alpha into a multiply.
    if ((k == OpKind::Add || k == OpKind::Sub) && L.numInputs() == 3) {
      double alpha = L.cdouble(2, "alpha");
      ir::Value* other = L.in(1);
      if (alpha != 1.0) {
        ir::Value* a = L.t().constInt(L.input(2)) ? L.b().constantInt(static_cast<int64_t>(alpha)) : L.b().constantFloat(alpha);
        other = L.emitTyped(OpKind::Mul, {other, a}, other->type());
      }
      return L.out(L.emit(k, {L.in(0), other}));
    }
    if (L.numInputs() != 2) throw NotLowered{"this overload is not supported"};
    L.out(L.emit(k, {L.in(0), L.in(1)}));
  };
}

LowerFn unary(OpKind k) {
  return [k](Lowering& L) {
    if (k == OpKind::Gelu && L.numInputs() == 2) {
      const Slot& s = L.slotOf(1);
      if (s.kind != Slot::Kind::String || s.str != "none") throw NotLowered{"only approximate='none' is supported"};
    } else if (L.numInputs() != 1) {
      throw NotLowered{"this overload is not supported"};
    }
    L.out(L.emit(k, {L.in(0)}));
  };
}

/// logical_and/or/xor(a, b) on any dtype: (a != 0) op (b != 0).
ir::Value* nonZero(Lowering& L, size_t i) {
  ir::Value* x = L.in(i);
  if (x->type().isScalar()) return x;
  return L.emitTyped(OpKind::Ne, {x, L.b().constantInt(0)}, Type::unknownTensor());
}

LowerFn logical(OpKind k) {
  return [k](Lowering& L) { L.out(L.emit(k, {nonZero(L, 0), nonZero(L, 1)})); };
}

void lowerLogicalNot(Lowering& L) {
  ir::Value* x = L.in(0);
  if (x->type().isScalar()) return L.out(L.emit(OpKind::Not, {x}));
  L.out(L.emit(OpKind::Eq, {x, L.b().constantInt(0)}));
}

/// Identity ops: the output is the input (dropout at inference, detach, ...).
void lowerAlias(Lowering& L) { L.t().alias(L.node()->output(), L.input(0)); }

void lowerDropout(Lowering& L) {
  // p == 0 keeps every element unscaled, even in training mode (swin's F.dropout(attn, p=0.0)).
  if (L.cbool(2, "train flag") && L.cdouble(1, "p") != 0.0) throw NotLowered{"dropout in training mode"};
  L.out(L.in(0));
}

// sum(self, dtype) | sum(self, dims, keepdim, dtype), mean likewise.
LowerFn reduction(OpKind k) {
  return [k](Lowering& L) {
    // sum(int[]): Specialize folds it where the elements are known.
    if (!L.isTensor(0)) throw NotLowered{"a sum of a list is only taken when its elements are known constants"};
    Attributes a;
    if (L.numInputs() == 2) {
      a.set("dims", std::vector<int64_t>{});
      a.set("keepdim", false);
      if (auto d = L.cdtype(1)) a.set("dtype", *d);
    } else {
      a.set("dims", L.isNone(1) ? std::vector<int64_t>{} : L.cints(1, "dims"));
      a.set("keepdim", L.cbool(2, "keepdim"));
      if (L.numInputs() > 3)
        if (auto d = L.cdtype(3)) a.set("dtype", *d);
    }
    ir::Value* x = L.in(0);
    if (k != OpKind::Sum) {
      // mean(x, dtype=d) is mean(x.to(d)).
      if (auto d = a.getDType("dtype"))
        x = L.emitTyped(OpKind::Cast, {x}, Type::unknownTensor(), attrs({{"dtype", *d}}));
      a.erase("dtype");
    }
    L.out(L.emit(k, {x}, std::move(a)));
  };
}

// amax/amin(self, dims, keepdim)
LowerFn extremum(OpKind k) {
  return [k](Lowering& L) {
    L.out(L.emit(k, {L.in(0)}, attrs({{"dims", L.cints(1, "dims")}, {"keepdim", L.cbool(2, "keepdim")}})));
  };
}

// max(self) | max(self, other) | max.dim(self, dim, keepdim) | max(int, int)
LowerFn maxOrMin(bool isMax) {
  return [isMax](Lowering& L) {
    if (L.numInputs() == 1) {
      if (!L.isTensor(0)) throw NotLowered{"max/min of a list is not supported"};
      return L.out(L.emit(isMax ? OpKind::Amax : OpKind::Amin, {L.in(0)},
                          attrs({{"dims", std::vector<int64_t>{}}, {"keepdim", false}})));
    }
    if (L.numInputs() == 2) return L.out(L.emit(isMax ? OpKind::Maximum : OpKind::Minimum, {L.in(0), L.in(1)}));
    Attributes a = attrs({{"dim", L.cint(1, "dim")}, {"keepdim", L.cbool(2, "keepdim")}});
    ir::Op* op = L.b().create(isMax ? OpKind::MaxDim : OpKind::MinDim, {L.in(0)}, {L.outType(0), L.outType(1)}, std::move(a));
    L.out(op->result(0), 0);
    L.out(op->result(1), 1);
  };
}

// argmax(self, dim?, keepdim), any/all(self[, dim, keepdim])
LowerFn indexReduction(OpKind k) {
  return [k](Lowering& L) {
    Attributes a;
    a.set("keepdim", L.numInputs() > 2 ? L.cbool(2, "keepdim") : false);
    if (L.numInputs() > 1 && !L.isNone(1)) a.set("dim", L.cint(1, "dim"));
    L.out(L.emit(k, {L.in(0)}, std::move(a)));
  };
}

LowerFn softmax(OpKind k) {
  return [k](Lowering& L) {
    if (L.numInputs() > 2 && !L.isNone(2)) throw NotLowered{"softmax with a dtype is not supported"};
    L.out(L.emit(k, {L.in(0)}, attrs({{"dim", L.cint(1, "dim")}})));
  };
}

// topk(self, k, dim, largest, sorted): the IR's topk is always sorted, one
// of the orders sorted=False allows.
void lowerTopk(Lowering& L) {
  Attributes a = attrs({{"k", L.cint(1, "k")}, {"dim", L.cint(2, "dim")}, {"largest", L.cbool(3, "largest")}});
  ir::Op* op = L.b().create(OpKind::Topk, {L.in(0)}, {L.outType(0), L.outType(1)}, std::move(a));
  L.out(op->result(0), 0);
  L.out(op->result(1), 1);
}

// cumsum(self, dim, dtype)
void lowerCumsum(Lowering& L) {
  Attributes a = attrs({{"dim", L.cint(1, "dim")}});
  if (L.numInputs() > 2)
    if (auto d = L.cdtype(2)) a.set("dtype", *d);
  L.out(L.emit(OpKind::Cumsum, {L.in(0)}, std::move(a)));
}

// zeros/ones(size, dtype, layout, device, pin_memory); full(size, value, dtype, ...)
LowerFn creation(std::optional<int64_t> fill) {
  return [fill](Lowering& L) {
    size_t dtypeAt = fill ? 1 : 2;
    std::optional<DType> dtype;
    // zeros(..., dtype=x.dtype): made in f32, then cast to x's dtype.
    ir::Value* dtypeLike = nullptr;
    if (L.numInputs() > dtypeAt && L.slotOf(dtypeAt).kind == Slot::Kind::DTypeOf) {
      dtypeLike = L.slotOf(dtypeAt).value;
      dtype = DType::F32;
    } else if (L.numInputs() > dtypeAt) {
      dtype = L.cdtype(dtypeAt);
    }
    auto out = [&](ir::Value* v) { L.out(dtypeLike ? L.emit(OpKind::CastLike, {v, dtypeLike}) : v); };
    if (L.slotOf(0).kind == Slot::Kind::SizeList) {
      // zeros(x.size()): x's shape, without knowing x's rank here.
      ir::Value* like = L.slotOf(0).value;
      ir::Value* value = fill ? L.b().constantInt(*fill) : L.in(1);
      if (!dtype) dtype = fill ? DType::F32 : (value->type().dtype() == DType::F64 ? DType::F32 : value->type().dtype());
      return out(L.emitTyped(OpKind::FullLike, {like, value}, Type::unknownTensor(), attrs({{"dtype", *dtype}})));
    }
    std::vector<ir::Value*> sizes = L.listValues(0);
    ir::Value* value;
    if (fill) {
      value = L.b().constantInt(*fill);
      if (!dtype) dtype = DType::F32;
    } else {
      value = L.in(1);
      if (!dtype) {
        DType vt = value->type().dtype();
        dtype = vt == DType::F64 ? DType::F32 : vt;  // full(…, 2) is an int64 tensor, full(…, 2.) a float one
      }
    }
    std::vector<ir::Value*> operands = {value};
    operands.insert(operands.end(), sizes.begin(), sizes.end());
    out(L.emitTyped(OpKind::Full, operands, Type::unknownTensor(), attrs({{"dtype", *dtype}})));
  };
}

// zeros_like/ones_like(self, dtype, ...); full_like(self, value, dtype, ...)
LowerFn creationLike(std::optional<int64_t> fill) {
  return [fill](Lowering& L) {
    size_t dtypeAt = fill ? 1 : 2;
    Attributes a;
    if (L.numInputs() > dtypeAt)
      if (auto d = L.cdtype(dtypeAt)) a.set("dtype", *d);
    ir::Value* value = fill ? L.b().constantInt(*fill) : L.in(1);
    L.out(L.emit(OpKind::FullLike, {L.in(0), value}, std::move(a)));
  };
}

// new_zeros/new_ones(self, size, dtype, ...); new_full(self, size, value, dtype, ...): self's dtype by default.
LowerFn newCreation(std::optional<int64_t> fill) {
  return [fill](Lowering& L) {
    size_t dtypeAt = fill ? 2 : 3;
    std::optional<DType> dtype = L.numInputs() > dtypeAt ? L.cdtype(dtypeAt) : std::nullopt;
    std::vector<ir::Value*> operands = {fill ? L.b().constantInt(*fill) : L.in(2)};
    for (ir::Value* size : L.listValues(1)) operands.push_back(size);
    ir::Value* full =
        L.emitTyped(OpKind::Full, operands, Type::unknownTensor(), attrs({{"dtype", dtype.value_or(DType::F32)}}));
    L.out(dtype ? full : L.emit(OpKind::CastLike, {full, L.in(0)}));
  };
}

void lowerArange(Lowering& L) {
  // arange(end, dtype, ...) | arange.start(start, end, dtype, ...) | arange.start_step(start, end, step, dtype, ...)
  std::string ov = L.overload();
  ir::Value *start, *end, *step;
  size_t dtypeAt;
  if (ov.empty()) {
    start = L.b().constantInt(0), end = L.in(0), step = L.b().constantInt(1), dtypeAt = 1;
  } else if (ov == "start") {
    start = L.in(0), end = L.in(1), step = L.b().constantInt(1), dtypeAt = 2;
  } else if (ov == "start_step") {
    start = L.in(0), end = L.in(1), step = L.in(2), dtypeAt = 3;
  } else {
    throw NotLowered{fmt::format("overload arange.{} is not supported", ov)};
  }
  auto dtype = L.cdtype(dtypeAt);
  if (!dtype) {
    bool anyFloat = false;
    for (ir::Value* v : {start, end, step}) anyFloat |= v->type().dtype() == DType::F64;
    dtype = anyFloat ? DType::F32 : DType::I64;
  }
  L.out(L.emit(OpKind::Arange, {start, end, step}, attrs({{"dtype", *dtype}})));
}

// ---- nn -----------------------------------------------------------------------------------------

void lowerLinear(Lowering& L) {
  std::vector<ir::Value*> ops = {L.in(0), L.in(1)};
  if (L.numInputs() > 2 && !L.isNone(2)) ops.push_back(L.in(2));
  L.out(L.emit(OpKind::Linear, ops));
}

/// baddbmm(input, b1, b2, beta, alpha) = beta * input + alpha * (b1 @ b2);
/// with beta 0 the input is not read (its NaNs do not propagate), as ATen's.
void lowerBaddbmm(Lowering& L) {
  double beta = L.cdouble(3, "beta");
  double alpha = L.cdouble(4, "alpha");
  Type t = Type::unknownTensor();
  ir::Value* product = L.emitTyped(OpKind::Matmul, {L.in(1), L.in(2)}, t);
  if (alpha != 1.0) product = L.emitTyped(OpKind::Mul, {product, L.b().constantFloat(alpha)}, t);
  if (beta == 0.0) return L.out(product);
  ir::Value* input = L.in(0);
  if (beta != 1.0) input = L.emitTyped(OpKind::Mul, {input, L.b().constantFloat(beta)}, t);
  L.out(L.emit(OpKind::Add, {input, product}));
}

/// prelu(x, weight): x where x >= 0, else weight * x, one weight per channel
/// (dim 1) or one for all: the channel dim moved last to broadcast, then back.
void lowerPrelu(Lowering& L) {
  Type t = Type::unknownTensor();
  ir::Value* x = L.in(0);
  Attributes swap = attrs({{"dim0", int64_t{1}}, {"dim1", int64_t{-1}}});
  ir::Value* channelsLast = L.emitTyped(OpKind::Transpose, {x}, t, swap);
  ir::Value* scaled = L.emitTyped(OpKind::Transpose, {L.emitTyped(OpKind::Mul, {channelsLast, L.in(1)}, t)}, t, swap);
  ir::Value* positive = L.emitTyped(OpKind::Ge, {x, L.b().constantInt(0)}, t);
  L.out(L.emit(OpKind::Where, {positive, x, scaled}));
}

void lowerAddmm(Lowering& L) {
  L.out(L.emit(OpKind::Addmm, {L.in(0), L.in(1), L.in(2)},
               attrs({{"beta", L.cdouble(3, "beta")}, {"alpha", L.cdouble(4, "alpha")}})));
}

void lowerConv2d(Lowering& L) {
  if (L.slotOf(4).kind == Slot::Kind::String) throw NotLowered{"string padding ('same'/'valid') is not supported"};
  std::vector<ir::Value*> ops = {L.in(0), L.in(1)};
  if (!L.isNone(2)) ops.push_back(L.in(2));
  auto pair = [](std::vector<int64_t> v) { return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v; };
  L.out(L.emit(OpKind::Conv2d, ops,
               attrs({{"stride", pair(L.cints(3, "stride"))},
                      {"padding", pair(L.cints(4, "padding"))},
                      {"dilation", pair(L.cints(5, "dilation"))},
                      {"groups", L.cint(6, "groups")}})));
}

/// conv1d(x, w, bias, stride, padding, dilation, groups) is a conv2d of
/// height 1: x [N,C,L] -> [N,C,1,L], w [O,C/g,K] -> [O,C/g,1,K], then the
/// height squeezed away (unbatched [C,L] works alike: dim -2).
void lowerConv1d(Lowering& L) {
  if (L.slotOf(4).kind == Slot::Kind::String) throw NotLowered{"string padding ('same'/'valid') is not supported"};
  auto one = [&](size_t i, const char* what) {
    std::vector<int64_t> v = L.cints(i, what);
    if (v.size() != 1) throw NotLowered{fmt::format("its {} must have one element", what)};
    return v[0];
  };
  const int64_t stride = one(3, "stride"), padding = one(4, "padding"), dilation = one(5, "dilation");
  const int64_t groups = L.cint(6, "groups");
  auto unsqueeze = [&](ir::Value* v, int64_t dim) {
    return L.emitTyped(OpKind::Unsqueeze, {v}, Type::unknownTensor(), attrs({{"dim", dim}}));
  };
  std::vector<ir::Value*> ops = {unsqueeze(L.in(0), -2), unsqueeze(L.in(1), 2)};
  if (!L.isNone(2)) ops.push_back(L.in(2));
  ir::Value* y = L.emitTyped(OpKind::Conv2d, ops, Type::unknownTensor(),
                             attrs({{"stride", std::vector<int64_t>{1, stride}},
                                    {"padding", std::vector<int64_t>{0, padding}},
                                    {"dilation", std::vector<int64_t>{1, dilation}},
                                    {"groups", groups}}));
  L.out(L.emit(OpKind::Squeeze, {y}, attrs({{"dim", int64_t{-2}}})));
}

void lowerBatchNorm(Lowering& L) {
  // batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)
  if (L.cbool(5, "training flag")) throw NotLowered{"batch_norm in training mode"};
  if (L.isNone(3) || L.isNone(4)) throw NotLowered{"batch_norm without running statistics"};
  ir::Value* mean = L.in(3);
  ir::Value* w = L.isNone(1) ? L.emitTyped(OpKind::FullLike, {mean, L.b().constantInt(1)}, mean->type()) : L.in(1);
  ir::Value* bias = L.isNone(2) ? L.emitTyped(OpKind::FullLike, {mean, L.b().constantInt(0)}, mean->type()) : L.in(2);
  L.out(L.emit(OpKind::BatchNorm, {L.in(0), mean, L.in(4), w, bias}, attrs({{"eps", L.cdouble(7, "eps")}})));
}

/// x * w + b with one weight and bias per channel (dim 1), or none: the
/// channel dim moved last to broadcast, then back (the rank is not needed).
ir::Value* perChannelAffine(Lowering& L, ir::Value* x, size_t weight, size_t bias) {
  bool hasWeight = !L.isNone(weight), hasBias = !L.isNone(bias);
  if (!hasWeight && !hasBias) return x;
  Type t = Type::unknownTensor();
  Attributes swap = attrs({{"dim0", int64_t{1}}, {"dim1", int64_t{-1}}});
  ir::Value* y = L.emitTyped(OpKind::Transpose, {x}, t, swap);
  if (hasWeight) y = L.emitTyped(OpKind::Mul, {y, L.in(weight)}, t);
  if (hasBias) y = L.emitTyped(OpKind::Add, {y, L.in(bias)}, t);
  return L.emitTyped(OpKind::Transpose, {y}, t, swap);
}

/// Normalises x [N, C, *] over groups of channels and the spatial dims:
/// x viewed as [N, groups, rest], (x - mean) / sqrt(var + eps) with the
/// biased variance, as ATen's native_group_norm.
ir::Value* normalizeGroups(Lowering& L, ir::Value* x, ir::Value* groups, double eps) {
  Type t = Type::unknownTensor();
  ir::Builder& b = L.b();
  ir::Value* n = b.create1(OpKind::Size, {x}, Type::scalar(DType::I64), attrs({{"dim", int64_t{0}}}));
  ir::Value* g = L.emitTyped(OpKind::Reshape, {x, n, groups, b.constantInt(-1)}, t);
  Attributes overRest = attrs({{"dims", std::vector<int64_t>{2}}, {"keepdim", true}});
  ir::Value* centred = L.emitTyped(OpKind::Sub, {g, L.emitTyped(OpKind::Mean, {g}, t, overRest)}, t);
  ir::Value* var = L.emitTyped(OpKind::Mean, {L.emitTyped(OpKind::Mul, {centred, centred}, t)}, t, overRest);
  ir::Value* inv = L.emitTyped(OpKind::Rsqrt, {L.emitTyped(OpKind::Add, {var, b.constantFloat(eps)}, t)}, t);
  return L.emitTyped(OpKind::ReshapeAs, {L.emitTyped(OpKind::Mul, {centred, inv}, t), x}, t);
}

/// group_norm(input, num_groups, weight?, bias?, eps, cudnn_enabled)
void lowerGroupNorm(Lowering& L) {
  int64_t groups = L.cint(1, "num_groups");
  if (groups <= 0) L.t().fail(L.node(), fmt::format("num_groups must be positive, got {}", groups));
  ir::Value* y = normalizeGroups(L, L.in(0), L.b().constantInt(groups), L.cdouble(4, "eps"));
  L.out(perChannelAffine(L, y, 2, 3));
}

/// instance_norm(input, weight?, bias?, running_mean?, running_var?,
///   use_input_stats, momentum, eps, cudnn_enabled): at inference with the
///   input's statistics, a group norm with one group per channel.
void lowerInstanceNorm(Lowering& L) {
  if (!L.cbool(5, "use_input_stats")) throw NotLowered{"instance_norm with running statistics is not supported"};
  ir::Value* x = L.in(0);
  ir::Value* channels = L.b().create1(OpKind::Size, {x}, Type::scalar(DType::I64), attrs({{"dim", int64_t{1}}}));
  ir::Value* y = normalizeGroups(L, x, channels, L.cdouble(7, "eps"));
  L.out(perChannelAffine(L, y, 1, 2));
}

void lowerLayerNorm(Lowering& L) {
  std::vector<int64_t> shape = L.cints(1, "normalized_shape");
  auto ones = [&](int64_t v) {
    std::vector<ir::Value*> ops = {L.b().constantInt(v)};
    for (int64_t d : shape) ops.push_back(L.b().constantInt(d));
    return L.emitTyped(OpKind::Full, ops, Type::unknownTensor(), attrs({{"dtype", DType::F32}}));
  };
  ir::Value* w = L.isNone(2) ? ones(1) : L.in(2);
  ir::Value* bias = L.isNone(3) ? ones(0) : L.in(3);
  L.out(L.emit(OpKind::LayerNorm, {L.in(0), w, bias}, attrs({{"shape", shape}, {"eps", L.cdouble(4, "eps")}})));
}

std::vector<int64_t> pair2(std::vector<int64_t> v, const std::vector<int64_t>& fallback) {
  if (v.empty()) return fallback;
  return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v;
}

void lowerMaxPool2d(Lowering& L) {
  auto kernel = pair2(L.cints(1, "kernel_size"), {});
  L.out(L.emit(OpKind::MaxPool2d, {L.in(0)},
               attrs({{"kernel", kernel},
                      {"stride", pair2(L.cints(2, "stride"), kernel)},
                      {"padding", pair2(L.cints(3, "padding"), {0, 0})},
                      {"dilation", pair2(L.cints(4, "dilation"), {1, 1})},
                      {"ceil_mode", L.cbool(5, "ceil_mode")}})));
}

void lowerAvgPool2d(Lowering& L) {
  if (L.numInputs() > 6 && !L.isNone(6)) throw NotLowered{"divisor_override is not supported"};
  auto kernel = pair2(L.cints(1, "kernel_size"), {});
  L.out(L.emit(OpKind::AvgPool2d, {L.in(0)},
               attrs({{"kernel", kernel},
                      {"stride", pair2(L.cints(2, "stride"), kernel)},
                      {"padding", pair2(L.cints(3, "padding"), {0, 0})},
                      {"ceil_mode", L.cbool(4, "ceil_mode")},
                      {"count_include_pad", L.cbool(5, "count_include_pad")}})));
}

void lowerAdaptiveAvgPool2d(Lowering& L) {
  L.out(L.emit(OpKind::AdaptiveAvgPool2d, {L.in(0)}, attrs({{"output_size", pair2(L.cints(1, "output_size"), {})}})));
}

void lowerEmbedding(Lowering& L) { L.out(L.emit(OpKind::Embedding, {L.in(0), L.in(1)})); }

void lowerWhere(Lowering& L) {
  if (L.numInputs() != 3) throw NotLowered{"where(cond) is not supported"};
  L.out(L.emit(OpKind::Where, {L.in(0), L.in(1), L.in(2)}));
}

void lowerMaskedFill(Lowering& L) { L.out(L.emit(OpKind::MaskedFill, {L.in(0), L.in(1), L.in(2)})); }

void lowerClamp(Lowering& L, bool hasMin, bool hasMax) {
  Attributes a;
  bool floatBound = false;
  auto bound = [&](size_t i, const char* name) {
    if (L.numInputs() <= i || L.isNone(i)) return;
    if (L.isTensor(i)) throw NotLowered{"tensor bounds are not supported"};
    a.set(name, L.cdouble(i, name));
    floatBound |= L.input(i)->type()->kind() == c10::TypeKind::FloatType;
  };
  size_t i = 1;
  if (hasMin) bound(i++, "min");
  if (hasMax) bound(i, "max");
  // An integer tensor clamped by a float bound is a float tensor (result_type).
  if (floatBound) a.set("float_bounds", true);
  L.out(L.emit(OpKind::Clamp, {L.in(0)}, std::move(a)));
}

/// hardtanh(x, min_val, max_val) is clamp; ReLU6 is hardtanh(x, 0, 6).
void lowerHardtanh(Lowering& L) {
  L.out(L.emit(OpKind::Clamp, {L.in(0)}, attrs({{"min", L.cdouble(1, "min_val")}, {"max", L.cdouble(2, "max_val")}})));
}

/// An activation whose scalar arguments (after x) become the named attributes.
LowerFn activation(OpKind k, std::vector<const char*> names) {
  return [k, names](Lowering& L) {
    if (L.numInputs() != names.size() + 1) throw NotLowered{"this overload is not supported"};
    Attributes a;
    for (size_t i = 0; i < names.size(); ++i) a.set(names[i], L.cdouble(i + 1, names[i]));
    L.out(L.emit(k, {L.in(0)}, std::move(a)));
  };
}

void lowerTo(Lowering& L) {
  // to.dtype(self, dtype, non_blocking, copy, memory_format)
  // to.device(self, device, dtype, non_blocking, copy, memory_format)
  // to.dtype_layout(self, dtype, layout, device, pin_memory, non_blocking, copy, memory_format)
  std::string ov = L.overload();
  size_t dtypeAt;
  if (ov == "dtype" || ov == "dtype_layout" || ov == "prim_dtype") dtypeAt = 1;
  else if (ov == "device" || ov == "prim_Device") dtypeAt = 2;
  else throw NotLowered{fmt::format("overload to.{} is not supported", ov)};
  auto d = L.cdtype(dtypeAt);
  if (!d) return lowerAlias(L);
  L.out(L.emit(OpKind::Cast, {L.in(0)}, attrs({{"dtype", *d}})));
}

/// as_tensor(Tensor data, dtype=None, device=None): data, cast where a dtype is given.
void lowerAsTensor(Lowering& L) {
  if (!L.isTensor(0)) throw NotLowered{"as_tensor of a list or a number is not supported"};
  auto d = L.cdtype(1);
  if (!d) return lowerAlias(L);
  L.out(L.emit(OpKind::Cast, {L.in(0)}, attrs({{"dtype", *d}})));
}

void lowerDiv(Lowering& L) {
  if (L.numInputs() == 3) {
    const Slot& mode = L.slotOf(2);
    if (mode.kind == Slot::Kind::None) return L.out(L.emit(OpKind::Div, {L.in(0), L.in(1)}));
    if (mode.kind == Slot::Kind::String && mode.str == "floor") return L.out(L.emit(OpKind::FloorDiv, {L.in(0), L.in(1)}));
    throw NotLowered{"div with rounding_mode='trunc' is not supported"};
  }
  L.out(L.emit(OpKind::Div, {L.in(0), L.in(1)}));
}

void lowerRsub(Lowering& L) {
  ir::Value* self = L.in(0);
  double alpha = L.numInputs() > 2 ? L.cdouble(2, "alpha") : 1.0;
  if (alpha != 1.0) self = L.emitTyped(OpKind::Mul, {self, L.b().constantFloat(alpha)}, self->type());
  L.out(L.emit(OpKind::Sub, {L.in(1), self}));
}

void lowerPermuteLike(Lowering& L, OpKind k, const char* attr) {
  L.out(L.emit(k, {L.in(0)}, attrs({{attr, L.cints(1, attr)}})));
}

void lowerTri(Lowering& L, OpKind k) {
  L.out(L.emit(k, {L.in(0)}, attrs({{"diagonal", L.numInputs() > 1 ? L.cint(1, "diagonal") : int64_t{0}}})));
}

void lowerGatherLike(Lowering& L, OpKind k) {
  L.out(L.emit(k, {L.in(0), L.in(2)}, attrs({{"dim", L.cint(1, "dim")}})));
}

/// scatter.src(self, dim, index, src): a tensor src without a reduction
/// (pack_padded_sequence's inverse permutation).
void lowerScatter(Lowering& L) {
  if (L.numInputs() != 4 || !L.isTensor(3))
    throw NotLowered{"only scatter(self, dim, index, src) of a tensor src is supported"};
  L.out(L.emit(OpKind::Scatter, {L.in(0), L.in(2), L.in(3)}, attrs({{"dim", L.cint(1, "dim")}})));
}

std::unordered_map<std::string, LowerFn>* withModuleLowerings(std::unordered_map<std::string, LowerFn>* table) {
  addContainerLowerings(*table);
  addScalarLowerings(*table);
  addRecurrentLowerings(*table);
  addPackedSequenceLowerings(*table);
  addSortLowerings(*table);
  addAttentionLowerings(*table);
  addPadLowerings(*table);
  addUpsampleLowerings(*table);
  addNormLowerings(*table);
  addRepeatInterleaveLowerings(*table);
  addUnfoldLowerings(*table);
  return table;
}

const std::unordered_map<std::string, LowerFn>& loweringTable() {
  static const auto* table = withModuleLowerings(new std::unordered_map<std::string, LowerFn>{
      // elementwise
      {"aten::add",
       [](Lowering& L) {
         if (!lowerListConcat(L)) binary(OpKind::Add)(L);
       }},
      {"aten::sub", binary(OpKind::Sub)},
      {"aten::mul", binary(OpKind::Mul)},
      {"aten::div", lowerDiv},
      {"aten::rsub", lowerRsub},
      {"aten::pow", binary(OpKind::Pow)},
      {"aten::maximum", binary(OpKind::Maximum)},
      {"aten::minimum", binary(OpKind::Minimum)},
      {"aten::remainder", binary(OpKind::Remainder)},
      {"aten::floordiv", binary(OpKind::FloorDiv)},
      {"aten::floor_divide", binary(OpKind::FloorDiv)},
      {"aten::eq",
       [](Lowering& L) {
         if (!lowerListComparison(L, false)) binary(OpKind::Eq)(L);
       }},
      {"aten::ne",
       [](Lowering& L) {
         if (!lowerListComparison(L, true)) binary(OpKind::Ne)(L);
       }},
      {"aten::lt", binary(OpKind::Lt)},
      {"aten::le", binary(OpKind::Le)},
      {"aten::gt", binary(OpKind::Gt)},
      {"aten::ge", binary(OpKind::Ge)},
      {"aten::__and__", binary(OpKind::And)},
      {"aten::__or__", binary(OpKind::Or)},
      {"aten::__xor__", binary(OpKind::Xor)},
      {"aten::logical_and", logical(OpKind::And)},
      {"aten::logical_or", logical(OpKind::Or)},
      {"aten::logical_xor", logical(OpKind::Xor)},
      {"aten::bitwise_and", binary(OpKind::And)},
      {"aten::bitwise_or", binary(OpKind::Or)},
      {"aten::bitwise_xor", binary(OpKind::Xor)},
      {"aten::bitwise_not", unary(OpKind::Not)},  // `~mask`; on integers the executors flip every bit
      {"prim::max", binary(OpKind::Maximum)},
      {"prim::min", binary(OpKind::Minimum)},
      {"aten::neg", unary(OpKind::Neg)},
      {"aten::sigmoid", unary(OpKind::Sigmoid)},
      {"aten::tanh", unary(OpKind::Tanh)},
      {"aten::relu", unary(OpKind::Relu)},
      {"aten::exp", unary(OpKind::Exp)},
      {"aten::log", unary(OpKind::Log)},
      {"aten::sqrt", unary(OpKind::Sqrt)},
      {"aten::rsqrt", unary(OpKind::Rsqrt)},
      {"aten::abs", unary(OpKind::Abs)},
      {"prim::abs", unary(OpKind::Abs)},
      {"aten::__not__", unary(OpKind::Not)},
      {"aten::logical_not", lowerLogicalNot},
      {"aten::gelu", unary(OpKind::Gelu)},
      {"aten::erf", unary(OpKind::Erf)},
      {"aten::sin", unary(OpKind::Sin)},
      {"aten::cos", unary(OpKind::Cos)},
      {"aten::floor", unary(OpKind::Floor)},
      {"aten::ceil", unary(OpKind::Ceil)},
      {"aten::round", unary(OpKind::Round)},
      {"aten::reciprocal", unary(OpKind::Reciprocal)},
      {"aten::silu", unary(OpKind::Silu)},
      {"aten::hardtanh", lowerHardtanh},
      {"aten::relu6",
       [](Lowering& L) {
         L.out(L.emit(OpKind::Clamp, {L.in(0)}, attrs({{"min", 0.0}, {"max", 6.0}})));
       }},
      {"aten::hardswish", activation(OpKind::Hardswish, {})},
      {"aten::hardsigmoid", activation(OpKind::Hardsigmoid, {})},
      {"aten::leaky_relu", activation(OpKind::LeakyRelu, {"negative_slope"})},
      {"aten::elu", activation(OpKind::Elu, {"alpha", "scale", "input_scale"})},
      {"aten::softplus", activation(OpKind::Softplus, {"beta", "threshold"})},
      {"aten::mish", activation(OpKind::Mish, {})},
      {"aten::glu", lowerGlu},
      {"aten::where", lowerWhere},
      {"aten::masked_fill", lowerMaskedFill},
      {"aten::clamp", [](Lowering& L) { lowerClamp(L, true, true); }},
      {"aten::clamp_min", [](Lowering& L) { lowerClamp(L, true, false); }},
      {"aten::clamp_max", [](Lowering& L) { lowerClamp(L, false, true); }},
      {"aten::to", lowerTo},
      {"aten::as_tensor", lowerAsTensor},
      // identities
      {"aten::detach", lowerAlias},
      {"aten::contiguous", lowerAlias},
      {"aten::alias", lowerAlias},
      {"aten::clone", [](Lowering& L) { L.out(L.in(0)); }},
      {"prim::unchecked_cast", lowerAlias},
      {"aten::dropout", lowerDropout},
      {"aten::feature_dropout", lowerDropout},
      // reductions
      {"aten::sum", reduction(OpKind::Sum)},
      {"aten::mean", reduction(OpKind::Mean)},
      {"aten::amax", extremum(OpKind::Amax)},
      {"aten::amin", extremum(OpKind::Amin)},
      {"aten::max", maxOrMin(true)},
      {"aten::min", maxOrMin(false)},
      {"aten::argmax", indexReduction(OpKind::Argmax)},
      {"aten::argmin", indexReduction(OpKind::Argmin)},
      {"aten::any", indexReduction(OpKind::Any)},
      {"aten::all", indexReduction(OpKind::All)},
      {"aten::softmax", softmax(OpKind::Softmax)},
      {"aten::log_softmax", softmax(OpKind::LogSoftmax)},
      {"aten::topk", lowerTopk},
      {"aten::cumsum", lowerCumsum},
      // linear algebra
      {"aten::matmul", [](Lowering& L) { L.out(L.emit(OpKind::Matmul, {L.in(0), L.in(1)})); }},
      {"aten::mm", [](Lowering& L) { L.out(L.emit(OpKind::Matmul, {L.in(0), L.in(1)})); }},
      {"aten::bmm", [](Lowering& L) { L.out(L.emit(OpKind::Matmul, {L.in(0), L.in(1)})); }},
      {"aten::linear", lowerLinear},
      {"aten::addmm", lowerAddmm},
      {"aten::baddbmm", lowerBaddbmm},
      {"aten::einsum", lowerEinsum},
      {"aten::prelu", lowerPrelu},
      // views and data movement
      {"aten::select", lowerView},
      {"aten::slice", lowerView},
      {"aten::narrow", lowerView},
      {"aten::view", lowerView},
      {"aten::reshape", lowerView},
      {"aten::view_as", lowerView},
      {"aten::reshape_as", lowerView},
      {"aten::flatten", lowerView},
      {"aten::unsqueeze", lowerView},
      {"aten::squeeze", lowerView},
      {"aten::transpose", lowerView},
      {"aten::t", lowerView},
      {"aten::permute", lowerView},
      {"aten::expand", lowerView},
      {"aten::expand_as", [](Lowering& L) { L.out(L.emit(OpKind::ExpandAs, {L.in(0), L.in(1)})); }},
      {"aten::index_select", [](Lowering& L) { lowerGatherLike(L, OpKind::IndexSelect); }},
      {"aten::gather", [](Lowering& L) { lowerGatherLike(L, OpKind::Gather); }},
      {"aten::index", lowerIndex},
      {"aten::flip", [](Lowering& L) { lowerPermuteLike(L, OpKind::Flip, "dims"); }},
      {"aten::repeat", [](Lowering& L) { lowerPermuteLike(L, OpKind::Repeat, "repeats"); }},
      {"aten::tril", [](Lowering& L) { lowerTri(L, OpKind::Tril); }},
      {"aten::triu", [](Lowering& L) { lowerTri(L, OpKind::Triu); }},
      // writes
      {"aten::copy_", lowerCopy},
      {"aten::index_put_", lowerIndexPutInPlace},
      {"aten::index_put", [](Lowering& L) { L.out(emitIndexPut(L)); }},
      {"aten::scatter", lowerScatter},
      {"aten::fill_", [](Lowering& L) { lowerFill(L, false); }},
      {"aten::zero_", [](Lowering& L) { lowerFill(L, true); }},
      // creation
      {"aten::zeros", creation(0)},
      {"aten::ones", creation(1)},
      {"aten::empty", creation(0)},
      {"aten::full", creation(std::nullopt)},
      {"aten::zeros_like", creationLike(0)},
      {"aten::new_zeros", newCreation(0)},
      {"aten::new_ones", newCreation(1)},
      {"aten::new_full", newCreation(std::nullopt)},
      {"aten::ones_like", creationLike(1)},
      {"aten::empty_like", creationLike(0)},
      {"aten::full_like", creationLike(std::nullopt)},
      {"aten::arange", lowerArange},
      // nn
      {"aten::embedding", lowerEmbedding},
      {"aten::conv2d", lowerConv2d},
      {"aten::conv1d", lowerConv1d},
      {"aten::conv_transpose1d", [](Lowering& L) { lowerConvTranspose(L, 1); }},
      {"aten::conv_transpose2d", [](Lowering& L) { lowerConvTranspose(L, 2); }},
      {"aten::batch_norm", lowerBatchNorm},
      {"aten::layer_norm", lowerLayerNorm},
      {"aten::group_norm", lowerGroupNorm},
      {"aten::instance_norm", lowerInstanceNorm},
      {"aten::max_pool2d", lowerMaxPool2d},
      {"aten::avg_pool2d", lowerAvgPool2d},
      {"aten::adaptive_avg_pool2d", lowerAdaptiveAvgPool2d},
      {"aten::adaptive_max_pool2d", lowerAdaptiveMaxPool2d},
      // scalars, lists, tuples
      {"aten::dim", [](Lowering& L) { L.out(L.emit(OpKind::Rank, {L.in(0)})); }},
      {"aten::numel", [](Lowering& L) { L.out(L.emit(OpKind::Numel, {L.in(0)})); }},
      {"prim::device", [](Lowering& L) { L.outSlot(Slot::none()); }},
      {"aten::warn", [](Lowering&) {}},
  });
  return *table;
}

}  // namespace

std::optional<DType> dtypeOf(c10::ScalarType t) {
  switch (t) {
    case c10::ScalarType::Float: return DType::F32;
    case c10::ScalarType::Double: return DType::F64;
    case c10::ScalarType::Long: return DType::I64;
    case c10::ScalarType::Int: return DType::I32;
    case c10::ScalarType::Bool: return DType::I1;
    case c10::ScalarType::Byte: return DType::U8;
    case c10::ScalarType::Half: return DType::F16;
    case c10::ScalarType::BFloat16: return DType::BF16;
    default: return std::nullopt;
  }
}

bool GraphTranslator::lowerOp(jit::Node* n, std::string& whyNot) {
  std::string name = n->kind().toQualString();
  const auto& table = loweringTable();
  try {
    if (auto it = table.find(name); it != table.end()) {
      Lowering L(*this, n);
      it->second(L);
      if (isViewOp(n) && name != "aten::detach" && name != "aten::contiguous" && name != "aten::alias" &&
          name != "prim::unchecked_cast") {
        const jit::Value* root = rootOf(n->output());
        views_[n->output()] = ViewInfo{n, canonical(n->input(0)), canonical(root), rootVersion_[canonical(root)]};
      }
      return true;
    }
    // In-place variants (add_, relu_, masked_fill_, ...): the functional op,
    // then a write of its result into self.
    if (isInPlaceOp(n)) {
      std::string functional = name.substr(0, name.size() - 1);
      auto it = table.find(functional);
      if (it == table.end()) {
        whyNot = fmt::format("no lowering for {}", functional);
        return false;
      }
      Lowering L(*this, n);
      ir::Value* result = nullptr;
      L.captureInto(&result);
      it->second(L);
      ir::Value* self = value(n->input(0));
      writeInto(n->input(0), builder().create1(OpKind::CopyInto, {self, result}, self->type()));
      alias(n->output(), n->input(0));
      return true;
    }
  } catch (const NotLowered& e) {
    whyNot = e.reason;
    return false;
  }
  return false;
}

}  // namespace cocktail::frontend
