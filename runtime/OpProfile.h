//===- runtime/OpProfile.h - Where an executor's time goes, per kind of op ----------===//
//
// Set COCKTAIL_PROFILE=1 and an executor adds up the wall time of every op it
// runs (loops and branches not themselves: their ops are counted), and
// prints a table to stderr when it is destroyed:
//
//   op           calls      total ms   share   us/call   off plan
//   conv2d        3120       1530.20   61.2%     490.4          0
//
// "off plan" counts results the memory plan had a slot for that the kernel
// allocated on the heap instead (its first allocation was a temporary).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ir/OpKind.h"

namespace cocktail::runtime {

class OpProfile {
 public:
  /// A profile when COCKTAIL_PROFILE is set (and not "0"); null otherwise.
  static std::unique_ptr<OpProfile> fromEnvironment();

  void add(ir::OpKind kind, std::chrono::nanoseconds elapsed, int offPlan = 0);
  /// The table, costliest op first.
  std::string report() const;

 private:
  struct Entry {
    int64_t calls = 0;
    int64_t offPlan = 0;
    std::chrono::nanoseconds total{0};
  };
  mutable std::mutex mutex_;  // runs of one executor may overlap
  std::map<ir::OpKind, Entry> entries_;
};

}  // namespace cocktail::runtime
