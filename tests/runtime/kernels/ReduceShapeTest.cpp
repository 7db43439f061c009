//===- tests/runtime/kernels/ReduceShapeTest.cpp --------------------------===//
//
// Reductions, softmax, view/slicing/indexing ops and the functional writes
// of runtime/cpu against ATen.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/cpu/WorkerPool.h"
#include "tests/runtime/kernels/AtenCompare.h"

namespace cocktail::runtime::cpu {
namespace {

using namespace testing;

using Dims = std::vector<int64_t>;

// ---- reductions -------------------------------------------------------------------

TEST(Reduce, SumMeanAmaxAmin) {
  at::manual_seed(10);
  const std::vector<std::pair<Shape, Dims>> cases = {
      {{3, 4, 5}, {}},     {{3, 4, 5}, {1}},  {{3, 4, 5}, {0, 2}}, {{3, 4, 5}, {-1}},
      {{3, 4, 5}, {0}},    {{3, 4, 5}, {2, 0, 1}}, {{}, {}},       {{}, {0}},
      {{6}, {0}},          {{2, 0, 3}, {1}},  {{2, 0, 3}, {2}},   {{1000}, {}}};
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::I1})
    for (const auto& [shape, dims] : cases)
      for (bool keep : {false, true}) {
        const at::Tensor a = randomAten(shape, t);
        const Tensor x = fromAten(a);
        const std::string what = x.typeString() + " dims " + shapeToString(dims);
        EXPECT_TRUE(sameOrBothThrow([&] { return sum(x, dims, keep); },
                                    [&] { return dims.empty() && !keep ? at::sum(a) : at::sum(a, dims, keep); }))
            << "sum " << what;
        EXPECT_TRUE(sameOrBothThrow([&] { return mean(x, dims, keep); },
                                    [&] { return dims.empty() && !keep ? at::mean(a) : at::mean(a, dims, keep); }))
            << "mean " << what;
        EXPECT_TRUE(sameOrBothThrow([&] { return amax(x, dims, keep); }, [&] { return at::amax(a, dims, keep); }))
            << "amax " << what;
        EXPECT_TRUE(sameOrBothThrow([&] { return amin(x, dims, keep); }, [&] { return at::amin(a, dims, keep); }))
            << "amin " << what;
      }
  const at::Tensor a = randomAten({4, 5}, DType::I32);
  EXPECT_TRUE(sameAs(sum(fromAten(a), {1}, false, DType::F64), at::sum(a, {1}, false, at::kDouble)));
  EXPECT_TRUE(sameAs(mean(fromAten(a), {0}, true, DType::F32), at::mean(a, {0}, true, at::kFloat)));
  EXPECT_THROW_MSG(sum(fromAten(a), {2}), std::out_of_range, "sum");
  EXPECT_THROW_MSG(sum(fromAten(a), {1, -1}), std::invalid_argument, "multiple times");
}

TEST(Reduce, LargeSumIsAccurate) {
  at::manual_seed(11);
  const at::Tensor a = at::rand({1 << 20}) + 1;  // positive: no cancellation
  EXPECT_TRUE(sameAs(sum(fromAten(a)), at::sum(a)));
  EXPECT_TRUE(sameAs(mean(fromAten(a)), at::mean(a)));
}

// A mean over H and W (SkipNet's gates) splits its channels over the
// workers: every output is summed in the same order, so the bits do not
// depend on the number of workers, and they match ATen.
TEST(Reduce, FeatureMapMeansSplitOverWorkers) {
  at::manual_seed(13);
  const at::Tensor a = randomAten({2, 96, 24, 24}, DType::F32);
  const Tensor x = fromAten(a);
  for (const Dims& dims : {Dims{2, 3}, Dims{2}, Dims{1, 2, 3}}) {
    setNumWorkers(1);
    const Tensor one = mean(x, dims, true);
    setNumWorkers(2);
    const Tensor two = mean(x, dims, true);
    EXPECT_EQ(std::memcmp(one.rawData(), two.rawData(), static_cast<size_t>(one.nbytes())), 0)
        << "dims " << shapeToString(dims);
    EXPECT_TRUE(sameAs(two, at::mean(a, dims, true))) << "dims " << shapeToString(dims);
  }
}

TEST(Reduce, MaxMinDimArgmaxAnyAll) {
  at::manual_seed(12);
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::I1})
    for (const Shape& shape : {Shape{3, 4, 5}, Shape{7}, Shape{}, Shape{2, 1}})
      for (int64_t dim : {0, -1, 1})
        for (bool keep : {false, true}) {
          const at::Tensor a = randomAten(shape, t);  // small ints: plenty of ties
          const Tensor x = fromAten(a);
          auto pair = [](std::pair<Tensor, Tensor> p) { return p; };
          auto check2 = [&](const char* op, auto ours, auto ref) {
            std::string err1, err2;
            std::pair<Tensor, Tensor> o;
            std::tuple<at::Tensor, at::Tensor> r;
            try { o = ours(); } catch (const std::exception& e) { err1 = e.what(); }
            try { r = ref(); } catch (const std::exception& e) { err2 = e.what(); }
            EXPECT_EQ(err1.empty(), err2.empty()) << op << " " << x.typeString() << " dim " << dim << ": " << err1 << err2;
            if (err1.empty() && err2.empty()) {
              EXPECT_TRUE(sameAs(o.first, std::get<0>(r))) << op << " values " << x.typeString() << " dim " << dim;
              EXPECT_TRUE(sameAs(o.second, std::get<1>(r))) << op << " indices " << x.typeString() << " dim " << dim;
            }
          };
          check2("max", [&] { return pair(maxDim(x, dim, keep)); }, [&] { return at::max(a, dim, keep); });
          check2("min", [&] { return pair(minDim(x, dim, keep)); }, [&] { return at::min(a, dim, keep); });
          // ATen rejects bool argmax only when the reduced dim is not of size 1; we always do.
          if (t != DType::I1) {
            EXPECT_TRUE(sameOrBothThrow([&] { return argmax(x, dim, keep); }, [&] { return at::argmax(a, dim, keep); }))
                << "argmax " << x.typeString() << " " << dim;
            EXPECT_TRUE(sameOrBothThrow([&] { return argmin(x, dim, keep); }, [&] { return at::argmin(a, dim, keep); }))
                << "argmin " << x.typeString() << " " << dim;
          }
          EXPECT_TRUE(sameOrBothThrow([&] { return any(x, dim, keep); }, [&] { return at::any(a, dim, keep); }))
              << "any " << x.typeString() << " " << dim;
          EXPECT_TRUE(sameOrBothThrow([&] { return all(x, dim, keep); }, [&] { return at::all(a, dim, keep); }))
              << "all " << x.typeString() << " " << dim;
        }
  for (const Shape& shape : {Shape{3, 4}, Shape{}, Shape{0}}) {
    const at::Tensor a = randomAten(shape, DType::F32);
    const Tensor x = fromAten(a);
    EXPECT_TRUE(sameOrBothThrow([&] { return maxAll(x); }, [&] { return at::max(a); }));
    EXPECT_TRUE(sameOrBothThrow([&] { return minAll(x); }, [&] { return at::min(a); }));
    EXPECT_TRUE(sameOrBothThrow([&] { return argmax(x); }, [&] { return at::argmax(a); }));
    EXPECT_TRUE(sameOrBothThrow([&] { return argmin(x, std::nullopt, true); }, [&] { return at::argmin(a, c10::nullopt, true); }));
    EXPECT_TRUE(sameOrBothThrow([&] { return any(x); }, [&] { return at::any(a); }));
    EXPECT_TRUE(sameOrBothThrow([&] { return all(x); }, [&] { return at::all(a); }));
  }
  // NaN wins max and argmax.
  const at::Tensor n = at::tensor({1.0f, NAN, 3.0f, NAN});
  EXPECT_TRUE(sameAs(maxDim(fromAten(n), 0).second, std::get<1>(at::max(n, 0))));
  EXPECT_TRUE(sameAs(argmax(fromAten(n)), at::argmax(n)));
  EXPECT_TRUE(sameAs(amax(fromAten(n)), at::amax(n)));
  EXPECT_THROW_MSG(maxDim(fromAten(n), 1), std::out_of_range, "max");
}

TEST(Reduce, Softmax) {
  at::manual_seed(13);
  for (DType t : {DType::F32, DType::F64})
    for (const auto& [shape, dim] : std::vector<std::pair<Shape, int64_t>>{
             {{4, 10}, -1}, {{4, 10}, 0}, {{2, 3, 5}, 1}, {{}, 0}, {{3, 0}, 1}, {{1, 256}, 1}}) {
      const at::Tensor a = randomAten(shape, t) * 5;
      EXPECT_TRUE(sameAs(softmax(fromAten(a), dim), at::softmax(a, dim)));
      EXPECT_TRUE(sameAs(logSoftmax(fromAten(a), dim), at::log_softmax(a, dim)));
    }
  const at::Tensor inf = at::tensor({-INFINITY, 0.0f, 1.0f});
  EXPECT_TRUE(sameAs(softmax(fromAten(inf), 0), at::softmax(inf, 0)));
  EXPECT_THROW_MSG(softmax(random({3}, DType::I64), 0), std::invalid_argument, "softmax");
}

TEST(Scan, TopkMatchesAten) {
  at::manual_seed(14);
  // randn: distinct values, so the indices are defined.
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32})
    for (const auto& [shape, k, dim] : std::vector<std::tuple<Shape, int64_t, int64_t>>{
             {{4, 10}, 3, -1}, {{4, 10}, 2, 0}, {{2, 3, 5}, 5, 2}, {{2, 3, 5}, 0, 1}, {{7}, 7, 0}, {{}, 1, 0}}) {
      // Distinct values (a permutation), so that the indices are defined.
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      at::Tensor a = (at::randperm(n, at::kLong) - n / 2).reshape(std::vector<int64_t>(shape.begin(), shape.end()));
      a = ir::isFloating(t) ? (a.to(at::kDouble) * 0.37).to(toAtenType(t)) : a.to(toAtenType(t));
      for (bool largest : {true, false}) {
        auto [v, i] = topk(fromAten(a), k, dim, largest);
        auto ref = at::topk(a, k, dim, largest, /*sorted=*/true);
        EXPECT_TRUE(sameAs(v, std::get<0>(ref))) << ir::dtypeName(t) << shapeToString(shape) << " k " << k;
        EXPECT_TRUE(sameAs(i, std::get<1>(ref))) << ir::dtypeName(t) << shapeToString(shape) << " k " << k;
      }
    }
  // NaN is the largest value.
  const at::Tensor nan = at::tensor({1.0f, NAN, -2.0f, 5.0f});
  for (bool largest : {true, false}) {
    auto [v, i] = topk(fromAten(nan), 2, 0, largest);
    auto ref = at::topk(nan, 2, 0, largest);
    EXPECT_TRUE(sameAs(v, std::get<0>(ref)));
    EXPECT_TRUE(sameAs(i, std::get<1>(ref)));
  }
  EXPECT_THROW_MSG(topk(random({3}, DType::F32), 4, 0), std::out_of_range, "topk");
  EXPECT_THROW_MSG(topk(random({3}, DType::I1), 1, 0), std::invalid_argument, "topk");
}

TEST(Scan, CumsumMatchesAten) {
  at::manual_seed(15);
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::I1})
    for (const auto& [shape, dim] : std::vector<std::pair<Shape, int64_t>>{
             {{4, 10}, -1}, {{4, 10}, 0}, {{2, 3, 5}, 1}, {{}, 0}, {{3, 0}, 1}, {{1000}, 0}}) {
      const at::Tensor a = randomAten(shape, t);
      EXPECT_TRUE(sameAs(cumsum(fromAten(a), dim), at::cumsum(a, dim))) << ir::dtypeName(t) << shapeToString(shape);
      EXPECT_TRUE(sameAs(cumsum(fromAten(a), dim, DType::F64), at::cumsum(a, dim, at::kDouble)));
    }
}

// ---- shapes and views -------------------------------------------------------------

TEST(Shape, ReshapePermuteSqueeze) {
  at::manual_seed(20);
  const at::Tensor a = randomAten({2, 3, 4}, DType::F32);
  const Tensor x = fromAten(a);
  EXPECT_TRUE(sameAs(reshape(x, {4, -1}), a.reshape({4, -1})));
  EXPECT_TRUE(sameAs(reshape(x, {24}), a.reshape({24})));
  EXPECT_TRUE(sameAs(reshape(fromAten(at::ones({0, 3})), {3, 0}), at::ones({0, 3}).reshape({3, 0})));
  EXPECT_THROW_MSG(reshape(fromAten(at::ones({0, 3})), {3, -1, 0}), std::invalid_argument, "can be any value");
  EXPECT_THROW_MSG(reshape(x, {5, -1}), std::invalid_argument, "reshape");
  EXPECT_THROW_MSG(reshape(x, {-1, -1}), std::invalid_argument, "reshape");
  EXPECT_TRUE(sameAs(permute(x, {2, 0, 1}), a.permute({2, 0, 1}).contiguous()));
  EXPECT_TRUE(sameAs(permute(x, {-1, 1, 0}), a.permute({-1, 1, 0}).contiguous()));
  EXPECT_THROW_MSG(permute(x, {0, 0, 1}), std::invalid_argument, "permute");
  EXPECT_TRUE(sameAs(transpose(x, 0, -1), a.transpose(0, -1).contiguous()));
  EXPECT_TRUE(sameAs(unsqueeze(x, -1), a.unsqueeze(-1)));
  EXPECT_TRUE(sameAs(unsqueeze(x, 0), a.unsqueeze(0)));
  EXPECT_THROW_MSG(unsqueeze(x, 5), std::out_of_range, "unsqueeze");
  const at::Tensor s = randomAten({1, 3, 1, 2}, DType::I64);
  EXPECT_TRUE(sameAs(squeeze(fromAten(s)), s.squeeze()));
  EXPECT_TRUE(sameAs(squeeze(fromAten(s), 2), s.squeeze(2)));
  EXPECT_TRUE(sameAs(squeeze(fromAten(s), 1), s.squeeze(1)));
  EXPECT_TRUE(sameAs(squeeze(fromAten(s), -4), s.squeeze(-4)));
  EXPECT_TRUE(sameAs(flatten(x), a.flatten()));
  EXPECT_TRUE(sameAs(flatten(x, 1), a.flatten(1)));
  EXPECT_TRUE(sameAs(flatten(x, 0, 1), a.flatten(0, 1)));
  EXPECT_TRUE(sameAs(flatten(Tensor::scalarF32(2)), at::scalar_tensor(2.0f).flatten()));
  EXPECT_TRUE(sameAs(transpose(Tensor::scalarF32(2), 0, -1), at::scalar_tensor(2.0f).transpose(0, -1)));
}

// Planes of at least 16 x 16 take the tiled transposing copy: full tiles,
// ragged edges on both sides, batches of planes, 4- and 8-byte elements.
TEST(Shape, TransposeLargePlanes) {
  at::manual_seed(23);
  for (const DType t : {DType::F32, DType::I32, DType::I64, DType::F64}) {
    const at::Tensor kv = randomAten({1, 12, 64, 64}, t);  // attention's K cache
    EXPECT_TRUE(sameAs(transpose(fromAten(kv), 2, 3), kv.transpose(2, 3).contiguous())) << ir::dtypeName(t);
    const at::Tensor ragged = randomAten({3, 37, 21}, t);
    EXPECT_TRUE(sameAs(transpose(fromAten(ragged), -1, -2), ragged.transpose(-1, -2).contiguous()))
        << ir::dtypeName(t);
    EXPECT_TRUE(sameAs(transpose(fromAten(ragged), 0, 2), ragged.transpose(0, 2).contiguous())) << ir::dtypeName(t);
    EXPECT_TRUE(sameAs(permute(fromAten(ragged), {2, 0, 1}), ragged.permute({2, 0, 1}).contiguous()))
        << ir::dtypeName(t);
  }
  const at::Tensor square = randomAten({768, 768}, DType::F32);
  EXPECT_TRUE(sameAs(transpose(fromAten(square), 0, 1), square.t().contiguous()));
}

TEST(Shape, ExpandSliceSelectNarrow) {
  at::manual_seed(21);
  const at::Tensor a = randomAten({3, 1, 4}, DType::I32);
  const Tensor x = fromAten(a);
  EXPECT_TRUE(sameAs(expand(x, {2, 3, 5, 4}), a.expand({2, 3, 5, 4}).contiguous()));
  EXPECT_TRUE(sameAs(expand(x, {-1, 6, -1}), a.expand({-1, 6, -1}).contiguous()));
  EXPECT_TRUE(sameAs(expand(fromAten(at::scalar_tensor(3.0)), {2, 2}), at::scalar_tensor(3.0).expand({2, 2}).contiguous()));
  EXPECT_THROW_MSG(expand(x, {3, 2, 5}), std::invalid_argument, "expand");
  const at::Tensor b = randomAten({5, 6}, DType::F32);
  const Tensor y = fromAten(b);
  const std::vector<std::tuple<std::optional<int64_t>, std::optional<int64_t>, int64_t>> slices = {
      {0, 3, 1}, {std::nullopt, std::nullopt, 2}, {-4, std::nullopt, 1}, {2, -1, 3}, {10, 20, 1},
      {-100, 100, 1}, {4, 2, 1}, {std::nullopt, -7, 1}, {1, std::nullopt, 4}};
  for (int64_t dim : {0, 1, -1})
    for (const auto& [st, en, step] : slices) {
      const c10::optional<int64_t> as = st ? c10::optional<int64_t>(*st) : c10::nullopt;
      const c10::optional<int64_t> ae = en ? c10::optional<int64_t>(*en) : c10::nullopt;
      EXPECT_TRUE(sameAs(slice(y, dim, st, en, step), at::slice(b, dim, as, ae, step).contiguous()))
          << dim << " " << st.value_or(-999) << ":" << en.value_or(-999) << ":" << step;
    }
  EXPECT_THROW_MSG(slice(y, 0, 0, 2, 0), std::invalid_argument, "step");
  for (int64_t idx : {0, 4, -1, -5}) EXPECT_TRUE(sameAs(select(y, 0, idx), b.select(0, idx)));
  EXPECT_TRUE(sameAs(select(y, -1, 2), b.select(-1, 2)));
  EXPECT_THROW_MSG(select(y, 0, 5), std::out_of_range, "select");
  EXPECT_THROW_MSG(select(y, 1, -7), std::out_of_range, "[5, 6]");
  EXPECT_TRUE(sameAs(narrow(y, 1, 2, 3), b.narrow(1, 2, 3).contiguous()));
  EXPECT_TRUE(sameAs(narrow(y, 0, -2, 2), b.narrow(0, -2, 2).contiguous()));
  EXPECT_THROW_MSG(narrow(y, 0, 3, 3), std::out_of_range, "narrow");
}

// A step or length near INT64_MAX once wrapped the slice's length
// ((e - s + step - 1) / step) and its stride (stride * step).
TEST(Shape, SliceAndNarrowWithHugeValuesDoNotWrap) {
  at::manual_seed(22);
  const at::Tensor b = randomAten({5, 6}, DType::F32);
  const Tensor y = fromAten(b);
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> slices = {
      {0, 6, kMax},        {2, kMax, kMax},     {5, 6, kMax}, {6, kMax, kMax},
      {0, kMax, kMax - 1}, {-kMax, kMax, kMax}, {1, 6, 5},    {1, 6, 6}};
  for (int64_t dim : {0, 1})
    for (const auto& [st, en, step] : slices) {
      const Tensor got = slice(y, dim, st, en, step);
      // ATen 1.13 cannot take these values itself (a stride * step that wraps
      // negative; ints from 2^62 up read as symbolic), so it gets the same
      // slice spelled small: bounds past the size clamp to it, and a step past
      // the size selects what a step of the size does.
      const int64_t size = b.size(dim);
      const at::Tensor want =
          at::slice(b, dim, std::clamp(st, -size, size), std::clamp(en, -size, size), std::min(step, size))
              .contiguous();
      EXPECT_LE(got.shape()[dim], 1) << dim << " " << st << ":" << en << ":" << step;
      EXPECT_TRUE(sameAs(got, want)) << dim << " " << st << ":" << en << ":" << step;
    }
  const at::Tensor src = randomAten({5, 1}, DType::F32);
  EXPECT_TRUE(sameAs(sliceScatter(y, fromAten(src), 1, 3, kMax, kMax), at::slice_scatter(b, src, 1, 3, 6, 6)));
  EXPECT_THROW_MSG(narrow(y, 1, 2, kMax), std::out_of_range, "length (9223372036854775807)");
  EXPECT_THROW_MSG(narrow(y, 1, -1, kMax), std::out_of_range, "exceeds dimension size (6)");
}

// A shape whose element count wraps an int64 ((2^62 + 1) * 4 == 4 mod 2^64)
// once sized a 4-element buffer that the copy then wrote past.
TEST(Shape, ElementCountPastInt64IsRefused) {
  const Tensor x = fromAten(randomAten({1, 4}, DType::F32));
  const int64_t wraps = (int64_t{1} << 62) + 1;
  EXPECT_THROW_MSG(expand(x, {wraps, 4}), std::length_error, "more elements than an int64 can count");
  EXPECT_THROW_MSG(reshape(x, {wraps, 4, 1}), std::invalid_argument, "more elements than an int64 can count");
  EXPECT_THROW_MSG(reshape(x, {wraps, 4, -1}), std::invalid_argument, "more elements than an int64 can count");
  EXPECT_THROW_MSG(Tensor::empty(DType::F64, {int64_t{1} << 60, 4}), std::length_error, "more bytes");
  EXPECT_EQ(numElements({0, int64_t{1} << 62, 8}), 0) << "a zero dim makes any product 0";
  EXPECT_EQ(expand(x, {0, 4}).numel(), 0);
}

TEST(Shape, CatStackSplitChunk) {
  at::manual_seed(22);
  const at::Tensor a = randomAten({2, 3}, DType::F32), b = randomAten({2, 5}, DType::F32);
  const at::Tensor c = randomAten({2, 1}, DType::F64), e = randomAten({0}, DType::F32);
  EXPECT_TRUE(sameAs(cat({fromAten(a), fromAten(b), fromAten(c)}, 1), at::cat({a, b, c}, 1)));
  EXPECT_TRUE(sameAs(cat({fromAten(a), fromAten(e), fromAten(a)}, 0), at::cat({a, e, a}, 0)));
  EXPECT_TRUE(sameAs(cat({fromAten(a), fromAten(a)}, -2), at::cat({a, a}, -2)));
  EXPECT_THROW_MSG(cat({fromAten(a), fromAten(b)}, 0), std::invalid_argument, "cat");
  EXPECT_TRUE(sameAs(stack({fromAten(a), fromAten(a), fromAten(a)}, 1), at::stack({a, a, a}, 1)));
  EXPECT_TRUE(sameAs(stack({fromAten(a), fromAten(a)}, -1), at::stack({a, a}, -1)));
  EXPECT_THROW_MSG(stack({fromAten(a), fromAten(b)}, 0), std::invalid_argument, "stack");
  const at::Tensor x = randomAten({7, 4}, DType::I64);
  auto same = [](const std::vector<Tensor>& ours, const std::vector<at::Tensor>& ref) {
    if (ours.size() != ref.size()) return ::testing::AssertionFailure() << ours.size() << " vs " << ref.size();
    for (size_t i = 0; i < ours.size(); ++i) {
      auto r = sameAs(ours[i], ref[i]);
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  };
  for (int64_t n : {1, 2, 3, 7, 10}) EXPECT_TRUE(same(chunk(fromAten(x), n, 0), x.chunk(n, 0))) << n;
  EXPECT_TRUE(same(chunk(fromAten(at::ones({0, 2})), 3, 0), at::ones({0, 2}).chunk(3, 0)));
  for (int64_t n : {1, 2, 3, 7, 10}) EXPECT_TRUE(same(split(fromAten(x), n, 0), x.split(n, 0))) << n;
  EXPECT_TRUE(same(split(fromAten(x), 3, -1), x.split(3, -1)));
  EXPECT_TRUE(same(splitWithSizes(fromAten(x), {2, 0, 5}, 0), x.split_with_sizes({2, 0, 5}, 0)));
  EXPECT_THROW_MSG(splitWithSizes(fromAten(x), {2, 2}, 0), std::invalid_argument, "split_with_sizes");
}

TEST(Shape, FlipRepeatTriangles) {
  at::manual_seed(23);
  const at::Tensor a = randomAten({3, 4, 2}, DType::F32);
  const Tensor x = fromAten(a);
  EXPECT_TRUE(sameAs(flip(x, {0}), a.flip({0})));
  EXPECT_TRUE(sameAs(flip(x, {-1, 1}), a.flip({-1, 1})));
  EXPECT_TRUE(sameAs(repeat(x, {2, 1, 3}), a.repeat({2, 1, 3})));
  EXPECT_TRUE(sameAs(repeat(x, {2, 1, 1, 2}), a.repeat({2, 1, 1, 2})));
  EXPECT_TRUE(sameAs(repeat(fromAten(at::scalar_tensor(1.5)), {3}), at::scalar_tensor(1.5).repeat({3})));
  EXPECT_THROW_MSG(repeat(x, {2}), std::invalid_argument, "repeat");
  const at::Tensor m = randomAten({2, 4, 5}, DType::I64);
  for (int64_t d : {-6, -1, 0, 1, 3, 7}) {
    EXPECT_TRUE(sameAs(tril(fromAten(m), d), m.tril(d))) << d;
    EXPECT_TRUE(sameAs(triu(fromAten(m), d), m.triu(d))) << d;
  }
  EXPECT_THROW_MSG(tril(random({3}, DType::F32)), std::invalid_argument, "tril");
}

// ---- gathers and advanced indexing ---------------------------------------------------

TEST(Index, IndexSelectGather) {
  at::manual_seed(30);
  const at::Tensor a = randomAten({4, 5, 3}, DType::F32);
  const Tensor x = fromAten(a);
  for (int64_t dim : {0, 1, -1}) {
    const at::Tensor i = dim == -1 ? at::tensor({2, 0}, at::kInt) : at::tensor({3, 0, 2, 2}, at::kLong);
    EXPECT_TRUE(sameAs(indexSelect(x, dim, fromAten(i)), at::index_select(a, dim, i))) << dim;
  }
  EXPECT_TRUE(sameAs(indexSelect(x, 0, Tensor::scalarI64(1)), at::index_select(a, 0, at::scalar_tensor(1, at::kLong))));
  EXPECT_THROW_MSG(indexSelect(x, 0, fromAten(at::tensor({4}, at::kLong))), std::out_of_range, "index_select");
  const at::Tensor gi = at::randint(0, 5, {4, 2, 3}, at::kLong);
  EXPECT_TRUE(sameAs(gather(x, 1, fromAten(gi)), at::gather(a, 1, gi)));
  const at::Tensor gj = at::randint(0, 3, {2, 5, 2}, at::kLong);
  EXPECT_TRUE(sameAs(gather(x, -1, fromAten(gj)), at::gather(a, -1, gj)));
  EXPECT_THROW_MSG(gather(x, 1, fromAten(gi + 5)), std::out_of_range, "gather");
  EXPECT_THROW_MSG(gather(x, 1, fromAten(at::zeros({5, 1, 1}, at::kLong))), std::invalid_argument, "gather");
  // A negative index: ATen's index_select, gather and scatter refuse it (only `index` counts from the end).
  const at::Tensor negative = at::tensor({0, -1}, at::kLong);
  EXPECT_TRUE(sameOrBothThrow([&] { return indexSelect(x, 0, fromAten(negative)); },
                              [&] { return at::index_select(a, 0, negative); }));
  EXPECT_THROW_MSG(indexSelect(x, 0, fromAten(negative)), IndexOutOfRange,
                   "index_select: index -1 is out of bounds for dimension 0 with size 4");
  EXPECT_THROW_MSG(gather(x, 1, fromAten(gi - 5)), IndexOutOfRange, "gather: index -");
  EXPECT_THROW_MSG(scatter(x, 1, fromAten(gi - 5), fromAten(at::ones({4, 2, 3}))), IndexOutOfRange, "scatter: index -");
  c10::List<c10::optional<at::Tensor>> atenIndices;
  atenIndices.push_back(c10::optional<at::Tensor>(negative));
  EXPECT_TRUE(sameAs(index(x, {fromAten(negative)}), at::index(a, atenIndices)));
}

// 2^63-1 as an index is printed as itself: once it came out as
// -9223372036854775808 (issue 22); no other number may stand in for it.
TEST(Index, Int64MaxIndexIsReportedExactly) {
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const Tensor x = fromAten(randomAten({4, 5}, DType::F32));
  const Tensor maxIndex = fromAten(at::tensor({kMax}, at::kLong));
  const auto messageOf = [](const auto& run) -> std::string {
    try {
      run();
    } catch (const std::out_of_range& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::vector<std::pair<std::string, std::string>> messages = {
      {"select", messageOf([&] { select(x, 0, kMax); })},
      {"index", messageOf([&] { index(x, {maxIndex}); })},
      {"index_select", messageOf([&] { indexSelect(x, 1, maxIndex); })},
      {"gather", messageOf([&] {
         gather(x, 1, fromAten(at::full({4, 1}, kMax, at::kLong)));
       })},
      {"select_scatter", messageOf([&] { selectScatter(x, fromAten(randomAten({5}, DType::F32)), 0, kMax); })},
  };
  for (const auto& [op, message] : messages) {
    EXPECT_NE(message.find(op + ": index 9223372036854775807 "), std::string::npos) << message;
    EXPECT_EQ(message.find("-9223372036854775808"), std::string::npos) << message;
  }
}

using Indices = std::vector<std::optional<Tensor>>;

c10::List<c10::optional<at::Tensor>> toAtenIndices(const Indices& indices) {
  c10::List<c10::optional<at::Tensor>> out;
  // ATen 1.13 takes only long (or mask) indices; ours also take i32.
  for (const auto& i : indices)
    out.push_back(i ? c10::optional<at::Tensor>(i->dtype() == DType::I32 ? toAten(*i).to(at::kLong) : toAten(*i))
                    : c10::nullopt);
  return out;
}

TEST(Index, AdvancedIndexing) {
  at::manual_seed(31);
  const at::Tensor a = randomAten({4, 5, 6}, DType::F32);
  const Tensor x = fromAten(a);
  const Tensor i1 = fromAten(at::tensor({3, 0, -1}, at::kLong));
  const Tensor i2 = fromAten(at::randint(-5, 5, {2, 1}, at::kLong));
  const Tensor i3 = fromAten(at::randint(0, 6, {3}, at::kInt));
  const Tensor mask0 = fromAten(at::tensor({1, 0, 1, 1}).to(at::kBool));
  const Tensor mask01 = random({4, 5}, DType::I1);
  const Tensor mask1 = random({5}, DType::I1);
  const std::vector<Indices> cases = {
      {i1},
      {std::nullopt, i2},
      {i1, i2},                     // broadcast [3] with [2, 1]
      {std::nullopt, i2, i3},       // adjacent, not leading
      {i1, std::nullopt, i3},       // separated: result dims go first
      {mask0},
      {mask01},
      {std::nullopt, mask1},
      {mask0, std::nullopt, i3},   // mask coordinates broadcast with i3
      {Tensor::scalarI64(2)},
      {std::nullopt, Tensor::scalarI64(-1), i3},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    EXPECT_TRUE(sameOrBothThrow([&] { return index(x, cases[c]); },
                                [&] { return at::index(a, toAtenIndices(cases[c])); }))
        << "case " << c;
    // index_put with broadcast values, both modes.
    at::Tensor shapeRef;
    try {
      shapeRef = at::index(a, toAtenIndices(cases[c]));
    } catch (...) {
      continue;
    }
    const at::Tensor v = at::randn(shapeRef.sizes());
    for (bool acc : {false, true})
      EXPECT_TRUE(sameOrBothThrow([&] { return indexPut(x, cases[c], fromAten(v), acc); },
                                  [&] { return at::index_put(a, toAtenIndices(cases[c]), v, acc); }))
          << "index_put case " << c << " acc " << acc;
  }
  EXPECT_TRUE(sameAs(index(x, {}), a));  // ATen asserts on an empty index list
  // Duplicate indices accumulate.
  const at::Tensor dup = at::tensor({1, 1, 1, 2}, at::kLong);
  const at::Tensor ones = at::ones({4, 5, 6});
  EXPECT_TRUE(sameAs(indexPut(x, {fromAten(dup)}, fromAten(ones), true),
                     at::index_put(a, {c10::optional<at::Tensor>(dup)}, ones, true)));
  // Scalar value through a mask.
  EXPECT_TRUE(sameAs(indexPut(x, {mask01}, Tensor::scalarF32(0.0f)),
                     at::index_put(a, toAtenIndices({mask01}), at::scalar_tensor(0.0f))));
  EXPECT_THROW_MSG(index(x, {fromAten(at::tensor({4}, at::kLong))}), std::out_of_range, "out of bounds");
  EXPECT_THROW_MSG(index(x, {mask1}), std::invalid_argument, "mask");
  EXPECT_THROW_MSG(index(x, {i1, i1, i1, i1}), std::out_of_range, "too many indices");
  EXPECT_THROW_MSG(index(x, {random({2}, DType::F32)}), std::invalid_argument, "index");
}

// ---- functional writes -----------------------------------------------------------------

TEST(Writes, SliceSelectScatterCopy) {
  at::manual_seed(40);
  const at::Tensor a = randomAten({5, 6}, DType::F32);
  const Tensor x = fromAten(a);
  const at::Tensor src = randomAten({5, 2}, DType::F32);
  EXPECT_TRUE(sameAs(sliceScatter(x, fromAten(src), 1, 1, 5, 2), at::slice_scatter(a, src, 1, 1, 5, 2)));
  const at::Tensor src0 = randomAten({2, 6}, DType::F32);
  EXPECT_TRUE(sameAs(sliceScatter(x, fromAten(src0), 0, -2, std::nullopt, 1),
                     at::slice_scatter(a, src0, 0, -2, c10::nullopt, 1)));
  // Broadcast source (x[1:3] = 0.5).
  at::Tensor ref = a.clone();
  ref.slice(0, 1, 3).fill_(0.5);
  EXPECT_TRUE(sameAs(sliceScatter(x, Tensor::scalarF32(0.5f), 0, 1, 3), ref));
  const at::Tensor row = randomAten({6}, DType::F32);
  EXPECT_TRUE(sameAs(selectScatter(x, fromAten(row), 0, -1), at::select_scatter(a, row, 0, -1)));
  const at::Tensor col = randomAten({5}, DType::F32);
  EXPECT_TRUE(sameAs(selectScatter(x, fromAten(col), 1, 2), at::select_scatter(a, col, 1, 2)));
  EXPECT_THROW_MSG(selectScatter(x, fromAten(col), 1, 6), std::out_of_range, "select_scatter");
  EXPECT_THROW_MSG(sliceScatter(x, fromAten(row), 1, 0, 2), std::invalid_argument, "slice_scatter");
  const at::Tensor i = randomAten({6}, DType::I64);
  EXPECT_TRUE(sameAs(copyInto(x, fromAten(i)), a.clone().copy_(i)));
  EXPECT_TRUE(sameAs(copyInto(fromAten(i), fromAten(a.select(0, 0))), i.clone().copy_(a.select(0, 0))));
  EXPECT_THROW_MSG(copyInto(x, fromAten(col)), std::invalid_argument, "copy_");
}

// A borrowed tensor (an artifact's weight, read in place) shares its owner's
// bytes and keeps them alive, and a write never goes into them, even when it
// holds the owner's last reference.
TEST(Writes, BorrowedBytesAreNeverWritten) {
  at::manual_seed(43);
  const at::Tensor a = randomAten({4, 3}, DType::F32);
  // The bytes outlive their owner here (a deleter that frees nothing), so
  // they can be read after the tensor that held the last reference is gone.
  const std::vector<float> storage(a.data_ptr<float>(), a.data_ptr<float>() + 12);
  const auto* bytes = reinterpret_cast<const std::byte*>(storage.data());
  bool released = false;
  auto owner = std::shared_ptr<const void>(storage.data(), [&](const void*) { released = true; });
  Tensor w = Tensor::borrowed(DType::F32, {4, 3}, std::move(owner), bytes);
  EXPECT_EQ(w.rawData(), static_cast<const void*>(bytes));
  EXPECT_TRUE(sameAs(w, a));
  EXPECT_FALSE(w.uniquelyOwned());
  EXPECT_FALSE(select(w, 0, 1).uniquelyOwned()) << "a view of borrowed bytes is borrowed too";
  const at::Tensor src = randomAten({3}, DType::F32);
  const Tensor written = selectScatter(std::move(w), fromAten(src), 0, 2);
  EXPECT_NE(written.rawData(), static_cast<const void*>(bytes));
  EXPECT_TRUE(sameAs(written, at::select_scatter(a, src, 0, 2)));
  EXPECT_TRUE(released) << "the last reference went with the tensor";
  EXPECT_TRUE(std::equal(storage.begin(), storage.end(), a.data_ptr<float>())) << "the borrowed bytes are unchanged";
  EXPECT_TRUE(Tensor::borrowed(DType::F32, {0, 3}, nullptr, nullptr).defined()) << "an empty one gets a buffer of its own";
}

// Contiguous views alias their base; a functional write into a base nothing
// else shares happens in place, and one into a shared base never changes
// what the other holders see.
TEST(Writes, ViewsAliasAndWritesCopyOnlyWhenShared) {
  at::manual_seed(41);
  const at::Tensor a = randomAten({4, 3}, DType::F32);
  Tensor base = fromAten(a);
  const Tensor row = select(base, 0, 2);
  EXPECT_EQ(row.data<float>(), base.data<float>() + 6) << "select of a leading dim copies nothing";
  EXPECT_FALSE(base.uniquelyOwned());
  EXPECT_NE(select(base, 1, 0).data<float>(), base.data<float>() + 0) << "a strided column is a copy";
  const Tensor flat = fromAten(a.reshape({1, 12}));
  EXPECT_EQ(chunk(flat, 4, 1)[1].data<float>(), flat.data<float>() + 3) << "a chunk of a single row is a range";

  // Shared (row is a view of it): the write goes to a copy; base and row keep their values.
  const at::Tensor src = randomAten({3}, DType::F32);
  const Tensor shared = selectScatter(base, fromAten(src), 0, 2);
  EXPECT_NE(shared.data<float>(), base.data<float>());
  EXPECT_TRUE(sameAs(base, a));
  EXPECT_TRUE(sameAs(row, a.select(0, 2)));
  EXPECT_TRUE(sameAs(shared, at::select_scatter(a, src, 0, 2)));

  // Unique: moved in, written in place, same buffer back.
  Tensor owned = fromAten(a);
  const float* buffer = owned.data<float>();
  const Tensor written = selectScatter(std::move(owned), fromAten(src), 0, 1);
  EXPECT_EQ(written.data<float>(), buffer);
  EXPECT_TRUE(sameAs(written, at::select_scatter(a, src, 0, 1)));
  Tensor owned2 = fromAten(a);
  const float* buffer2 = owned2.data<float>();
  const at::Tensor src2 = randomAten({4, 2}, DType::F32);
  const Tensor sliced = sliceScatter(std::move(owned2), fromAten(src2), 1, 1, 3);
  EXPECT_EQ(sliced.data<float>(), buffer2);
  EXPECT_TRUE(sameAs(sliced, at::slice_scatter(a, src2, 1, 1, 3)));
}

TEST(Writes, Scatter) {
  at::manual_seed(41);
  const at::Tensor a = randomAten({4, 5}, DType::F32);
  const Tensor x = fromAten(a);
  // Unique indices per row so that the result does not depend on write order.
  const at::Tensor idx = at::argsort(at::rand({3, 5}), int64_t{1}, false).slice(1, 0, 4);
  const at::Tensor src = randomAten({3, 5}, DType::F32);
  EXPECT_TRUE(sameAs(scatter(x, 1, fromAten(idx), fromAten(src)), at::scatter(a, 1, idx, src)));
  const at::Tensor idx0 = at::argsort(at::rand({4, 2}), int64_t{0}, false).slice(0, 0, 3);
  EXPECT_TRUE(sameAs(scatter(x, 0, fromAten(idx0), fromAten(src)), at::scatter(a, 0, idx0, src)));
  EXPECT_TRUE(sameAs(scatter(x, -1, fromAten(idx), Tensor::scalarF32(7.0f)), at::scatter(a, -1, idx, 7.0)));
  EXPECT_THROW_MSG(scatter(x, 1, fromAten(idx + 5), fromAten(src)), std::out_of_range, "scatter");
}

}  // namespace
}  // namespace cocktail::runtime::cpu
