//===- tests/runtime/OpProfileTest.cpp - COCKTAIL_PROFILE's table -------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "runtime/OpProfile.h"

namespace cocktail::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(OpProfile, OnlyWhenAskedFor) {
  ::setenv("COCKTAIL_PROFILE", "0", 1);
  EXPECT_EQ(OpProfile::fromEnvironment(), nullptr);
  ::unsetenv("COCKTAIL_PROFILE");
  EXPECT_EQ(OpProfile::fromEnvironment(), nullptr);
  ::setenv("COCKTAIL_PROFILE", "1", 1);
  auto byKind = OpProfile::fromEnvironment();
  ASSERT_NE(byKind, nullptr);
  EXPECT_FALSE(byKind->byShape());
  ::setenv("COCKTAIL_PROFILE", "shapes", 1);
  auto byShape = OpProfile::fromEnvironment();
  ASSERT_NE(byShape, nullptr);
  EXPECT_TRUE(byShape->byShape());
  ::unsetenv("COCKTAIL_PROFILE");
}

TEST(OpProfile, CostliestFirstWithCallsSharesAndOffPlan) {
  OpProfile p;
  p.add(p.rowLabel("add", "f32[4]"), 1ms);
  p.add(p.rowLabel("linear", "f32[2,8]"), 2ms, 1);
  p.add(p.rowLabel("linear", "f32[1,8]"), 1ms);
  const std::string r = p.report();
  // linear: 2 calls, 3 ms, 75%, 1500 us per call, 1 result off the plan.
  EXPECT_THAT(r, HasSubstr("linear                    2         3.00   75.0%     1500.0          1"));
  EXPECT_THAT(r, HasSubstr("add                       1         1.00   25.0%     1000.0          0"));
  EXPECT_LT(r.find("linear"), r.find("add"));
}

TEST(OpProfile, ByShapeOneRowPerOperandTypes) {
  OpProfile p(/*byShape=*/true);
  EXPECT_EQ(p.rowLabel("fused(conv2d)", "f32[1,8,4,4] f32[8,8,3,3]"), "fused(conv2d) f32[1,8,4,4] f32[8,8,3,3]");
  p.add(p.rowLabel("linear", "f32[2,8,300]"), 3ms);
  p.add(p.rowLabel("linear", "f32[1,8]"), 1ms);
  p.add(p.rowLabel("linear", "f32[2,8,300]"), 1ms);
  const std::string r = p.report();
  // The column is as wide as the longest row.
  EXPECT_THAT(r, HasSubstr("linear f32[2,8,300]          2         4.00   80.0%     2000.0          0"));
  EXPECT_THAT(r, HasSubstr("linear f32[1,8]              1         1.00   20.0%     1000.0          0"));
}

}  // namespace
}  // namespace cocktail::runtime
