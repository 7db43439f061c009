//===- runtime/OpError.h - How an op fails while the CPU executor runs it -------===//
//
// The executor reports a failed run at the op that failed, with a kind
// (ir::ErrorKind) that the server and the tools map to their own statuses.
// Kernels and conversions throw one of these two; anything else an op throws
// (a cpu:: kernel's std::invalid_argument, say) is an internal error too.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>

namespace cocktail::runtime {

/// A failure the caller's input caused (ErrorKind::User): the model's own
/// `raise`, or a loop asked for more steps than the run's limit.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Any other failure inside an op (ErrorKind::Internal).
struct OpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace cocktail::runtime
