//===- tests/ir/ir_test.cpp - Printer, parser and verifier unit tests -------===//
//
// What the FileCheck tests cannot reach: programs built with the Builder
// (printed text compared exactly), invalid IR that the parser cannot
// express (use before definition, null operands), the value naming scheme,
// and the parser's robustness on truncated and garbled input.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <limits>
#include <random>

#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Schedule.h"
#include "ir/Verifier.h"

namespace cocktail::ir {
namespace {

using ::testing::HasSubstr;

// Nested loop in if in loop, multi-result ops, every attribute kind,
// symbols, weights, locations.
constexpr std::string_view kBig = R"(symbol T <= 128
symbol B <= 8
weight @w0 : f32[256,256]
weight @b0 : f32[256]
weight @"lstm weight" : f32[*]
func @forward(%xs: f32[T,4,64], %steps: i64, %flag: i1) -> (f32[4,64], i64) {
  %c0 = constant 0 : i64 loc("lstm.py":12)
  %c1 = constant 1 : i64
  %true = constant true : i1
  %eps = constant 1e-05 : f64
  %w = weight {name = "w0"} : f32[256,256]
  %h0 = full(%c0, %c1) {dtype = f32} : f32[4,64]
  %1 = add(%xs, %c0) : tensor loc("lstm.py":13:5)
  %h, %n = loop(%steps, %true, %h0, %c0) : f32[4,64], i64 {
  ^(%i: i64, %h.1: f32[4,64], %n.1: i64):
    %2 = slice(%xs, %i, %steps) {dim = 0, step = 1} : tensor
    %inner = if(%flag) : f32[4,64] {
      %h.2 = loop(%c1, %true, %h.1) : f32[4,64] {
      ^(%j: i64, %h.3: f32[4,64]):
        %t = tanh(%h.3) : f32[4,64]
        yield(%true, %t)
      } loc("lstm.py":20)
      yield(%h.2)
    } else {
      yield(%h.1)
    } loc("lstm.py":18)
    %n.2 = add(%n.1, %c1) : i64
    yield(%true, %inner, %n.2)
  } loc("lstm.py":14)
  %v, %ix = max_dim(%xs) {dim = 1, keepdim = false} : tensor, tensor
  %a, %b, %c = chunk(%xs) {chunks = 3, dim = -1} : tensor, tensor, tensor
  %s = sum(%xs) {dims = [], dtype = bf16, keepdim = true} : f32[]
  %p = permute(%xs) {dims = [2, 0, 1]} : f32[64,T,4]
  %k = clamp(%xs) {max = inf, min = -inf} : f32[T,4,64]
  %m = clamp(%xs) {max = nan, min = -2.5} : f32[T,?,64]
  %isl = island(%xs) {graph = "graph(%x):\n\t\"quoted\" \\ back", source = "m.py"} : tensor
  %bn = batch_norm(%xs, %xs, %xs, %xs, %xs) {eps = 1e-05} : tensor
  %big = constant -9223372036854775808 : i64
  %half = constant 0.5 : f64
  %cast = cast(%s) {dtype = i64} : i64[]
  return(%h, %n)
}
)";

std::unique_ptr<Program> parseOk(std::string_view text) {
  auto p = parseProgram(text);
  EXPECT_TRUE(p.ok()) << p.status().str();
  if (!p.ok()) return nullptr;
  return p.take();
}

std::string parseError(std::string_view text) {
  auto p = parseProgram(text);
  EXPECT_FALSE(p.ok()) << "parsed:\n" << text;
  return p.ok() ? "" : p.status().str();
}

/// Parses (must succeed) and verifies; returns all diagnostics as text.
std::string verifyText(std::string_view text) {
  auto p = parseOk(text);
  if (!p) return "<parse error>";
  return verifyProgram(*p).str();
}

// ---- printer -------------------------------------------------------------------

TEST(Printer, BuilderProgramPrintsExactly) {
  Program p;
  p.symbols().push_back({"T", 64});
  p.weights().push_back({"w", Type::tensor(DType::F32, {Dim::constant(4), Dim::constant(4)}), {}});
  Value* x = p.body().addArgument(Type::tensor(DType::F32, {Dim::symbol("T"), Dim::constant(4)}), "x");
  Value* n = p.body().addArgument(Type::scalar(DType::I64), "n");
  p.resultTypes().push_back(Type::unknownTensor());
  Builder b(p.body());
  b.setLoc({"model.py", 3});
  Value* one = b.constantInt(1);
  b.setLoc({});
  Value* t = b.constantBool(true);
  Attributes wa;
  wa.set("name", std::string("w"));
  Value* w = b.create1(OpKind::Weight, {}, p.weights()[0].type, wa);
  Op* loop = b.create(OpKind::Loop, {n, t, x}, {x->type()});
  Region& body = loop->addRegion();
  Value* i = body.addArgument(Type::scalar(DType::I64), "i");
  Value* acc = body.addArgument(x->type(), "acc");
  Builder bb(body);
  Value* y = bb.create1(OpKind::Matmul, {acc, w}, Type::unknownTensor());
  bb.create(OpKind::Yield, {t, y}, {});
  (void)i;
  (void)one;
  b.create(OpKind::Return, {loop->result()}, {});

  EXPECT_TRUE(verifyProgram(p).ok()) << verifyProgram(p).str();
  EXPECT_EQ(printProgram(p),
            "symbol T <= 64\n"
            "weight @w : f32[4,4]\n"
            "func @forward(%x: f32[T,4], %n: i64) -> (tensor) {\n"
            "  %0 = constant 1 : i64 loc(\"model.py\":3)\n"
            "  %1 = constant true : i1\n"
            "  %2 = weight {name = \"w\"} : f32[4,4]\n"
            "  %3 = loop(%n, %1, %x) : f32[T,4] {\n"
            "  ^(%i: i64, %acc: f32[T,4]):\n"
            "    %4 = matmul(%acc, %2) : tensor\n"
            "    yield(%1, %4)\n"
            "  }\n"
            "  return(%3)\n"
            "}\n");
  PrintOptions noLoc;
  noLoc.locations = false;
  EXPECT_THAT(printProgram(p, noLoc), HasSubstr("  %0 = constant 1 : i64\n"));
  EXPECT_EQ(printOp(*body.ops()[0]), "%4 = matmul(%acc, %2) : tensor");
  EXPECT_EQ(printOp(*loop),
            "%3 = loop(%n, %1, %x) : f32[T,4] {\n^(%i: i64, %acc: f32[T,4]):\n"
            "  %4 = matmul(%acc, %2) : tensor\n  yield(%1, %4)\n}");
}

TEST(Printer, NamesAreUniqueAndNeverTakeUserNames) {
  Program p;
  Value* a = p.body().addArgument(Type::scalar(DType::I64), "x");
  Builder b(p.body());
  Value* v1 = b.create1(OpKind::Add, {a, a}, Type::scalar(DType::I64));  // unnamed: a number
  v1->setName("");
  Value* v2 = b.create1(OpKind::Add, {v1, a}, Type::scalar(DType::I64));
  v2->setName("x");  // clashes with the argument
  Value* v3 = b.create1(OpKind::Add, {v2, a}, Type::scalar(DType::I64));
  v3->setName("0");  // a user name that looks generated
  Value* v4 = b.create1(OpKind::Add, {v3, a}, Type::scalar(DType::I64));
  v4->setName("x.1");  // the clash scheme's first choice
  Value* v5 = b.create1(OpKind::Add, {v4, a}, Type::scalar(DType::I64));
  v5->setName("bad name!");  // sanitized
  b.create(OpKind::Return, {v5}, {});
  p.resultTypes().push_back(Type::scalar(DType::I64));
  std::string text = printProgram(p);
  EXPECT_EQ(text,
            "func @forward(%x: i64) -> (i64) {\n"
            "  %1 = add(%x, %x) : i64\n"
            "  %x.2 = add(%1, %x) : i64\n"
            "  %0 = add(%x.2, %x) : i64\n"
            "  %x.1 = add(%0, %x) : i64\n"
            "  %bad_name_ = add(%x.1, %x) : i64\n"
            "  return(%bad_name_)\n"
            "}\n");
  auto again = parseOk(text);
  ASSERT_TRUE(again);
  EXPECT_EQ(printProgram(*again), text);
}

TEST(Printer, OddProgramsStillReparseIdentically) {
  // Invalid or unusual programs (the verifier's business) must still print
  // text that parses back to the same text.
  Program p;
  p.funcName() = "my func";
  p.symbols().push_back({"N", -3});
  p.weights().push_back({"a/b \"c\"", Type::tensor(DType::F16, {Dim::constant(-1), Dim::unknown()}), {}});
  Value* x = p.body().addArgument(Type::scalar(DType::F32), "");
  Builder b(p.body());
  b.setLoc({"dir/m\tx.py", 0});
  Attributes a;
  a.set("weird key", std::string("\x01\r"));
  a.set("value", DType::I1);
  Op* c = b.create(OpKind::Constant, {x, nullptr}, {Type::scalar(DType::I64), Type::unknownTensor()}, a);
  Op* e = b.create(OpKind::Exp, {c->result(1)}, {});
  e->addRegion();
  e->addRegion().addArgument(Type::scalar(DType::I1), "");
  std::string text = printProgram(p);
  EXPECT_FALSE(verifyProgram(p).ok());
  // A null operand prints as %<null>, which cannot be read back.
  c->setOperand(1, x);
  text = printProgram(p);
  auto again = parseProgram(text);
  ASSERT_TRUE(again.ok()) << again.status().str() << "\n" << text;
  EXPECT_EQ(printProgram(**again), text);
}

// ---- parser ---------------------------------------------------------------------

TEST(Parser, BigProgramRoundTrips) {
  auto p = parseOk(kBig);
  ASSERT_TRUE(p);
  EXPECT_TRUE(verifyProgram(*p).ok()) << verifyProgram(*p).str();
  std::string printed = printProgram(*p);
  EXPECT_EQ(printed, kBig);
  auto again = parseOk(printed);
  ASSERT_TRUE(again);
  EXPECT_EQ(printProgram(*again), printed);
}

// 200,000 declarations: they parse, each kept, and a repeated name is still
// found. With a linear search per declaration this took minutes (quadratic);
// the ctest timeout is what would catch that, the test itself times nothing.
TEST(Parser, ManyDeclarationsParseAndRepeatsAreFound) {
  constexpr int kEach = 100'000;
  std::string text;
  text.reserve(kEach * 48);
  for (int i = 0; i < kEach; ++i) text += "symbol S" + std::to_string(i) + " <= 8\n";
  for (int i = 0; i < kEach; ++i) text += "weight @w" + std::to_string(i) + " : f32[4]\n";
  const std::string func = "func @f() -> () {\n  return\n}\n";
  auto p = parseProgram(text + func);
  ASSERT_TRUE(p) << p.status().str();
  EXPECT_EQ((*p)->symbols().size(), size_t{kEach});
  EXPECT_EQ((*p)->weights().size(), size_t{kEach});
  EXPECT_EQ((*p)->symbols().back().name, "S" + std::to_string(kEach - 1));

  auto repeatedSymbol = parseProgram(text + "symbol S77 <= 8\n" + func);
  ASSERT_FALSE(repeatedSymbol);
  EXPECT_THAT(repeatedSymbol.status().str(), testing::HasSubstr("redefinition of symbol 'S77'"));
  auto repeatedWeight = parseProgram(text + "weight @w99999 : f32[4]\n" + func);
  ASSERT_FALSE(repeatedWeight);
  EXPECT_THAT(repeatedWeight.status().str(), testing::HasSubstr("redefinition of weight '@w99999'"));
}

TEST(Parser, ReadsEveryAttributeKind) {
  auto p = parseOk(kBig);
  ASSERT_TRUE(p);
  const Region& body = p->body();
  auto find = [&](std::string_view name) -> const Op* {
    for (const auto& op : body.ops())
      if (op->numResults() && op->result()->name() == name) return op.get();
    return nullptr;
  };
  EXPECT_EQ(find("eps")->attrs().getFloat("value"), 1e-05);
  EXPECT_EQ(find("big")->attrs().getInt("value"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(find("true")->attrs().getBool("value"), true);
  EXPECT_EQ(find("s")->attrs().getDType("dtype"), DType::BF16);
  EXPECT_EQ(find("s")->attrs().getInts("dims"), std::vector<int64_t>{});
  EXPECT_EQ(find("p")->attrs().getInts("dims"), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(find("k")->attrs().getFloat("min"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*find("m")->attrs().getFloat("max")));
  EXPECT_EQ(find("isl")->attrs().getString("graph"), "graph(%x):\n\t\"quoted\" \\ back");
  EXPECT_EQ(find("c0")->loc(), (Location{"lstm.py", 12}));
  EXPECT_EQ(find("1")->loc(), (Location{"lstm.py", 13, 5}));
  EXPECT_EQ(find("1")->result()->type(), Type::unknownTensor());
  EXPECT_EQ(p->findWeight("lstm weight")->type, Type::unrankedTensor(DType::F32));
  EXPECT_EQ(p->symbols()[1], (Symbol{"B", 8}));
}

TEST(Parser, ErrorsSayWhereAndWhat) {
  EXPECT_EQ(parseError("func @f() -> () {\n  return(%x)\n}\n"),
            "<input>:2:10: error: use of undefined value '%x'");
  EXPECT_EQ(parseError("func @f() -> () {\n  %a = constant 1 : i64\n  %a = constant 2 : i64\n  return\n}\n"),
            "<input>:3:3: error: redefinition of value '%a'");
  EXPECT_EQ(parseError("func @f() -> () {\n  %a, %b = constant 1 : i64\n  return\n}\n"),
            "<input>:2:3: error: expected 2 result types (one per name left of '='), got 1");
  EXPECT_EQ(parseError("func @f() -> () {\n  %a = frobnicate(%a)\n}\n"),
            "<input>:2:8: error: expected an op name, got unknown op 'frobnicate'");
  EXPECT_EQ(parseError("func @f(%x: f32[3,) -> () {\n}\n"),
            "<input>:1:19: error: expected a dim (a size, a symbol or '?'), got ')'");
  EXPECT_EQ(parseError("func @f() -> () {\n  return\n"),
            "<input>:3:1: error: expected an op or '}', got end of input");
  EXPECT_EQ(parseError("func @f() -> () {\n  %s = constant \"abc : i64\n}\n"),
            "<input>:2:17: error: expected '\"' to end the string, got end of line");
  EXPECT_EQ(parseError("banana"), "<input>:1:1: error: expected 'symbol', 'weight' or 'func', got 'banana'");
  auto named = parseProgram("func @f() -> () {\n  return #\n}\n", "model.ir");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().str(), "model.ir:2:10: error: unexpected character '#'");
  EXPECT_THAT(parseError("func @f() -> () {\n  %a = constant 99999999999999999999 : i64\n}\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(parseError("func @f() -> () {\n  %a = constant 1 {value = 2} : i64\n}\n"),
              HasSubstr("redefinition of attribute 'value'"));
  EXPECT_THAT(parseError("symbol T <= 4\nsymbol T <= 8\nfunc @f() -> () {\n}\n"),
              HasSubstr("redefinition of symbol 'T'"));
}

TEST(Parser, RejectsDeepNestingWithoutCrashing) {
  std::string text = "func @f(%c: i1) -> () {\n";
  for (int i = 0; i < 5000; ++i) text += "if(%c) {\n";
  EXPECT_THAT(parseError(text), HasSubstr("nested regions"));
}

// Never crash, never hang: each input gives a program or an error.
TEST(Parser, EveryPrefixParsesOrFails) {
  for (size_t n = 0; n < kBig.size(); ++n) {
    auto p = parseProgram(kBig.substr(0, n));
    if (p.ok()) continue;
    EXPECT_FALSE(p.status().diagnostics().empty());
    EXPECT_THAT(p.status().str(), HasSubstr("<input>:"));
  }
}

TEST(Parser, GarbledInputParsesOrFails) {
  std::mt19937 rng(1234);
  const std::string alphabet = "%@(){}[],:=^<->?*\"\\/ \n\tabcxyz0129.-e";
  int parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text(kBig);
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text[pos] = static_cast<char>(rng() % 256);
          break;
        case 2:
          text.erase(pos, 1 + rng() % 8);
          break;
        default:
          text.insert(pos, text.substr(rng() % text.size(), 1 + rng() % 16));
          break;
      }
      if (text.empty()) text = "x";
    }
    auto p = parseProgram(text);
    if (!p.ok()) {
      EXPECT_FALSE(p.status().diagnostics().empty());
      continue;
    }
    ++parsed;
    // Whatever parses must print and reparse identically, valid or not.
    (void)verifyProgram(**p);
    std::string printed = printProgram(**p);
    auto again = parseProgram(printed);
    ASSERT_TRUE(again.ok()) << again.status().str() << "\n" << printed;
    EXPECT_EQ(printProgram(**again), printed);
  }
  EXPECT_GT(parsed, 0);  // some edits (inside strings, comments) keep the text valid
}

// ---- verifier ---------------------------------------------------------------------

TEST(Verifier, BuilderOnlyErrors) {
  Program p;
  p.resultTypes().push_back(Type::scalar(DType::I64));
  Builder b(p.body());
  Value* one = b.constantInt(1);
  Op* add = b.create(OpKind::Add, {one, nullptr}, {Type::scalar(DType::I64)});
  Op* later = b.create(OpKind::Add, {one, one}, {Type::scalar(DType::I64)});
  add->setOperand(0, later->result());  // used before its definition
  Program other;
  Value* foreign = other.body().addArgument(Type::scalar(DType::I64), "elsewhere");
  b.create(OpKind::Return, {foreign}, {});
  std::string diags = verifyProgram(p).str();
  EXPECT_THAT(diags, HasSubstr("'add' op operand #0 (%2) is used before its definition"));
  EXPECT_THAT(diags, HasSubstr("'add' op operand #1 is null"));
  EXPECT_THAT(diags, HasSubstr("'return' op operand #0 ('%elsewhere') is not defined in this function"));
  EXPECT_THAT(diags, HasSubstr("note: see op: %1 = add(%2, %<null>) : i64"));
}

TEST(Verifier, DiagnosticPointsAtTheOpLocation) {
  Status st = verifyProgram(
      *parseOk("func @f(%x: i64) -> () {\n  %c = constant 1.5 : i64 loc(\"m.py\":7)\n  return\n}\n"));
  ASSERT_EQ(st.diagnostics().size(), 1u);
  EXPECT_EQ(st.str(),
            "m.py:7: error: 'constant' op expects value an integer for an i64 result, got 1.5\n"
            "  note: see op: %c = constant 1.5 : i64 loc(\"m.py\":7)");
}

struct VerifierCase {
  const char* name;
  const char* body;  // ops of `func @f(%x: f32[4], %n: i64, %b: i1) -> (i64)`
  const char* message;
};

class VerifierCases : public ::testing::TestWithParam<VerifierCase> {};

TEST_P(VerifierCases, Reports) {
  std::string text =
      std::string("symbol T <= 8\nweight @w : f32[4]\nfunc @f(%x: f32[4], %n: i64, %b: i1) -> (i64) {\n") +
      GetParam().body + "}\n";
  EXPECT_THAT(verifyText(text), HasSubstr(GetParam().message));
}

const VerifierCase kVerifierCases[] = {
    {"operand_count", "%a = add(%x) : tensor\nreturn(%n)\n", "'add' op expects 2 operands, got 1"},
    {"operand_range", "%a = linear(%x) : tensor\nreturn(%n)\n", "'linear' op expects 2 to 3 operands, got 1"},
    {"result_count", "%a, %c = add(%x, %x) : tensor, tensor\nreturn(%n)\n",
     "'add' op expects 1 result, got 2"},
    {"region_count", "%a = add(%x, %x) : tensor {\n  yield\n}\nreturn(%n)\n",
     "'add' op expects 0 regions, got 1"},
    {"missing_attr", "%a = sum(%x) {keepdim = true} : tensor\nreturn(%n)\n",
     "'sum' op requires attribute 'dims'"},
    {"attr_kind", "%a = sum(%x) {dims = [0], keepdim = 1} : tensor\nreturn(%n)\n",
     "'sum' op expects attribute 'keepdim' to be a bool, got 1"},
    {"size_dim", "%a = size(%x) : i64\nreturn(%n)\n", "'size' op with one operand requires attribute 'dim'"},
    {"not_visible",
     "%r = if(%b) : i64 {\n  %i = constant 1 : i64\n  yield(%i)\n} else {\n  yield(%i)\n}\nreturn(%r)\n",
     "'yield' op operand #0 (%i) is defined in a region that does not enclose this use"},
    {"own_result_in_body",
     "%r = loop(%n, %b, %n) : i64 {\n^(%i: i64, %a: i64):\n  yield(%b, %r)\n}\nreturn(%r)\n",
     "'yield' op operand #1 (%r) is used before its definition"},
    {"no_yield", "%r = if(%b) : i64 {\n  yield(%n)\n} else {\n}\nreturn(%r)\n",
     "'if' op region #1 must end with 'yield'"},
    {"yield_in_body", "yield(%n)\n", "'yield' op is not allowed in the function body (expected 'return')"},
    {"return_in_loop", "loop(%n, %b) {\n^(%i: i64):\n  return(%n)\n}\nreturn(%n)\n",
     "'return' op is not allowed in a 'loop' region (expected 'yield')"},
    {"terminator_in_middle", "return(%n)\nreturn(%n)\n", "'return' op must be the last op of its region"},
    {"body_no_return", "%a = add(%n, %n) : i64\n", "function body must end with 'return'"},
    {"loop_trip", "loop(%b, %b) {\n^(%i: i64):\n  yield(%b)\n}\nreturn(%n)\n",
     "'loop' op expects the trip count (operand #0) to be i64, got i1"},
    {"loop_cond", "loop(%n, %n) {\n^(%i: i64):\n  yield(%b)\n}\nreturn(%n)\n",
     "'loop' op expects the condition (operand #1) to be i1, got i64"},
    {"loop_results", "loop(%n, %b, %n) {\n^(%i: i64, %a: i64):\n  yield(%b, %a)\n}\nreturn(%n)\n",
     "'loop' op expects 1 results (one per carried value), got 0"},
    {"loop_result_type",
     "%r = loop(%n, %b, %n) : f64 {\n^(%i: i64, %a: i64):\n  yield(%b, %a)\n}\nreturn(%n)\n",
     "'loop' op result #0 has type f64, but the carried value has type i64"},
    {"loop_args", "%r = loop(%n, %b, %n) : i64 {\n^(%i: i64):\n  yield(%b, %n)\n}\nreturn(%r)\n",
     "'loop' op expects the body to have 2 arguments"},
    {"loop_index", "%r = loop(%n, %b, %n) : i64 {\n^(%i: f64, %a: i64):\n  yield(%b, %a)\n}\nreturn(%r)\n",
     "'loop' op expects body argument #0 (the iteration index) to be i64, got f64"},
    {"loop_arg_type",
     "%r = loop(%n, %b, %x) : f32[4] {\n^(%i: i64, %a: f32[5]):\n  yield(%b, %a)\n}\nreturn(%n)\n",
     "'loop' op body argument #1 has type f32[5], but the carried value has type f32[4]"},
    {"loop_yield_count", "%r = loop(%n, %b, %n) : i64 {\n^(%i: i64, %a: i64):\n  yield(%b)\n}\nreturn(%r)\n",
     "'loop' op region #0 must yield 2 values (the condition, then one per carried value), got 1"},
    {"loop_yield_cond",
     "%r = loop(%n, %b, %n) : i64 {\n^(%i: i64, %a: i64):\n  yield(%a, %a)\n}\nreturn(%r)\n",
     "'loop' op region #0 yields i64 as value #0, expected i1"},
    {"if_cond", "%r = if(%n) : i64 {\n  yield(%n)\n} else {\n  yield(%n)\n}\nreturn(%r)\n",
     "'if' op expects the condition to be i1, got i64"},
    {"if_args", "%r = if(%b) : i64 {\n^(%z: i64):\n  yield(%n)\n} else {\n  yield(%n)\n}\nreturn(%r)\n",
     "'if' op expects region #0 to have no arguments, got 1"},
    {"if_yield_count", "%r = if(%b) : i64 {\n  yield(%n, %n)\n} else {\n  yield(%n)\n}\nreturn(%r)\n",
     "'if' op region #0 must yield 1 value (one per result), got 2"},
    {"if_yield_type", "%r = if(%b) : i64 {\n  yield(%n)\n} else {\n  yield(%b)\n}\nreturn(%r)\n",
     "'if' op region #1 yields i1 as value #0, expected i64"},
    {"return_count", "return(%n, %n)\n", "'return' op expects 1 operand (the function's results), got 2"},
    {"return_type", "return(%b)\n", "'return' op operand #0 has type i1, but the function returns i64"},
    {"weight_undeclared", "%w = weight {name = \"v\"} : f32[4]\nreturn(%n)\n",
     "'weight' op names undeclared weight '@v'"},
    {"weight_type", "%w = weight {name = \"w\"} : f32[5]\nreturn(%n)\n",
     "'weight' op result type f32[5] differs from the declared type of '@w', f32[4]"},
    {"undeclared_symbol", "%a = add(%x, %x) : f32[S]\nreturn(%n)\n",
     "'add' op result #0 has type f32[S] with undeclared symbol 'S'"},
    {"constant_kind", "%c = constant true : i64\nreturn(%n)\n",
     "'constant' op expects value an integer for an i64 result, got true"},
    {"constant_tensor", "%c = constant 1 : f32[]\nreturn(%n)\n",
     "'constant' op expects an i64, f64 or i1 result, got f32[]"},
    {"constant_value_kind", "%c = constant \"one\" : i64\nreturn(%n)\n",
     "'constant' op expects attribute 'value' to be an integer, a double or a bool, got \"one\""},
};

INSTANTIATE_TEST_SUITE_P(All, VerifierCases, ::testing::ValuesIn(kVerifierCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Verifier, UnknownTensorIsCompatibleWithAnyTensor) {
  EXPECT_EQ(verifyText("func @f(%x: f32[4], %n: i64, %b: i1) -> (f32[4]) {\n"
                       "  %r = if(%b) : tensor {\n    yield(%x)\n  } else {\n    yield(%x)\n  }\n"
                       "  return(%r)\n}\n"),
            "");
  EXPECT_THAT(verifyText("func @f(%x: f32[4], %n: i64) -> (tensor) {\n  return(%n)\n}\n"),
              HasSubstr("operand #0 has type i64, but the function returns tensor"));
}

TEST(Verifier, SymbolsInSignatureAndWeights) {
  std::string diags = verifyText("weight @w : f32[K]\nfunc @f(%x: f32[T]) -> (f32[U]) {\n  return(%x)\n}\n");
  EXPECT_THAT(diags, HasSubstr("weight '@w' has type f32[K] with undeclared symbol 'K'"));
  EXPECT_THAT(diags, HasSubstr("function argument #0 has type f32[T] with undeclared symbol 'T'"));
  EXPECT_THAT(diags, HasSubstr("function result #0 has type f32[U] with undeclared symbol 'U'"));
}

TEST(Verifier, AttrTableCoversOpDefsComments) {
  // Spot checks that the table follows OpDefs.def's {required} / [optional].
  auto names = [](OpKind k) {
    std::string s;
    for (const AttrSpec& a : attrSpecs(k))
      s += (a.required ? "{" : "[") + std::string(a.name) + (a.required ? "}" : "]");
    return s;
  };
  EXPECT_EQ(names(OpKind::Sum), "{dims}{keepdim}[dtype]");
  EXPECT_EQ(names(OpKind::Island), "{graph}[source]");
  EXPECT_EQ(names(OpKind::Conv2d), "{stride}{padding}{dilation}{groups}");
  EXPECT_EQ(names(OpKind::ConvTranspose2d), "{stride}{padding}{output_padding}{dilation}{groups}");
  EXPECT_EQ(names(OpKind::Add), "");
}

// ---- structure queries ------------------------------------------------------------

TEST(Structure, DefinedInsideAndIndexOf) {
  auto p = parseOk(R"(func @f(%x: f32[4], %n: i64) -> (f32[4]) {
  %t = constant true : i1
  %y = tanh(%x) : f32[4]
  %r = loop(%n, %t, %y) : f32[4] {
  ^(%i: i64, %h: f32[4]):
    %z = if(%t) : f32[4] {
      %a = neg(%h) : f32[4]
      yield(%a)
    } else {
      yield(%h)
    }
    yield(%t, %z)
  }
  return(%r)
}
)");
  ASSERT_TRUE(p);
  Region& body = p->body();
  Op* loop = body.ops()[2].get();
  Op* ifOp = loop->region(0).ops()[0].get();
  Value* a = ifOp->region(0).ops()[0]->result();
  EXPECT_TRUE(isDefinedInside(loop->region(0).argument(1), loop));  // a body argument
  EXPECT_TRUE(isDefinedInside(ifOp->result(), loop));
  EXPECT_TRUE(isDefinedInside(a, loop));  // two levels down
  EXPECT_TRUE(isDefinedInside(a, ifOp));
  EXPECT_FALSE(isDefinedInside(body.ops()[1]->result(), loop));  // %y, before it
  EXPECT_FALSE(isDefinedInside(loop->result(), loop));           // its own result
  EXPECT_FALSE(isDefinedInside(body.argument(0), loop));
  EXPECT_EQ(body.indexOf(loop), 2u);
  EXPECT_EQ(loop->region(0).indexOf(ifOp), 0u);
  EXPECT_EQ(body.indexOf(ifOp), body.size());  // not one of its own ops
}

// ---- op traits (ir/OpTraits.def) ------------------------------------------------------

std::vector<std::string> opsWith(uint32_t traits) {
  std::vector<std::string> names;
  for (size_t k = 0; k < kNumOpKinds; ++k)
    if (hasTrait(static_cast<OpKind>(k), traits)) names.emplace_back(opInfo(static_cast<OpKind>(k)).mnemonic);
  return names;
}

TEST(OpTraits, ViewsAreDeclaredOnce) {
  EXPECT_THAT(opsWith(kView),
              ::testing::UnorderedElementsAre("select", "slice", "chunk", "split", "squeeze", "unsqueeze", "flatten",
                                              "reshape", "reshape_as", "transpose", "permute", "expand", "expand_as"));
  EXPECT_THAT(opsWith(kRegroups), ::testing::UnorderedElementsAre("flatten", "reshape", "reshape_as"));
  EXPECT_THAT(opsWith(kStrides), ::testing::UnorderedElementsAre("transpose", "permute", "expand", "expand_as"));
  // Each refinement of a view is a view.
  for (uint32_t t : {kRegroups, kStrides, kPartAlongDim})
    for (const std::string& name : opsWith(t)) EXPECT_TRUE(isView(*opKindFromMnemonic(name))) << name;
}

TEST(OpTraits, ElementwiseFollowsTheClassAndFusibleIsElementwise) {
  EXPECT_TRUE(isElementwise(OpKind::Add));
  EXPECT_TRUE(isElementwise(OpKind::Tanh));
  EXPECT_TRUE(isElementwise(OpKind::Where));
  EXPECT_FALSE(isElementwise(OpKind::Matmul));
  EXPECT_FALSE(isElementwise(OpKind::Select));
  for (const std::string& name : opsWith(kFusible)) EXPECT_TRUE(isElementwise(*opKindFromMnemonic(name))) << name;
  EXPECT_FALSE(hasTrait(OpKind::Eq, kFusible));  // a bool result is not fused
}

// ---- the schedule (ir/Schedule.h) ---------------------------------------------------------

TEST(Schedule, AccessorsWriteTheTextTheTestsRead) {
  auto p = parseOk(R"(weight @w : f32[4,4]
func @f(%x: f32[4,4], %n: i64) -> (f32[4,4]) {
  %true = constant true : i1
  %r = loop(%n, %true, %x) : f32[4,4] {
  ^(%i: i64, %h: f32[4,4]):
    %t = tanh(%h) : f32[4,4]
    yield(%true, %t)
  }
  return(%r)
}
)");
  ASSERT_TRUE(p);
  Op& loop = *p->body().ops()[1];
  Op& tanh = *loop.region(0).ops()[0];
  setPlacement(loop, Placement::Persistent, "why");
  setResidency(loop, {"w"}, "fits");
  setPartition(tanh, Partition{2, 8, Sync::Counter});
  setMemOffsets(tanh, {64});
  setMemOffsets(loop, {0});
  setArenaPlan(*p, ArenaPlan{128, 64});
  const std::string text = printProgram(*p);
  EXPECT_THAT(text, HasSubstr("attributes {arena_align = 64, arena_bytes = 128}"));
  EXPECT_THAT(text, HasSubstr(R"({mem = [0], placement = "persistent", reason = "why", residency = "fits", resident = "@w"})"));
  EXPECT_THAT(text, HasSubstr(R"(tanh(%h) {mem = [64], sync = "counter", tile_elems = 8, tiles = 2})"));
  EXPECT_EQ(verifyProgram(*p).str(), "");
  // ... and read back, typed, from the parsed text.
  auto q = parseOk(text);
  ASSERT_TRUE(q);
  const Op& loop2 = *q->body().ops()[1];
  const Op& tanh2 = *loop2.region(0).ops()[0];
  EXPECT_EQ(placement(loop2), Placement::Persistent);
  EXPECT_EQ(residentWeights(loop2), std::vector<std::string>{"w"});
  auto part = partition(tanh2);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->tiles, 2);
  EXPECT_EQ(part->tileElems, 8);
  EXPECT_EQ(part->sync, Sync::Counter);
  ASSERT_EQ(memPlan(tanh2).offsets.size(), 1u);
  EXPECT_EQ(memPlan(tanh2).offsets[0], 64);
  EXPECT_FALSE(memPlan(tanh2).aliasesOperand0);
  EXPECT_EQ(arenaPlan(*q)->bytes, 128);
  EXPECT_FALSE(arenaPlan(*parseOk("func @f() -> () {\n  return\n}\n")));
}

TEST(Schedule, EnumsParseOnlyTheirNames) {
  for (Placement pl : {Placement::Host, Placement::Device, Placement::Persistent})
    EXPECT_EQ(parsePlacement(toString(pl)), pl);
  for (Sync s : {Sync::None, Sync::Counter, Sync::Barrier}) EXPECT_EQ(parseSync(toString(s)), s);
  EXPECT_FALSE(parsePlacement("zzz"));
  EXPECT_FALSE(parsePlacement("Host"));
  EXPECT_FALSE(parseSync("bogus"));
  EXPECT_FALSE(parseSync(""));
}

TEST(Schedule, ResidentLists) {
  EXPECT_EQ(parseResidentList(""), std::vector<std::string>{});
  EXPECT_EQ(parseResidentList("@a"), std::vector<std::string>{"a"});
  EXPECT_EQ(parseResidentList("@w1, @w2,@b"), (std::vector<std::string>{"w1", "w2", "b"}));
  EXPECT_FALSE(parseResidentList("w"));
  EXPECT_FALSE(parseResidentList("@a,"));
  EXPECT_FALSE(parseResidentList("@a,,@b"));
  EXPECT_FALSE(parseResidentList("@"));
}

TEST(Schedule, DocsListEveryScheduleAttributeAsDeclared) {
  const std::string path = std::string(COCKTAIL_SOURCE_DIR) + "/docs/ir.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string begin = "<!-- schedule-attrs: generated from ir/Schedule.cpp (scheduleAttrsMarkdown) -->\n";
  const std::string end = "<!-- end schedule-attrs -->";
  const std::string text = doc.str();
  const size_t b = text.find(begin), e = text.find(end);
  ASSERT_NE(b, std::string::npos) << path << " lacks " << begin;
  ASSERT_NE(e, std::string::npos) << path << " lacks " << end;
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), scheduleAttrsMarkdown())
      << "docs/ir.md's table differs from the declarations; the table to paste:\n"
      << scheduleAttrsMarkdown();
}

// ---- Status kinds ------------------------------------------------------------------------

TEST(StatusKind, AnErrorKeepsItsKindAndASuccessTakesTheFirstOnesKind) {
  EXPECT_EQ(Status::error("bad input").kind(), ErrorKind::User);
  Status internal = Status::error("broken", {}, ErrorKind::Internal);
  EXPECT_EQ(internal.kind(), ErrorKind::Internal);
  Status collected;
  collected.append(internal);
  collected.append(Status::error("and more"));
  EXPECT_EQ(collected.kind(), ErrorKind::Internal);
  EXPECT_EQ(collected.diagnostics().size(), 2u);
}

}  // namespace
}  // namespace cocktail::ir
