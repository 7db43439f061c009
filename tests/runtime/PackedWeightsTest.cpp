//===- tests/runtime/PackedWeightsTest.cpp - Which weights the executor packs -------===//
//
// PackedWeights decides, per op, whether an artifact weight is packed at load
// for the CPU kernels. The packed results are checked against ATen in
// kernels/LinalgNNTest and against unpacked runs in EpilogueFusionTest; here,
// which weights are packed, and that each is packed once.
//
//===----------------------------------------------------------------------===//
#include "runtime/PackedWeights.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "ir/Op.h"
#include "ir/Parser.h"

namespace cocktail::runtime {
namespace {

constexpr std::string_view kProgram = R"(weight @w3 : f32[64,8,3,3]
weight @w1 : f32[64,8,1,1]
weight @w16 : f32[16,8,3,3]
weight @wino : f32[64,32,3,3]
weight @lw : f32[40,300]
weight @stack : f32[3,40,300]
func @forward(%x: f32[1,8,9,9], %x32: f32[1,32,24,24], %small: f32[32,11,24], %open: f32[1,32,?,24], %v: f32[5,300], %one: f32[1,300], %any: f32[?,300], %i: i64, %win: f32[64,8,3,3]) -> (f32[5,40]) {
  %w3 = weight {name = "w3"} : f32[64,8,3,3]
  %w1 = weight {name = "w1"} : f32[64,8,1,1]
  %w16 = weight {name = "w16"} : f32[16,8,3,3]
  %wino = weight {name = "wino"} : f32[64,32,3,3]
  %lw = weight {name = "lw"} : f32[40,300]
  %stack = weight {name = "stack"} : f32[3,40,300]
  %sw = select(%stack, %i) {dim = 0} : f32[40,300]
  %y = linear(%v, %lw) : f32[5,40]
  return(%y)
}
)";

class PackedWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = ir::parseProgram(kProgram, "test.ir");
    ASSERT_TRUE(p.ok()) << p.status().str();
    program_ = p.take();
    std::mt19937 gen(3);
    std::normal_distribution<float> d;
    for (const ir::WeightDecl& w : program_->weights()) {
      Shape shape;
      for (const ir::Dim& dim : w.type.dims()) shape.push_back(dim.value());
      Tensor t = Tensor::empty(DType::F32, shape);
      for (float& x : t.span<float>()) x = d(gen);
      weights_.emplace(w.name, t);
    }
    for (const auto& a : program_->body().arguments()) values_[a->name()] = a.get();
    for (const auto& op : program_->body().ops())
      for (const auto& r : op->results()) values_[r->name()] = r.get();
  }

  const ir::Value& value(const std::string& name) { return *values_.at(name); }
  const ir::Type& type(const std::string& name) { return values_.at(name)->type(); }

  std::unique_ptr<ir::Program> program_;
  std::unordered_map<std::string, Tensor> weights_;
  std::map<std::string, const ir::Value*> values_;
};

TEST_F(PackedWeightsTest, ConvolutionsWherePackingPays) {
  using Layout = cpu::PackedConvWeights::Layout;
  PackedWeights packed(weights_);
  const std::array<int64_t, 2> one{1, 1};
  auto w3 = packed.forConv(value("w3"), type("x"), one, one, 1);
  ASSERT_TRUE(w3);
  EXPECT_EQ(w3->shape(), (Shape{64, 8, 3, 3}));
  EXPECT_EQ(w3->layout(), Layout::ChannelBlocks);  // 8 input channels: too few for Winograd
  EXPECT_EQ(packed.forConv(value("w3"), type("x"), {2, 2}, one, 1), w3);  // packed once, shared
  EXPECT_FALSE(packed.forConv(value("w1"), type("x"), one, one, 1));   // 1x1: the GEMM on the input
  EXPECT_FALSE(packed.forConv(value("w16"), type("x"), one, one, 1));  // half a block of 32 idle
  EXPECT_FALSE(packed.forConv(value("w3"), type("x"), {1, 3}, one, 1));   // stride 3
  EXPECT_FALSE(packed.forConv(value("win"), type("x"), one, one, 1));  // an input, not an artifact weight

  // Winograd F(2x2, 3x3): stride 1, no dilation, a map of at least 12x12 known at load.
  auto wino = packed.forConv(value("wino"), type("x32"), one, one, 1);
  ASSERT_TRUE(wino);
  EXPECT_EQ(wino->layout(), Layout::Winograd);
  EXPECT_EQ(packed.forConv(value("wino"), type("x32"), one, one, 1), wino);  // packed once, shared
  auto blocks = packed.forConv(value("wino"), type("x32"), {2, 2}, one, 1);
  ASSERT_TRUE(blocks);
  EXPECT_EQ(blocks->layout(), Layout::ChannelBlocks);
  EXPECT_EQ(packed.forConv(value("wino"), type("x32"), one, {2, 2}, 1), blocks);  // dilated
  EXPECT_EQ(packed.forConv(value("wino"), type("small"), one, one, 1), blocks);   // 11 rows (CHW)
  EXPECT_EQ(packed.forConv(value("wino"), type("open"), one, one, 1), blocks);    // height unknown
}

TEST_F(PackedWeightsTest, LinearLayersOfMoreThanOneRow) {
  PackedWeights packed(weights_);
  const PackedLinearWeights whole = packed.forLinear(value("lw"), type("v"));
  ASSERT_EQ(whole.byAddress.size(), 1u);
  EXPECT_EQ(whole.byAddress[0].first, weights_.at("lw").rawData());
  EXPECT_EQ(whole.find(weights_.at("lw")), whole.byAddress[0].second.get());
  EXPECT_FALSE(whole.find(weights_.at("lw").clone()));  // same shape, another buffer
  EXPECT_EQ(packed.forLinear(value("lw"), type("any")).byAddress.size(), 1u);  // rows unknown: may be many
  EXPECT_TRUE(packed.forLinear(value("lw"), type("one")).byAddress.empty());  // one row: a GEMV
  EXPECT_TRUE(packed.forLinear(value("v"), type("v")).byAddress.empty());     // not a weight

  // A slice of a stacked weight, chosen at run time: every slice, by address.
  const PackedLinearWeights slices = packed.forLinear(value("sw"), type("v"));
  ASSERT_EQ(slices.byAddress.size(), 3u);
  const Tensor& stack = weights_.at("stack");
  for (int64_t i = 0; i < 3; ++i) {
    const Tensor slice = stack.aliasRange({40, 300}, i * 40 * 300);
    const cpu::PackedPanels* p = slices.find(slice);
    ASSERT_TRUE(p) << "slice " << i;
    EXPECT_EQ(p->m(), 40);
    EXPECT_EQ(p->k(), 300);
    EXPECT_EQ(p, slices.byAddress[static_cast<size_t>(i)].second.get());
  }
  EXPECT_EQ(packed.forLinear(value("sw"), type("any")).byAddress[1].second, slices.byAddress[1].second);
}

}  // namespace
}  // namespace cocktail::runtime
