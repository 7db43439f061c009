//===- passes/ShapeInference.h - Dtypes and bounded shapes for every value -------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `shape-inference`: gives every tensor value the most precise type the
/// program's arguments allow: a dtype, a rank, and dims that are constants,
/// the arguments' bounded symbols, or `?` where they depend on run-time
/// values (a slice by a loop index). Loop-carried values get the join of
/// their initial and yielded types (iterated to a fixpoint), if results the
/// join of both branches. It only refines: a type the pass cannot improve
/// stays as it is, so running it twice changes nothing.
std::unique_ptr<Pass> createShapeInferencePass();

}  // namespace cocktail::passes
