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
  EXPECT_NE(OpProfile::fromEnvironment(), nullptr);
  ::unsetenv("COCKTAIL_PROFILE");
}

TEST(OpProfile, CostliestFirstWithCallsSharesAndOffPlan) {
  OpProfile p;
  p.add(ir::OpKind::Add, 1ms);
  p.add(ir::OpKind::Linear, 2ms, 1);
  p.add(ir::OpKind::Linear, 1ms);
  const std::string r = p.report();
  // linear: 2 calls, 3 ms, 75%, 1500 us per call, 1 result off the plan.
  EXPECT_THAT(r, HasSubstr("linear                    2         3.00   75.0%     1500.0          1"));
  EXPECT_THAT(r, HasSubstr("add                       1         1.00   25.0%     1000.0          0"));
  EXPECT_LT(r.find("linear"), r.find("add"));
}

}  // namespace
}  // namespace cocktail::runtime
