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
// The same walk is the check that stands between a file and LibTorch's
// unpickler, which trusts the lengths and indices it reads: whatever the walk
// cannot follow is refused here, never handed over.
// Pure byte manipulation: no LibTorch, unit-tested on its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>

#include "ir/Status.h"

namespace cocktail::runtime {

/// The pickle with APPEND and SETITEM rewritten and LONG1 widened, or an error
/// naming the opcode and its byte offset when the pickle holds something the
/// walk cannot follow: an opcode torch.save does not write (protocol 2), a
/// length or argument past the end, a pop from an empty stack or past a
/// missing MARK, a memo index beyond those defined (LibTorch 1.13 would grow
/// its memo table to it). A pickle cut short between opcodes comes back as
/// far as it goes: the unpickler reports the missing STOP.
ir::Expected<std::string> rewritePickleForLibTorch(std::string_view pickle);

}  // namespace cocktail::runtime
