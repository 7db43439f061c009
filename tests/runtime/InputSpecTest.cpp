//===- tests/runtime/InputSpecTest.cpp - `NAME:DTYPE[DIMS]` specs ----------------===//
//
// ir::parseInputSpec / parseInputSpecs: the forms users write on the command
// line, and one case per error with the part of the message that names the
// problem.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/InputSpec.h"

namespace cocktail::ir {
namespace {

using ::testing::HasSubstr;

InputSpec parseOk(std::string_view text) {
  auto spec = parseInputSpec(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().str();
  return spec.ok() ? spec.take() : InputSpec{};
}

std::string parseError(std::string_view text) {
  auto spec = parseInputSpec(text);
  EXPECT_FALSE(spec.ok()) << text << " parsed as " << spec->str();
  return spec.ok() ? "" : spec.status().str();
}

std::string specsError(const std::vector<std::string>& texts) {
  std::vector<Symbol> symbols;
  auto specs = parseInputSpecs(texts, &symbols);
  EXPECT_FALSE(specs.ok());
  return specs.ok() ? "" : specs.status().str();
}

// ---- valid specs ------------------------------------------------------------------

TEST(InputSpecTest, TensorWithBoundedSymbol) {
  InputSpec s = parseOk("xs:f32[T<=128,4,64]");
  EXPECT_EQ(s.name, "xs");
  ASSERT_TRUE(s.type.isTensor());
  EXPECT_EQ(s.type.dtype(), DType::F32);
  ASSERT_EQ(s.type.dims().size(), 3u);
  EXPECT_TRUE(s.type.dims()[0].isSymbol());
  EXPECT_EQ(s.type.dims()[0].symbolName(), "T");
  EXPECT_EQ(s.type.dims()[1], Dim::constant(4));
  EXPECT_EQ(s.type.dims()[2], Dim::constant(64));
  ASSERT_EQ(s.symbols.size(), 1u);
  EXPECT_EQ(s.symbols[0], (Symbol{"T", 128}));
  EXPECT_EQ(s.str(), "xs:f32[T<=128,4,64]");
}

TEST(InputSpecTest, Scalars) {
  for (auto [text, dtype] : {std::pair{"steps:i64", DType::I64}, {"scale:f64", DType::F64}, {"flag:i1", DType::I1}}) {
    InputSpec s = parseOk(text);
    EXPECT_TRUE(s.type.isScalar()) << text;
    EXPECT_EQ(s.type.dtype(), dtype) << text;
    EXPECT_TRUE(s.symbols.empty());
    EXPECT_EQ(s.str(), text);
  }
}

TEST(InputSpecTest, ZeroDimTensor) {
  InputSpec s = parseOk("x:f32[]");
  ASSERT_TRUE(s.type.isTensor());
  EXPECT_TRUE(s.type.hasRank());
  EXPECT_EQ(s.type.rank(), 0);
  EXPECT_EQ(s.str(), "x:f32[]");
}

TEST(InputSpecTest, EveryTensorDType) {
  for (const char* dt : {"f32", "f64", "f16", "bf16", "i64", "i32", "i1"}) {
    InputSpec s = parseOk(std::string("x:") + dt + "[2]");
    EXPECT_EQ(dtypeName(s.type.dtype()), dt);
  }
}

TEST(InputSpecTest, WhitespaceAroundPartsIsIgnored) {
  InputSpec s = parseOk(" xs : f32[ T <= 8 , 4 ]");
  EXPECT_EQ(s.name, "xs");
  EXPECT_EQ(s.str(), "xs:f32[T<=8,4]");
}

TEST(InputSpecTest, RepeatedSymbolWithoutBound) {
  std::vector<Symbol> symbols;
  auto specs = parseInputSpecs({"xs:f32[T<=128,B<=8,64]", "mask:i1[B,T]", "steps:i64"}, &symbols);
  ASSERT_TRUE(specs.ok()) << specs.status().str();
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_EQ(symbols, (std::vector<Symbol>{{"T", 128}, {"B", 8}}));
  const InputSpec& mask = (*specs)[1];
  EXPECT_TRUE(mask.symbols.empty());  // the bound is declared by xs
  EXPECT_EQ(mask.type.dims()[0].symbolName(), "B");
  EXPECT_EQ(mask.type.dims()[1].symbolName(), "T");
}

TEST(InputSpecTest, SameBoundRepeatedIsAccepted) {
  std::vector<Symbol> symbols;
  auto specs = parseInputSpecs({"a:f32[T<=16]", "b:f32[T<=16,2]"}, &symbols);
  ASSERT_TRUE(specs.ok()) << specs.status().str();
  EXPECT_EQ(symbols, (std::vector<Symbol>{{"T", 16}}));
}

TEST(InputSpecTest, SymbolUsedBeforeItsBound) {
  // The bound may be given by a later spec.
  auto specs = parseInputSpecs({"mask:i1[T]", "xs:f32[T<=32]"}, nullptr);
  EXPECT_TRUE(specs.ok()) << specs.status().str();
}

TEST(InputSpecTest, StrRoundTrips) {
  for (const char* text : {"xs:f32[T<=128,4,64]", "x:f32[]", "n:i64", "m:i1[3,B<=2]"}) {
    InputSpec s = parseOk(text);
    InputSpec again = parseOk(s.str());
    EXPECT_EQ(again.str(), s.str());
    EXPECT_EQ(again.type, s.type);
  }
}

TEST(InputSpecTest, BoundRepeatedInOneSpecPrintsOnce) {
  // Found by tests/fuzz/input_spec_fuzzer: `T<=32,T<=32` printed as `T<=32<=32,T<=32<=32`.
  InputSpec s = parseOk("tokens:i64[B<=4,T<=32,T<=32,6]");
  EXPECT_EQ(s.symbols, (std::vector<Symbol>{{"B", 4}, {"T", 32}}));
  EXPECT_EQ(s.str(), "tokens:i64[B<=4,T<=32,T,6]");
  EXPECT_EQ(parseOk(s.str()).str(), s.str());
  EXPECT_THAT(parseError("a:f32[T<=4,T<=5]"), HasSubstr("symbol 'T' has two different bounds: 4 and 5"));
}

// ---- one spec, each error ---------------------------------------------------------------

TEST(InputSpecTest, MissingColon) {
  std::string e = parseError("xs f32[4]");
  EXPECT_THAT(e, HasSubstr("missing ':'"));
  EXPECT_THAT(e, HasSubstr("'xs f32[4]'"));  // names the spec
  EXPECT_THAT(e, HasSubstr("xs:f32[T<=128,4,64]"));  // shows the expected form
}

TEST(InputSpecTest, BadName) {
  EXPECT_THAT(parseError("1x:f32[4]"), HasSubstr("'1x' is not a valid argument name"));
  EXPECT_THAT(parseError(":f32[4]"), HasSubstr("is not a valid argument name"));
  EXPECT_THAT(parseError("x-y:f32[4]"), HasSubstr("'x-y' is not a valid argument name"));
}

TEST(InputSpecTest, UnknownDType) {
  std::string e = parseError("xs:float32[4]");
  EXPECT_THAT(e, HasSubstr("unknown dtype 'float32'"));
  EXPECT_THAT(e, HasSubstr("(one of f32 f64 f16 bf16 i64 i32 i1 u8 or none)"));  // every valid one, from the table
  EXPECT_THAT(parseError("xs:"), HasSubstr("unknown dtype ''"));
  EXPECT_THAT(parseError("n:int"), HasSubstr("unknown dtype 'int'"));
}

TEST(InputSpecTest, ScalarWithTensorOnlyDType) {
  std::string e = parseError("x:f32");
  EXPECT_THAT(e, HasSubstr("a scalar must be i64, f64 or i1, not f32"));
  EXPECT_THAT(e, HasSubstr("x:f32[4]"));  // suggests the tensor form
  EXPECT_THAT(parseError("x:i32"), HasSubstr("a scalar must be i64, f64 or i1, not i32"));
  EXPECT_THAT(parseError("x:bf16"), HasSubstr("not bf16"));
}

TEST(InputSpecTest, MissingClosingBracket) {
  EXPECT_THAT(parseError("xs:f32[4,5"), HasSubstr("missing ']'"));
  EXPECT_THAT(parseError("xs:f32["), HasSubstr("missing ']'"));
}

TEST(InputSpecTest, EmptyDim) {
  EXPECT_THAT(parseError("xs:f32[4,,5]"), HasSubstr("empty dimension"));
  EXPECT_THAT(parseError("xs:f32[4,]"), HasSubstr("empty dimension"));
  EXPECT_THAT(parseError("xs:f32[,4]"), HasSubstr("empty dimension"));
}

TEST(InputSpecTest, NegativeDim) { EXPECT_THAT(parseError("xs:f32[-1,4]"), HasSubstr("negative dimension -1")); }

TEST(InputSpecTest, BadDimText) {
  EXPECT_THAT(parseError("xs:f32[4x]"), HasSubstr("dimension '4x' is neither a number nor a symbol"));
  EXPECT_THAT(parseError("xs:f32[<=5]"), HasSubstr("neither a number nor a symbol"));
}

TEST(InputSpecTest, BadBound) {
  EXPECT_THAT(parseError("xs:f32[T<=0]"), HasSubstr("the bound of 'T' must be a positive integer, got '0'"));
  EXPECT_THAT(parseError("xs:f32[T<=-3]"), HasSubstr("must be a positive integer, got '-3'"));
  EXPECT_THAT(parseError("xs:f32[T<=abc]"), HasSubstr("must be a positive integer, got 'abc'"));
  EXPECT_THAT(parseError("xs:f32[T<=]"), HasSubstr("must be a positive integer, got ''"));
  EXPECT_THAT(parseError("xs:f32[T<=1.5]"), HasSubstr("must be a positive integer"));
}

TEST(InputSpecTest, AbsentOptional) {
  InputSpec s = parseOk("lengths:none");
  EXPECT_TRUE(s.absent);
  EXPECT_EQ(s.name, "lengths");
  EXPECT_EQ(s.str(), "lengths:none");
  EXPECT_TRUE(parseOk(" lengths : none ").absent);
  EXPECT_FALSE(parseOk("n:i64").absent);
  // none takes no dims, is spelt in lower case, and still needs a valid name.
  EXPECT_THAT(parseError("lengths:none[4]"), HasSubstr("'none' takes no dims"));
  EXPECT_THAT(parseError("lengths:None"), HasSubstr("unknown dtype 'None'"));
  EXPECT_THAT(parseError("lengths:NONE"), HasSubstr("or none"));
  EXPECT_THAT(parseError("1x:none"), HasSubstr("'1x' is not a valid argument name"));
  EXPECT_THAT(parseError("none"), HasSubstr("missing ':'"));
  EXPECT_THAT(specsError({"lengths:none", "lengths:f32[4]"}), HasSubstr("input 'lengths' is specified twice"));
}

// ---- several specs ---------------------------------------------------------------------

TEST(InputSpecTest, ErrorInOneOfSeveralSpecsNamesIt) {
  EXPECT_THAT(specsError({"a:f32[4]", "b:f99[4]"}), HasSubstr("invalid input spec 'b:f99[4]'"));
}

TEST(InputSpecTest, SymbolWithoutAnyBound) {
  std::string e = specsError({"xs:f32[T,4]"});
  EXPECT_THAT(e, HasSubstr("symbol 'T' in input 'xs' has no bound"));
  EXPECT_THAT(e, HasSubstr("'T<=N'"));
  EXPECT_THAT(specsError({"a:f32[T<=4]", "b:f32[S,2]"}), HasSubstr("symbol 'S' in input 'b' has no bound"));
}

TEST(InputSpecTest, TwoDifferentBounds) {
  std::string e = specsError({"a:f32[T<=4]", "b:f32[T<=8]"});
  EXPECT_THAT(e, HasSubstr("symbol 'T' has two different bounds: 4 and 8"));
  EXPECT_THAT(specsError({"a:f32[T<=4,T<=5]"}), HasSubstr("two different bounds"));
}

TEST(InputSpecTest, DuplicateInput) {
  EXPECT_THAT(specsError({"x:f32[4]", "n:i64", "x:f32[4]"}), HasSubstr("input 'x' is specified twice"));
}

TEST(InputSpecTest, GarbageNeverCrashes) {
  // Every prefix of a long valid spec either parses or reports an error.
  const std::string full = "tokens_in:bf16[B<=8, T<=4096, 3, 0]";
  for (size_t n = 0; n <= full.size(); ++n) {
    auto spec = parseInputSpec(std::string_view(full).substr(0, n));
    if (!spec.ok()) {
      EXPECT_FALSE(spec.status().str().empty());
    }
  }
  for (const char* text : {"", ":", "[", "]", "x:[]", "x:f32]", "x:f32[[4]]", "x:f32[4]]", "x:f32[4]junk",
                           "x:f32[99999999999999999999]", "x:f32[T<=99999999999999999999]", "x:f32[T<<=4]"}) {
    auto spec = parseInputSpec(text);
    EXPECT_FALSE(spec.ok()) << text << " parsed as " << spec->str();
  }
}

}  // namespace
}  // namespace cocktail::ir
