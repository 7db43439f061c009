//===- tests/runtime/EpilogueFusionTest.cpp - Fused epilogues give the same values --===//
//
// Each program runs twice on the CPU executor: op by op as written, and after
// fuse-elementwise and fuse-epilogue, which put the elementwise ops after a
// conv2d or linear into its epilogue (they then run on tiles of the output
// inside the GEMM's workers). The same ops in the same order on the same
// floats: the results must be identical, bit for bit.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#include "runtime/CpuExecutor.h"
#include "runtime/cpu/WorkerPool.h"

namespace cocktail::runtime {
namespace {

std::shared_ptr<ir::Program> parse(std::string_view text, bool fuse) {
  auto p = ir::parseProgram(text, "test.ir");
  EXPECT_TRUE(p.ok()) << p.status().str();
  if (!p.ok()) return nullptr;
  std::shared_ptr<ir::Program> program(p.take());
  if (fuse) {
    passes::PassManager pm(passes::PassManagerOptions{.verifyEachPass = true});
    EXPECT_TRUE(pm.addPipeline("fuse-elementwise,fuse-epilogue").ok());
    ir::Status s = pm.run(*program);
    EXPECT_TRUE(s.ok()) << s.str();
  }
  ir::Status v = ir::verifyProgram(*program);
  EXPECT_TRUE(v.ok()) << v.str();
  return program;
}

Tensor random(Shape shape, std::mt19937& gen) {
  std::normal_distribution<float> d;
  Tensor t = Tensor::empty(ir::DType::F32, std::move(shape));
  for (float& x : t.span<float>()) x = d(gen);
  return t;
}

/// Runs `text` as written and fused; expects the same bits in every output.
/// `weights`: the data of the program's weight declarations, in order.
void expectSameFusedOrNot(std::string_view text, const std::vector<RuntimeValue>& inputs, int fusedOps,
                          const std::vector<Tensor>& weights = {}) {
  std::vector<std::vector<RuntimeValue>> outs;
  for (bool fuse : {false, true}) {
    auto program = parse(text, fuse);
    ASSERT_TRUE(program);
    ASSERT_EQ(program->weights().size(), weights.size());
    for (size_t i = 0; i < weights.size(); ++i) {
      const auto* bytes = static_cast<const std::byte*>(weights[i].rawData());
      program->weights()[i].data.assign(bytes, bytes + weights[i].nbytes());
    }
    if (fuse) {
      int heads = 0;
      ir::walk(program->body(), [&](ir::Op& op) { heads += ir::fusedHead(op) != nullptr; });
      EXPECT_EQ(heads, fusedOps) << ir::printProgram(*program);
    }
    auto e = createCpuExecutor(program, nullptr);
    ASSERT_TRUE(e.ok()) << e.status().str();
    auto out = (*e)->run(inputs);
    ASSERT_TRUE(out.ok()) << out.status().str();
    outs.push_back(out.take());
  }
  ASSERT_EQ(outs[0].size(), outs[1].size());
  for (size_t i = 0; i < outs[0].size(); ++i) {
    const Tensor& a = std::get<Tensor>(outs[0][i]);
    const Tensor& b = std::get<Tensor>(outs[1][i]);
    ASSERT_EQ(a.shape(), b.shape()) << "output " << i;
    EXPECT_EQ(std::memcmp(a.rawData(), b.rawData(), static_cast<size_t>(a.nbytes())), 0) << "output " << i;
  }
}

// Grouped, strided, padded conv over a batch of two (rows of the output
// wider than one 256-element tile), its shortcut added on either side, a
// 1x1 conv without bias, a conv on a small map (its GEMM split over output
// channels, not pixels), a stride-1 conv of few channels (the direct kernel,
// its output rows split over the workers), a linear layer whose epilogue
// has a number, and a 1x1 conv with 256 output channels on a 48x48 map,
// whose GEMM runs its epilogue on chunks of 8 panels as it goes (the last
// ragged).
constexpr std::string_view kProgram = R"(func @forward(%x: f32[2,4,40,40], %w: f32[8,2,3,3], %b: f32[8], %res: f32[2,8,20,20], %w1: f32[6,8,1,1], %v: f32[5,40], %lw: f32[24,40], %lb: f32[24], %k: f64, %xs: f32[1,24,7,7], %ws: f32[20,24,3,3], %rs: f32[1,20,7,7], %xd: f32[2,16,18,20], %wd: f32[8,16,3,3], %bd: f32[8], %xl: f32[1,8,48,48], %wl: f32[256,8,1,1], %rl: f32[1,256,48,48]) -> (f32[2,8,20,20], f32[2,6,20,20], f32[5,24], f32[1,20,7,7], f32[2,8,18,20], f32[1,256,48,48]) {
  %c = conv2d(%x, %w, %b) {dilation = [1, 1], groups = 2, padding = [1, 1], stride = [2, 2]} : f32[2,8,20,20]
  %s = add(%res, %c) : f32[2,8,20,20]
  %y = relu(%s) : f32[2,8,20,20]
  %c1 = conv2d(%y, %w1) {dilation = [1, 1], groups = 1, padding = [0, 0], stride = [1, 1]} : f32[2,6,20,20]
  %y1 = sigmoid(%c1) : f32[2,6,20,20]
  %l = linear(%v, %lw, %lb) : f32[5,24]
  %m = mul(%l, %k) : f32[5,24]
  %h = tanh(%m) : f32[5,24]
  %cs = conv2d(%xs, %ws) {dilation = [1, 1], groups = 1, padding = [1, 1], stride = [1, 1]} : f32[1,20,7,7]
  %ss = sub(%cs, %rs) : f32[1,20,7,7]
  %ys = relu(%ss) : f32[1,20,7,7]
  %cd = conv2d(%xd, %wd, %bd) {dilation = [1, 1], groups = 1, padding = [1, 1], stride = [1, 1]} : f32[2,8,18,20]
  %yd = relu(%cd) : f32[2,8,18,20]
  %cl = conv2d(%xl, %wl) {dilation = [1, 1], groups = 1, padding = [0, 0], stride = [1, 1]} : f32[1,256,48,48]
  %sl = add(%cl, %rl) : f32[1,256,48,48]
  %yl = relu(%sl) : f32[1,256,48,48]
  return(%y, %y1, %h, %ys, %yd, %yl)
}
)";

TEST(EpilogueFusionTest, ConvAndLinearEpiloguesMatchOpByOp) {
  std::mt19937 gen(7);
  const std::vector<RuntimeValue> inputs = {
      random({2, 4, 40, 40}, gen), random({8, 2, 3, 3}, gen), random({8}, gen), random({2, 8, 20, 20}, gen),
      random({6, 8, 1, 1}, gen),   random({5, 40}, gen),      random({24, 40}, gen), random({24}, gen),
      0.75,
      random({1, 24, 7, 7}, gen), random({20, 24, 3, 3}, gen), random({1, 20, 7, 7}, gen),
      random({2, 16, 18, 20}, gen), random({8, 16, 3, 3}, gen), random({8}, gen),
      random({1, 8, 48, 48}, gen), random({256, 8, 1, 1}, gen), random({1, 256, 48, 48}, gen)};
  for (int workers : {1, 2}) {
    SCOPED_TRACE(testing::Message() << workers << " workers");
    cpu::setNumWorkers(workers);
    expectSameFusedOrNot(kProgram, inputs, 6);
  }
}

// Convolutions and linear layers on artifact weights, which the executor
// packs at load (cpu/PackedConv.h, cpu/Gemm.h) for the op and for a fused
// op's head alike: a 3x3 conv with a ragged block of output channels and
// rows of 17 pixels (two runs), a strided one over a batch of two, a 1x1 one
// (which keeps the GEMM), a linear layer of five rows, two slices of k
// (300 = 256 + 44) and a ragged panel (40 = 32 + 8 outputs), and one on a
// slice of a stacked weight chosen at run time (LSTM's w_ih[l]), and a 3x3
// conv large enough for Winograd (cpu/WinogradConv.h) on an odd map.
constexpr std::string_view kPackedProgram = R"(weight @w3 : f32[48,8,3,3]
weight @b3 : f32[48]
weight @ws : f32[32,48,3,3]
weight @w1 : f32[32,32,1,1]
weight @lw : f32[40,300]
weight @lb : f32[40]
weight @stack : f32[3,40,300]
weight @ww : f32[64,32,3,3]
weight @wb : f32[64]
func @forward(%x: f32[2,8,9,17], %res: f32[2,48,9,17], %v: f32[5,300], %i: i64, %big: f32[1,32,24,23]) -> (f32[2,48,9,17], f32[2,32,5,9], f32[5,40], f32[5,40], f32[1,64,24,23]) {
  %w3 = weight {name = "w3"} : f32[48,8,3,3]
  %b3 = weight {name = "b3"} : f32[48]
  %ws = weight {name = "ws"} : f32[32,48,3,3]
  %w1 = weight {name = "w1"} : f32[32,32,1,1]
  %c = conv2d(%x, %w3, %b3) {dilation = [1, 1], groups = 1, padding = [1, 1], stride = [1, 1]} : f32[2,48,9,17]
  %s = add(%c, %res) : f32[2,48,9,17]
  %y = relu(%s) : f32[2,48,9,17]
  %cs = conv2d(%y, %ws) {dilation = [1, 1], groups = 1, padding = [1, 1], stride = [2, 2]} : f32[2,32,5,9]
  %ts = tanh(%cs) : f32[2,32,5,9]
  %c1 = conv2d(%ts, %w1) {dilation = [1, 1], groups = 1, padding = [0, 0], stride = [1, 1]} : f32[2,32,5,9]
  %y1 = sigmoid(%c1) : f32[2,32,5,9]
  %lw = weight {name = "lw"} : f32[40,300]
  %lb = weight {name = "lb"} : f32[40]
  %l = linear(%v, %lw, %lb) : f32[5,40]
  %h = tanh(%l) : f32[5,40]
  %stack = weight {name = "stack"} : f32[3,40,300]
  %sw = select(%stack, %i) {dim = 0} : f32[40,300]
  %ls = linear(%v, %sw) : f32[5,40]
  %ww = weight {name = "ww"} : f32[64,32,3,3]
  %wb = weight {name = "wb"} : f32[64]
  %cw = conv2d(%big, %ww, %wb) {dilation = [1, 1], groups = 1, padding = [1, 1], stride = [1, 1]} : f32[1,64,24,23]
  %yw = relu(%cw) : f32[1,64,24,23]
  return(%y, %y1, %h, %ls, %yw)
}
)";

TEST(EpilogueFusionTest, PackedWeightsMatchOpByOp) {
  std::mt19937 gen(11);
  const std::vector<RuntimeValue> inputs = {random({2, 8, 9, 17}, gen), random({2, 48, 9, 17}, gen),
                                            random({5, 300}, gen), int64_t{2}, random({1, 32, 24, 23}, gen)};
  const std::vector<Tensor> weights = {random({48, 8, 3, 3}, gen), random({48}, gen), random({32, 48, 3, 3}, gen),
                                       random({32, 32, 1, 1}, gen), random({40, 300}, gen), random({40}, gen),
                                       random({3, 40, 300}, gen), random({64, 32, 3, 3}, gen), random({64}, gen)};
  for (int workers : {1, 2}) {
    SCOPED_TRACE(testing::Message() << workers << " workers");
    cpu::setNumWorkers(workers);
    expectSameFusedOrNot(kPackedProgram, inputs, 5, weights);
  }
}

}  // namespace
}  // namespace cocktail::runtime
