//===- ir/Liveness.h - Program positions and the lifetimes of values --------===//
//
// Numbers the ops of a function in program order (an op with regions spans
// the positions of its regions; a `fused` op is one position, its body a
// unit) and finds the last position each value is read at. A value from
// outside a loop that the body reads lives until the loop ends, since every
// iteration reads it again. The memory planner (passes/MemoryPlanning.h)
// places buffers by these lifetimes and the verifier (ir/ScheduleVerifier.h)
// checks a plan against them: one definition for both.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <span>
#include <unordered_map>
#include <utility>

#include "ir/Op.h"

namespace cocktail::ir {

class Liveness {
 public:
  explicit Liveness(const Region& body);

  /// First and last position of `op` (equal unless it has regions).
  int start(const Op& op) const { return start_.at(&op); }
  int end(const Op& op) const { return end_.at(&op); }
  /// Positions in all: every position is below this.
  int numPositions() const { return next_; }

  /// Where `v` gets its value: its op's end, or its region's owner's start.
  int defPos(const Value* v) const;
  /// The last position that reads `v` (its definition when none does).
  int lastUse(const Value* v) const;

  /// The positions a buffer must hold data over when `members` live in it:
  /// from the first definition to the last use; a loop's carried buffer
  /// (a member is a loop body's argument) over the whole loop; an op with
  /// regions (an `if`) fills its results from inside them, from its start.
  std::pair<int, int> bufferLifetime(std::span<const Value* const> members) const;

 private:
  void number(const Region& region);
  void collectUses(const Region& region);
  int usePos(const Op& user, const Value* v) const;

  int next_ = 0;
  std::unordered_map<const Op*, int> start_, end_;
  std::unordered_map<const Value*, int> lastUse_;
};

}  // namespace cocktail::ir
