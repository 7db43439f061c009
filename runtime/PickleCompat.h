//===- runtime/PickleCompat.h - Pickles LibTorch 1.13's unpickler can read ----------===//
//
// Two things Python's pickles do that LibTorch 1.13's unpickler cannot read,
// rewritten into what it can:
// - a one-element list is pickled as EMPTY_LIST, item, APPEND; LibTorch knows
//   APPENDS but not APPEND, so `torch.save([x], f)` could not be read from
//   C++. Every APPEND becomes MARK, item, APPENDS (and SETITEM, also missing,
//   MARK, key, value, SETITEMS), by tracking where each stack item started.
// - an int of 2^31 or more is a LONG1 of as few bytes as it needs; LibTorch
//   reads only LONG1s of 8 bytes. Shorter ones are sign-extended to 8.
// Pure byte manipulation: no LibTorch, unit-tested on its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cocktail::runtime {

/// The pickle with APPEND and SETITEM rewritten and LONG1 widened, or nullopt when it holds an opcode this
/// scanner does not know (the caller then tries the bytes unchanged).
std::optional<std::string> rewritePickleForLibTorch(std::string_view pickle);

}  // namespace cocktail::runtime
