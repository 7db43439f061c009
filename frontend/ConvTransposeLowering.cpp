//===- frontend/ConvTransposeLowering.cpp - conv_transpose1d/2d to IR ---------------===//
//
// aten::conv_transpose2d(x, w, bias?, stride, padding, output_padding, groups,
// dilation) becomes the IR's conv_transpose2d; conv_transpose1d is the 2-d
// one of height 1, as conv1d is conv2d's (x [N,C,L] -> [N,C,1,L], w [C,O/g,K]
// -> [C,O/g,1,K], the height squeezed away after).
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

/// An int[] argument of `spatialDims` entries (one entry repeats).
std::vector<int64_t> spatial(Lowering& L, size_t i, const char* what, size_t spatialDims) {
  std::vector<int64_t> v = L.cints(i, what);
  if (v.size() == 1 && spatialDims == 2) v.push_back(v[0]);
  if (v.size() != spatialDims) throw NotLowered{fmt::format("its {} must have {} element(s)", what, spatialDims)};
  return v;
}

}  // namespace

void lowerConvTranspose(Lowering& L, size_t spatialDims) {
  std::vector<int64_t> stride = spatial(L, 3, "stride", spatialDims);
  std::vector<int64_t> padding = spatial(L, 4, "padding", spatialDims);
  std::vector<int64_t> outputPadding = spatial(L, 5, "output_padding", spatialDims);
  const int64_t groups = L.cint(6, "groups");
  std::vector<int64_t> dilation = spatial(L, 7, "dilation", spatialDims);
  ir::Value* x = L.in(0);
  ir::Value* w = L.in(1);
  auto unsqueeze = [&](ir::Value* v, int64_t dim) {
    return L.emitTyped(OpKind::Unsqueeze, {v}, Type::unknownTensor(), attrs({{"dim", dim}}));
  };
  if (spatialDims == 1) {
    x = unsqueeze(x, -2);
    w = unsqueeze(w, 2);
    auto height1 = [](std::vector<int64_t>& v, int64_t h) { v.insert(v.begin(), h); };
    height1(stride, 1), height1(padding, 0), height1(outputPadding, 0), height1(dilation, 1);
  }
  std::vector<ir::Value*> ops = {x, w};
  if (!L.isNone(2)) ops.push_back(L.in(2));
  Attributes a = attrs({{"stride", stride},
                        {"padding", padding},
                        {"output_padding", outputPadding},
                        {"dilation", dilation},
                        {"groups", groups}});
  if (spatialDims == 2) return L.out(L.emit(OpKind::ConvTranspose2d, ops, std::move(a)));
  ir::Value* y = L.emitTyped(OpKind::ConvTranspose2d, ops, Type::unknownTensor(), std::move(a));
  L.out(L.emit(OpKind::Squeeze, {y}, attrs({{"dim", int64_t{-2}}})));
}

}  // namespace cocktail::frontend::lowering
