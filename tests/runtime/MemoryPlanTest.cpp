//===- tests/runtime/MemoryPlanTest.cpp - The CPU executor on the memory plan -------===//
//
// A recurrence compiled with and without the scheduling passes (whose last,
// plan-memory, places every tensor in one arena) must give the same values,
// and with the plan a run must allocate no tensor buffer per step: the
// number of large allocations (>= 256 bytes: tensor buffers; shapes and
// owner counts are smaller) is the same for 3 steps and for 60. Without the
// plan it grows with the steps, which shows the count sees them. Its own
// binary, since it replaces the global operator new to count.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>

#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#include "runtime/CpuExecutor.h"

// The replacement operator new takes its memory from malloc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> largeAllocations{0};
constexpr size_t kLarge = 256;
}  // namespace

void* operator new(size_t n) {
  if (counting.load(std::memory_order_relaxed) && n >= kLarge) largeAllocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's buffer): a sanitizer's own
// nothrow new would otherwise be freed by the delete above.
void* operator new(size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
// The aligned forms (ir/CacheAligned.h: heap tensors start on a cache line).
void* operator new(size_t n, std::align_val_t al) {
  if (counting.load(std::memory_order_relaxed) && n >= kLarge) largeAllocations.fetch_add(1);
  const auto align = static_cast<size_t>(al);
  if (void* p = std::aligned_alloc(align, (std::max<size_t>(n, 1) + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t al) { return ::operator new(n, al); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace cocktail::runtime {
namespace {

// h <- tanh(h @ w + xs[t]), the sum's 128 elements read as [8, 16] and
// transposed on the way (a strided view, which the CPU copies: into the arena,
// not a fresh buffer each step); out[t] <- h. Also a swap of two carried
// tensors, (a, b) <- (b, a + b), whose copies must not overwrite each other.
constexpr std::string_view kRecurrence = R"(
symbol T <= 64
func @forward(%xs: f32[T,1,128], %h0: f32[1,128], %w: f32[128,128]) -> (f32[1,128], f32[T,1,128], f32[1,128], f32[1,128]) {
  %true = constant true : i1
  %zero = constant 0 : i64
  %c1 = constant 1 : i64
  %c128 = constant 128 : i64
  %c8 = constant 8 : i64
  %c16 = constant 16 : i64
  %n = size(%xs, %zero) : i64
  %out0 = full(%zero, %n, %c1, %c128) {dtype = f32} : f32[T,1,128]
  %h, %out, %a, %b = loop(%n, %true, %h0, %out0, %h0, %h0) : f32[1,128], f32[T,1,128], f32[1,128], f32[1,128] {
  ^(%t: i64, %hp: f32[1,128], %o: f32[T,1,128], %ap: f32[1,128], %bp: f32[1,128]):
    %xt = select(%xs, %t) {dim = 0} : f32[1,128]
    %m = matmul(%hp, %w) : f32[1,128]
    %s = add(%m, %xt) : f32[1,128]
    %sq = reshape(%s, %c8, %c16) : f32[8,16]
    %st = transpose(%sq) {dim0 = 0, dim1 = 1} : f32[16,8]
    %sf = reshape(%st, %c1, %c128) : f32[1,128]
    %hn = tanh(%sf) : f32[1,128]
    %o2 = select_scatter(%o, %hn, %t) {dim = 0} : f32[T,1,128]
    %ab = add(%ap, %bp) : f32[1,128]
    %abs = mul(%ab, %ab) : f32[1,128]
    %bn = tanh(%abs) : f32[1,128]
    yield(%true, %hn, %o2, %bp, %bn)
  }
  return(%h, %out, %a, %b)
}
)";

std::unique_ptr<Executor> build(bool scheduled) {
  auto parsed = ir::parseProgram(kRecurrence, "recurrence.ir");
  EXPECT_TRUE(parsed.ok()) << parsed.status().str();
  std::shared_ptr<ir::Program> program(parsed.take());
  passes::PassManagerOptions options;
  options.verifyEachPass = true;
  passes::PassManager pm(options);
  EXPECT_TRUE(pm.addPipeline(passes::kLoweringPipeline).ok());
  if (scheduled) {
    EXPECT_TRUE(pm.addPipeline(passes::kSchedulingPipeline).ok());
  }
  ir::Status s = pm.run(*program);
  EXPECT_TRUE(s.ok()) << s.str();
  if (scheduled) {
    EXPECT_GT(program->attrs().getInt("arena_bytes").value_or(0), 0);
  }
  auto e = createCpuExecutor(std::move(program), nullptr);
  EXPECT_TRUE(e.ok()) << e.status().str();
  return e.take();
}

Tensor random(Shape shape, std::mt19937& gen, float scale) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  std::uniform_real_distribution<float> d(-scale, scale);
  for (float& v : t.span<float>()) v = d(gen);
  return t;
}

std::vector<RuntimeValue> inputs(int64_t steps) {
  std::mt19937 gen(static_cast<unsigned>(steps));
  return {random({steps, 1, 128}, gen, 1.0f), random({1, 128}, gen, 1.0f), random({128, 128}, gen, 0.1f)};
}

std::vector<RuntimeValue> runOk(Executor& e, const std::vector<RuntimeValue>& in) {
  auto out = e.run(in);
  EXPECT_TRUE(out.ok()) << out.status().str();
  return out.ok() ? out.take() : std::vector<RuntimeValue>{};
}

/// Large allocations of one run, after a first run of the same size.
int64_t largeAllocationsOfARun(Executor& e, int64_t steps) {
  const auto in = inputs(steps);
  runOk(e, in);
  largeAllocations = 0;
  counting = true;
  runOk(e, in);
  counting = false;
  return largeAllocations.load();
}

TEST(MemoryPlan, SameValuesWithAndWithoutThePlan) {
  auto planned = build(true), reference = build(false);
  for (int64_t steps : {0, 1, 7, 64}) {
    const auto in = inputs(steps);
    const auto want = runOk(*reference, in);
    // Twice: the second run reuses the first one's arena.
    for (int round = 0; round < 2; ++round) {
      const auto got = runOk(*planned, in);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        const Tensor& g = std::get<Tensor>(got[i]);
        const Tensor& w = std::get<Tensor>(want[i]);
        ASSERT_EQ(g.shape(), w.shape()) << "output " << i << ", " << steps << " steps";
        for (int64_t k = 0; k < g.numel(); ++k)
          ASSERT_EQ(g.data<float>()[k], w.data<float>()[k]) << "output " << i << ", " << steps << " steps, element " << k;
      }
    }
  }
}

TEST(MemoryPlan, NoTensorBufferIsAllocatedPerStep) {
  auto planned = build(true);
  const int64_t few = largeAllocationsOfARun(*planned, 3), many = largeAllocationsOfARun(*planned, 60);
  EXPECT_EQ(few, many) << "large allocations: " << few << " for 3 steps, " << many << " for 60";
}

TEST(MemoryPlan, WithoutThePlanBuffersAreAllocatedPerStep) {
  auto reference = build(false);
  const int64_t few = largeAllocationsOfARun(*reference, 3), many = largeAllocationsOfARun(*reference, 60);
  EXPECT_GE(many - few, 57) << "large allocations: " << few << " for 3 steps, " << many << " for 60";
}

}  // namespace
}  // namespace cocktail::runtime
