//===- tests/runtime/SignatureTest.cpp - Validating inputs before a run ----------===//
//
// Signature::of reads a program's arguments and symbols; Signature::check
// accepts what the model was compiled for and rejects everything else with a
// message that names the input and, for shapes, the dim.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Parser.h"
#include "runtime/Signature.h"

namespace cocktail::runtime {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::string_view kProgram = R"(symbol T <= 8
symbol B <= 4
func @forward(%xs: f32[T,B,3], %mask: i1[B,T], %steps: i64, %scale: f64, %flag: i1) -> (i64) {
  return(%steps)
}
)";

Signature signatureOf(std::string_view text) {
  auto p = ir::parseProgram(text);
  EXPECT_TRUE(p.ok()) << p.status().str();
  return p.ok() ? Signature::of(**p) : Signature{};
}

/// Inputs that fit kProgram with T = t, B = b.
std::vector<RuntimeValue> goodInputs(int64_t t = 5, int64_t b = 2) {
  return {Tensor::zeros(ir::DType::F32, {t, b, 3}), Tensor::zeros(ir::DType::I1, {b, t}), int64_t{7}, 0.5, true};
}

std::string checkError(const Signature& sig, const std::vector<RuntimeValue>& values) {
  ir::Status st = sig.check(values);
  EXPECT_FALSE(st.ok()) << "accepted";
  return st.str();
}

TEST(SignatureTest, OfProgram) {
  Signature sig = signatureOf(kProgram);
  ASSERT_EQ(sig.inputs.size(), 5u);
  EXPECT_EQ(sig.inputs[0].name, "xs");
  EXPECT_EQ(sig.inputs[0].str(), "xs:f32[T<=8,B<=4,3]");
  EXPECT_EQ(sig.inputs[1].str(), "mask:i1[B<=4,T<=8]");
  EXPECT_EQ(sig.inputs[2].str(), "steps:i64");
  EXPECT_EQ(sig.symbols, (std::vector<ir::Symbol>{{"T", 8}, {"B", 4}}));
  EXPECT_EQ(sig.outputNames, std::vector<std::string>{"OUTPUT__0"});
  EXPECT_EQ(sig.str(), "forward(xs: f32[T<=8,B<=4,3], mask: i1[B<=4,T<=8], steps: i64, scale: f64, flag: i1)");
}

TEST(SignatureTest, MaxTensorInputBytesIsTheLargestInputAtItsBounds) {
  // xs: f32[8,4,3] = 384 bytes; mask: i1[4,8] = 32 bytes; scalars take none.
  EXPECT_EQ(signatureOf(kProgram).maxTensorInputBytes(), 384u);
  EXPECT_EQ(signatureOf("func @forward(%n: i64) -> (i64) {\n  return(%n)\n}\n").maxTensorInputBytes(), 0u);
  // A dim near 2^62 saturates instead of wrapping around.
  EXPECT_EQ(signatureOf("symbol T <= 4611686018427387904\nfunc @forward(%x: f64[T,T]) -> (f64[T,T]) {\n  return(%x)\n}\n")
                .maxTensorInputBytes(),
            UINT64_MAX);
}

TEST(SignatureTest, RightInputsPassAndGiveSymbolValues) {
  Signature sig = signatureOf(kProgram);
  for (auto [t, b] : {std::pair<int64_t, int64_t>{5, 2}, {8, 4}, {1, 1}, {0, 3}}) {
    std::map<std::string, int64_t> symbols;
    ir::Status st = sig.check(goodInputs(t, b), &symbols);
    ASSERT_TRUE(st.ok()) << st.str();
    EXPECT_EQ(symbols, (std::map<std::string, int64_t>{{"T", t}, {"B", b}}));
  }
}

TEST(SignatureTest, IntAcceptedForFloatScalar) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[3] = int64_t{2};
  EXPECT_TRUE(sig.check(in).ok());
}

TEST(SignatureTest, WrongCount) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in.pop_back();
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("expected 5 inputs"), HasSubstr("got 4"), HasSubstr("forward(xs:")));
  in = goodInputs();
  in.push_back(int64_t{1});
  EXPECT_THAT(checkError(sig, in), HasSubstr("expected 5 inputs"));
  EXPECT_THAT(checkError(sig, {}), HasSubstr("got 0"));
}

TEST(SignatureTest, ScalarWhereTensorExpected) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[0] = int64_t{3};
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs' must be a tensor"), HasSubstr("got i64 = 3")));
}

TEST(SignatureTest, TensorWhereScalarExpected) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[2] = Tensor::scalarI64(7);
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'steps' must be a scalar of type i64"), HasSubstr("i64[]")));
}

TEST(SignatureTest, WrongScalarKind) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[2] = 2.5;  // a float for an int
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'steps'"), HasSubstr("i64"), HasSubstr("f64 = 2.5")));
  in = goodInputs();
  in[4] = int64_t{1};  // an int for a bool
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'flag'"), HasSubstr("i1")));
  in = goodInputs();
  in[0] = std::monostate{};
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs'"), HasSubstr("<none>")));
}

TEST(SignatureTest, WrongDType) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[0] = Tensor::zeros(ir::DType::F64, {5, 2, 3});
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs' must have dtype f32"), HasSubstr("f64[5, 2, 3]")));
}

TEST(SignatureTest, WrongRank) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[0] = Tensor::zeros(ir::DType::F32, {5, 2});
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs' must have rank 3"), HasSubstr("got f32[5, 2]")));
}

TEST(SignatureTest, WrongConstantDim) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[0] = Tensor::zeros(ir::DType::F32, {5, 2, 4});
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs'"), HasSubstr("dim 2 must be 3, got 4")));
}

TEST(SignatureTest, SymbolicDimAboveBound) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs();
  in[0] = Tensor::zeros(ir::DType::F32, {9, 2, 3});
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'xs'"), HasSubstr("dim 0 is 9"), HasSubstr("T<=8")));
  in = goodInputs();
  in[1] = Tensor::zeros(ir::DType::I1, {5, 5});  // B = 5 > 4, checked before the clash with xs
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("input 'mask'"), HasSubstr("dim 0 is 5"), HasSubstr("B<=4")));
}

TEST(SignatureTest, InconsistentSymbolAcrossInputs) {
  Signature sig = signatureOf(kProgram);
  auto in = goodInputs(5, 2);
  in[1] = Tensor::zeros(ir::DType::I1, {2, 6});  // T is 5 in xs, 6 in mask
  EXPECT_THAT(checkError(sig, in), AllOf(HasSubstr("symbol T is 5 in input 'xs' dim 0 but 6 in input 'mask' dim 1")));
}

TEST(SignatureTest, InconsistentSymbolWithinOneInput) {
  Signature sig = signatureOf(R"(symbol N <= 16
func @forward(%m: f32[N,N]) -> () {
  return
}
)");
  EXPECT_TRUE(sig.check({Tensor::zeros(ir::DType::F32, {3, 3})}).ok());
  EXPECT_THAT(checkError(sig, {Tensor::zeros(ir::DType::F32, {3, 4})}),
              HasSubstr("symbol N is 3 in input 'm' dim 0 but 4 in input 'm' dim 1"));
}

TEST(SignatureTest, ZeroDimTensorInput) {
  Signature sig = signatureOf(R"(func @forward(%x: f32[]) -> () {
  return
}
)");
  EXPECT_TRUE(sig.check({Tensor::scalarF32(1.0f)}).ok());
  EXPECT_THAT(checkError(sig, {Tensor::zeros(ir::DType::F32, {1})}), HasSubstr("input 'x' must have rank 0"));
  EXPECT_THAT(checkError(sig, {1.0}), HasSubstr("input 'x' must be a tensor"));
}

}  // namespace
}  // namespace cocktail::runtime
