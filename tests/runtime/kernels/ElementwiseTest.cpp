//===- tests/runtime/kernels/ElementwiseTest.cpp --------------------------===//
//
// Type promotion, binary/unary maps, where/masked_fill/clamp, casts and
// creation ops of runtime/cpu against ATen on random inputs.
//
//===----------------------------------------------------------------------===//
#include "tests/runtime/kernels/AtenCompare.h"

namespace cocktail::runtime::cpu {
namespace {

using namespace testing;

const std::vector<DType> kTypes = {DType::F32, DType::F64, DType::I64, DType::I32, DType::I1, DType::U8};

std::string name(DType t) { return std::string(ir::dtypeName(t)); }

TEST(Promotion, MatchesTorchResultType) {
  for (DType a : kTypes)
    for (DType b : kTypes)
      for (int za = 0; za < 2; ++za)
        for (int zb = 0; zb < 2; ++zb) {
          const Tensor x = random(za ? Shape{} : Shape{2}, a);
          const Tensor y = random(zb ? Shape{} : Shape{2}, b);
          EXPECT_EQ(resultType(x, y), fromAtenType(at::result_type(toAten(x), toAten(y))))
              << name(a) << (za ? "[]" : "[2]") << " with " << name(b) << (zb ? "[]" : "[2]");
        }
}

TEST(Cast, AllPairs) {
  for (DType a : kTypes)
    for (DType b : kTypes) {
      const Tensor x = fromAten(randomAten({3, 4}, a).mul(a == DType::I1 ? 1 : 3).to(toAtenType(a)));
      EXPECT_TRUE(sameAs(cast(x, b), toAten(x).to(toAtenType(b)))) << name(a) << "->" << name(b);
    }
  EXPECT_THROW_MSG(cast(random({2}, DType::F32), DType::F16), std::invalid_argument,
                   "f16 is not supported by the CPU kernels yet");
}

struct BinaryCase {
  BinaryOp op;
  const char* name;
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> ref;
};

const std::vector<BinaryCase>& binaryCases() {
  static const std::vector<BinaryCase> cases = {
      {BinaryOp::Add, "add", [](auto& a, auto& b) { return at::add(a, b); }},
      {BinaryOp::Sub, "sub", [](auto& a, auto& b) { return at::sub(a, b); }},
      {BinaryOp::Mul, "mul", [](auto& a, auto& b) { return at::mul(a, b); }},
      {BinaryOp::Div, "div", [](auto& a, auto& b) { return at::div(a, b); }},
      {BinaryOp::Pow, "pow", [](auto& a, auto& b) { return at::pow(a, b); }},
      {BinaryOp::Maximum, "maximum", [](auto& a, auto& b) { return at::maximum(a, b); }},
      {BinaryOp::Minimum, "minimum", [](auto& a, auto& b) { return at::minimum(a, b); }},
      {BinaryOp::Remainder, "remainder", [](auto& a, auto& b) { return at::remainder(a, b); }},
      {BinaryOp::FloorDivide, "floor_divide", [](auto& a, auto& b) { return at::floor_divide(a, b); }},
      {BinaryOp::Eq, "eq", [](auto& a, auto& b) { return at::eq(a, b); }},
      {BinaryOp::Ne, "ne", [](auto& a, auto& b) { return at::ne(a, b); }},
      {BinaryOp::Lt, "lt", [](auto& a, auto& b) { return at::lt(a, b); }},
      {BinaryOp::Le, "le", [](auto& a, auto& b) { return at::le(a, b); }},
      {BinaryOp::Gt, "gt", [](auto& a, auto& b) { return at::gt(a, b); }},
      {BinaryOp::Ge, "ge", [](auto& a, auto& b) { return at::ge(a, b); }},
      {BinaryOp::LogicalAnd, "logical_and", [](auto& a, auto& b) { return at::logical_and(a, b); }},
      {BinaryOp::LogicalOr, "logical_or", [](auto& a, auto& b) { return at::logical_or(a, b); }},
      {BinaryOp::LogicalXor, "logical_xor", [](auto& a, auto& b) { return at::logical_xor(a, b); }},
      {BinaryOp::BitwiseAnd, "bitwise_and", [](auto& a, auto& b) { return at::bitwise_and(a, b); }},
      {BinaryOp::BitwiseOr, "bitwise_or", [](auto& a, auto& b) { return at::bitwise_or(a, b); }},
  };
  return cases;
}

/// Integer divisors without zeros (ATen throws ZeroDivisionError, and so do we,
/// but that would hide every other result).
at::Tensor nonZero(at::Tensor t) {
  if (at::isFloatingType(t.scalar_type()) || t.scalar_type() == at::kBool) return t;
  return at::where(t == 0, at::ones_like(t) * 3, t);
}

TEST(Binary, AllOpsShapesAndTypes) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 5}}, {{}, {2, 3}},
      {{2, 3}, {}},     {{}, {}},         {{2, 0}, {1}},    {{4, 1, 3}, {2, 1}}};
  const std::vector<std::pair<DType, DType>> types = {
      {DType::F32, DType::F32}, {DType::F64, DType::F32}, {DType::I64, DType::I64}, {DType::I32, DType::I64},
      {DType::I32, DType::F32}, {DType::I1, DType::I1},   {DType::I1, DType::I64},  {DType::F64, DType::F64},
      {DType::U8, DType::U8},   {DType::U8, DType::I32},  {DType::U8, DType::I1},   {DType::U8, DType::F32}};
  at::manual_seed(1);
  for (const BinaryCase& c : binaryCases())
    for (const auto& [sa, sb] : shapes)
      for (const auto& [ta, tb] : types) {
        const at::Tensor a = randomAten(sa, ta), b = nonZero(randomAten(sb, tb));
        const Tensor x = fromAten(a), y = fromAten(b);
        EXPECT_TRUE(sameOrBothThrow([&] { return binary(c.op, x, y); }, [&] { return c.ref(a, b); }))
            << c.name << " " << x.typeString() << " " << y.typeString();
      }
}

TEST(Binary, ZeroDimScalarsFollowTensorType) {
  // Python scalars arrive as 0-d I64 / F32 tensors.
  const Tensor x = random({4}, DType::I32);
  EXPECT_EQ(binary(BinaryOp::Add, x, Tensor::scalarI64(2)).dtype(), DType::I32);
  EXPECT_EQ(binary(BinaryOp::Mul, x, Tensor::scalarF32(0.5f)).dtype(), DType::F32);
  const Tensor h = random({4}, DType::F64);
  EXPECT_EQ(binary(BinaryOp::Add, h, Tensor::scalarF32(0.5f)).dtype(), DType::F64);
  EXPECT_EQ(binary(BinaryOp::Div, x, Tensor::scalarI64(2)).dtype(), DType::F32);
  EXPECT_EQ(binary(BinaryOp::Lt, x, Tensor::scalarF32(0.5f)).dtype(), DType::I1);
}

TEST(Binary, SpecialValues) {
  const at::Tensor a = at::tensor({1.0f, -1.0f, 0.0f, NAN, INFINITY, -7.5f, 7.5f, -0.0f});
  const at::Tensor b = at::tensor({0.0f, 0.0f, 0.0f, 1.0f, 2.0f, 2.0f, -2.0f, 3.0f});
  for (const BinaryCase& c : binaryCases())
    EXPECT_TRUE(sameOrBothThrow([&] { return binary(c.op, fromAten(a), fromAten(b)); },
                                [&] { return c.ref(a, b); }))
        << c.name;
}

TEST(Binary, Errors) {
  EXPECT_THROW_MSG(binary(BinaryOp::Add, random({2, 3}, DType::F32), random({4}, DType::F32)),
                   std::invalid_argument, "add");
  EXPECT_THROW_MSG(binary(BinaryOp::Add, random({2, 3}, DType::F32), random({4}, DType::F32)),
                   std::invalid_argument, "[2, 3]");
  EXPECT_THROW_MSG(binary(BinaryOp::Remainder, Tensor::scalarI64(3), Tensor::scalarI64(0)),
                   std::invalid_argument, "ZeroDivisionError");
  EXPECT_THROW_MSG(binary(BinaryOp::BitwiseAnd, random({2}, DType::F32), random({2}, DType::F32)),
                   std::invalid_argument, "bitwise_and");
  const Tensor half = Tensor::zeros(DType::F16, {2});
  EXPECT_THROW_MSG(binary(BinaryOp::Add, half, half), std::invalid_argument,
                   "f16 is not supported by the CPU kernels yet");
}

TEST(Binary, AddSubAlpha) {
  at::manual_seed(2);
  for (DType t : {DType::F32, DType::F64, DType::I64}) {
    const at::Tensor a = randomAten({3, 4}, t), b = randomAten({4}, t);
    for (int64_t alpha : {1, 2, -3}) {
      EXPECT_TRUE(sameAs(add(fromAten(a), fromAten(b), double(alpha)), at::add(a, b, alpha)));
      EXPECT_TRUE(sameAs(sub(fromAten(a), fromAten(b), double(alpha)), at::sub(a, b, alpha)));
    }
  }
  const at::Tensor f = randomAten({2, 2}, DType::F32);
  EXPECT_TRUE(sameAs(add(fromAten(f), fromAten(f), 0.5), at::add(f, f, 0.5)));
  EXPECT_THROW_MSG(add(random({2}, DType::I64), random({2}, DType::I64), 0.5),
                   std::invalid_argument, "alpha");
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  std::function<at::Tensor(const at::Tensor&)> ref;
};

TEST(Unary, AllOpsAndTypes) {
  const std::vector<UnaryCase> cases = {
      {UnaryOp::Neg, "neg", [](auto& x) { return at::neg(x); }},
      {UnaryOp::Sigmoid, "sigmoid", [](auto& x) { return at::sigmoid(x); }},
      {UnaryOp::Tanh, "tanh", [](auto& x) { return at::tanh(x); }},
      {UnaryOp::Relu, "relu", [](auto& x) { return at::relu(x); }},
      {UnaryOp::Exp, "exp", [](auto& x) { return at::exp(x); }},
      {UnaryOp::Log, "log", [](auto& x) { return at::log(x); }},
      {UnaryOp::Sqrt, "sqrt", [](auto& x) { return at::sqrt(x); }},
      {UnaryOp::Rsqrt, "rsqrt", [](auto& x) { return at::rsqrt(x); }},
      {UnaryOp::Abs, "abs", [](auto& x) { return at::abs(x); }},
      {UnaryOp::LogicalNot, "logical_not", [](auto& x) { return at::logical_not(x); }},
      {UnaryOp::Gelu, "gelu", [](auto& x) { return at::gelu(x); }},
      {UnaryOp::Erf, "erf", [](auto& x) { return at::erf(x); }},
      {UnaryOp::Sin, "sin", [](auto& x) { return at::sin(x); }},
      {UnaryOp::Cos, "cos", [](auto& x) { return at::cos(x); }},
      {UnaryOp::Floor, "floor", [](auto& x) { return at::floor(x); }},
      {UnaryOp::Ceil, "ceil", [](auto& x) { return at::ceil(x); }},
      {UnaryOp::Round, "round", [](auto& x) { return at::round(x); }},
      {UnaryOp::Reciprocal, "reciprocal", [](auto& x) { return at::reciprocal(x); }},
      {UnaryOp::Silu, "silu", [](auto& x) { return at::silu(x); }},
      {UnaryOp::BitwiseNot, "bitwise_not", [](auto& x) { return at::bitwise_not(x); }},
  };
  at::manual_seed(3);
  for (const UnaryCase& c : cases)
    for (DType t : kTypes)
      for (const Shape& s : {Shape{5, 7}, Shape{}, Shape{0, 3}, Shape{2, 3, 4}}) {
        at::Tensor a = randomAten(s, t);
        if (at::isFloatingType(a.scalar_type())) a = a * 3;  // exercise tails of tanh/erf/exp
        EXPECT_TRUE(sameOrBothThrow([&] { return unary(c.op, fromAten(a)); }, [&] { return c.ref(a); }))
            << c.name << " " << name(t) << shapeToString(s);
      }
  // Round half to even, special values.
  const at::Tensor sp = at::tensor({0.5, 1.5, 2.5, -0.5, -1.5, NAN, INFINITY, -INFINITY, 0.0});
  for (const UnaryCase& c : cases)
    EXPECT_TRUE(sameOrBothThrow([&] { return unary(c.op, fromAten(sp)); }, [&] { return c.ref(sp); }))
        << c.name;
}

TEST(Where, BroadcastAndPromotion) {
  at::manual_seed(4);
  const at::Tensor c = randomAten({3, 1, 4}, DType::I1);
  for (auto [ta, tb] : std::vector<std::pair<DType, DType>>{
           {DType::F32, DType::F32}, {DType::I64, DType::I64}, {DType::F64, DType::F64}}) {
    const at::Tensor a = randomAten({2, 4}, ta), b = randomAten({}, tb);
    EXPECT_TRUE(sameOrBothThrow([&] { return where(fromAten(c), fromAten(a), fromAten(b)); },
                                [&] { return at::where(c, a, b); }));
  }
  EXPECT_THROW_MSG(where(fromAten(c), random({5}, DType::F32), random({}, DType::F32)),
                   std::invalid_argument, "where");
}

TEST(MaskedFill, Broadcast) {
  at::manual_seed(5);
  for (DType t : {DType::F32, DType::I64, DType::I1}) {
    const at::Tensor x = randomAten({2, 3, 4}, t);
    const at::Tensor m = randomAten({3, 1}, DType::I1);
    const at::Tensor v = at::scalar_tensor(1, at::TensorOptions().dtype(toAtenType(t)));
    EXPECT_TRUE(sameAs(maskedFill(fromAten(x), fromAten(m), fromAten(v)), at::masked_fill(x, m, v)));
  }
  const at::Tensor x = randomAten({3}, DType::F32), m = randomAten({2, 3}, DType::I1);
  const at::Tensor v = at::scalar_tensor(-1e9);
  EXPECT_TRUE(sameAs(maskedFill(fromAten(x), fromAten(m), fromAten(v)), at::masked_fill(x, m, v)));
  EXPECT_THROW_MSG(maskedFill(fromAten(x), fromAten(m), random({2}, DType::F32)),
                   std::invalid_argument, "masked_fill");
}

TEST(Clamp, Bounds) {
  at::manual_seed(6);
  at::Tensor x = randomAten({4, 5}, DType::F32);
  x[0][0] = NAN;
  EXPECT_TRUE(sameAs(clamp(fromAten(x), -0.5, 0.5), at::clamp(x, -0.5, 0.5)));
  EXPECT_TRUE(sameAs(clamp(fromAten(x), std::nullopt, 0.1), at::clamp(x, c10::nullopt, 0.1)));
  EXPECT_TRUE(sameAs(clamp(fromAten(x), 0.0, std::nullopt), at::clamp(x, 0.0, c10::nullopt)));
  EXPECT_TRUE(sameAs(clamp(fromAten(x), 1.0, -1.0), at::clamp(x, 1.0, -1.0)));
  const at::Tensor i = randomAten({7}, DType::I64);
  EXPECT_TRUE(sameAs(clamp(fromAten(i), -2, 3), at::clamp(i, -2, 3)));
  EXPECT_THROW_MSG(clamp(fromAten(x), std::nullopt, std::nullopt), std::invalid_argument, "clamp");
}

TEST(Activation, MatchesAten) {
  at::manual_seed(7);
  at::Tensor x = randomAten({6, 9}, DType::F32) * 5;  // past hardswish's +-3 and softplus's threshold
  x[0][0] = NAN;
  x[0][1] = 0.0;
  x[0][2] = -3.0;
  x[0][3] = 3.0;
  struct C {
    Activation op;
    ActivationParams p;
    std::function<at::Tensor(const at::Tensor&)> ref;
  };
  const std::vector<C> cases = {
      {Activation::Hardswish, {}, [](auto& a) { return at::hardswish(a); }},
      {Activation::Hardsigmoid, {}, [](auto& a) { return at::hardsigmoid(a); }},
      {Activation::LeakyRelu, {0.01}, [](auto& a) { return at::leaky_relu(a, 0.01); }},
      {Activation::LeakyRelu, {-1.5}, [](auto& a) { return at::leaky_relu(a, -1.5); }},
      {Activation::Elu, {1.0, 1.0, 1.0}, [](auto& a) { return at::elu(a); }},
      {Activation::Elu, {0.7, 1.3, 0.5}, [](auto& a) { return at::elu(a, 0.7, 1.3, 0.5); }},
      {Activation::Softplus, {1.0, 20.0}, [](auto& a) { return at::softplus(a, 1.0, 20.0); }},
      {Activation::Softplus, {2.0, 3.0}, [](auto& a) { return at::softplus(a, 2.0, 3.0); }},
      {Activation::Mish, {}, [](auto& a) { return at::mish(a); }},
  };
  for (const C& c : cases)
    for (DType t : {DType::F32, DType::F64}) {
      const at::Tensor a = x.to(toAtenType(t));
      EXPECT_TRUE(sameAs(activation(c.op, fromAten(a), c.p), c.ref(a))) << static_cast<int>(c.op) << " " << name(t);
    }
  EXPECT_THROW_MSG(activation(Activation::Hardswish, random({3}, DType::I64)), std::invalid_argument, "hardswish");
  EXPECT_THROW_MSG(activation(Activation::Mish, random({3}, DType::I64)), std::invalid_argument, "mish");
}

TEST(Creation, FullArangeEye) {
  EXPECT_TRUE(sameAs(full({2, 3}, Tensor::scalarF32(2.5f), DType::F32), at::full({2, 3}, 2.5)));
  EXPECT_TRUE(sameAs(full({4}, Tensor::scalarI64(7), DType::I64),
                     at::full({4}, 7, at::TensorOptions().dtype(at::kLong))));
  EXPECT_TRUE(sameAs(full({0, 2}, Tensor::scalarBool(true), DType::I1),
                     at::full({0, 2}, true, at::TensorOptions().dtype(at::kBool))));
  EXPECT_TRUE(sameAs(arange(0, 10, 1, DType::I64), at::arange(0, 10, 1, at::kLong)));
  EXPECT_TRUE(sameAs(arange(1, 2, 0.1, DType::F32), at::arange(1, 2, 0.1, at::kFloat)));
  EXPECT_TRUE(sameAs(arange(5, -5, -3, DType::I32), at::arange(5, -5, -3, at::kInt)));
  EXPECT_TRUE(sameAs(arange(0, 0, 1, DType::F64), at::arange(0, 0, 1, at::kDouble)));
  EXPECT_TRUE(sameAs(eye(3), at::eye(3)));
  EXPECT_TRUE(sameAs(eye(2, 4, DType::I64), at::eye(2, 4, at::kLong)));
  EXPECT_THROW_MSG(arange(0, 10, -1, DType::I64), std::invalid_argument, "arange");
  EXPECT_THROW_MSG(arange(0, 10, 0, DType::I64), std::invalid_argument, "arange");
}

}  // namespace
}  // namespace cocktail::runtime::cpu
