//===- runtime/PickleCompat.cpp ------------------------------------------------------===//
#include "runtime/PickleCompat.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace cocktail::runtime {

namespace {

struct Item {
  size_t start;  // byte offset of the opcode that began this item
  bool isMark;
};

uint64_t readLE(std::string_view s, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

}  // namespace

ir::Expected<std::string> rewritePickleForLibTorch(std::string_view p) {
  std::vector<Item> stack;
  size_t memoSize = 0;              // memo entries defined so far (BINPUT, MEMOIZE)
  std::vector<size_t> markInserts;  // offsets where a MARK goes
  std::vector<size_t> appendAt;     // offsets of APPEND opcodes
  std::vector<size_t> setItemAt;    // offsets of SETITEM opcodes
  std::vector<size_t> shortLongAt;  // offsets of LONG1 opcodes of 1 to 7 bytes
  size_t pos = 0;

  auto popToMark = [&]() -> std::optional<size_t> {
    while (!stack.empty()) {
      Item it = stack.back();
      stack.pop_back();
      if (it.isMark) return it.start;
    }
    return std::nullopt;
  };
  // Items above the topmost MARK: what an opcode that pops a fixed count may
  // take (LibTorch keeps marks apart from its stack, so popping through one
  // would pop an empty stack there: a SEGV the fuzzer found).
  auto itemsAboveMark = [&]() {
    size_t n = 0;
    while (n < stack.size() && !stack[stack.size() - 1 - n].isMark) ++n;
    return n;
  };
  auto popN = [&](size_t n) -> std::optional<size_t> {
    if (itemsAboveMark() < n) return std::nullopt;
    size_t start = stack[stack.size() - n].start;
    stack.resize(stack.size() - n);
    return start;
  };

  size_t op = 0;
  unsigned char c = 0;
  auto fail = [&](std::string_view why) {
    return ir::Status::error(fmt::format("the pickle's opcode 0x{:02x} at byte {} {}", c, op, why));
  };
  while (pos < p.size()) {
    op = pos;
    c = static_cast<unsigned char>(p[pos++]);
    // Written so that a huge length read from the file cannot wrap around.
    auto need = [&](size_t n) { return n <= p.size() - pos; };
    auto skip = [&](size_t n) {
      if (!need(n)) return false;
      pos += n;
      return true;
    };
    auto skipLen = [&](size_t lenBytes) {
      if (!need(lenBytes)) return false;
      uint64_t n = readLE(p, pos, lenBytes);
      pos += lenBytes;
      if (n > p.size()) return false;
      return skip(static_cast<size_t>(n));
    };
    auto push = [&](size_t start) { stack.push_back({start, false}); };
    bool ok = true;
    switch (c) {
      case 0x80: ok = skip(1); break;  // PROTO
      case '.':                        // STOP
        goto done;
      case '(': stack.push_back({op, true}); break;  // MARK
      case ']': case ')': case '}': case 'N': case 0x88: case 0x89: case 0x8f: push(op); break;
      case 'J': ok = skip(4); push(op); break;
      case 'K': ok = skip(1); push(op); break;
      case 'M': ok = skip(2); push(op); break;
      case 'G': ok = skip(8); push(op); break;
      case 0x8a: {  // LONG1: an int of n little-endian two's-complement bytes
        if (!need(1)) return fail("is cut short");
        const size_t n = static_cast<unsigned char>(p[pos]);
        if (n >= 1 && n < 8) shortLongAt.push_back(op);
        ok = skipLen(1);
        push(op);
        break;
      }
      case 0x8b: case 'X': case 'T': case 'B': ok = skipLen(4); push(op); break;  // LONG4, strings, bytes
      case 0x8c: case 'U': case 'C': ok = skipLen(1); push(op); break;
      case 0x8d: case 0x8e: ok = skipLen(8); push(op); break;
      case 'c': {  // GLOBAL module\nname\n
        for (int line = 0; line < 2 && ok; ++line) {
          const void* nl = std::memchr(p.data() + pos, '\n', p.size() - pos);
          if (!nl) ok = false;
          else pos = static_cast<size_t>(static_cast<const char*>(nl) - p.data()) + 1;
        }
        push(op);
        break;
      }
      // Memo indices: Python numbers them 0, 1, 2, ... as it defines them.
      // LibTorch 1.13 grows its memo table to any index a BINPUT names
      // (LONG_BINPUT 2^32-1 is 64 GiB of IValues), so one that skips ahead is refused.
      case 'q': case 'r': {  // BINPUT, LONG_BINPUT
        const size_t width = c == 'q' ? 1 : 4;
        if (!need(width)) return fail("is cut short");
        if (itemsAboveMark() == 0) return fail("memoizes from an empty stack");
        const uint64_t index = readLE(p, pos, width);
        pos += width;
        if (index > memoSize)
          return fail(fmt::format("stores memo entry {}, but only {} are defined before it", index, memoSize));
        memoSize = std::max<size_t>(memoSize, index + 1);
        break;
      }
      case 0x94:  // MEMOIZE
        if (itemsAboveMark() == 0) return fail("memoizes from an empty stack");
        ++memoSize;
        break;
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const size_t width = c == 'h' ? 1 : 4;
        if (!need(width)) return fail("is cut short");
        const uint64_t index = readLE(p, pos, width);
        pos += width;
        if (index >= memoSize) return fail(fmt::format("reads memo entry {}, but only {} are defined", index, memoSize));
        push(op);
        break;
      }
      case 'a': {                        // APPEND: list item -> list
        if (itemsAboveMark() < 2) return fail("needs a list and an item on the stack");
        markInserts.push_back(stack.back().start);
        appendAt.push_back(op);
        stack.pop_back();
        break;
      }
      case 'e': case 'u': case 0x90:  // APPENDS, SETITEMS, ADDITEMS
        if (!popToMark()) return fail("has no MARK before it");
        break;
      case 's': {  // SETITEM: dict key value -> dict; rewritten like APPEND
        if (itemsAboveMark() < 3) return fail("needs a dict, a key and a value on the stack");
        markInserts.push_back(stack[stack.size() - 2].start);
        setItemAt.push_back(op);
        stack.resize(stack.size() - 2);
        break;
      }
      case 't': case 'l': case 'd': case 0x91: {  // TUPLE, LIST, DICT, FROZENSET
        auto start = popToMark();
        if (!start) return fail("has no MARK before it");
        push(*start);
        break;
      }
      case 0x85: case 'Q': {  // TUPLE1, BINPERSID
        auto start = popN(1);
        if (!start) return fail("needs more items than the stack holds");
        push(*start);
        break;
      }
      case 0x86: case 'R': case 0x81: case 0x93: {  // TUPLE2, REDUCE, NEWOBJ, STACK_GLOBAL
        auto start = popN(2);
        if (!start) return fail("needs more items than the stack holds");
        push(*start);
        break;
      }
      case 0x87: {  // TUPLE3
        auto start = popN(3);
        if (!start) return fail("needs more items than the stack holds");
        push(*start);
        break;
      }
      case 'b':  // BUILD: object state -> object
        if (itemsAboveMark() < 2) return fail("needs an object and its state on the stack");
        stack.pop_back();
        break;
      case '0':  // POP
        if (!popN(1)) return fail("pops from an empty stack");
        break;
      case '1':  // POP_MARK
        if (!popToMark()) return fail("has no MARK before it");
        break;
      // FRAME, the text opcodes of protocol 0 and anything else: not what
      // torch.save writes, and LibTorch would be handed them unchecked.
      default: return fail("is not one torch.save writes");
    }
    if (!ok) return fail("has an argument or a length that reaches past the pickle's end");
  }
done:
  if (appendAt.empty() && setItemAt.empty() && shortLongAt.empty()) return std::string(p);
  // Edits, applied in one pass: at an offset, insert MARKs, then replace the
  // opcode there (APPEND, SETITEM, or a whole LONG1 with its bytes).
  std::vector<int> marksAt(p.size() + 1, 0);
  for (size_t m : markInserts) ++marksAt[m];
  std::vector<char> replacement(p.size(), 0);
  for (size_t a : appendAt) replacement[a] = 'e';   // APPENDS
  for (size_t a : setItemAt) replacement[a] = 'u';  // SETITEMS
  for (size_t a : shortLongAt) replacement[a] = static_cast<char>(0x8a);
  std::string out;
  out.reserve(p.size() + markInserts.size() + 7 * shortLongAt.size());
  for (size_t i = 0; i < p.size(); ++i) {
    out.append(static_cast<size_t>(marksAt[i]), '(');
    if (replacement[i] == static_cast<char>(0x8a) && static_cast<unsigned char>(p[i]) == 0x8a) {
      // LibTorch 1.13 reads only 8-byte LONG1s (ints of 2^31 and more that
      // Python writes in fewer bytes failed to load): sign-extend to 8.
      const size_t n = static_cast<unsigned char>(p[i + 1]);
      const bool negative = static_cast<unsigned char>(p[i + 1 + n]) & 0x80;
      out.push_back(static_cast<char>(0x8a));
      out.push_back(8);
      out.append(p.substr(i + 2, n));
      out.append(8 - n, negative ? '\xff' : '\0');
      i += 1 + n;
      continue;
    }
    out.push_back(replacement[i] ? replacement[i] : p[i]);
  }
  return out;
}

}  // namespace cocktail::runtime
