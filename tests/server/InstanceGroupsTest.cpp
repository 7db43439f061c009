//===- tests/server/InstanceGroupsTest.cpp - Where instance_group puts instances --------===//
//
// placeInstances as Triton places instances: `count` on each listed GPU,
// every visible GPU when none is listed, KIND_CPU and KIND_AUTO on the CPU;
// a GPU that is not there is an error naming it. No server process.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include "server/InstanceGroups.h"
#include "server/ModelConfig.h"

namespace cocktail::server {
namespace {

inference::ModelConfig config(const std::string& groups) {
  auto c = parseModelConfig(groups, "config.pbtxt", "m");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : inference::ModelConfig();
}

/// Each instance as "cpu" or "gpuN", in order.
std::vector<std::string> where(const std::vector<InstancePlacement>& instances) {
  std::vector<std::string> out;
  for (const InstancePlacement& p : instances) out.push_back(p.onGpu() ? "gpu" + std::to_string(p.gpu) : "cpu");
  return out;
}

using Strings = std::vector<std::string>;

TEST(InstanceGroups, CountInstancesOnEachListedGpuAndEveryVisibleOneWhenNoneIsListed) {
  auto placed = placeInstances(config("instance_group [ { count: 2 kind: KIND_GPU gpus: [ 1, 0 ] } ]"), 2, "");
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ(where(*placed), (Strings{"gpu1", "gpu1", "gpu0", "gpu0"}));
  placed = placeInstances(config("instance_group [ { kind: KIND_GPU }, { count: 2 kind: KIND_CPU } ]"), 3, "");
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ(where(*placed), (Strings{"gpu0", "gpu1", "gpu2", "cpu", "cpu"}));
  EXPECT_EQ((*placed)[3].group, 1);
}

TEST(InstanceGroups, CpuAndAutoStayOnTheCpuWithOrWithoutGpus) {
  for (int gpus : {0, 4}) {
    auto placed = placeInstances(config("instance_group [ { count: 2 kind: KIND_AUTO }, { kind: KIND_CPU } ]"), gpus, "");
    ASSERT_TRUE(placed.ok()) << placed.status().message();
    EXPECT_EQ(where(*placed), (Strings{"cpu", "cpu", "cpu"}));
  }
  auto none = placeInstances(config(""), 0, "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(where(*none), (Strings{"cpu"}));
}

TEST(InstanceGroups, AMissingGpuIsAnErrorThatNamesIt) {
  auto placed = placeInstances(config("instance_group [ { kind: KIND_CPU }, { kind: KIND_GPU } ]"), 0,
                               "CUDA driver version is insufficient for CUDA runtime version");
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), Status::Code::Unavailable);
  EXPECT_NE(placed.status().message().find("instance_group 1 is KIND_GPU, but there is no GPU to run it on: CUDA driver"),
            std::string::npos)
      << placed.status().message();
  for (const char* gpus : {"[ 2 ]", "[ 0, -1 ]"}) {
    placed = placeInstances(config(std::string("instance_group [ { kind: KIND_GPU gpus: ") + gpus + " } ]"), 2, "");
    ASSERT_FALSE(placed.ok()) << gpus;
    EXPECT_NE(placed.status().message().find("but this machine has 2 GPUs (0 to 1)"), std::string::npos)
        << placed.status().message();
  }
}

TEST(InstanceGroups, KindModelAndTooManyInstancesAreRefused) {
  auto placed = placeInstances(config("instance_group [ { kind: KIND_MODEL } ]"), 1, "");
  ASSERT_FALSE(placed.ok());
  EXPECT_NE(placed.status().message().find("KIND_MODEL"), std::string::npos) << placed.status().message();
  std::string many = "instance_group [ { count: 256 kind: KIND_GPU gpus: [ 0, 0, 0, 0, 0 ] } ]";
  placed = placeInstances(config(many), 1, "");
  ASSERT_FALSE(placed.ok());
  EXPECT_NE(placed.status().message().find("1280 instances"), std::string::npos) << placed.status().message();
}

TEST(InstanceGroups, TheEffectiveConfigSaysWhereTheInstancesWent) {
  inference::ModelConfig c = config("instance_group [ { kind: KIND_AUTO }, { count: 2 kind: KIND_GPU } ]");
  auto placed = placeInstances(c, 2, "");
  ASSERT_TRUE(placed.ok());
  completeInstanceGroups(c, "m", *placed);
  ASSERT_EQ(c.instance_group_size(), 2);
  EXPECT_EQ(c.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(c.instance_group(0).name(), "m_0");
  EXPECT_EQ(c.instance_group(0).count(), 1);
  EXPECT_EQ(c.instance_group(1).kind(), inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_EQ(std::vector<int>(c.instance_group(1).gpus().begin(), c.instance_group(1).gpus().end()),
            (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace cocktail::server
