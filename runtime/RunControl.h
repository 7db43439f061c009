//===- runtime/RunControl.h - What may stop a run before it ends -----------------===//
//
// A run of a compiled model is bounded: a loop whose trip count is over a limit
// is refused before it starts, and a deadline or a cancellation flag (a client
// that gave up, a server shutting down) stops it between loop steps. Executors
// check it at every loop step, which is where a model can run for unbounded
// time; straight-line code between two steps is bounded by its ops' sizes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cocktail::runtime {

struct RunControl {
  using Clock = std::chrono::steady_clock;

  /// A loop asked to run more steps than this is refused before its first
  /// step (a trip count of 2^62 from a request is a hang, not a model).
  static constexpr int64_t kDefaultMaxLoopTrips = int64_t{1} << 32;

  Clock::time_point deadline = Clock::time_point::max();
  /// Another thread sets it to stop the run (read relaxed: a late stop by one
  /// step is fine). Null: never cancelled.
  const std::atomic<bool>* cancelled = nullptr;
  int64_t maxLoopTrips = kDefaultMaxLoopTrips;

  /// Why the run must stop now: "the run was cancelled" or "the deadline
  /// passed"; nothing while it may go on.
  std::optional<std::string> stopReason() const {
    if (cancelled && cancelled->load(std::memory_order_relaxed)) return std::string("the run was cancelled");
    if (deadline != Clock::time_point::max() && Clock::now() >= deadline) return std::string("the deadline passed");
    return std::nullopt;
  }
};

}  // namespace cocktail::runtime
