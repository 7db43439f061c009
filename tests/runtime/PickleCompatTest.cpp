//===- tests/runtime/PickleCompatTest.cpp - APPEND -> MARK ... APPENDS ---------------===//
//
// rewritePickleForLibTorch on hand-assembled protocol-2 pickles: every APPEND
// becomes APPENDS with a MARK before the appended item (wherever that item's
// opcodes start), everything else is copied unchanged, and input it cannot
// follow (unknown opcodes, truncation, stack underflow, memo indices that
// skip ahead) is refused with the opcode and its byte offset, never a crash.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "runtime/PickleCompat.h"

namespace cocktail::runtime {
namespace {

using ::testing::HasSubstr;

// Opcodes, as one-byte strings, so that pickles read like pickletools.dis.
const std::string PROTO2("\x80\x02", 2);
const std::string STOP(".");
const std::string MARK("(");
const std::string EMPTY_LIST("]");
const std::string EMPTY_TUPLE(")");
const std::string EMPTY_DICT("}");
const std::string APPEND("a");
const std::string APPENDS("e");
const std::string NONE("N");
const std::string NEWTRUE("\x88", 1);
const std::string TUPLE("t");
const std::string TUPLE1("\x85", 1);
const std::string TUPLE2("\x86", 1);
const std::string REDUCE("R");
const std::string BUILD("b");
const std::string SETITEM("s");
const std::string SETITEMS("u");
const std::string BINPERSID("Q");
const std::string MEMOIZE("\x94", 1);
std::string BININT1(uint8_t v) { return std::string("K") + static_cast<char>(v); }
std::string BININT2(uint16_t v) { return std::string("M") + char(v & 0xff) + char(v >> 8); }
std::string BININT(int32_t v) {
  std::string s = "J";
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff));
  return s;
}
std::string BINFLOAT(double) { return std::string("G") + std::string("\x3f\xf0\0\0\0\0\0\0", 8); }  // 1.0, big-endian
std::string BINPUT(uint8_t i) { return std::string("q") + static_cast<char>(i); }
std::string LONG_BINPUT(uint32_t i) { return std::string("r") + std::string(4, '\0').replace(0, 1, 1, char(i)); }
std::string BINGET(uint8_t i) { return std::string("h") + static_cast<char>(i); }
std::string BINUNICODE(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
  return out + s;
}
std::string SHORT_BINUNICODE(const std::string& s) { return std::string("\x8c", 1) + char(s.size()) + s; }
std::string GLOBAL(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string LONG1(uint8_t v) { return std::string("\x8a\x01", 2) + static_cast<char>(v); }
/// LONG1 with the n low bytes of v, as Python writes an int that needs n bytes.
std::string LONG1n(int64_t v, size_t n) {
  std::string s = std::string("\x8a", 1) + static_cast<char>(n);
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  return s;
}
std::string LONG8(int64_t v) { return LONG1n(v, 8); }

/// The error's message, or "" when the pickle is accepted.
std::string refusal(const std::string& pickle) {
  auto r = rewritePickleForLibTorch(pickle);
  return r.ok() ? "" : r.status().diagnostics().front().message;
}

std::string rewritten(const std::string& pickle) {
  auto r = rewritePickleForLibTorch(pickle);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.status().str());
  return r.ok() ? *r : "<refused>";
}

TEST(PickleCompatTest, SingleElementListGetsMarkAndAppends) {
  // pickle.dumps([5], protocol=2)
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + BININT1(5) + APPEND + STOP;
  EXPECT_EQ(rewritten(in), PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + BININT1(5) + APPENDS + STOP);
}

TEST(PickleCompatTest, MarkGoesBeforeAMultiOpcodeItem) {
  // [(1, 2)]: the item is BININT1 BININT1 TUPLE2; the MARK goes before its first opcode.
  std::string item = BININT1(1) + BININT1(2) + TUPLE2 + BINPUT(1);
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + item + APPEND + STOP;
  EXPECT_EQ(rewritten(in), PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + item + APPENDS + STOP);
}

TEST(PickleCompatTest, ItemBuiltByReduce) {
  // [torch._utils._rebuild_tensor_v2((persistent id), 0, ...)] shaped like torch.save's output.
  std::string pid = MARK + BINUNICODE("storage") + GLOBAL("torch", "FloatStorage") + BINUNICODE("0") +
                    BINUNICODE("cpu") + BININT1(4) + TUPLE + BINPERSID;
  std::string item = GLOBAL("torch._utils", "_rebuild_tensor_v2") + BINPUT(1) + MARK + pid + BININT1(0) +
                     BININT1(4) + TUPLE1 + BININT1(1) + TUPLE1 + NEWTRUE + GLOBAL("collections", "OrderedDict") +
                     EMPTY_TUPLE + REDUCE + TUPLE + REDUCE + BINPUT(2);
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + item + APPEND + STOP;
  EXPECT_EQ(rewritten(in), PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + item + APPENDS + STOP);
}

TEST(PickleCompatTest, NestedLists) {
  // [[7]]: both APPENDs are rewritten; the outer one's item is the inner list.
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + EMPTY_LIST + BINPUT(1) + BININT1(7) + APPEND + APPEND + STOP;
  std::string want = PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + EMPTY_LIST + BINPUT(1) + MARK + BININT1(7) + APPENDS +
                     APPENDS + STOP;
  EXPECT_EQ(rewritten(in), want);
}

TEST(PickleCompatTest, DeeplyNestedSingleElementLists) {
  // [[[1]]] without memo opcodes: three APPENDs in a row, each item one list deeper.
  std::string in = PROTO2 + EMPTY_LIST + EMPTY_LIST + EMPTY_LIST + BININT1(1) + APPEND + APPEND + APPEND + STOP;
  std::string want = PROTO2 + EMPTY_LIST + MARK + EMPTY_LIST + MARK + EMPTY_LIST + MARK + BININT1(1) + APPENDS +
                     APPENDS + APPENDS + STOP;
  EXPECT_EQ(rewritten(in), want);
}

TEST(PickleCompatTest, AppendsIsLeftUnchanged) {
  // pickle.dumps([1, 2, 3], protocol=2) already uses MARK ... APPENDS.
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + BININT1(1) + BININT1(2) + BININT1(3) + APPENDS + STOP;
  EXPECT_EQ(rewritten(in), in);
}

TEST(PickleCompatTest, MixedAppendAndAppends) {
  // [[1, 2], [3]]
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + EMPTY_LIST + BINPUT(1) + MARK + BININT1(1) + BININT1(2) +
                   APPENDS + EMPTY_LIST + BINPUT(2) + BININT1(3) + APPEND + APPENDS + STOP;
  std::string want = PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + EMPTY_LIST + BINPUT(1) + MARK + BININT1(1) +
                     BININT1(2) + APPENDS + EMPTY_LIST + BINPUT(2) + MARK + BININT1(3) + APPENDS + APPENDS + STOP;
  EXPECT_EQ(rewritten(in), want);
}

TEST(PickleCompatTest, SetItemBecomesMarkSetItems) {
  // LibTorch 1.13 lacks SETITEM too: {k: 300} must read as MARK k 300 SETITEMS.
  std::string in = PROTO2 + EMPTY_DICT + BINPUT(0) + SHORT_BINUNICODE("k") + BININT2(300) + SETITEM + STOP;
  std::string want = PROTO2 + EMPTY_DICT + BINPUT(0) + MARK + SHORT_BINUNICODE("k") + BININT2(300) + SETITEMS + STOP;
  EXPECT_EQ(rewritten(in), want);
}

TEST(PickleCompatTest, NoListIsCopiedUnchanged) {
  for (const std::string& in :
       {PROTO2 + BININT1(3) + STOP, PROTO2 + NONE + STOP, PROTO2 + BININT(-123456) + STOP,
        PROTO2 + BINFLOAT(1.0) + STOP, PROTO2 + SHORT_BINUNICODE("hi") + BINPUT(0) + STOP,
        PROTO2 + EMPTY_DICT + MARK + SHORT_BINUNICODE("a") + BININT1(1) + SETITEMS + STOP,
        PROTO2 + LONG8(5) + STOP, PROTO2 + BININT1(1) + BINPUT(0) + BINGET(0) + TUPLE2 + STOP,
        PROTO2 + BININT1(1) + LONG_BINPUT(0) + STOP}) {
    EXPECT_EQ(rewritten(in), in);
  }
}

// Python writes 2**31 as a LONG1 of 5 bytes, -2**40 of 6; LibTorch 1.13 reads
// only 8. Each is widened, sign-extended, with the value kept.
TEST(PickleCompatTest, ShortLongsAreWidenedToEightBytes) {
  for (auto [v, n] : std::vector<std::pair<int64_t, size_t>>{
           {5, 1}, {-1, 1}, {int64_t{1} << 31, 5}, {-(int64_t{1} << 40), 6}, {(int64_t{1} << 54) + 3, 7},
           {-(int64_t{1} << 55), 7}}) {
    EXPECT_EQ(rewritten(PROTO2 + LONG1n(v, n) + STOP), PROTO2 + LONG8(v) + STOP) << v;
    // In a one-element list the MARK still goes before the item.
    EXPECT_EQ(rewritten(PROTO2 + EMPTY_LIST + LONG1n(v, n) + APPEND + STOP),
              PROTO2 + EMPTY_LIST + MARK + LONG8(v) + APPENDS + STOP) << v;
  }
  // Zero bytes (Python's 0 in LONG1) and 8 bytes are left as they are.
  EXPECT_EQ(rewritten(PROTO2 + std::string("\x8a\x00", 2) + STOP), PROTO2 + std::string("\x8a\x00", 2) + STOP);
}

TEST(PickleCompatTest, ItemFromMemo) {
  // [x, x] as Python writes it: the second item is a BINGET.
  std::string in = PROTO2 + EMPTY_LIST + BINPUT(0) + BININT1(9) + APPEND + BINGET(0) + APPEND + STOP;
  std::string want =
      PROTO2 + EMPTY_LIST + BINPUT(0) + MARK + BININT1(9) + APPENDS + MARK + BINGET(0) + APPENDS + STOP;
  EXPECT_EQ(rewritten(in), want);
}

TEST(PickleCompatTest, BytesAfterStopAreKept) {
  std::string in = PROTO2 + EMPTY_LIST + BININT1(5) + APPEND + STOP + "trailing";
  EXPECT_EQ(rewritten(in), PROTO2 + EMPTY_LIST + MARK + BININT1(5) + APPENDS + STOP + "trailing");
}

TEST(PickleCompatTest, UnknownOpcodeIsRefused) {
  // FRAME (protocol 4), INT (protocol 0 text), DUP, and a byte that is no opcode.
  for (const std::string& op : {std::string("\x95\x05\0\0\0\0\0\0\0", 9), std::string("I5\n"), std::string("2"),
                                std::string("\xff", 1)}) {
    std::string in = PROTO2 + EMPTY_LIST + BININT1(5) + APPEND + op + STOP;
    EXPECT_EQ(refusal(in), fmt::format("the pickle's opcode 0x{:02x} at byte 6 is not one torch.save writes",
                                       static_cast<unsigned char>(op[0])));
  }
}

TEST(PickleCompatTest, StackUnderflowIsRefused) {
  EXPECT_THAT(refusal(PROTO2 + APPEND + STOP), HasSubstr("opcode 0x61 at byte 2 needs a list and an item"));
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + APPEND + STOP), HasSubstr("needs a list and an item"));
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + TUPLE2 + STOP), HasSubstr("at byte 4 needs more items"));
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + TUPLE + STOP), HasSubstr("has no MARK before it"));
  EXPECT_THAT(refusal(PROTO2 + EMPTY_LIST + APPENDS + STOP), HasSubstr("has no MARK before it"));
  EXPECT_THAT(refusal(PROTO2 + REDUCE + STOP), HasSubstr("needs more items"));
  EXPECT_THAT(refusal(PROTO2 + BUILD + STOP), HasSubstr("needs an object and its state"));
  // BUILD over one item: LibTorch read past its stack and freed a bad pointer (the fuzzer's input).
  EXPECT_THAT(refusal(PROTO2 + EMPTY_LIST + BINPUT(0) + TUPLE1 + TUPLE1 + BUILD + STOP),
              HasSubstr("opcode 0x62 at byte 7 needs an object and its state"));
}

// A MARK is no stack item: LibTorch keeps marks apart, and TUPLE1 over three
// MARKs popped its empty stack (SEGV; the inputs_file fuzzer's input).
TEST(PickleCompatTest, PopsThroughAMarkAreRefused) {
  EXPECT_THAT(refusal(PROTO2 + MARK + MARK + MARK + TUPLE1 + TUPLE1 + TUPLE1 + STOP),
              HasSubstr("opcode 0x85 at byte 5 needs more items than the stack holds"));
  EXPECT_THAT(refusal(PROTO2 + EMPTY_LIST + MARK + BININT1(1) + APPEND + STOP), HasSubstr("needs a list and an item"));
  EXPECT_THAT(refusal(PROTO2 + EMPTY_DICT + MARK + BININT1(1) + BININT1(2) + SETITEM + STOP),
              HasSubstr("needs a dict, a key and a value"));
  EXPECT_THAT(refusal(PROTO2 + MARK + BINPUT(0) + STOP), HasSubstr("memoizes from an empty stack"));
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + BININT1(2) + MARK + BUILD + STOP), HasSubstr("needs an object and its state"));
  EXPECT_EQ(refusal(PROTO2 + MARK + BININT1(1) + TUPLE1 + TUPLE + STOP), "");  // an item above the MARK is fine
}

// LibTorch 1.13 grows its memo table to the index a BINPUT names: a
// LONG_BINPUT of 2^32-1 would allocate 64 GiB of IValues before any error.
TEST(PickleCompatTest, MemoIndexSkippingAheadIsRefused) {
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + LONG_BINPUT(7) + STOP),
              HasSubstr("opcode 0x72 at byte 4 stores memo entry 7, but only 0 are defined before it"));
  const std::string huge = std::string("r\xff\xff\xff\xff", 5);
  EXPECT_THAT(refusal(PROTO2 + EMPTY_LIST + BINPUT(0) + BININT1(1) + huge + STOP),
              HasSubstr("stores memo entry 4294967295, but only 1 are defined"));
  EXPECT_THAT(refusal(PROTO2 + BINPUT(0) + STOP), HasSubstr("memoizes from an empty stack"));
  EXPECT_THAT(refusal(PROTO2 + MEMOIZE + STOP), HasSubstr("memoizes from an empty stack"));
  // Redefining an entry, and MEMOIZE's implicit next index, are fine.
  EXPECT_EQ(refusal(PROTO2 + BININT1(1) + BINPUT(0) + BINPUT(0) + MEMOIZE + BINGET(1) + TUPLE2 + STOP), "");
}

TEST(PickleCompatTest, MemoReadOfAnUndefinedEntryIsRefused) {
  EXPECT_THAT(refusal(PROTO2 + BININT1(1) + BINPUT(0) + BINGET(1) + STOP),
              HasSubstr("opcode 0x68 at byte 6 reads memo entry 1, but only 1 are defined"));
  EXPECT_THAT(refusal(PROTO2 + std::string("j\0\0\0\x01", 5) + STOP), HasSubstr("reads memo entry 16777216"));
}

TEST(PickleCompatTest, EveryTruncationIsHandled) {
  // A pickle with an opcode of every argument size, cut at every length.
  // Cut inside an opcode's argument: refused. Cut between opcodes (no STOP
  // yet): the bytes come back, rewritten as far as they go, and the
  // unpickler reports the truncation. Never a crash or a read past the end.
  const std::vector<std::string> ops = {PROTO2,          EMPTY_LIST,        BINPUT(0),     MARK,
                                        BININT(70000),   BININT2(300),      BINFLOAT(1.0), BINUNICODE("tensor"),
                                        SHORT_BINUNICODE("x"), GLOBAL("torch", "Size"), LONG1(3), LONG_BINPUT(1),
                                        TUPLE,           BINGET(0),         TUPLE2,        APPEND,
                                        STOP};
  std::string full;
  std::vector<size_t> boundaries;
  for (const std::string& op : ops) {
    boundaries.push_back(full.size());
    full += op;
  }
  ASSERT_EQ(refusal(full), "");
  for (size_t n = 0; n < full.size(); ++n) {
    std::string prefix = full.substr(0, n);
    auto r = rewritePickleForLibTorch(prefix);
    bool atBoundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
    if (!atBoundary) {
      EXPECT_FALSE(r.ok()) << "cut at " << n << " (inside an opcode) was accepted";
    } else if (r) {
      EXPECT_GE(r->size(), prefix.size()) << n;
    }
  }
}

TEST(PickleCompatTest, LengthsPastTheEndAreRefused) {
  // Length fields that announce more bytes than there are: LibTorch 1.13
  // reserves a string of the announced length before reading it (the
  // inputs_file fuzzer found a 1.9 GB reserve this way).
  EXPECT_THAT(refusal(PROTO2 + std::string("X\xff\xff\xff\x7f", 5) + "abc"),
              HasSubstr("opcode 0x58 at byte 2 has an argument or a length that reaches past the pickle's end"));
  EXPECT_THAT(refusal(PROTO2 + std::string("\x8c\x10", 2) + "abc"), HasSubstr("reaches past the pickle's end"));
  EXPECT_THAT(refusal(PROTO2 + std::string("\x8d\x00\x01\0\0\0\0\0\0", 9) + "abc"), HasSubstr("past the pickle's end"));
  EXPECT_THAT(refusal(PROTO2 + std::string("c", 1) + "torch\nSize"), HasSubstr("past the pickle's end"));  // no final \n
  EXPECT_THAT(refusal(std::string("\x80", 1)), HasSubstr("opcode 0x80 at byte 0"));  // PROTO without its byte
}

TEST(PickleCompatTest, HugeEightByteLengthDoesNotWrapAround) {
  // BINUNICODE8 with length 2^64 - 9: pos + n wraps back to the opcode itself.
  std::string len(8, '\xff');
  len[0] = static_cast<char>(0xf7);
  std::string in = PROTO2 + std::string("\x8d", 1) + len + STOP;
  EXPECT_THAT(refusal(in), HasSubstr("past the pickle's end"));
}

TEST(PickleCompatTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "]()}NaetqhKMJGX\x8c\x85\x86\x87Rbs0.u1\x80\x02";
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string p;
    size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k)
      p.push_back(rng() % 4 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 0x20));
    auto r = rewritePickleForLibTorch(p);
    if (r) {
      EXPECT_GE(r->size(), p.size());
      ++accepted;
    } else {
      EXPECT_THAT(r.status().str(), HasSubstr("the pickle's opcode"));
    }
  }
  EXPECT_GT(accepted, 0);  // the alphabet does make valid pickles
}

}  // namespace
}  // namespace cocktail::runtime
