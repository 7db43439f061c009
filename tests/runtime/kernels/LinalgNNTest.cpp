//===- tests/runtime/kernels/LinalgNNTest.cpp -----------------------------===//
//
// matmul family, embedding, conv2d, normalisations and pools of runtime/cpu
// against ATen, plus a timing smoke test of the convolutions of a ResNet.
//
//===----------------------------------------------------------------------===//

#include <atomic>
#include <cstring>
#include <limits>
#include <optional>

#include "runtime/cpu/Gemm.h"
#include "runtime/cpu/PackedConv.h"
#include "runtime/cpu/WorkerPool.h"
#include "tests/runtime/kernels/AtenCompare.h"

namespace cocktail::runtime::cpu {
namespace {

using namespace testing;

// ---- linear algebra --------------------------------------------------------------

TEST(Linalg, MatmulShapes) {
  at::manual_seed(50);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5}, {5}},          {{3, 5}, {5}},         {{5}, {5, 4}},        {{3, 5}, {5, 4}},
      {{2, 3, 5}, {5, 4}}, {{2, 3, 5}, {5}},      {{5}, {2, 5, 4}},     {{2, 3, 5}, {2, 5, 4}},
      {{2, 1, 3, 5}, {4, 5, 6}}, {{1, 3, 5}, {2, 5, 4}}, {{3, 0}, {0, 4}}, {{0, 5}, {5, 2}},
      {{2, 3, 5}, {1, 5, 4}}};
  for (DType t : {DType::F32, DType::F64, DType::I64})
    for (const auto& [sa, sb] : cases) {
      const at::Tensor a = randomAten(sa, t), b = randomAten(sb, t);
      EXPECT_TRUE(sameOrBothThrow([&] { return matmul(fromAten(a), fromAten(b)); },
                                  [&] { return at::matmul(a, b); }, 1e-5, 1e-5))
          << shapeToString(sa) << " x " << shapeToString(sb) << " " << ir::dtypeName(t);
    }
  EXPECT_THROW_MSG(matmul(random({2, 3}, DType::F32), random({4, 5}, DType::F32)),
                   std::invalid_argument, "matmul: shapes [2, 3] and [4, 5] cannot be multiplied");
  EXPECT_THROW_MSG(matmul(random({2, 3}, DType::F32), random({3}, DType::F64)), std::invalid_argument,
                   "matmul");
  EXPECT_THROW_MSG(matmul(Tensor::scalarF32(1), random({3}, DType::F32)), std::invalid_argument, "matmul");
}

TEST(Linalg, MmBmmLinearAddmm) {
  at::manual_seed(51);
  const at::Tensor a = randomAten({7, 9}, DType::F32), b = randomAten({9, 4}, DType::F32);
  EXPECT_TRUE(sameAs(mm(fromAten(a), fromAten(b)), at::mm(a, b), 1e-5, 1e-5));
  EXPECT_THROW_MSG(mm(fromAten(a), fromAten(a)), std::invalid_argument, "mm");
  const at::Tensor p = randomAten({3, 7, 9}, DType::F64), q = randomAten({3, 9, 2}, DType::F64);
  EXPECT_TRUE(sameAs(bmm(fromAten(p), fromAten(q)), at::bmm(p, q)));
  EXPECT_THROW_MSG(bmm(fromAten(p), fromAten(p)), std::invalid_argument, "bmm");
  const at::Tensor in = randomAten({7}, DType::F64);
  EXPECT_TRUE(sameAs(baddbmm(fromAten(in.slice(0, 0, 2)), fromAten(p), fromAten(q), 0.5, 2.0),
                     at::baddbmm(in.slice(0, 0, 2), p, q, 0.5, 2.0)));
  for (const Shape& xs : {Shape{4, 9}, Shape{2, 3, 9}, Shape{9}, Shape{0, 9}}) {
    const at::Tensor x = randomAten(xs, DType::F32), w = randomAten({6, 9}, DType::F32);
    const at::Tensor bias = randomAten({6}, DType::F32);
    const Tensor bt = fromAten(bias);
    EXPECT_TRUE(sameAs(linear(fromAten(x), fromAten(w), &bt), at::linear(x, w, bias), 1e-5, 1e-5));
    EXPECT_TRUE(sameAs(linear(fromAten(x), fromAten(w), nullptr), at::linear(x, w), 1e-5, 1e-5));
  }
  EXPECT_THROW_MSG(linear(random({4, 8}, DType::F32), random({6, 9}, DType::F32), nullptr),
                   std::invalid_argument, "linear");
  const at::Tensor bias = randomAten({4}, DType::F32);
  EXPECT_TRUE(sameAs(addmm(fromAten(bias), fromAten(a), fromAten(b)), at::addmm(bias, a, b), 1e-5, 1e-5));
  EXPECT_TRUE(sameAs(addmm(fromAten(bias), fromAten(a), fromAten(b), 0.5, -2.0),
                     at::addmm(bias, a, b, 0.5, -2.0), 1e-5, 1e-5));
  const at::Tensor full = randomAten({7, 4}, DType::F32);
  EXPECT_TRUE(sameAs(addmm(fromAten(full), fromAten(a), fromAten(b), 0.0, 1.0),
                     at::addmm(full, a, b, 0.0, 1.0), 1e-5, 1e-5));
}

// One row of output takes the GEMV kernels: every remainder path (k not a
// multiple of the vector width, rows not a multiple of four, columns not a
// multiple of 64) against ATen.
TEST(Linalg, MatrixVectorProductsAtOddSizes) {
  at::manual_seed(52);
  for (int64_t k : {1, 15, 16, 17, 64, 100, 256})
    for (int64_t m : {1, 3, 4, 5, 63, 64, 65, 130}) {
      const at::Tensor x = randomAten({1, k}, DType::F32), w = randomAten({m, k}, DType::F32);
      const at::Tensor b = randomAten({k, m}, DType::F32), bias = randomAten({m}, DType::F32);
      const Tensor bt = fromAten(bias);
      EXPECT_TRUE(sameAs(linear(fromAten(x), fromAten(w), &bt), at::linear(x, w, bias), 1e-5, 1e-5))
          << "linear k=" << k << " m=" << m;
      EXPECT_TRUE(sameAs(matmul(fromAten(x), fromAten(b)), at::matmul(x, b), 1e-5, 1e-5))
          << "matmul k=" << k << " m=" << m;
      // A batch of matrices broadcast against one row (NASRNN's x @ W[8, k, m]).
      const at::Tensor bb = randomAten({3, k, m}, DType::F32);
      EXPECT_TRUE(sameAs(matmul(fromAten(x), fromAten(bb)), at::matmul(x, bb), 1e-5, 1e-5))
          << "batched matmul k=" << k << " m=" << m;
    }
  // NASRNN's step, eight 256x256 products: enough work together to go to the
  // workers one product each (the cases above are too little and run inline).
  const at::Tensor x = randomAten({1, 256}, DType::F32), stack = randomAten({8, 256, 256}, DType::F32);
  EXPECT_TRUE(sameAs(matmul(fromAten(x), fromAten(stack)), at::matmul(x, stack), 1e-4, 1e-4));
}

// The f32 GEMM micro-kernel's remainders: rows not a multiple of eight or
// four, columns not a multiple of 32 (a last panel of at most 16 takes the
// one-vector kernel: m = 15, 16, 33, 97), k of one and k over one packed
// slice (256); beta accumulation; B stored transposed (linear).
TEST(Linalg, MatrixProductsAtOddSizes) {
  at::manual_seed(53);
  for (int64_t n : {2, 4, 5, 9, 17})
    for (int64_t k : {1, 3, 40, 300})
      for (int64_t m : {1, 15, 16, 17, 32, 33, 50, 97}) {
        // Sums of 300 products in another order differ by more than 1e-5.
        const double tol = k > 100 ? 1e-4 : 1e-5;
        const at::Tensor a = randomAten({n, k}, DType::F32), b = randomAten({k, m}, DType::F32);
        EXPECT_TRUE(sameAs(mm(fromAten(a), fromAten(b)), at::mm(a, b), tol, tol))
            << "n=" << n << " k=" << k << " m=" << m;
        const at::Tensor c = randomAten({n, m}, DType::F32);
        EXPECT_TRUE(sameAs(addmm(fromAten(c), fromAten(a), fromAten(b), 0.5, 1.0), at::addmm(c, a, b, 0.5, 1.0),
                           tol, tol))
            << "addmm n=" << n << " k=" << k << " m=" << m;
        // A linear layer's weight is B transposed: packed from its rows.
        const at::Tensor w = randomAten({m, k}, DType::F32), bias = randomAten({m}, DType::F32);
        const Tensor bt = fromAten(bias);
        EXPECT_TRUE(sameAs(linear(fromAten(a), fromAten(w), &bt), at::linear(a, w, bias), tol, tol))
            << "linear n=" << n << " k=" << k << " m=" << m;
        // The same weight packed at load: the same panels, so the same bits.
        const Tensor wt = fromAten(w);
        const PackedPanels packed(wt.data<float>(), k, m, k, BLayout::Transposed);
        const Tensor perCall = linear(fromAten(a), wt, &bt);
        const Tensor prepacked = linear(fromAten(a), wt, &bt, &packed);
        EXPECT_EQ(std::memcmp(perCall.rawData(), prepacked.rawData(), static_cast<size_t>(perCall.nbytes())), 0)
            << "packed linear n=" << n << " k=" << k << " m=" << m;
      }
  const Tensor w = random({6, 9}, DType::F32);
  const PackedPanels packed(w.data<float>(), 9, 6, 9, BLayout::Transposed);
  EXPECT_THROW_MSG(linear(random({4, 8}, DType::F32), random({6, 8}, DType::F32), nullptr, &packed),
                   std::invalid_argument, "linear: packed weights for [6, 9] given a weight of shape [6, 8]");
}

// A given transposed (Winograd's tiles): the same kernel on the same
// operands as A row-major, so the same bits, for rows that fill blocks of 8,
// 4 and 1, ragged last panels, and reductions of one slice and of two;
// columns of C past a panel range stay untouched.
TEST(Linalg, PackedProductWithATransposed) {
  at::manual_seed(54);
  for (int64_t n : {1, 5, 16, 49})
    for (int64_t k : {3, 256, 300})
      for (int64_t m : {7, 32, 40, 64}) {
        const at::Tensor a = randomAten({n, k}, DType::F32), b = randomAten({k, m}, DType::F32);
        const at::Tensor at = a.t().contiguous();
        const PackedPanels packed(b.data_ptr<float>(), k, m, m, BLayout::RowMajor);
        std::vector<float> rowMajor(static_cast<size_t>(n * m), -1.0f), transposed(rowMajor);
        gemmF32Packed(n, a.data_ptr<float>(), k, packed, 0.0f, rowMajor.data(), m, 0, packed.numPanels());
        gemmF32PackedTransposedA(n, at.data_ptr<float>(), n, packed, transposed.data(), m, 0, packed.numPanels());
        EXPECT_EQ(rowMajor, transposed) << "n=" << n << " k=" << k << " m=" << m;
        const at::Tensor want = at::mm(a, b);
        EXPECT_TRUE(sameAs(Tensor::fromBytes(DType::F32, {n, m}, rowMajor.data()), want, 1e-4, 1e-4))
            << "n=" << n << " k=" << k << " m=" << m;
        // The first panel only.
        std::vector<float> first(static_cast<size_t>(n * m), -1.0f);
        gemmF32PackedTransposedA(n, at.data_ptr<float>(), n, packed, first.data(), m, 0, 1);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < m; ++j)
            ASSERT_EQ(first[static_cast<size_t>(i * m + j)], j < 32 ? rowMajor[static_cast<size_t>(i * m + j)] : -1.0f)
                << "n=" << n << " k=" << k << " m=" << m << " at " << i << ", " << j;
      }
}

// ---- neural-network ops ------------------------------------------------------------

TEST(NN, Embedding) {
  at::manual_seed(60);
  const at::Tensor w = randomAten({10, 4}, DType::F32);
  for (const Shape& s : {Shape{5}, Shape{2, 3}, Shape{}, Shape{0}}) {
    const at::Tensor i = at::randint(0, 10, s, at::kLong);
    EXPECT_TRUE(sameAs(embedding(fromAten(w), fromAten(i)), at::embedding(w, i)));
    EXPECT_TRUE(sameAs(embedding(fromAten(w), fromAten(i.to(at::kInt))), at::embedding(w, i.to(at::kInt))));
  }
  EXPECT_THROW_MSG(embedding(fromAten(w), fromAten(at::tensor({3, 10}, at::kLong))), std::out_of_range,
                   "index 10 is out of range for a table of 10 entries");
  EXPECT_THROW_MSG(embedding(fromAten(w), fromAten(at::tensor({-1}, at::kLong))), std::out_of_range,
                   "embedding");
  // 2^63-1 is printed as itself (issue 22 saw -9223372036854775808).
  EXPECT_THROW_MSG(embedding(fromAten(w), fromAten(at::tensor({int64_t{3}, std::numeric_limits<int64_t>::max()}))),
                   std::out_of_range, "embedding: index 9223372036854775807 is out of range for a table of 10 entries");
}

TEST(NN, Conv2d) {
  at::manual_seed(61);
  struct Case {
    Shape x, w;
    std::array<int64_t, 2> stride, padding, dilation;
    int64_t groups;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 3, 9, 9}, {4, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{2, 3, 10, 7}, {5, 3, 3, 2}, {2, 1}, {0, 1}, {1, 1}, 1, false},
      {{1, 4, 8, 8}, {6, 2, 3, 3}, {1, 1}, {1, 1}, {2, 2}, 2, true},
      {{1, 8, 6, 6}, {8, 1, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 8, true},  // depthwise
      {{2, 16, 5, 5}, {8, 16, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, true},  // 1x1 fast path
      {{1, 16, 7, 7}, {8, 16, 1, 1}, {2, 2}, {0, 0}, {1, 1}, 1, false},  // strided 1x1
      {{1, 3, 17, 17}, {8, 3, 7, 7}, {2, 2}, {3, 3}, {1, 1}, 1, false},  // ResNet stem
      {{1, 40, 9, 11}, {12, 40, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},  // k = 360: two slices, the bias once
      {{1, 8, 6, 6}, {6, 4, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2, true},    // a bias per group
      // Few pixel panels per worker: split over output channels (8, 8, 4 rows).
      {{1, 24, 7, 7}, {20, 24, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{2, 8, 5, 5}, {36, 4, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 2, true},  // per group, per image
      {{3, 5, 5}, {2, 3, 3, 3}, {1, 1}, {0, 0}, {1, 1}, 1, true},      // unbatched (channels 3?)
      {{3, 5, 5}, {2, 3, 3, 3}, {1, 1}, {2, 2}, {1, 1}, 1, true},
      {{0, 3, 5, 5}, {2, 3, 3, 3}, {1, 1}, {0, 0}, {1, 1}, 1, true},
      // Stride 1, at most 64 channels, rows of 16 pixels or more: the direct
      // kernel. A full 32-pixel run (BlockDrop's first stage), a run of 20
      // (one 32-lane block, tiled), 32 + 8 (the one-vector kernel) with a
      // 3x5 kernel and asymmetric padding, and 16 exactly with 8 + 4 rows.
      {{1, 16, 32, 32}, {16, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{2, 16, 18, 20}, {8, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{1, 3, 16, 40}, {5, 3, 3, 5}, {1, 1}, {0, 2}, {1, 1}, 1, false},
      {{1, 64, 17, 17}, {12, 64, 2, 2}, {1, 1}, {0, 0}, {1, 1}, 1, true},
  };
  for (DType t : {DType::F32, DType::F64})
    for (const Case& c : cases) {
      const at::Tensor x = randomAten(c.x, t), w = randomAten(c.w, t);
      const at::Tensor b = randomAten({c.w[0]}, t);
      const Tensor bt = fromAten(b);
      // Sums of over 100 products in another order than ATen's differ by more than 1e-5.
      const double tol = c.w[1] * c.w[2] * c.w[3] > 100 ? 1e-4 : 1e-5;
      EXPECT_TRUE(sameOrBothThrow(
          [&] { return conv2d(fromAten(x), fromAten(w), c.bias ? &bt : nullptr, c.stride, c.padding, c.dilation, c.groups); },
          [&] {
            return at::conv2d(x, w, c.bias ? b : at::Tensor(), c.stride, c.padding, c.dilation, c.groups);
          },
          tol, tol))
          << shapeToString(c.x) << " * " << shapeToString(c.w);
    }
  EXPECT_THROW_MSG(conv2d(random({1, 4, 5, 5}, DType::F32), random({2, 3, 3, 3}, DType::F32), nullptr),
                   std::invalid_argument, "conv2d");
  EXPECT_THROW_MSG(conv2d(random({1, 3, 2, 2}, DType::F32), random({2, 3, 3, 3}, DType::F32), nullptr),
                   std::invalid_argument, "conv2d");
}

// Weights packed at load (PackedConv.h): blocks of 32 output channels,
// rows split into runs of at most 14 pixels. A ragged last block (48 = 32 +
// 16 channels), rows of 17 (9 + 8) and 30 (3 x 10) pixels, horizontal
// strides 1 and 2 with another vertical one, dilation, asymmetric padding,
// a batch of two, the ResNet stem, and an epilogue on every row.
TEST(NN, Conv2dOnPackedWeights) {
  at::manual_seed(63);
  struct Case {
    Shape x, w;
    std::array<int64_t, 2> stride, padding, dilation;
  };
  const std::vector<Case> cases = {
      {{1, 16, 14, 14}, {32, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
      {{2, 8, 9, 17}, {48, 8, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
      {{1, 5, 12, 30}, {64, 5, 3, 2}, {3, 1}, {0, 1}, {1, 1}},
      {{1, 6, 15, 31}, {32, 6, 3, 3}, {2, 2}, {1, 1}, {1, 1}},
      {{1, 4, 13, 16}, {32, 4, 3, 3}, {1, 1}, {2, 2}, {2, 2}},
      {{1, 3, 40, 40}, {64, 3, 7, 7}, {2, 2}, {3, 3}, {1, 1}},
      {{1, 32, 7, 7}, {96, 32, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shapeToString(c.x) + " * " + shapeToString(c.w));
    ASSERT_TRUE(packedConvPays(c.w, c.stride, 1));
    const at::Tensor x = randomAten(c.x, DType::F32), w = randomAten(c.w, DType::F32);
    const at::Tensor b = randomAten({c.w[0]}, DType::F32);
    const Tensor wt = fromAten(w), bt = fromAten(b);
    const PackedConvWeights packed(wt);
    const at::Tensor want = at::conv2d(x, w, b, c.stride, c.padding, c.dilation);
    const double tol = c.w[1] * c.w[2] * c.w[3] > 100 ? 1e-4 : 1e-5;
    EXPECT_TRUE(sameAs(conv2d(fromAten(x), wt, &bt, c.stride, c.padding, c.dilation, 1, nullptr, &packed), want, tol,
                       tol));
    // The epilogue sees every output element once: relu(2 y) - 1.
    std::atomic<int64_t> seen = 0;
    const Epilogue epilogue = [&](float* out, int64_t begin, int64_t rows, int64_t width, int64_t stride) {
      EXPECT_LE(rows * width, 256);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < width; ++j) {
          float& y = out[begin + r * stride + j];
          y = std::max(2 * y, 0.0f) - 1;
        }
      seen += rows * width;
    };
    const Tensor y = conv2d(fromAten(x), wt, nullptr, c.stride, c.padding, c.dilation, 1, &epilogue, &packed);
    EXPECT_EQ(seen, y.numel());
    EXPECT_TRUE(sameAs(y, at::relu(2 * at::conv2d(x, w, {}, c.stride, c.padding, c.dilation)) - 1, tol, tol));
  }
  // Where packing does not pay, conv2d keeps its other kernels.
  EXPECT_FALSE(packedConvPays({64, 64, 1, 1}, {1, 1}, 1));   // a GEMM on the input
  EXPECT_FALSE(packedConvPays({16, 16, 3, 3}, {1, 1}, 1));   // half a block idle
  EXPECT_FALSE(packedConvPays({64, 8, 3, 3}, {1, 3}, 1));    // stride 3
  EXPECT_FALSE(packedConvPays({64, 8, 3, 3}, {1, 1}, 2));    // grouped
  const Tensor w = random({32, 4, 3, 3}, DType::F32);
  const PackedConvWeights packed(w);
  EXPECT_THROW_MSG(conv2d(random({1, 4, 8, 8}, DType::F32), random({32, 4, 5, 5}, DType::F32), nullptr, {1, 1},
                          {0, 0}, {1, 1}, 1, nullptr, &packed),
                   std::invalid_argument, "conv2d: packed weights of shape [32, 4, 3, 3] for a weight of shape");
  EXPECT_THROW_MSG(PackedConvWeights(random({32, 4, 3}, DType::F32)), std::invalid_argument, "4-d f32");
}

TEST(NN, BatchNormLayerNorm) {
  at::manual_seed(62);
  for (const Shape& s : {Shape{2, 4, 5, 5}, Shape{3, 4}, Shape{2, 4, 7}}) {
    const at::Tensor x = randomAten(s, DType::F32);
    const at::Tensor m = randomAten({4}, DType::F32), v = at::rand({4}) + 0.5;
    const at::Tensor w = randomAten({4}, DType::F32), b = randomAten({4}, DType::F32);
    const Tensor wt = fromAten(w), bt = fromAten(b);
    EXPECT_TRUE(sameAs(batchNorm(fromAten(x), fromAten(m), fromAten(v), &wt, &bt, 1e-5),
                       at::batch_norm(x, w, b, m, v, false, 0.1, 1e-5, false), 1e-5, 1e-5));
    EXPECT_TRUE(sameAs(batchNorm(fromAten(x), fromAten(m), fromAten(v), nullptr, nullptr, 1e-3),
                       at::batch_norm(x, {}, {}, m, v, false, 0.1, 1e-3, false), 1e-5, 1e-5));
  }
  EXPECT_THROW_MSG(batchNorm(random({2, 3}, DType::F32), random({4}, DType::F32), random({4}, DType::F32),
                             nullptr, nullptr, 1e-5),
                   std::invalid_argument, "batch_norm");
  for (const auto& [s, ns] : std::vector<std::pair<Shape, Shape>>{
           {{2, 5, 8}, {8}}, {{2, 5, 8}, {5, 8}}, {{16}, {16}}, {{3, 256}, {256}}}) {
    const at::Tensor x = randomAten(s, DType::F32) * 3 + 1;
    const at::Tensor w = randomAten(ns, DType::F32), b = randomAten(ns, DType::F32);
    const Tensor wt = fromAten(w), bt = fromAten(b);
    EXPECT_TRUE(sameAs(layerNorm(fromAten(x), ns, &wt, &bt, 1e-5), at::layer_norm(x, ns, w, b, 1e-5), 1e-5, 1e-5));
    EXPECT_TRUE(sameAs(layerNorm(fromAten(x), ns, nullptr, nullptr, 1e-5), at::layer_norm(x, ns), 1e-5, 1e-5));
  }
  EXPECT_THROW_MSG(layerNorm(random({2, 5}, DType::F32), {4}, nullptr, nullptr, 1e-5),
                   std::invalid_argument, "layer_norm");
}

TEST(NN, Pools) {
  at::manual_seed(63);
  struct Case {
    Shape x;
    std::array<int64_t, 2> k, s, p, d;
    bool ceil;
  };
  const std::vector<Case> cases = {
      {{1, 2, 8, 8}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false},
      {{2, 3, 9, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false},
      {{2, 3, 9, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true},
      {{1, 1, 10, 10}, {3, 2}, {3, 2}, {1, 0}, {1, 1}, true},
      {{1, 2, 11, 11}, {3, 3}, {2, 2}, {0, 0}, {2, 2}, true},
      {{3, 6, 5}, {2, 2}, {1, 2}, {1, 1}, {1, 1}, false},  // unbatched
      {{1, 64, 112, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false},  // ResNet
      {{1, 1, 2, 2}, {3, 3}, {1, 1}, {2, 2}, {1, 1}, false},       // pad too big
  };
  for (const Case& c : cases) {
    at::Tensor x = randomAten(c.x, DType::F32);
    if (x.numel() > 10) x.view(-1)[3] = NAN;
    if (x.numel() > 1000) x.view(-1)[x.numel() - 30] = NAN;  // in a vector lane of another row
    const std::string what = shapeToString(c.x);
    EXPECT_TRUE(sameOrBothThrow([&] { return maxPool2d(fromAten(x), c.k, c.s, c.p, c.d, c.ceil); },
                                [&] { return at::max_pool2d(x, c.k, c.s, c.p, c.d, c.ceil); }))
        << "max " << what;
    for (bool include : {true, false})
      for (std::optional<int64_t> div : {std::optional<int64_t>(), std::optional<int64_t>(5)})
        EXPECT_TRUE(sameOrBothThrow(
            [&] { return avgPool2d(fromAten(x), c.k, c.s, c.p, c.ceil, include, div); },
            [&] {
              return at::avg_pool2d(x, c.k, c.s, c.p, c.ceil, include,
                                    div ? c10::optional<int64_t>(*div) : c10::nullopt);
            }))
            << "avg " << what << " include_pad " << include;
  }
  for (const auto& [s, o] : std::vector<std::pair<Shape, std::array<int64_t, 2>>>{
           {{1, 4, 7, 7}, {1, 1}}, {{2, 3, 10, 9}, {3, 4}}, {{3, 5, 5}, {5, 5}}, {{1, 1, 4, 4}, {7, 3}}}) {
    const at::Tensor x = randomAten(s, DType::F32);
    EXPECT_TRUE(sameAs(adaptiveAvgPool2d(fromAten(x), o), at::adaptive_avg_pool2d(x, o), 1e-5, 1e-6));
  }
}

/// Not a benchmark: guards against an accidentally quadratic conv2d.
// ResNet's common convolutions at full size (speed is bench/'s business, not a test's).
// A batch of at least one image per worker splits over the workers image by
// image: each image's result has the same bits as that image alone (whose
// kernels split it over the workers), on every kernel: Winograd, blocks of
// channels, the direct kernel, im2col with a GEMM, a 1x1 GEMM, and f64.
TEST(NN, Conv2dSplitsABatchOverTheWorkers) {
  at::manual_seed(71);
  using Layout = PackedConvWeights::Layout;
  struct Case {
    Shape x, w;
    std::array<int64_t, 2> stride;
    std::optional<Layout> layout;
    DType dtype = DType::F32;
  };
  const std::vector<Case> cases = {
      {{4, 32, 24, 24}, {48, 32, 3, 3}, {1, 1}, Layout::Winograd},
      {{4, 16, 15, 17}, {32, 16, 3, 3}, {2, 2}, Layout::ChannelBlocks},
      {{4, 16, 20, 20}, {16, 16, 3, 3}, {1, 1}, std::nullopt},  // the direct kernel
      {{6, 8, 9, 9}, {12, 8, 3, 3}, {2, 2}, std::nullopt},      // im2col
      {{4, 24, 7, 7}, {40, 24, 1, 1}, {1, 1}, std::nullopt},    // a GEMM on the input
      {{4, 8, 9, 9}, {12, 8, 3, 3}, {1, 1}, std::nullopt, DType::F64},
  };
  const int before = numWorkers();
  setNumWorkers(2);
  for (const Case& c : cases) {
    SCOPED_TRACE(shapeToString(c.x) + " * " + shapeToString(c.w));
    const at::Tensor x = randomAten(c.x, c.dtype), w = randomAten(c.w, c.dtype), b = randomAten({c.w[0]}, c.dtype);
    const Tensor wt = fromAten(w), bt = fromAten(b);
    std::optional<PackedConvWeights> packed;
    if (c.layout) packed.emplace(wt, *c.layout);
    const PackedConvWeights* p = packed ? &*packed : nullptr;
    const std::array<int64_t, 2> pad{1, 1}, one{1, 1};
    const std::array<int64_t, 2> padding = c.w[2] == 1 ? std::array<int64_t, 2>{0, 0} : pad;
    const Tensor batch = conv2d(fromAten(x), wt, &bt, c.stride, padding, one, 1, nullptr, p);
    EXPECT_TRUE(sameAs(batch, at::conv2d(x, w, b, c.stride, padding), 1e-4, 1e-4));
    const int64_t perImage = batch.numel() / c.x[0];
    for (int64_t n = 0; n < c.x[0]; ++n) {
      const Tensor alone = conv2d(fromAten(x.slice(0, n, n + 1).contiguous()), wt, &bt, c.stride, padding, one, 1,
                                  nullptr, p);
      EXPECT_EQ(std::memcmp(static_cast<const std::byte*>(batch.rawData()) + n * alone.nbytes(), alone.rawData(),
                            static_cast<size_t>(alone.nbytes())),
                0)
          << "image " << n;
      EXPECT_EQ(alone.numel(), perImage);
    }
  }
  setNumWorkers(before);
}

TEST(NN, ResNetShapesMatchAten) {
  at::manual_seed(64);
  const at::Tensor x = randomAten({1, 256, 56, 56}, DType::F32);
  const at::Tensor w1 = randomAten({64, 256, 1, 1}, DType::F32);
  const at::Tensor x3 = randomAten({1, 64, 56, 56}, DType::F32);
  const at::Tensor w3 = randomAten({64, 64, 3, 3}, DType::F32);
  EXPECT_TRUE(sameAs(conv2d(fromAten(x), fromAten(w1), nullptr), at::conv2d(x, w1), 1e-4, 1e-4));
  EXPECT_TRUE(sameAs(conv2d(fromAten(x3), fromAten(w3), nullptr, {1, 1}, {1, 1}), at::conv2d(x3, w3, {}, 1, 1), 1e-4,
                     1e-4));
}

// Buffers the kernels stream with 64-byte loads start on a cache line,
// whatever their size (past glibc's mmap threshold malloc gives 16 bytes
// into a page): heap tensors and packed panels.
TEST(Linalg, StreamedBuffersStartOnACacheLine) {
  for (const int64_t n : {1, 3, 17, 1000, 70000, 1 << 20}) {
    const Tensor t = Tensor::empty(DType::F32, {n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.rawData()) % ir::kCacheLineBytes, 0u) << n << " floats";
  }
  for (const int64_t k : {3, 256, 4096}) {
    const Tensor w = random({40, k}, DType::F32);
    const PackedPanels packed(w.data<float>(), k, 40, k, BLayout::Transposed);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(packed.panel(0, 0)) % ir::kCacheLineBytes, 0u) << "k=" << k;
  }
}

}  // namespace
}  // namespace cocktail::runtime::cpu
