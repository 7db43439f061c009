//===- runtime/PickleCompat.h - Pickles LibTorch 1.13's unpickler can read ----------===//
//
// Python pickles a one-element list as EMPTY_LIST, item, APPEND; LibTorch
// 1.13's unpickler knows APPENDS but not APPEND, so `torch.save([x], f)`
// could not be read from C++. This rewrites every APPEND into the
// equivalent MARK, item, APPENDS (and SETITEM, also missing, into MARK, key,
// value, SETITEMS) by tracking where each stack item started.
// Pure byte manipulation: no LibTorch, unit-tested on its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cocktail::runtime {

/// The pickle with APPEND rewritten, or nullopt when it holds an opcode this
/// scanner does not know (the caller then tries the bytes unchanged).
std::optional<std::string> rewritePickleAppends(std::string_view pickle);

}  // namespace cocktail::runtime
