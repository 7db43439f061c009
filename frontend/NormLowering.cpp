//===- frontend/NormLowering.cpp - Vector norms (torch.norm, F.normalize) ------------===//
//
// aten::norm over some dims or all of them, as reductions the scheduler has:
//
//   p = 2 (default)  sqrt(sum(x * x))
//   p = 1            sum(|x|)
//   p = inf, -inf    amax(|x|), amin(|x|)
//   p = 0            sum(x != 0)
//   other p          sum(|x| ^ p) ^ (1/p)
//
// F.normalize (swin v2's cosine attention) is `x / norm(x, p, dim,
// keepdim=True).clamp_min(eps)`.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <limits>
#include <optional>

#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

Type tensorT() { return Type::unknownTensor(); }

/// norm(self, p=2) | norm(self, p?, dim, keepdim=False[, dtype]) | norm(self, p?, dtype)
void lowerNorm(Lowering& L) {
  if (!L.isTensor(0)) throw NotLowered{"its input must be a tensor"};
  const std::string ov = L.overload();
  double p = L.numInputs() > 1 && !L.isNone(1) ? L.cdouble(1, "p") : 2.0;
  std::vector<int64_t> dims;
  bool keepdim = false;
  std::optional<DType> dtype;
  if (ov == "ScalarOpt_dim" || ov == "ScalarOpt_dim_dtype") {
    dims = L.cints(2, "dim");
    keepdim = L.cbool(3, "keepdim");
    if (ov == "ScalarOpt_dim_dtype") dtype = L.cdtype(4);
  } else if (ov == "ScalarOpt_dtype") {
    dtype = L.cdtype(2);
  } else if (ov != "Scalar" && !ov.empty()) {
    throw NotLowered{fmt::format("the overload norm.{} is not supported", ov)};
  }
  ir::Builder& b = L.b();
  auto t = [&](OpKind k, std::vector<ir::Value*> ops, Attributes a = {}) {
    return b.create1(k, std::move(ops), tensorT(), std::move(a));
  };
  auto reduce = [&](OpKind k, ir::Value* v) { return t(k, {v}, attrs({{"dims", dims}, {"keepdim", keepdim}})); };
  ir::Value* x = L.in(0);
  if (dtype) x = t(OpKind::Cast, {x}, attrs({{"dtype", *dtype}}));
  ir::Value* out;
  if (p == 2.0) {
    out = t(OpKind::Sqrt, {reduce(OpKind::Sum, t(OpKind::Mul, {x, x}))});
  } else if (p == 1.0) {
    out = reduce(OpKind::Sum, t(OpKind::Abs, {x}));
  } else if (std::isinf(p)) {
    out = reduce(p > 0 ? OpKind::Amax : OpKind::Amin, t(OpKind::Abs, {x}));
  } else if (p == 0.0) {
    out = reduce(OpKind::Sum, t(OpKind::CastLike, {t(OpKind::Ne, {x, b.constantFloat(0.0)}), x}));
  } else {
    ir::Value* powered = t(OpKind::Pow, {t(OpKind::Abs, {x}), b.constantFloat(p)});
    out = t(OpKind::Pow, {reduce(OpKind::Sum, powered), b.constantFloat(1.0 / p)});
  }
  L.out(out);
}

}  // namespace

void addNormLowerings(std::unordered_map<std::string, LowerFn>& table) { table.emplace("aten::norm", lowerNorm); }

}  // namespace cocktail::frontend::lowering
