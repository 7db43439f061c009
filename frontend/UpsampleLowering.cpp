//===- frontend/UpsampleLowering.cpp - F.interpolate's nearest and linear modes -----===//
//
// aten::upsample_nearest{1,2,3}d, _upsample_nearest_exact{1,2,3}d,
// upsample_linear1d, upsample_bilinear2d and upsample_trilinear3d (both
// overloads: output sizes and scales, or `.vec` with output_size or
// scale_factors). Each spatial dim is resampled on its own, the last first,
// with the source positions PyTorch's CPU kernels compute (in the input's
// dtype) from the output position o:
//
//   nearest        min(floor(o * scale), n-1)   (o >> 1 when doubling; as is when equal)
//   nearest-exact  min(floor((o + 0.5) * scale), n-1)
//   linear         s = max(scale * (o + 0.5) - 0.5, 0), or scale * o with align_corners;
//                  i = min(floor(s), n-1), j = min(i+1, n-1), w = clamp(s - i, 0, 1);
//                  x[i] * (1 - w) + x[j] * w
//
// where scale is 1/scale_factor when one was given and n/out otherwise
// ((n-1)/(out-1) with align_corners). A dim is an index_select (two, and a
// weighted sum, for linear), so the op is made of IR ops the scheduler has.
// The spatial sizes must be static (Specialize records the input's sizes).
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <optional>

#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

enum class Mode { Nearest, NearestExact, Linear };

Type tensorT() { return Type::unknownTensor(); }

/// What one upsample node asks for, per spatial dim.
struct Resample {
  std::vector<int64_t> inSizes, outSizes;
  std::vector<std::optional<double>> scaleFactors;  // as given, before 1/x
  bool alignCorners = false;
};

std::optional<std::vector<double>> constDoubleList(const jit::Value* v) {
  if (auto iv = jit::toIValue(v); iv && iv->isDoubleList()) return iv->toDoubleVector();
  if (v->node()->kind() != c10::prim::ListConstruct) return std::nullopt;
  std::vector<double> out;
  for (const jit::Value* e : v->node()->inputs()) {
    auto d = jit::toIValue(e);
    if (!d || !d->isDouble()) return std::nullopt;
    out.push_back(d->toDouble());
  }
  return out;
}

Resample readArgs(Lowering& L, size_t spatial, bool hasAlign) {
  Resample r;
  const jit::Node* n = L.node();
  if (!n->hasAttribute(inputSizesAttr())) throw NotLowered{"its input's rank is not known from the input specs"};
  const std::vector<int64_t>& sizes = n->is(inputSizesAttr());
  if (sizes.size() != spatial + 2)
    L.t().fail(n, fmt::format("expected an input of rank {}, got rank {}", spatial + 2, sizes.size()));
  for (size_t d = 0; d < spatial; ++d) {
    int64_t s = sizes[d + 2];
    if (s < 0) throw NotLowered{"its input's spatial sizes must be static in the input specs"};
    r.inSizes.push_back(s);
  }
  if (hasAlign) r.alignCorners = L.cbool(2, "align_corners");
  const size_t scalesAt = hasAlign ? 3 : 2;
  if (L.overload() == "vec") {
    // (input, int[]? output_size, [align_corners,] float[]? scale_factors)
    if (!L.isNone(1)) {
      r.outSizes = L.cints(1, "output_size");
      r.scaleFactors.assign(spatial, std::nullopt);
    } else {
      auto factors = constDoubleList(L.input(scalesAt));
      if (!factors) throw NotLowered{"its scale_factors must be a constant list of floats"};
      if (factors->size() != spatial)
        L.t().fail(n, fmt::format("expected {} scale factors, got {}", spatial, factors->size()));
      for (size_t d = 0; d < spatial; ++d) {
        // PyTorch's output size: the product in double, truncated.
        r.outSizes.push_back(static_cast<int64_t>(static_cast<double>(r.inSizes[d]) * (*factors)[d]));
        r.scaleFactors.push_back((*factors)[d]);
      }
    }
  } else {
    // (self, int[k] output_size, [align_corners,] float? scales...)
    r.outSizes = L.cints(1, "output_size");
    for (size_t d = 0; d < spatial; ++d) {
      size_t at = scalesAt + d;
      if (at < L.numInputs() && !L.isNone(at)) r.scaleFactors.push_back(L.cdouble(at, "scale"));
      else r.scaleFactors.push_back(std::nullopt);
    }
  }
  if (r.outSizes.size() != spatial)
    L.t().fail(n, fmt::format("expected {} output sizes, got {}", spatial, r.outSizes.size()));
  for (int64_t o : r.outSizes)
    if (o <= 0) L.t().fail(n, fmt::format("output sizes must be positive, got {}", o));
  return r;
}

/// PyTorch's scale from output to input positions, rounded to float as its
/// kernels hold it (area_pixel_compute_scale).
double sourceScale(int64_t in, int64_t out, std::optional<double> factor, bool alignCorners, Mode mode) {
  if (mode == Mode::Linear && alignCorners)
    return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0;
  if (factor && *factor > 0) return static_cast<float>(1.0 / *factor);
  return static_cast<float>(in) / static_cast<float>(out);
}

/// x resampled along `dim` (negative) from `in` to `out` positions.
ir::Value* resampleDim(Lowering& L, ir::Value* x, int64_t dim, int64_t in, int64_t out, double scale, Mode mode,
                       bool alignCorners) {
  ir::Builder& b = L.b();
  auto t = [&](OpKind k, std::vector<ir::Value*> ops, Attributes a = {}) {
    return b.create1(k, std::move(ops), tensorT(), std::move(a));
  };
  auto select = [&](ir::Value* index) { return t(OpKind::IndexSelect, {x, index}, attrs({{"dim", dim}})); };
  if (mode == Mode::Nearest && out == in) return x;
  ir::Value* last = b.constantInt(in - 1);
  ir::Value* positions = t(OpKind::Arange, {b.constantInt(0), b.constantInt(out), b.constantInt(1)},
                           attrs({{"dtype", DType::I64}}));
  if (mode == Mode::Nearest && out == 2 * in) return select(t(OpKind::FloorDiv, {positions, b.constantInt(2)}));
  // Positions in x's dtype, as PyTorch computes them (opmath of float is float).
  ir::Value* o = t(OpKind::CastLike, {positions, x});
  ir::Value* s = b.constantFloat(scale);
  auto index = [&](ir::Value* src) {
    return t(OpKind::Minimum, {t(OpKind::Cast, {t(OpKind::Floor, {src})}, attrs({{"dtype", DType::I64}})), last});
  };
  if (mode == Mode::Nearest) return select(index(t(OpKind::Mul, {o, s})));
  ir::Value* half = b.constantFloat(0.5);
  if (mode == Mode::NearestExact) return select(index(t(OpKind::Mul, {t(OpKind::Add, {o, half}), s})));
  ir::Value* src = alignCorners ? t(OpKind::Mul, {o, s})
                                : t(OpKind::Maximum, {t(OpKind::Sub, {t(OpKind::Mul, {t(OpKind::Add, {o, half}), s}), half}),
                                                      b.constantFloat(0.0)});
  ir::Value* i = index(src);
  ir::Value* j = t(OpKind::Minimum, {t(OpKind::Add, {i, b.constantInt(1)}), last});
  ir::Value* w = t(OpKind::Sub, {src, t(OpKind::CastLike, {i, x})});
  w = t(OpKind::Minimum, {t(OpKind::Maximum, {w, b.constantFloat(0.0)}), b.constantFloat(1.0)});
  // The weights along `dim`, broadcast over the dims after it.
  std::vector<ir::Value*> shape = {w, b.constantInt(out)};
  for (int64_t k = dim + 1; k < 0; ++k) shape.push_back(b.constantInt(1));
  ir::Value* w1 = t(OpKind::Reshape, shape);
  ir::Value* w0 = t(OpKind::Sub, {b.constantFloat(1.0), w1});
  return t(OpKind::Add, {t(OpKind::Mul, {select(i), w0}), t(OpKind::Mul, {select(j), w1})});
}

LowerFn upsample(Mode mode, size_t spatial) {
  return [mode, spatial](Lowering& L) {
    Resample r = readArgs(L, spatial, mode == Mode::Linear);
    ir::Value* x = L.in(0);
    // The last dim first: PyTorch's kernels sum the innermost dim's terms first.
    for (size_t k = spatial; k-- > 0;) {
      int64_t dim = static_cast<int64_t>(k) - static_cast<int64_t>(spatial);
      double scale = sourceScale(r.inSizes[k], r.outSizes[k], r.scaleFactors[k], r.alignCorners, mode);
      x = resampleDim(L, x, dim, r.inSizes[k], r.outSizes[k], scale, mode, r.alignCorners);
    }
    L.out(x);
  };
}

}  // namespace

void addUpsampleLowerings(std::unordered_map<std::string, LowerFn>& table) {
  const char* dims[] = {"1d", "2d", "3d"};
  for (size_t k = 0; k < 3; ++k) {
    table.emplace(fmt::format("aten::upsample_nearest{}", dims[k]), upsample(Mode::Nearest, k + 1));
    table.emplace(fmt::format("aten::_upsample_nearest_exact{}", dims[k]), upsample(Mode::NearestExact, k + 1));
  }
  table.emplace("aten::upsample_linear1d", upsample(Mode::Linear, 1));
  table.emplace("aten::upsample_bilinear2d", upsample(Mode::Linear, 2));
  table.emplace("aten::upsample_trilinear3d", upsample(Mode::Linear, 3));
}

}  // namespace cocktail::frontend::lowering
