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
// COCKTAIL_PROFILE=shapes splits each kind by its operands' types (a fused
// op by its head's input and weight), to find which layer of a model is slow:
//
//   fused(conv2d) f32[1,256,14,14] f32[256,256,3,3]   12   19.20  ...
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "ir/OpKind.h"

namespace cocktail::runtime {

class OpProfile {
 public:
  /// A profile when COCKTAIL_PROFILE is set (and not "0"); null otherwise.
  static std::unique_ptr<OpProfile> fromEnvironment();

  explicit OpProfile(bool byShape = false) : byShape_(byShape) {}

  /// Whether rows are split by operand types (COCKTAIL_PROFILE=shapes):
  /// the caller then labels each op with rowLabel's `operandTypes`.
  bool byShape() const { return byShape_; }
  /// The row an op counts in: `name` (its mnemonic), then (by shape)
  /// `operandTypes`.
  std::string rowLabel(std::string_view name, std::string_view operandTypes) const;

  void add(const std::string& row, std::chrono::nanoseconds elapsed, int offPlan = 0);
  /// The table, costliest op first.
  std::string report() const;

 private:
  struct Entry {
    int64_t calls = 0;
    int64_t offPlan = 0;
    std::chrono::nanoseconds total{0};
  };
  bool byShape_ = false;
  mutable std::mutex mutex_;  // runs of one executor may overlap
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace cocktail::runtime
