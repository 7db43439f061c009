//===- tests/runtime/kernels/ConvTransposePoolTest.cpp ---------------------------===//
//
// conv_transpose2d and adaptive_max_pool2d of runtime/cpu against ATen.
//
//===----------------------------------------------------------------------===//

#include "tests/runtime/kernels/AtenCompare.h"

namespace cocktail::runtime::cpu {
namespace {

using namespace testing;

TEST(NN, ConvTranspose2d) {
  at::manual_seed(71);
  struct Case {
    Shape x, w;  // w [C, O/groups, kh, kw]
    std::array<int64_t, 2> stride, padding, outputPadding, dilation;
    int64_t groups;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 3, 5, 5}, {3, 4, 3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1, true},
      {{2, 4, 8, 8}, {4, 8, 3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, true},   // nn.ConvTranspose2d(4, 8, 3, 2, 1, 1)
      {{2, 4, 6, 7}, {4, 3, 4, 2}, {2, 3}, {1, 0}, {0, 2}, {1, 1}, 1, false},  // uneven strides, output padding
      {{1, 6, 5, 5}, {6, 2, 3, 3}, {1, 1}, {1, 1}, {0, 0}, {2, 2}, 3, true},   // groups, dilation
      {{1, 6, 5, 4}, {6, 1, 3, 3}, {2, 2}, {0, 1}, {1, 0}, {1, 2}, 6, true},   // depthwise, output padding < dilation
      {{2, 16, 9, 9}, {16, 40, 2, 2}, {2, 2}, {0, 0}, {0, 0}, {1, 1}, 1, true},  // more rows than one panel
      {{1, 4, 1, 16}, {4, 8, 1, 4}, {1, 2}, {0, 1}, {0, 0}, {1, 1}, 1, true},  // conv_transpose1d's form
      {{4, 6, 6}, {4, 2, 3, 3}, {1, 1}, {2, 2}, {0, 0}, {1, 1}, 1, true},      // unbatched, padding crops
      {{0, 3, 4, 4}, {3, 2, 3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1, true},   // empty batch
  };
  for (DType t : {DType::F32, DType::F64})
    for (const Case& c : cases) {
      const at::Tensor x = randomAten(c.x, t), w = randomAten(c.w, t);
      const at::Tensor b = randomAten({c.w[1] * c.groups}, t);
      const Tensor bt = fromAten(b);
      EXPECT_TRUE(sameOrBothThrow(
          [&] {
            return convTranspose2d(fromAten(x), fromAten(w), c.bias ? &bt : nullptr, c.stride, c.padding,
                                   c.outputPadding, c.dilation, c.groups);
          },
          [&] {
            return at::conv_transpose2d(x, w, c.bias ? b : at::Tensor(), c.stride, c.padding, c.outputPadding,
                                        c.groups, c.dilation);
          },
          1e-5, 1e-5))
          << shapeToString(c.x) << " * " << shapeToString(c.w) << " " << ir::dtypeName(t);
    }
  const Tensor x = random({1, 4, 5, 5}, DType::F32), w = random({4, 2, 3, 3}, DType::F32);
  EXPECT_THROW_MSG(convTranspose2d(random({1, 3, 5, 5}, DType::F32), w, nullptr), std::invalid_argument,
                   "conv_transpose2d: weight [4, 2, 3, 3] does not fit input [1, 3, 5, 5]");
  EXPECT_THROW_MSG(convTranspose2d(x, w, nullptr, {2, 2}, {0, 0}, {2, 0}), std::invalid_argument,
                   "output padding 2 must be smaller than either stride 2 or dilation 1");
  EXPECT_THROW_MSG(convTranspose2d(x, w, nullptr, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 3), std::invalid_argument,
                   "a multiple of the groups");
  EXPECT_THROW_MSG(convTranspose2d(x, w, nullptr, {1, 1}, {4, 4}), std::invalid_argument, "empty output");
  const Tensor wrongBias = random({3}, DType::F32);
  EXPECT_THROW_MSG(convTranspose2d(x, w, &wrongBias), std::invalid_argument, "expected a bias of f32 [2]");
  EXPECT_THROW_MSG(convTranspose2d(x, random({4, 2, 3, 3}, DType::F64), nullptr), std::invalid_argument,
                   "differ in dtype");
}

TEST(NN, AdaptiveMaxPool2d) {
  at::manual_seed(72);
  for (const auto& [s, o] : std::vector<std::pair<Shape, std::array<int64_t, 2>>>{
           {{2, 4, 9, 9}, {3, 3}}, {{1, 4, 7, 7}, {1, 1}}, {{2, 3, 10, 9}, {3, 4}}, {{3, 5, 5}, {5, 5}},
           {{1, 1, 4, 4}, {7, 3}}, {{1, 2, 6, 5}, {4, 2}}})
    for (DType t : {DType::F32, DType::F64}) {
      at::Tensor x = randomAten(s, t);
      if (x.numel() > 20) x.view(-1)[5] = NAN, x.view(-1)[17] = NAN;
      x.view(-1)[x.numel() - 1] = x.view(-1)[x.numel() - 2];  // a tie: the first one's index
      const auto [values, indices] = adaptiveMaxPool2d(fromAten(x), o);
      const auto [want, wantIndices] = at::adaptive_max_pool2d(x, o);
      EXPECT_TRUE(sameAs(values, want)) << shapeToString(s);
      EXPECT_TRUE(sameAs(indices, wantIndices)) << shapeToString(s);
    }
  EXPECT_THROW_MSG(adaptiveMaxPool2d(random({1, 2, 0, 4}, DType::F32), {2, 2}), std::invalid_argument,
                   "adaptive_max_pool2d: expected input with non-zero size");
  EXPECT_THROW_MSG(adaptiveMaxPool2d(random({2, 4}, DType::F32), {2, 2}), std::invalid_argument,
                   "adaptive_max_pool2d: expected a 3-d (unbatched) or 4-d (batched) input");
  EXPECT_THROW_MSG(adaptiveMaxPool2d(random({1, 2, 4, 4}, DType::I64), {2, 2}), std::invalid_argument,
                   "adaptive_max_pool2d");
}

}  // namespace
}  // namespace cocktail::runtime::cpu
