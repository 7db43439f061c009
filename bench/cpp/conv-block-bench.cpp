//===- bench/cpp/conv-block-bench.cpp - Cocktail's convolutions against oneDNN's ----===//
//
//   conv-block-bench [--reps 100] [--per-conv] [--out FILE.md]
//
// Where SkipNet's time goes against TorchScript's (README, issue 4): times
// ResNet bottleneck blocks, one per stage (1x1, 3x3, 1x1 convolutions with a
// relu after each, batch 1), built from Cocktail's conv2d and from oneDNN's
// (Debian's libdnnl, the library TorchScript's LibTorch runs convolutions
// with), at 1 and 2 threads, alternating, in one process. Cocktail's
// convolutions take the weights the executor packs at load where it packs
// them (the 3x3 ones where winogradPays says so: Winograd, WinogradConv.h;
// blocks of channels otherwise, PackedConv.h).
// Both sides use the same relus on Cocktail's
// worker pool, so oneDNN's OpenMP team and the pool share the two cores as
// they would inside the executor. oneDNN's weights are reordered once, before
// timing; its 3x3 convolutions run in its blocked layout with a reorder of
// the input and the output around each (NCHW in and out, as Cocktail's are).
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include "runtime/Tensor.h"
#include "runtime/TensorPlacement.h"
#include "runtime/cpu/PackedConv.h"
#include "runtime/cpu/WinogradConv.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/WorkerPool.h"

namespace {

using namespace cocktail::runtime;
using dnnl::memory;

struct Conv {
  int64_t in, out, k;
};

struct Block {
  const char* name;
  int64_t size;  // the map is size x size
  Conv convs[3];
};

// The bottleneck block of each of SkipNet's (ResNet-101's) four stages;
// stage 3 (23 blocks) holds most of its flops. Stage 1's 3x3 takes
// Cocktail's direct kernel (64 channels); stage 4's map fills 49 of 64 GEMM columns.
constexpr Block kBlocks[] = {
    {"stage 1 (56x56): 256->64 1x1, 64 3x3, 64->256 1x1", 56, {{256, 64, 1}, {64, 64, 3}, {64, 256, 1}}},
    {"stage 2 (28x28): 512->128 1x1, 128 3x3, 128->512 1x1", 28, {{512, 128, 1}, {128, 128, 3}, {128, 512, 1}}},
    {"stage 3 (14x14): 1024->256 1x1, 256 3x3, 256->1024 1x1", 14, {{1024, 256, 1}, {256, 256, 3}, {256, 1024, 1}}},
    {"stage 4 (7x7): 2048->512 1x1, 512 3x3, 512->2048 1x1", 7, {{2048, 512, 1}, {512, 512, 3}, {512, 2048, 1}}},
};

template <typename F>
double medianMs(F f, int reps) {
  // Let the other side's threads (OpenMP's spin after a parallel region)
  // go idle first: they would otherwise share the cores with this one.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void relu(float* p, int64_t n) {
  cpu::parallelFor(n, 16384, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) p[i] = p[i] < 0.0f ? 0.0f : p[i];
  });
}

/// Deterministic weights of a layer's scale.
Tensor weights(Shape shape, float scale) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = (static_cast<float>((i * 7919) % 1000) / 500.0f - 1.0f) * scale;
  return t;
}

/// One convolution through oneDNN: its primitive, reordered weights, and
/// for a blocked layout the reorders around it.
struct OneDnnConv {
  dnnl::convolution_forward conv;
  memory weights, bias, src, dst;
  memory::desc plainSrc, plainDst;
  bool blocked = false;
  dnnl::reorder toBlocked, fromBlocked;
  std::string impl;

  OneDnnConv(const dnnl::engine& eng, dnnl::stream& s, const Conv& c, int64_t size, const Tensor& w, const Tensor& b) {
    const memory::dim pad = c.k / 2;
    const auto f32 = memory::data_type::f32;
    plainSrc = memory::desc({1, c.in, size, size}, f32, memory::format_tag::nchw);
    plainDst = memory::desc({1, c.out, size, size}, f32, memory::format_tag::nchw);
    const memory::desc bd({c.out}, f32, memory::format_tag::x);
    blocked = c.k > 1;  // oneDNN's 1x1 is fastest on NCHW (gemm), its 3x3 in its blocked layout
    auto any = [&](memory::dims d) { return memory::desc(d, f32, memory::format_tag::any); };
    const dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        blocked ? any({1, c.in, size, size}) : plainSrc, any({c.out, c.in, c.k, c.k}), bd,
        blocked ? any({1, c.out, size, size}) : plainDst, {1, 1}, {pad, pad}, {pad, pad});
    const dnnl::convolution_forward::primitive_desc pd(d, eng);
    impl = pd.impl_info_str();
    conv = dnnl::convolution_forward(pd);
    memory plainW(memory::desc({c.out, c.in, c.k, c.k}, f32, memory::format_tag::oihw), eng,
                  const_cast<float*>(w.data<float>()));
    weights = memory(pd.weights_desc(), eng);
    dnnl::reorder(plainW, weights).execute(s, plainW, weights);
    s.wait();
    bias = memory(bd, eng, const_cast<float*>(b.data<float>()));
    src = memory(pd.src_desc(), eng);
    dst = memory(pd.dst_desc(), eng);
    if (blocked) {
      toBlocked = dnnl::reorder(memory(plainSrc, eng), src);
      fromBlocked = dnnl::reorder(dst, memory(plainDst, eng));
    }
  }

  void run(const dnnl::engine& eng, dnnl::stream& s, float* in, float* out) {
    memory x(plainSrc, eng, in), y(plainDst, eng, out);
    if (blocked) {
      toBlocked.execute(s, x, src);
      conv.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
      fromBlocked.execute(s, dst, y);
    } else {
      conv.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, y}});
    }
    s.wait();
  }
};

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time ResNet bottleneck blocks built from Cocktail's conv2d and from oneDNN's, at 1 and 2 threads.",
               "conv-block-bench"};
  int reps = 100;
  std::string outPath;
  bool perConv = false;
  int sets = 1;
  app.add_option("--cold", sets,
                 "Give each convolution N copies of its weights and cycle through them, so that they come from "
                 "memory as a large model's do (e.g. --cold 32; default 1: warm in cache)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--per-conv", perConv, "Also time each block's three convolutions one by one (a row each)");
  app.add_option("--reps", reps, "Timed runs per setting (median reported; default 100)")->check(CLI::Range(5, 10000));
  app.add_option("--out", outPath, "Also write the table here (Markdown), e.g. bench/results/conv-block-MACHINE-DATE.md");
  CLI11_PARSE(app, argc, argv);

  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const dnnl_version_t* v = dnnl_version();
  std::string table = fmt::format(
      "# Convolution blocks: Cocktail's conv2d against oneDNN {}.{}.{}\n\n**Machine:** {} cores, {}. Batch 1, "
      "median of {} runs after 3 untimed ones and a pause that lets the other side's threads go idle; settings alternate 1, 2, 1, 2 threads and the better of each pair "
      "is shown. {}. Ratio = Cocktail / oneDNN (above 1: oneDNN is faster).\n\n"
      "| block | threads | Cocktail ms | oneDNN ms | ratio | oneDNN kernels |\n|---|---|---|---|---|---|\n",
      v->major, v->minor, v->patch, std::thread::hardware_concurrency(), cpuModel(), reps,
      sets == 1 ? std::string("Weights warm in cache")
                : fmt::format("Weights cold: each run takes the next of {} copies", sets));
  for (const Block& block : kBlocks) {
    const int64_t n = block.size * block.size;
    std::vector<Tensor> w, b;
    std::vector<std::unique_ptr<cpu::PackedConvWeights>> packed;
    std::vector<OneDnnConv> dnn;
    std::string impls;
    // Convolution i of weight set k is entry 3k + i.
    for (int set = 0; set < sets; ++set)
      for (const Conv& c : block.convs) {
        w.push_back(weights({c.out, c.in, c.k, c.k}, 1.0f / static_cast<float>(c.in * c.k * c.k)));
        b.push_back(weights({c.out}, 0.01f));
        // As the executor packs an artifact's weights (PackedWeights.h).
        using Layout = cpu::PackedConvWeights::Layout;
        if (cpu::winogradPays(w.back().shape(), {1, 1}, {1, 1}, 1, block.size, block.size))
          packed.push_back(std::make_unique<cpu::PackedConvWeights>(w.back(), Layout::Winograd));
        else if (cpu::packedConvPays(w.back().shape(), {1, 1}, 1))
          packed.push_back(std::make_unique<cpu::PackedConvWeights>(w.back()));
        else
          packed.push_back(nullptr);
        dnn.emplace_back(eng, s, c, block.size, w.back(), b.back());
        if (set == 0) impls += (impls.empty() ? "" : ", ") + dnn.back().impl;
      }
    // Activations: the block's input and two buffers the convs alternate between.
    const int64_t widest = std::max({block.convs[0].in, block.convs[0].out, block.convs[2].out});
    Tensor x = weights({1, block.convs[0].in, block.size, block.size}, 1.0f);
    Tensor a = Tensor::zeros(DType::F32, {1, widest, block.size, block.size});
    Tensor c = Tensor::zeros(DType::F32, {1, widest, block.size, block.size});
    Tensor* bufs[3][2] = {{&x, &a}, {&a, &c}, {&c, &a}};
    int64_t call = 0;  // which weight set a run takes
    auto ourConv = [&](int i) {
      const Conv& cv = block.convs[i];
      const size_t k = static_cast<size_t>(3 * (call % sets) + i);
      Tensor in = bufs[i][0]->aliasRange({1, cv.in, block.size, block.size}, 0);
      Tensor& out = *bufs[i][1];
      // The result into the output buffer, as the executor's memory plan places it.
      std::shared_ptr<std::byte[]> place(static_cast<std::byte*>(out.rawData()), [](std::byte*) {});
      const TensorPlacement::Slot slot{place, static_cast<size_t>(cv.out * n) * sizeof(float), DType::F32, 4};
      TensorPlacement placement({&slot, 1});
      cpu::conv2d(in, w[k], &b[k], {1, 1}, {cv.k / 2, cv.k / 2}, {1, 1}, 1, nullptr, packed[k].get());
      relu(out.data<float>(), cv.out * n);
    };
    auto dnnConv = [&](int i) {
      dnn[static_cast<size_t>(3 * (call % sets) + i)].run(eng, s, bufs[i][0]->data<float>(), bufs[i][1]->data<float>());
      relu(bufs[i][1]->data<float>(), block.convs[i].out * n);
    };
    // Row -1 is the whole block; rows 0..2 its convolutions alone.
    auto timeRow = [&](int conv, const std::string& name) {
      const int first = conv < 0 ? 0 : conv, last = conv < 0 ? 2 : conv;
      auto ours = [&] {
        for (int i = first; i <= last; ++i) ourConv(i);
        ++call;
      };
      auto onednn = [&] {
        for (int i = first; i <= last; ++i) dnnConv(i);
        ++call;
      };
      double best[2][2] = {{1e30, 1e30}, {1e30, 1e30}};
      for (int round = 0; round < 2; ++round)
        for (int t : {1, 2}) {
          cpu::setNumWorkers(t);
          omp_set_num_threads(t);
          best[t - 1][0] = std::min(best[t - 1][0], medianMs(ours, reps));
          best[t - 1][1] = std::min(best[t - 1][1], medianMs(onednn, reps));
        }
      for (int t : {1, 2})
        table += fmt::format("| {} | {} | {:.2f} | {:.2f} | **x{:.2f}** | {} |\n", name, t, best[t - 1][0],
                             best[t - 1][1], best[t - 1][0] / best[t - 1][1],
                             conv < 0 ? impls : dnn[conv].impl);
    };
    timeRow(-1, block.name);
    if (perConv)
      for (int i = 0; i < 3; ++i) {
        const Conv& cv = block.convs[i];
        timeRow(i, fmt::format("&nbsp;&nbsp;conv {}: {}->{} {}x{}", i + 1, cv.in, cv.out, cv.k, cv.k));
      }
  }
  std::fputs(table.c_str(), stdout);
  if (!outPath.empty()) {
    std::ofstream out(outPath);
    if (!(out << table)) {
      fmt::print(stderr, "conv-block-bench: cannot write {}\n", outPath);
      return 1;
    }
  }
  return 0;
}
