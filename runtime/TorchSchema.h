//===- runtime/TorchSchema.h - Input specs against a TorchScript method's arguments ---===//
//
// Shared by the frontend (cocktail-compile's --input) and the TorchScript
// executor (cocktail-serve's cocktail.inputs), so that both accept the same
// specs and say the same thing about a wrong one. Includes LibTorch: only the
// two .cpp files that already talk to LibTorch include it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/function_schema.h>

#include "ir/InputSpec.h"
#include "ir/Status.h"

namespace cocktail::runtime {

/// "forward(xs: Tensor, steps: int)" (without the module itself, whatever
/// its parameter is named).
std::string describeArguments(const c10::FunctionSchema& schema);

/// The specs in the method's argument order, one per argument (the
/// module itself excluded), matched by name; a spec's kind must fit the argument's type (a
/// tensor spec for Tensor, i64 for int, f64 for float, i1 for bool). Errors
/// name the spec as `what` calls them ("--input", "input spec") and, for a
/// missing one, append missingHint(argument) when given.
ir::Expected<std::vector<ir::InputSpec>> matchSpecsToArguments(
    const c10::FunctionSchema& schema, const std::vector<ir::InputSpec>& specs, std::string_view what,
    const std::function<std::string(const c10::Argument&)>& missingHint = {});

}  // namespace cocktail::runtime
