//===- ir/ScheduleVerifier.h - Checking the schedule against its declaration --===//
//
// Part of verifyProgram (ir/Verifier.h), run once the program itself is well
// formed: every schedule attribute (ir/Schedule.h) has its declared kind and
// a valid value, partitions cover their results, and the memory plan is
// sound: every planned tensor lies inside the arena at an aligned,
// non-negative offset, its size taken from its type at its bounds, and no
// two tensors that are live at the same time (ir/Liveness.h, the lifetimes
// the planner used) share a byte. A backend may then trust the plan: it
// writes where the plan says without checking again.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <string>

#include "ir/Program.h"

namespace cocktail::ir {

/// Where the schedule verifier reports a problem.
struct ScheduleReport {
  std::function<void(const Op&, std::string)> atOp;
  std::function<void(std::string)> atFunction;
};

void verifySchedule(const Program& program, const ScheduleReport& report);

}  // namespace cocktail::ir
