//===- runtime/Signature.h - A compiled model's inputs and outputs --------------===//
//
// What callers must pass: one entry per `forward` argument with its dtype and
// bounded shape. `check` validates actual inputs before anything runs, so a
// bad request is an error that names the input and the dim, never a crash
// deep inside a kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/InputSpec.h"
#include "ir/Program.h"
#include "ir/Status.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

struct Signature {
  std::vector<ir::InputSpec> inputs;   // in argument order
  std::vector<ir::Symbol> symbols;
  std::vector<std::string> outputNames;  // OUTPUT__0, ...

  /// The signature of a program: its arguments and declared symbols.
  static Signature of(const ir::Program& program);

  /// Checks count, kinds, dtypes, ranks, constant dims, symbolic dims within
  /// their bounds and consistent across inputs. On success, `symbolValues`
  /// (if given) receives the value each symbol took.
  ir::Status check(const std::vector<RuntimeValue>& values, std::map<std::string, int64_t>* symbolValues = nullptr) const;

  /// The bytes of the largest tensor input at its bounds (UINT64_MAX when a
  /// dim has no bound): no tensor larger than this can pass `check`, so a
  /// reader of inputs may refuse it before allocating it.
  uint64_t maxTensorInputBytes() const;

  /// "forward(xs: f32[T<=128,4,64], steps: i64)"
  std::string str() const;
};

}  // namespace cocktail::runtime
