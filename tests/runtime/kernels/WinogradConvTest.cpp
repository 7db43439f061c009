//===- tests/runtime/kernels/WinogradConvTest.cpp - 3x3 convolutions as Winograd F(2x2, 3x3) ---===//
//
// conv2d on weights in the Winograd layout (WinogradConv.h) against ATen's
// direct convolution: odd and even maps (half tiles at the bottom and the
// right), rows of more than 16 tiles (two vector groups), maps of one chunk
// of tile rows and of several, paddings 0 to 2, a batch of two, on 1 to 3
// workers (whose ranges of channels end inside a
// vector group of tiles), with and without bias and epilogue.
//
//===----------------------------------------------------------------------===//
#include <atomic>

#include <fmt/format.h>

#include "runtime/cpu/PackedConv.h"
#include "runtime/cpu/WinogradConv.h"
#include "runtime/cpu/WorkerPool.h"
#include "tests/runtime/kernels/AtenCompare.h"

namespace cocktail::runtime::cpu {
namespace {

using namespace testing;
using Layout = PackedConvWeights::Layout;

struct Case {
  Shape x, w;
  int64_t padding;
};

TEST(WinogradConv, MatchesTheDirectConvolution) {
  at::manual_seed(29);
  const std::vector<Case> cases = {
      {{1, 16, 14, 14}, {32, 16, 3, 3}, 1},   // ResNet's 14x14 stage, small
      {{2, 24, 9, 17}, {48, 24, 3, 3}, 1},    // odd map, batch of two
      {{1, 16, 33, 40}, {16, 16, 3, 3}, 1},   // rows of 17 and 20 tiles: two groups each
      {{1, 20, 8, 8}, {24, 20, 3, 3}, 0},     // no padding: 6x6 out
      {{1, 16, 11, 12}, {20, 16, 3, 3}, 2},   // padding 2: 13x14 out
      {{1, 64, 56, 56}, {64, 64, 3, 3}, 1},   // ResNet's first stage
      {{1, 3, 2, 3}, {5, 3, 3, 3}, 1},        // a map of one tile row, few channels
      {{1, 40, 7, 7}, {72, 40, 3, 3}, 1},     // a 7x7 map: 16 tiles (two register blocks), 3 panels of output channels
  };
  const int before = numWorkers();
  for (int workers : {1, 2, 3}) {
    setNumWorkers(workers);
    for (const Case& c : cases) {
      SCOPED_TRACE(fmt::format("{} * {}, padding {}, {} workers", shapeToString(c.x), shapeToString(c.w), c.padding,
                               workers));
      const std::array<int64_t, 2> padding{c.padding, c.padding}, one{1, 1};
      ASSERT_TRUE(winogradApplies(c.w, one, one, 1));
      const at::Tensor x = randomAten(c.x, DType::F32), w = randomAten(c.w, DType::F32);
      const at::Tensor b = randomAten({c.w[0]}, DType::F32);
      const Tensor wt = fromAten(w), bt = fromAten(b);
      const PackedConvWeights packed(wt, Layout::Winograd);
      // Rounding differs from the direct sum by a few ulp of the largest terms.
      const at::Tensor want = at::conv2d(x, w, b, one, padding);
      EXPECT_TRUE(sameAs(conv2d(fromAten(x), wt, &bt, one, padding, one, 1, nullptr, &packed), want, 1e-4, 1e-4));
      // The epilogue sees every output element once: relu(2 y) - 1.
      std::atomic<int64_t> seen = 0;
      const Epilogue epilogue = [&](float* out, int64_t begin, int64_t rows, int64_t width, int64_t stride) {
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < width; ++j) {
            float& y = out[begin + r * stride + j];
            y = std::max(2 * y, 0.0f) - 1;
          }
        seen += rows * width;
      };
      const Tensor y = conv2d(fromAten(x), wt, nullptr, one, padding, one, 1, &epilogue, &packed);
      EXPECT_EQ(seen, y.numel());
      EXPECT_TRUE(sameAs(y, at::relu(2 * at::conv2d(x, w, {}, one, padding)) - 1, 1e-4, 1e-4));
    }
  }
  setNumWorkers(before);
}

TEST(WinogradConv, OnlyWhereItPays) {
  const std::array<int64_t, 2> one{1, 1};
  EXPECT_TRUE(winogradPays({256, 256, 3, 3}, one, one, 1, 14, 14));  // ResNet's 14x14 stage
  EXPECT_TRUE(winogradPays({32, 32, 3, 3}, one, one, 1, 32, 32));    // 2^20 multiplies
  EXPECT_FALSE(winogradPays({16, 16, 3, 3}, one, one, 1, 32, 32));   // fewer
  EXPECT_FALSE(winogradPays({512, 512, 3, 3}, one, one, 1, 7, 28));  // a map under 12x12
  EXPECT_FALSE(winogradPays({64, 8, 3, 3}, one, one, 1, 128, 128));  // too few input channels
  EXPECT_FALSE(winogradPays({8, 64, 3, 3}, one, one, 1, 128, 128));  // too few output channels
  // It applies only to 3x3 stride-1 convolutions, undilated and ungrouped.
  EXPECT_TRUE(winogradApplies({1, 1, 3, 3}, one, one, 1));
  EXPECT_FALSE(winogradPays({64, 64, 3, 3}, {2, 2}, one, 1, 28, 28));
  EXPECT_FALSE(winogradApplies({64, 64, 3, 3}, {2, 2}, one, 1));  // strided
  EXPECT_FALSE(winogradApplies({64, 64, 3, 3}, one, {2, 2}, 1));  // dilated
  EXPECT_FALSE(winogradApplies({64, 32, 3, 3}, one, one, 2));     // grouped
  EXPECT_FALSE(winogradApplies({64, 64, 5, 5}, one, one, 1));     // not 3x3
  EXPECT_THROW_MSG(PackedConvWeights(random({16, 16, 5, 5}, DType::F32), Layout::Winograd), std::invalid_argument,
                   "Winograd weights must be 3x3");
}

TEST(WinogradConv, WhereItDoesNotApplyTheConvolutionStillRuns) {
  // Weights transformed for a stride-1 convolution, given to a strided one:
  // conv2d takes another kernel on the plain weights.
  at::manual_seed(31);
  const at::Tensor x = randomAten({1, 16, 10, 10}, DType::F32), w = randomAten({16, 16, 3, 3}, DType::F32);
  const Tensor wt = fromAten(w);
  const PackedConvWeights packed(wt, Layout::Winograd);
  const std::array<int64_t, 2> one{1, 1}, two{2, 2};
  EXPECT_TRUE(sameAs(conv2d(fromAten(x), wt, nullptr, two, one, one, 1, nullptr, &packed),
                     at::conv2d(x, w, {}, two, one), 1e-4, 1e-4));
}

}  // namespace
}  // namespace cocktail::runtime::cpu
