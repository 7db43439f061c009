//===- tests/server/ModelConfigTest.cpp - config.pbtxt to compile specs -------------===//
//
// The specs a config.pbtxt without `cocktail.inputs` compiles a model with:
// its -1 dims at the default bound or at a bound grown for a larger request,
// and, with sequence_batching, the control and state inputs it does not list.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include "server/ModelConfig.h"

namespace cocktail::server {
namespace {

constexpr char kSequenceConfig[] = R"(
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]
sequence_batching {
  control_input [
    { name: "start" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
    { name: "end" control [ { kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0, 1 ] } ] },
    { name: "ready" control [ { kind: CONTROL_SEQUENCE_READY bool_false_true: [ false, true ] } ] },
    { name: "corrid" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT32 } ] }
  ]
  state [ { input_name: "h" output_name: "OUTPUT__1" data_type: TYPE_FP32 dims: [ -1, 8 ] } ]
}
)";

TEST(ModelConfigSpecs, SequenceControlsAndStatesGetSpecsAfterTheInputs) {
  auto config = parseModelConfig(kSequenceConfig, "config.pbtxt", "gru");
  ASSERT_TRUE(config) << config.status().message();
  std::vector<std::string> symbols;
  auto specs = inputSpecsFromConfig(*config, VariableDimBounds{}, &symbols);
  ASSERT_TRUE(specs) << specs.status().message();
  EXPECT_EQ(*specs, (std::vector<std::string>{"x:f32[B<=4,x_d1<=128,4]", "start:i32[B<=4,1]", "end:f32[B<=4,1]",
                                              "ready:i1[B<=4,1]", "corrid:i32[B<=4,1]", "h:f32[B<=4,h_d1<=128,8]"}));
  EXPECT_EQ(symbols, (std::vector<std::string>{"x_d1", "h_d1"}));
}

TEST(ModelConfigSpecs, AGrownBoundReplacesTheDefaultForItsSymbolOnly) {
  auto config = parseModelConfig(kSequenceConfig, "config.pbtxt", "gru");
  ASSERT_TRUE(config);
  auto specs = inputSpecsFromConfig(*config, VariableDimBounds{16, {{"x_d1", 256}}});
  ASSERT_TRUE(specs) << specs.status().message();
  EXPECT_EQ(specs->front(), "x:f32[B<=4,x_d1<=256,4]");
  EXPECT_EQ(specs->back(), "h:f32[B<=4,h_d1<=16,8]");
}

TEST(ModelConfigSpecs, EnsemblesAreRefusedButSequenceBatchingIsRead) {
  EXPECT_TRUE(parseModelConfig(kSequenceConfig, "config.pbtxt", "gru"));
  auto ensemble = parseModelConfig("ensemble_scheduling { }", "m/config.pbtxt", "m");
  ASSERT_FALSE(ensemble);
  EXPECT_EQ(ensemble.status().message(), "m/config.pbtxt: ensemble_scheduling is not supported by cocktail-serve");
}

}  // namespace
}  // namespace cocktail::server
