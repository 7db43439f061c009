//===- tests/runtime/CpuExecutorTest.cpp - Hand-written uPrograms on the CPU ---------===//
//
// Each test parses a small program, runs it with the CPU executor and
// compares with values worked out by hand (Python's semantics for scalars,
// PyTorch's for tensors): loops with carried values and early exits, nested
// loops, both branches of an if, scalar math, type promotion, weights,
// multi-result ops, functional writes, errors (inputs checked before
// anything runs; failures inside an op reported with its location), and a
// run stopped between loop steps once its clients gave up.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/CpuExecutor.h"

namespace cocktail::runtime {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ir::DType;


std::shared_ptr<ir::Program> parse(std::string_view text) {
  auto p = ir::parseProgram(text, "test.ir");
  EXPECT_TRUE(p.ok()) << p.status().str();
  if (!p.ok()) return nullptr;
  ir::Status v = ir::verifyProgram(**p);
  EXPECT_TRUE(v.ok()) << v.str();
  return std::shared_ptr<ir::Program>(p.take());
}

std::unique_ptr<Executor> compile(std::shared_ptr<ir::Program> program) {
  if (!program) return nullptr;
  auto e = createCpuExecutor(std::move(program), nullptr);
  EXPECT_TRUE(e.ok()) << e.status().str();
  return e.ok() ? e.take() : nullptr;
}

std::unique_ptr<Executor> compile(std::string_view text) { return compile(parse(text)); }

std::vector<RuntimeValue> run(Executor& e, const std::vector<RuntimeValue>& inputs) {
  auto out = e.run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().str();
  return out.ok() ? out.take() : std::vector<RuntimeValue>{};
}

std::string runError(Executor& e, const std::vector<RuntimeValue>& inputs) {
  auto out = e.run(inputs);
  EXPECT_FALSE(out.ok()) << "ran";
  return out.ok() ? "" : out.status().str();
}

Tensor f32(Shape shape, std::vector<float> v) {
  EXPECT_EQ(numElements(shape), static_cast<int64_t>(v.size()));
  return Tensor::fromBytes(DType::F32, std::move(shape), v.data());
}
Tensor f64(Shape shape, std::vector<double> v) { return Tensor::fromBytes(DType::F64, std::move(shape), v.data()); }
Tensor i64(Shape shape, std::vector<int64_t> v) { return Tensor::fromBytes(DType::I64, std::move(shape), v.data()); }
Tensor i1(Shape shape, std::vector<uint8_t> v) { return Tensor::fromBytes(DType::I1, std::move(shape), v.data()); }

const Tensor& tensorOf(const RuntimeValue& v) {
  static const Tensor none;
  EXPECT_TRUE(isTensor(v)) << describe(v);
  return isTensor(v) ? std::get<Tensor>(v) : none;
}

template <typename T>
std::vector<T> valuesOf(const RuntimeValue& v) {
  const Tensor& t = tensorOf(v);
  if (!t.defined()) return {};
  auto s = t.span<T>();
  return {s.begin(), s.end()};
}

int64_t intOf(const RuntimeValue& v) {
  EXPECT_TRUE(std::holds_alternative<int64_t>(v)) << describe(v);
  return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : -999;
}
double doubleOf(const RuntimeValue& v) {
  EXPECT_TRUE(std::holds_alternative<double>(v)) << describe(v);
  return std::holds_alternative<double>(v) ? std::get<double>(v) : -999.0;
}
bool boolOf(const RuntimeValue& v) {
  EXPECT_TRUE(std::holds_alternative<bool>(v)) << describe(v);
  return std::holds_alternative<bool>(v) && std::get<bool>(v);
}

// ---- loops -------------------------------------------------------------------------

// h = x * 2^n, k = sum(i*i for i < n)
constexpr std::string_view kForLoop = R"(func @forward(%x: f32[3], %n: i64) -> (f32[3], i64) {
  %c0 = constant 0 : i64
  %true = constant true : i1
  %two = constant 2.0 : f64
  %h, %k = loop(%n, %true, %x, %c0) : f32[3], i64 {
  ^(%i: i64, %h.1: f32[3], %k.1: i64):
    %h.2 = mul(%h.1, %two) : f32[3]
    %ii = mul(%i, %i) : i64
    %k.2 = add(%k.1, %ii) : i64
    yield(%true, %h.2, %k.2)
  } loc("m.py":3)
  return(%h, %k)
}
)";

TEST(CpuExecutorTest, LoopCarriesTensorAndInt) {
  auto e = compile(kForLoop);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->device(), "cpu");
  Tensor x = f32({3}, {1.0f, -0.5f, 3.0f});
  for (int64_t n : {0, 1, 2, 5, 10}) {
    auto out = run(*e, {x, n});
    ASSERT_EQ(out.size(), 2u);
    float scale = std::ldexp(1.0f, static_cast<int>(n));
    EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(1.0f * scale, -0.5f * scale, 3.0f * scale)) << n;
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) k += i * i;
    EXPECT_EQ(intOf(out[1]), k) << n;
  }
  // The input is not changed by the run.
  EXPECT_THAT(valuesOf<float>(RuntimeValue(x)), ElementsAre(1.0f, -0.5f, 3.0f));
}

TEST(CpuExecutorTest, NegativeTripCountRunsZeroTimes) {
  auto e = compile(kForLoop);
  ASSERT_TRUE(e);
  auto out = run(*e, {f32({3}, {1, 2, 3}), int64_t{-4}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(1.0f, 2.0f, 3.0f));
  EXPECT_EQ(intOf(out[1]), 0);
}

// while k < limit: k += i + 1 (triangular numbers), at most 1000 trips.
constexpr std::string_view kWhileLoop = R"(func @forward(%limit: i64) -> (i64, i64) {
  %max = constant 1000 : i64
  %c0 = constant 0 : i64
  %c1 = constant 1 : i64
  %start = lt(%c0, %limit) : i1
  %k, %count = loop(%max, %start, %c0, %c0) : i64, i64 {
  ^(%i: i64, %k.1: i64, %cnt.1: i64):
    %ip1 = add(%i, %c1) : i64
    %k.2 = add(%k.1, %ip1) : i64
    %cnt.2 = add(%cnt.1, %c1) : i64
    %go = lt(%k.2, %limit) : i1
    yield(%go, %k.2, %cnt.2)
  }
  return(%k, %count)
}
)";

TEST(CpuExecutorTest, LoopConditionStopsEarly) {
  auto e = compile(kWhileLoop);
  ASSERT_TRUE(e);
  struct Case {
    int64_t limit, k, count;
  };
  for (Case c : {Case{0, 0, 0}, Case{-5, 0, 0}, Case{1, 1, 1}, Case{10, 10, 4}, Case{11, 15, 5},
                 Case{1000000000, 500500, 1000}}) {
    auto out = run(*e, {c.limit});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(intOf(out[0]), c.k) << "limit " << c.limit;
    EXPECT_EQ(intOf(out[1]), c.count) << "limit " << c.limit;
  }
}

TEST(CpuExecutorTest, NestedLoopWithInnerTripCountFromOuterIndex) {
  auto e = compile(R"(func @forward(%n: i64) -> (i64, i64) {
  %c0 = constant 0 : i64
  %c1 = constant 1 : i64
  %true = constant true : i1
  %s, %trips = loop(%n, %true, %c0, %c0) : i64, i64 {
  ^(%i: i64, %s.1: i64, %t.1: i64):
    %s.3, %t.3 = loop(%i, %true, %s.1, %t.1) : i64, i64 {
    ^(%j: i64, %s.2: i64, %t.2: i64):
      %p = mul(%i, %j) : i64
      %s.4 = add(%s.2, %p) : i64
      %t.4 = add(%t.2, %c1) : i64
      yield(%true, %s.4, %t.4)
    }
    yield(%true, %s.3, %t.3)
  }
  return(%s, %trips)
}
)");
  ASSERT_TRUE(e);
  for (int64_t n : {0, 1, 2, 3, 7}) {
    int64_t s = 0, trips = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) s += i * j, ++trips;
    auto out = run(*e, {n});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(intOf(out[0]), s) << n;
    EXPECT_EQ(intOf(out[1]), trips) << n;
  }
}

TEST(CpuExecutorTest, NestedLoopOverRowsOfSymbolicInput) {
  // acc[c] = sum over rows r of xs[r, c] * (r + 1), the inner loop adding
  // row r to acc r + 1 times.
  auto e = compile(R"(symbol T <= 8
func @forward(%xs: f32[T,2]) -> (f32[2]) {
  %c0 = constant 0 : i64
  %c1 = constant 1 : i64
  %true = constant true : i1
  %zero = constant 0.0 : f64
  %two = constant 2 : i64
  %acc0 = full(%zero, %two) {dtype = f32} : f32[2]
  %t = size(%xs) {dim = 0} : i64
  %acc = loop(%t, %true, %acc0) : f32[2] {
  ^(%r: i64, %a.1: f32[2]):
    %row = select(%xs, %r) {dim = 0} : f32[2]
    %reps = add(%r, %c1) : i64
    %a.3 = loop(%reps, %true, %a.1) : f32[2] {
    ^(%j: i64, %a.2: f32[2]):
      %a.4 = add(%a.2, %row) : f32[2]
      yield(%true, %a.4)
    }
    yield(%true, %a.3)
  }
  return(%acc)
}
)");
  ASSERT_TRUE(e);
  auto out = run(*e, {f32({3, 2}, {1, 10, 2, 20, 3, 30})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(1 + 2 * 2 + 3 * 3, 10 + 20 * 2 + 30 * 3));
  out = run(*e, {Tensor::zeros(DType::F32, {0, 2})});  // T = 0: no trips
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(0.0f, 0.0f));
}

// ---- if ------------------------------------------------------------------------------

TEST(CpuExecutorTest, IfTakesEitherBranch) {
  auto e = compile(R"(func @forward(%x: f32[2], %flag: i1) -> (f32[2], i64) {
  %c1 = constant 1 : i64
  %c2 = constant 2 : i64
  %y, %k = if(%flag) : f32[2], i64 {
    %a = neg(%x) : f32[2]
    yield(%a, %c1)
  } else {
    %b = mul(%x, %x) : f32[2]
    yield(%b, %c2)
  }
  return(%y, %k)
}
)");
  ASSERT_TRUE(e);
  Tensor x = f32({2}, {3.0f, -1.5f});
  auto t = run(*e, {x, true});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_THAT(valuesOf<float>(t[0]), ElementsAre(-3.0f, 1.5f));
  EXPECT_EQ(intOf(t[1]), 1);
  auto f = run(*e, {x, false});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_THAT(valuesOf<float>(f[0]), ElementsAre(9.0f, 2.25f));
  EXPECT_EQ(intOf(f[1]), 2);
}

TEST(CpuExecutorTest, IfInsideLoopOnParity) {
  // s = sum(i if i % 2 == 0 else -10 * i for i < n)
  auto e = compile(R"(func @forward(%n: i64) -> (i64) {
  %c0 = constant 0 : i64
  %c2 = constant 2 : i64
  %m10 = constant -10 : i64
  %true = constant true : i1
  %s = loop(%n, %true, %c0) : i64 {
  ^(%i: i64, %s.1: i64):
    %r = remainder(%i, %c2) : i64
    %even = eq(%r, %c0) : i1
    %d = if(%even) : i64 {
      yield(%i)
    } else {
      %neg = mul(%i, %m10) : i64
      yield(%neg)
    }
    %s.2 = add(%s.1, %d) : i64
    yield(%true, %s.2)
  }
  return(%s)
}
)");
  ASSERT_TRUE(e);
  for (int64_t n : {0, 1, 2, 5, 6}) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += i % 2 == 0 ? i : -10 * i;
    auto out = run(*e, {n});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(intOf(out[0]), s) << n;
  }
}

// ---- scalar math ------------------------------------------------------------------------

constexpr std::string_view kIntMath = R"(func @forward(%a: i64, %b: i64) -> (i64, i64, f64, i64, i64, i1, i1, i1, i64, i64, f64) {
  %q = floordiv(%a, %b) : i64
  %r = remainder(%a, %b) : i64
  %d = div(%a, %b) : f64
  %m = mul(%a, %b) : i64
  %s = sub(%a, %b) : i64
  %lt = lt(%a, %b) : i1
  %ge = ge(%a, %b) : i1
  %ne = ne(%a, %b) : i1
  %mx = maximum(%a, %b) : i64
  %ng = neg(%a) : i64
  %p = pow(%a, %b) : f64
  return(%q, %r, %d, %m, %s, %lt, %ge, %ne, %mx, %ng, %p)
}
)";

TEST(CpuExecutorTest, IntMathFollowsPython) {
  auto e = compile(kIntMath);
  ASSERT_TRUE(e);
  struct Case {
    int64_t a, b, q, r;
  };
  // Python: -7 // 2 == -4, -7 % 2 == 1, 7 // -2 == -4, 7 % -2 == -1, -7 // -2 == 3, -7 % -2 == -1.
  for (Case c : {Case{7, 2, 3, 1}, Case{-7, 2, -4, 1}, Case{7, -2, -4, -1}, Case{-7, -2, 3, -1}, Case{-6, 3, -2, 0},
                 Case{6, -3, -2, 0}, Case{0, 5, 0, 0}, Case{-1, 5, -1, 4}, Case{1, -5, -1, -4}}) {
    auto out = run(*e, {c.a, c.b});
    ASSERT_EQ(out.size(), 11u);
    SCOPED_TRACE(testing::Message() << c.a << " op " << c.b);
    EXPECT_EQ(intOf(out[0]), c.q);
    EXPECT_EQ(intOf(out[1]), c.r);
    EXPECT_DOUBLE_EQ(doubleOf(out[2]), static_cast<double>(c.a) / static_cast<double>(c.b));  // true division
    EXPECT_EQ(intOf(out[3]), c.a * c.b);
    EXPECT_EQ(intOf(out[4]), c.a - c.b);
    EXPECT_EQ(boolOf(out[5]), c.a < c.b);
    EXPECT_EQ(boolOf(out[6]), c.a >= c.b);
    EXPECT_EQ(boolOf(out[7]), c.a != c.b);
    EXPECT_EQ(intOf(out[8]), std::max(c.a, c.b));
    EXPECT_EQ(intOf(out[9]), -c.a);
    EXPECT_DOUBLE_EQ(doubleOf(out[10]), std::pow(static_cast<double>(c.a), static_cast<double>(c.b)));
  }
}

TEST(CpuExecutorTest, IntDivisionByZeroIsAnErrorWithLocation) {
  auto e = compile(R"(func @forward(%a: i64, %b: i64) -> (i64) {
  %q = floordiv(%a, %b) : i64 loc("m.py":5)
  return(%q)
}
)");
  ASSERT_TRUE(e);
  std::string err = runError(*e, {int64_t{7}, int64_t{0}});
  EXPECT_THAT(err, AllOf(HasSubstr("m.py:5"), HasSubstr("floordiv"), HasSubstr("division by zero")));
}

TEST(CpuExecutorTest, IntMinFloorDivMinusOneDoesNotCrash) {
  auto e = compile(R"(func @forward(%a: i64, %b: i64) -> (i64, i64) {
  %q = floordiv(%a, %b) : i64
  %r = remainder(%a, %b) : i64
  return(%q, %r)
}
)");
  ASSERT_TRUE(e);
  auto out = e->run({std::numeric_limits<int64_t>::min(), int64_t{-1}});
  // Either an error or int64 wrap-around (what TorchScript's int does) is fine; a crash is not.
  if (out.ok()) {
    EXPECT_EQ(intOf((*out)[0]), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(intOf((*out)[1]), 0);
  }
}

TEST(CpuExecutorTest, FloatAndMixedMathFollowsPython) {
  auto e = compile(R"(func @forward(%a: i64, %f: f64) -> (f64, f64, f64, i1, i1, f64, f64, f64) {
  %sum = add(%a, %f) : f64
  %fq = floordiv(%f, %a) : f64
  %fr = remainder(%f, %a) : f64
  %lt = lt(%a, %f) : i1
  %eq = eq(%a, %f) : i1
  %d = div(%f, %a) : f64
  %mx = maximum(%a, %f) : f64
  %ab = abs(%f) : f64
  return(%sum, %fq, %fr, %lt, %eq, %d, %mx, %ab)
}
)");
  ASSERT_TRUE(e);
  struct Case {
    int64_t a;
    double f, floorDiv, mod;
  };
  // Python: -7.5 // 2 == -4.0, -7.5 % 2 == 0.5; 7.5 // -2 == -4.0, 7.5 % -2 == -0.5; 3.0 // 3 == 1.0, 3.0 % 3 == 0.0
  for (Case c : {Case{2, -7.5, -4.0, 0.5}, Case{-2, 7.5, -4.0, -0.5}, Case{3, 3.0, 1.0, 0.0}, Case{4, 0.5, 0.0, 0.5},
                 Case{-4, -0.5, 0.0, -0.5}}) {
    SCOPED_TRACE(testing::Message() << c.a << " op " << c.f);
    auto out = run(*e, {c.a, c.f});
    ASSERT_EQ(out.size(), 8u);
    EXPECT_DOUBLE_EQ(doubleOf(out[0]), static_cast<double>(c.a) + c.f);
    EXPECT_DOUBLE_EQ(doubleOf(out[1]), c.floorDiv);
    EXPECT_DOUBLE_EQ(doubleOf(out[2]), c.mod);
    EXPECT_EQ(boolOf(out[3]), static_cast<double>(c.a) < c.f);
    EXPECT_EQ(boolOf(out[4]), static_cast<double>(c.a) == c.f);
    EXPECT_DOUBLE_EQ(doubleOf(out[5]), c.f / static_cast<double>(c.a));
    EXPECT_DOUBLE_EQ(doubleOf(out[6]), std::max(static_cast<double>(c.a), c.f));
    EXPECT_DOUBLE_EQ(doubleOf(out[7]), std::fabs(c.f));
  }
  // An int given for a float argument is a float inside the program.
  auto out = run(*e, {int64_t{2}, int64_t{5}});
  ASSERT_EQ(out.size(), 8u);
  EXPECT_DOUBLE_EQ(doubleOf(out[0]), 7.0);
  EXPECT_DOUBLE_EQ(doubleOf(out[5]), 2.5);
}

TEST(CpuExecutorTest, BoolScalarLogic) {
  auto e = compile(R"(func @forward(%p: i1, %q: i1, %a: i64, %b: i64) -> (i1, i1, i1, i1, i64, i64) {
  %and = and(%p, %q) : i1
  %or = or(%p, %q) : i1
  %xor = xor(%p, %q) : i1
  %not = not(%p) : i1
  %band = and(%a, %b) : i64
  %bxor = xor(%a, %b) : i64
  return(%and, %or, %xor, %not, %band, %bxor)
}
)");
  ASSERT_TRUE(e);
  for (bool p : {false, true})
    for (bool q : {false, true}) {
      auto out = run(*e, {p, q, int64_t{12}, int64_t{10}});
      ASSERT_EQ(out.size(), 6u);
      EXPECT_EQ(boolOf(out[0]), p && q);
      EXPECT_EQ(boolOf(out[1]), p || q);
      EXPECT_EQ(boolOf(out[2]), p != q);
      EXPECT_EQ(boolOf(out[3]), !p);
      EXPECT_EQ(intOf(out[4]), 12 & 10);
      EXPECT_EQ(intOf(out[5]), 12 ^ 10);
    }
}

// ---- tensors with scalars: PyTorch's promotion -------------------------------------------

TEST(CpuExecutorTest, TensorScalarPromotion) {
  auto e = compile(R"(func @forward(%xf: f32[2], %xi: i64[2], %xb: i1[2], %n: i64, %f: f64) -> (tensor, tensor, tensor, tensor, tensor, tensor) {
  %a = add(%xf, %n) : tensor
  %b = mul(%xi, %f) : tensor
  %c = add(%xi, %n) : tensor
  %d = add(%xb, %n) : tensor
  %e = mul(%n, %xf) : tensor
  %g = div(%xi, %n) : tensor
  return(%a, %b, %c, %d, %e, %g)
}
)");
  ASSERT_TRUE(e);
  auto out = run(*e, {f32({2}, {1.5f, -2.0f}), i64({2}, {3, -4}), i1({2}, {1, 0}), int64_t{2}, 0.5});
  ASSERT_EQ(out.size(), 6u);
  // f32 tensor + int -> f32
  EXPECT_EQ(tensorOf(out[0]).dtype(), DType::F32);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(3.5f, 0.0f));
  // i64 tensor * float -> the default float dtype, f32
  EXPECT_EQ(tensorOf(out[1]).dtype(), DType::F32);
  EXPECT_THAT(valuesOf<float>(out[1]), ElementsAre(1.5f, -2.0f));
  // i64 tensor + int -> i64
  EXPECT_EQ(tensorOf(out[2]).dtype(), DType::I64);
  EXPECT_THAT(valuesOf<int64_t>(out[2]), ElementsAre(5, -2));
  // bool tensor + int -> i64
  EXPECT_EQ(tensorOf(out[3]).dtype(), DType::I64);
  EXPECT_THAT(valuesOf<int64_t>(out[3]), ElementsAre(3, 2));
  // int * f32 tensor (scalar first) -> f32
  EXPECT_EQ(tensorOf(out[4]).dtype(), DType::F32);
  EXPECT_THAT(valuesOf<float>(out[4]), ElementsAre(3.0f, -4.0f));
  // i64 tensor / int: true division -> f32
  EXPECT_EQ(tensorOf(out[5]).dtype(), DType::F32);
  EXPECT_THAT(valuesOf<float>(out[5]), ElementsAre(1.5f, -2.0f));
}

TEST(CpuExecutorTest, F64TensorPlusFloatKeepsDoublePrecision) {
  auto e = compile(R"(func @forward(%x: f64[1], %f: f64) -> (tensor) {
  %a = add(%x, %f) : tensor
  return(%a)
}
)");
  ASSERT_TRUE(e);
  auto out = run(*e, {f64({1}, {1.0}), 0.1});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(tensorOf(out[0]).dtype(), DType::F64);
  // PyTorch: torch.tensor([1.0], dtype=torch.float64) + 0.1 == 1.1 in double.
  EXPECT_THAT(valuesOf<double>(out[0]), ElementsAre(1.0 + 0.1));
}

// ---- weights ------------------------------------------------------------------------------

TEST(CpuExecutorTest, Weights) {
  auto program = parse(R"(weight @w : f32[2,3]
weight @b : f32[2]
func @forward(%x: f32[1,3]) -> (tensor) {
  %w = weight {name = "w"} : f32[2,3]
  %b = weight {name = "b"} : f32[2]
  %y = linear(%x, %w, %b) : tensor
  return(%y)
}
)");
  ASSERT_TRUE(program);
  const float w[6] = {1, 2, 3, -1, 0, 0.5f};
  const float b[2] = {0.25f, -1};
  auto fill = [](ir::WeightDecl& d, const void* p, size_t n) {
    auto* bytes = static_cast<const std::byte*>(p);
    d.data.assign(bytes, bytes + n);
  };
  fill(program->weights()[0], w, sizeof(w));
  fill(program->weights()[1], b, sizeof(b));
  auto e = compile(program);
  ASSERT_TRUE(e);
  auto out = run(*e, {f32({1, 3}, {2, -1, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(tensorOf(out[0]).shape(), (Shape{1, 2}));
  // y = x w^T + b: [2 - 2 + 12 + 0.25, -2 + 0 + 2 - 1]
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(12.25f, -1.0f));
  // Running again gives the same result (the weights are not consumed or changed).
  out = run(*e, {f32({1, 3}, {2, -1, 4})});
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(12.25f, -1.0f));
}

TEST(CpuExecutorTest, WeightsAreReadInPlaceNotCopied) {
  // A large artifact's weights must not be held twice: the executor's
  // weight tensors are the program's bytes, kept alive by the executor.
  auto program = parse(R"(weight @w : f32[2,3]
func @forward() -> (tensor) {
  %w = weight {name = "w"} : f32[2,3]
  return(%w)
}
)");
  ASSERT_TRUE(program);
  const float w[6] = {1, 2, 3, -1, 0, 0.5f};
  const auto* bytes = reinterpret_cast<const std::byte*>(w);
  program->weights()[0].data.assign(bytes, bytes + sizeof(w));
  const std::byte* held = program->weights()[0].data.data();
  auto e = compile(program);
  ASSERT_TRUE(e);
  program.reset();  // the executor alone keeps the program (and its bytes) alive now
  auto out = run(*e, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(tensorOf(out[0]).rawData(), static_cast<const void*>(held));
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(1, 2, 3, -1, 0, 0.5f));
}

TEST(CpuExecutorTest, WeightWithoutDataIsRefusedAtCreation) {
  auto program = parse(R"(weight @w : f32[2,3]
func @forward(%x: f32[1,3]) -> (tensor) {
  %w = weight {name = "w"} : f32[2,3]
  %y = linear(%x, %w) : tensor
  return(%y)
}
)");
  ASSERT_TRUE(program);
  auto e = createCpuExecutor(program, nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().str(), HasSubstr("weight @w (f32[2,3]) has 0 bytes of data, expected 24"));
}

TEST(CpuExecutorTest, IslandWithoutInterpreterIsRefusedAtCreation) {
  auto program = parse(R"IR(func @forward(%x: f32[4]) -> (tensor) {
  %y = island(%x) {graph = "graph(%x : Tensor):\n  return (%x)", op = "aten::cumsum"} : tensor
  return(%y)
}
)IR");
  ASSERT_TRUE(program);
  auto e = createCpuExecutor(program, nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().str(), AllOf(HasSubstr("TorchScript island"), HasSubstr("aten::cumsum")));
}

TEST(CpuExecutorTest, AttributesAreDecodedAtCreationNotAtRun) {
  // Not verified on purpose: the executor decodes every op's attributes when
  // it is created, so a missing one is refused there, by op and name, before
  // any run (a loop body would otherwise fail only on its first step).
  auto parsed = ir::parseProgram(R"(func @forward(%x: f32[2,3]) -> (tensor) {
  %y = transpose(%x) {dim0 = 0} : tensor
  return(%y)
}
)",
                                 "test.ir");
  ASSERT_TRUE(parsed.ok()) << parsed.status().str();
  auto e = createCpuExecutor(std::shared_ptr<ir::Program>(parsed.take()), nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().str(), AllOf(HasSubstr("'transpose'"), HasSubstr("'dim1'")));
}

TEST(CpuExecutorTest, IntScalarArithmeticWrapsAsTorchScriptsInt64) {
  auto e = compile(R"(func @forward(%a: i64, %b: i64) -> (i64, i64, i64, i64, i64) {
  %s = add(%a, %b) : i64
  %d = sub(%a, %b) : i64
  %p = mul(%a, %b) : i64
  %n = neg(%a) : i64
  %m = abs(%a) : i64
  return(%s, %d, %p, %n, %m)
}
)");
  ASSERT_TRUE(e);
  const int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  auto out = run(*e, {kMax, int64_t{2}});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(intOf(out[0]), kMin + 1);  // wraps (undefined in C++ without care; UBSan checks)
  EXPECT_EQ(intOf(out[1]), kMax - 2);
  EXPECT_EQ(intOf(out[2]), -2);
  EXPECT_EQ(intOf(out[3]), -kMax);
  out = run(*e, {kMin, int64_t{3}});
  EXPECT_EQ(intOf(out[3]), kMin);
  EXPECT_EQ(intOf(out[4]), kMin);
  EXPECT_EQ(intOf(out[0]), kMin + 3);
}

TEST(CpuExecutorTest, FloatPastInt64IsAnErrorNotUndefined) {
  auto e = compile(R"(func @forward(%f: f64) -> (i64) {
  %i = to_scalar(%f) : i64 loc("m.py":3)
  return(%i)
}
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(intOf(run(*e, {-2.75})[0]), -2);  // int() truncates toward zero
  EXPECT_EQ(intOf(run(*e, {-9223372036854775808.0})[0]), std::numeric_limits<int64_t>::min());
  for (double f : {9223372036854775808.0, -1e30, std::nan("")}) {
    SCOPED_TRACE(f);
    auto out = e->run({f});
    ASSERT_FALSE(out.ok());
    EXPECT_THAT(out.status().str(), AllOf(HasSubstr("m.py:3"), HasSubstr("cannot convert the float")));
    EXPECT_EQ(out.status().kind(), ir::ErrorKind::User);
  }
}

// ---- multi-result and write ops -------------------------------------------------------------

TEST(CpuExecutorTest, ChunkResults) {
  auto e = compile(R"(func @forward(%x: f32[2,7]) -> (tensor, tensor, tensor) {
  %a, %b, %c = chunk(%x) {chunks = 3, dim = 1} : tensor, tensor, tensor
  return(%a, %b, %c)
}
)");
  ASSERT_TRUE(e);
  std::vector<float> v(14);
  for (int i = 0; i < 14; ++i) v[i] = static_cast<float>(i);
  auto out = run(*e, {f32({2, 7}, v)});
  ASSERT_EQ(out.size(), 3u);
  // 7 columns in 3 chunks: 3, 3, 1.
  EXPECT_EQ(tensorOf(out[0]).shape(), (Shape{2, 3}));
  EXPECT_EQ(tensorOf(out[1]).shape(), (Shape{2, 3}));
  EXPECT_EQ(tensorOf(out[2]).shape(), (Shape{2, 1}));
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAre(0, 1, 2, 7, 8, 9));
  EXPECT_THAT(valuesOf<float>(out[1]), ElementsAre(3, 4, 5, 10, 11, 12));
  EXPECT_THAT(valuesOf<float>(out[2]), ElementsAre(6, 13));
}

TEST(CpuExecutorTest, ChunkWithFewerPiecesThanResultsIsAnError) {
  // torch.chunk(6 elements, 4) gives 3 pieces of 2.
  auto e = compile(R"(func @forward(%x: f32[6]) -> (tensor) {
  %a, %b, %c, %d = chunk(%x) {chunks = 4, dim = 0} : tensor, tensor, tensor, tensor loc("m.py":9)
  return(%a)
}
)");
  ASSERT_TRUE(e);
  std::string err = runError(*e, {Tensor::zeros(DType::F32, {6})});
  EXPECT_THAT(err, AllOf(HasSubstr("m.py:9"), HasSubstr("chunk"),
                         HasSubstr("produced 3 pieces but the program unpacks 4")));
}

TEST(CpuExecutorTest, SelectScatterAndSliceScatter) {
  auto e = compile(R"(func @forward(%base: f32[3,4], %row: f32[4], %cols: f32[3,2], %i: i64) -> (tensor, tensor, tensor) {
  %c1 = constant 1 : i64
  %c3 = constant 3 : i64
  %c0 = constant 0 : i64
  %c4 = constant 4 : i64
  %a = select_scatter(%base, %row, %i) {dim = 0} : tensor
  %b = slice_scatter(%base, %cols, %c1, %c3) {dim = 1, step = 1} : tensor
  %c = slice_scatter(%base, %cols, %c0, %c4) {dim = 1, step = 2} : tensor
  return(%a, %b, %c)
}
)");
  ASSERT_TRUE(e);
  Tensor base = Tensor::zeros(DType::F32, {3, 4});
  Tensor row = f32({4}, {1, 2, 3, 4});
  Tensor cols = f32({3, 2}, {5, 6, 7, 8, 9, 10});
  auto out = run(*e, {base, row, cols, int64_t{1}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAreArray<float>({0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}));
  EXPECT_THAT(valuesOf<float>(out[1]), ElementsAreArray<float>({0, 5, 6, 0, 0, 7, 8, 0, 0, 9, 10, 0}));
  EXPECT_THAT(valuesOf<float>(out[2]), ElementsAreArray<float>({5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10, 0}));
  // Negative index counts from the end; the base input is never written.
  out = run(*e, {base, row, cols, int64_t{-1}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAreArray<float>({0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}));
  EXPECT_THAT(valuesOf<float>(RuntimeValue(base)), ElementsAreArray(std::vector<float>(12, 0.0f)));
}

TEST(CpuExecutorTest, WritesInsideLoopAccumulateRows) {
  // out[i] = xs[i] * i, written row by row with select_scatter.
  auto e = compile(R"(symbol T <= 6
func @forward(%xs: f32[T,2]) -> (f32[T,2]) {
  %true = constant true : i1
  %t = size(%xs) {dim = 0} : i64
  %zero = constant 0.0 : f64
  %out0 = full_like(%xs, %zero) : f32[T,2]
  %out = loop(%t, %true, %out0) : f32[T,2] {
  ^(%i: i64, %o.1: f32[T,2]):
    %row = select(%xs, %i) {dim = 0} : f32[2]
    %scaled = mul(%row, %i) : f32[2]
    %o.2 = select_scatter(%o.1, %scaled, %i) {dim = 0} : f32[T,2]
    yield(%true, %o.2)
  }
  return(%out)
}
)");
  ASSERT_TRUE(e);
  auto out = run(*e, {f32({3, 2}, {1, 2, 3, 4, 5, 6})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(valuesOf<float>(out[0]), ElementsAreArray<float>({0, 0, 3, 4, 10, 12}));
}

// ---- errors -------------------------------------------------------------------------------------

constexpr std::string_view kSelect = R"(symbol T <= 8
func @forward(%x: f32[T], %i: i64) -> (tensor) {
  %y = select(%x, %i) {dim = 0} : tensor loc("m.py":7)
  return(%y)
}
)";

TEST(CpuExecutorTest, RuntimeErrorNamesOpAndLocation) {
  auto e = compile(kSelect);
  ASSERT_TRUE(e);
  auto ok = run(*e, {f32({3}, {1, 2, 3}), int64_t{2}});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_THAT(valuesOf<float>(ok[0]), ElementsAre(3.0f));

  auto out = e->run({f32({3}, {1, 2, 3}), int64_t{5}});
  ASSERT_FALSE(out.ok());
  ASSERT_EQ(out.status().diagnostics().size(), 1u);
  const ir::Diagnostic& d = out.status().diagnostics()[0];
  EXPECT_EQ(d.loc.file, "m.py");
  EXPECT_EQ(d.loc.line, 7);
  EXPECT_THAT(d.message, AllOf(HasSubstr("in 'select'"), HasSubstr("index 5 out of range")));
  EXPECT_THAT(out.status().str(), HasSubstr("m.py:7: error:"));
  EXPECT_EQ(out.status().kind(), ir::ErrorKind::User);  // the input chose the index
  // The executor is still usable afterwards.
  ok = run(*e, {f32({3}, {1, 2, 3}), int64_t{-3}});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_THAT(valuesOf<float>(ok[0]), ElementsAre(1.0f));
}

TEST(CpuExecutorTest, RuntimeErrorInsideLoopBodyPointsAtTheBodyOp) {
  // Reads x[i] for i < n: fails once n > len(x).
  auto e = compile(R"(symbol T <= 8
func @forward(%x: f32[T], %n: i64) -> (f32[]) {
  %true = constant true : i1
  %zero = constant 0.0 : f64
  %s0 = to_tensor(%zero) {dtype = f32} : f32[]
  %s = loop(%n, %true, %s0) : f32[] {
  ^(%i: i64, %s.1: f32[]):
    %v = select(%x, %i) {dim = 0} : f32[] loc("m.py":12)
    %s.2 = add(%s.1, %v) : f32[]
    yield(%true, %s.2)
  } loc("m.py":11)
  return(%s)
}
)");
  ASSERT_TRUE(e);
  auto ok = run(*e, {f32({3}, {1, 2, 4}), int64_t{3}});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_THAT(valuesOf<float>(ok[0]), ElementsAre(7.0f));
  std::string err = runError(*e, {f32({3}, {1, 2, 4}), int64_t{4}});
  EXPECT_THAT(err, AllOf(HasSubstr("m.py:12"), HasSubstr("select"), HasSubstr("index 3 out of range")));
}

TEST(CpuExecutorTest, InputsAreValidatedBeforeRunning) {
  auto e = compile(kSelect);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->signature().str(), "forward(x: f32[T<=8], i: i64)");
  // Each of these would also fail inside `select`; the signature's message comes first.
  EXPECT_THAT(runError(*e, {f32({3}, {1, 2, 3})}), HasSubstr("expected 2 inputs"));
  EXPECT_THAT(runError(*e, {i64({3}, {1, 2, 3}), int64_t{5}}), HasSubstr("input 'x' must have dtype f32"));
  EXPECT_THAT(runError(*e, {Tensor::zeros(DType::F32, {9}), int64_t{5}}),
              AllOf(HasSubstr("input 'x': dim 0 is 9"), HasSubstr("T<=8")));
  EXPECT_THAT(runError(*e, {Tensor::zeros(DType::F32, {2, 2}), int64_t{5}}), HasSubstr("input 'x' must have rank 1"));
  EXPECT_THAT(runError(*e, {f32({3}, {1, 2, 3}), 5.0}), HasSubstr("input 'i' must be a scalar of type i64"));
  auto out = e->run({f32({3}, {1, 2, 3}), true});
  ASSERT_FALSE(out.ok());
  EXPECT_FALSE(out.status().diagnostics()[0].loc.known());  // not blamed on an op
}

// A batch runs for several clients: it goes on while one of them waits, and
// stops at the next loop step once every one gave up.
TEST(CpuExecutorTest, LoopStopsOnceEveryClientGaveUp) {
  auto e = compile(kForLoop);
  ASSERT_TRUE(e);
  const std::vector<RuntimeValue> inputs = {f32({3}, {1, 2, 3}), int64_t{10}};
  std::atomic<bool> first{true}, second{false};
  const std::atomic<bool>* const clients[] = {&first, &second};
  RunControl control;
  control.abandoned = clients;
  auto out = e->run(inputs, control);
  ASSERT_TRUE(out.ok()) << out.status().str();  // `second` still waits
  EXPECT_EQ(intOf((*out)[1]), 285);
  second = true;
  out = e->run(inputs, control);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().str(),
              AllOf(HasSubstr("stopped at step 0 of the loop: every client gave up"), HasSubstr("m.py:3")));
}

TEST(CpuExecutorTest, ManyRunsGiveTheSameAnswer) {
  auto e = compile(kWhileLoop);
  ASSERT_TRUE(e);
  for (int rep = 0; rep < 50; ++rep) {
    auto out = run(*e, {int64_t{11}});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(intOf(out[0]), 15);
    EXPECT_EQ(intOf(out[1]), 5);
  }
}

}  // namespace
}  // namespace cocktail::runtime
