//===- tests/server/ModelMemoryTest.cpp - A model's memory estimate and limit --------===//
//
// The estimate read off a program (weights once, arena and packed weights per
// instance), the byte counts --model-memory-limit and `cocktail.memory_limit`
// take, which of the two limits a model gets, and the refusal's message.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <limits>

#include "ir/Schedule.h"
#include "runtime/MemoryEstimate.h"
#include "server/ModelConfig.h"
#include "server/ModelMemory.h"

namespace cocktail::server {
namespace {

ir::WeightDecl weight(const std::string& name, ir::DType dtype, std::vector<int64_t> dims) {
  std::vector<ir::Dim> typeDims;
  int64_t bytes = ir::dtypeSize(dtype);
  for (int64_t d : dims) typeDims.push_back(ir::Dim::constant(d)), bytes *= d;
  ir::WeightDecl w{name, ir::Type::tensor(dtype, typeDims), {}};
  w.data.resize(static_cast<size_t>(bytes));
  return w;
}

TEST(ModelMemory, EstimateCountsWeightsOnceAndArenaAndPackedWeightsPerInstance) {
  ir::Program program;
  program.weights().push_back(weight("matrix", ir::DType::F32, {64, 32}));     // 8 KiB, packed for the GEMM
  program.weights().push_back(weight("filter", ir::DType::F32, {8, 4, 3, 3}));  // 1152 bytes, Winograd: 16/9
  program.weights().push_back(weight("bias", ir::DType::F32, {64}));           // never packed
  program.weights().push_back(weight("table", ir::DType::I64, {10, 4}));       // not f32: never packed
  ir::setArenaPlan(program, ir::ArenaPlan{4096, 64});
  const runtime::MemoryEstimate e = runtime::estimateCpuMemory(program);
  EXPECT_EQ(e.weightBytes, 8192 + 1152 + 256 + 320);
  EXPECT_EQ(e.arenaBytes, 4096);
  EXPECT_EQ(e.packedBytes, 8192 + (1152 / 9 + 1) * 16);
  EXPECT_EQ(e.total(3), e.weightBytes + 3 * (e.arenaBytes + e.packedBytes));
  EXPECT_EQ(e.total(std::numeric_limits<int64_t>::max()), std::numeric_limits<int64_t>::max()) << "saturates";
  EXPECT_NE(e.str(3).find("3 instance(s) x (4.0 KiB arena"), std::string::npos) << e.str(3);
  EXPECT_EQ(runtime::estimateCpuMemory(ir::Program()).total(4), 0);
}

TEST(ModelMemory, ByteCountsTakeBinarySuffixesAndRefuseTheRest) {
  const std::pair<const char*, int64_t> good[] = {{"0", 0},
                                                  {"1048576", 1048576},
                                                  {"512K", 512 << 10},
                                                  {"512KiB", 512 << 10},
                                                  {"3M", 3 << 20},
                                                  {"2GiB", int64_t{2} << 30},
                                                  {"1.5G", int64_t{3} << 29},
                                                  {"4T", int64_t{4} << 40},
                                                  {"100B", 100}};
  for (const auto& [text, bytes] : good) {
    auto parsed = parseByteSize(text, "--model-memory-limit");
    ASSERT_TRUE(parsed) << text << ": " << parsed.status().message();
    EXPECT_EQ(*parsed, bytes) << text;
  }
  for (const char* text : {"", "lots", "-1", "12XB", "1 G", "G", "2GB", "0x10", "nan"}) {
    auto parsed = parseByteSize(text, "--model-memory-limit");
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.status().message().find(std::string("--model-memory-limit: '") + text + "' is not a byte count"),
              std::string::npos)
        << parsed.status().message();
  }
  auto huge = parseByteSize("9000000T", "--model-memory-limit");
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.status().message().find("more bytes than an int64 can count"), std::string::npos);
  EXPECT_GT(defaultModelMemoryLimit(), 0) << "/proc and sysconf know this machine's memory";
}

TEST(ModelMemory, AConfigMayLowerTheServersLimitButNotRaiseIt) {
  const auto limitFor = [](const std::string& parameter, int64_t serverLimit) {
    std::string text = "name: \"m\"\n";
    if (!parameter.empty())
      text += "parameters { key: \"cocktail.memory_limit\" value { string_value: \"" + parameter + "\" } }\n";
    auto config = parseModelConfig(text, "config.pbtxt", "m");
    EXPECT_TRUE(config) << config.status().message();
    return modelMemoryLimit(*config, serverLimit, "model 'm'");
  };
  auto none = limitFor("", int64_t{1} << 30);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->bytes, int64_t{1} << 30);
  EXPECT_EQ(none->source, "--model-memory-limit");
  auto lower = limitFor("1MiB", int64_t{1} << 30);
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->bytes, 1 << 20);
  EXPECT_EQ(lower->source, "config.pbtxt parameter cocktail.memory_limit");
  auto higher = limitFor("4GiB", int64_t{1} << 30);
  ASSERT_TRUE(higher);
  EXPECT_EQ(higher->bytes, int64_t{1} << 30) << "a config cannot raise the operator's limit";
  auto unlimitedServer = limitFor("4GiB", 0);
  ASSERT_TRUE(unlimitedServer);
  EXPECT_EQ(unlimitedServer->bytes, int64_t{4} << 30);
  auto bad = limitFor("lots", int64_t{1} << 30);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("model 'm': parameter cocktail.memory_limit: 'lots' is not a byte count"),
            std::string::npos)
      << bad.status().message();
}

TEST(ModelMemory, ARefusalNamesTheModelTheEstimateAndTheLimit) {
  const MemoryLimit limit{1 << 20, "--model-memory-limit"};
  EXPECT_TRUE(checkModelMemory("model 'm' version 1", 1 << 20, "all of it", limit).ok()) << "at the limit fits";
  EXPECT_TRUE(checkModelMemory("model 'm' version 1", int64_t{1} << 40, "", MemoryLimit{0, "none"}).ok());
  const Status refused = checkModelMemory("model 'm' version 1", (1 << 20) + 1, "the breakdown", limit);
  EXPECT_EQ(refused.code(), Status::Code::ResourceExhausted);
  for (const char* part : {"model 'm' version 1", "1.0 MiB (1048577 bytes)", "(the breakdown)",
                           "memory limit of 1.0 MiB (1048576 bytes) (--model-memory-limit)"})
    EXPECT_NE(refused.message().find(part), std::string::npos) << part << " in: " << refused.message();
}

TEST(ModelMemory, InstanceCountSumsTheGroups) {
  auto config = parseModelConfig("instance_group [ { count: 3 }, { kind: KIND_CPU }, { count: 2 } ]", "config.pbtxt", "m");
  ASSERT_TRUE(config) << config.status().message();
  EXPECT_EQ(instanceCount(*config), 6);
  auto none = parseModelConfig("", "config.pbtxt", "m");
  ASSERT_TRUE(none);
  EXPECT_EQ(instanceCount(*none), 1);
}

}  // namespace
}  // namespace cocktail::server
