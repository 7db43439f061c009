//===- runtime/MemoryEstimate.cpp -----------------------------------------------------===//
#include "runtime/MemoryEstimate.h"

#include <limits>

#include <fmt/format.h>

#include "ir/Schedule.h"

namespace cocktail::runtime {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kMax : sum;
}

int64_t saturatingMul(int64_t a, int64_t b) {
  int64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kMax : product;
}

std::string humanBytes(int64_t bytes) {
  static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 6) v /= 1024, ++unit;
  return unit == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.1f} {}", v, units[unit]);
}

}  // namespace

int64_t MemoryEstimate::total(int64_t instances) const {
  return saturatingAdd(weightBytes, saturatingMul(instances, saturatingAdd(arenaBytes, packedBytes)));
}

std::string MemoryEstimate::str(int64_t instances) const {
  return fmt::format("{} of weights + {} instance(s) x ({} arena + {} packed weights) = {}", humanBytes(weightBytes),
                     instances, humanBytes(arenaBytes), humanBytes(packedBytes), humanBytes(total(instances)));
}

MemoryEstimate estimateCpuMemory(const ir::Program& program) {
  MemoryEstimate e;
  for (const ir::WeightDecl& w : program.weights()) {
    const auto bytes = static_cast<int64_t>(w.data.size());
    e.weightBytes = saturatingAdd(e.weightBytes, bytes);
    // What PackedWeights may pack: f32 matrices (and stacks of them) for the
    // GEMM, f32 filters for the convolutions, Winograd's at 16/9 of theirs.
    if (!w.type.hasDType() || w.type.dtype() != ir::DType::F32 || !w.type.hasRank()) continue;
    if (w.type.rank() == 2 || w.type.rank() == 3) e.packedBytes = saturatingAdd(e.packedBytes, bytes);
    if (w.type.rank() == 4) e.packedBytes = saturatingAdd(e.packedBytes, saturatingMul(bytes / 9 + 1, 16));
  }
  if (auto arena = ir::arenaPlan(program)) e.arenaBytes = arena->bytes;
  return e;
}

std::string describeBytes(int64_t bytes) { return fmt::format("{} ({} bytes)", humanBytes(bytes), bytes); }

}  // namespace cocktail::runtime
