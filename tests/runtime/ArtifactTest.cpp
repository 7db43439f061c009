//===- tests/runtime/ArtifactTest.cpp - The `.cocktail` file ------------------------===//
//
// Round trips (bytes and files) keep the program text, the weight bytes and
// the metadata; every kind of damaged file is an error that says what is
// wrong, never a crash. Payloads are hand-assembled protobuf where a test
// needs one that cocktail-compile would never write.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Schedule.h"
#include "passes/Pass.h"
#include "runtime/Artifact.h"

namespace cocktail::runtime {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr size_t kHeaderSize = 8 + 4 + 8 + 4;

constexpr std::string_view kProgram = R"(symbol T <= 16
weight @w : f32[2,3]
weight @"ids table" : i64[3]
weight @flag : i1[2]
func @forward(%x: f32[T,3], %n: i64) -> (f32[T,3], i64) {
  %w = weight {name = "w"} : f32[2,3]
  %ids = weight {name = "ids table"} : i64[3]
  %y = add(%x, %ids) : f32[T,3] loc("model.py":3)
  %m = mul(%n, %n) : i64 loc("model.py":4:9)
  return(%y, %m)
}
)";

std::shared_ptr<ir::Program> parse(std::string_view text) {
  auto p = ir::parseProgram(text, "test");
  EXPECT_TRUE(p.ok()) << p.status().str();
  return p.ok() ? std::shared_ptr<ir::Program>(p.take()) : nullptr;
}

ir::CacheAlignedBytes bytesOf(const void* p, size_t n) {
  auto* b = static_cast<const std::byte*>(p);
  return {b, b + n};
}

/// kProgram with every weight filled with recognisable data.
Artifact makeArtifact() {
  Artifact a;
  a.compilerVersion = "9.8.7";
  a.sourceModel = "/models/m.pt";
  a.target = "cpu";
  a.inputSpecs = {"x:f32[T<=16,3]", "n:i64"};
  a.fallbacks = {{"aten::cumsum", "model.py:12", "not lowered yet"}};
  a.program = parse(kProgram);
  const float w[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-20f};
  const int64_t ids[3] = {7, -1, int64_t{1} << 40};
  const bool flag[2] = {true, false};
  a.program->weights()[0].data = bytesOf(w, sizeof(w));
  a.program->weights()[1].data = bytesOf(ids, sizeof(ids));
  a.program->weights()[2].data = bytesOf(flag, sizeof(flag));
  return a;
}

std::string withHeader(const std::string& payload, uint32_t version = kArtifactFormatVersion) {
  std::string out(kArtifactMagic, sizeof(kArtifactMagic));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((version >> (8 * i)) & 0xff));
  uint64_t size = payload.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out + payload;
}

// A few protobuf wire-format helpers for payloads made by hand.
std::string varint(uint64_t v) {
  std::string s;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    s.push_back(static_cast<char>(b | (v ? 0x80 : 0)));
  } while (v);
  return s;
}
std::string pbVarint(int field, uint64_t v) { return varint(static_cast<uint64_t>(field) << 3) + varint(v); }
std::string pbBytes(int field, const std::string& s) {
  return varint((static_cast<uint64_t>(field) << 3) | 2) + varint(s.size()) + s;
}

std::string loadError(const std::string& bytes) {
  auto a = deserializeArtifact(bytes, "m.cocktail");
  EXPECT_FALSE(a.ok()) << "loaded";
  return a.ok() ? "" : a.status().str();
}

std::filesystem::path tempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cocktail_artifact_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

void writeFile(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class ArtifactFileTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(tempPath("").parent_path(), ec);
  }
};

// ---- round trips ---------------------------------------------------------------------

void expectSameArtifact(const Artifact& got, const Artifact& want) {
  EXPECT_EQ(ir::printProgram(*got.program), ir::printProgram(*want.program));
  ASSERT_EQ(got.program->weights().size(), want.program->weights().size());
  for (size_t i = 0; i < want.program->weights().size(); ++i) {
    const ir::WeightDecl& g = got.program->weights()[i];
    const ir::WeightDecl& w = want.program->weights()[i];
    EXPECT_EQ(g.name, w.name);
    EXPECT_EQ(g.type, w.type);
    EXPECT_EQ(g.data, w.data) << "weight " << w.name;
    // Kernels stream weights with 64-byte loads (ir/CacheAligned.h).
    if (!g.data.empty())
      EXPECT_EQ(reinterpret_cast<uintptr_t>(g.data.data()) % ir::kCacheLineBytes, 0u) << "weight " << w.name;
  }
  EXPECT_EQ(got.compilerVersion, want.compilerVersion);
  EXPECT_EQ(got.sourceModel, want.sourceModel);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.inputSpecs, want.inputSpecs);
  ASSERT_EQ(got.fallbacks.size(), want.fallbacks.size());
  for (size_t i = 0; i < want.fallbacks.size(); ++i) {
    EXPECT_EQ(got.fallbacks[i].op, want.fallbacks[i].op);
    EXPECT_EQ(got.fallbacks[i].location, want.fallbacks[i].location);
    EXPECT_EQ(got.fallbacks[i].reason, want.fallbacks[i].reason);
  }
}

TEST(ArtifactTest, SerializeDeserializeRoundTrip) {
  Artifact a = makeArtifact();
  std::string bytes = serializeArtifact(a);
  ASSERT_GT(bytes.size(), kHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), "COCKTAIL");
  auto b = deserializeArtifact(bytes, "m.cocktail");
  ASSERT_TRUE(b.ok()) << b.status().str();
  expectSameArtifact(*b, a);
  // Locations survive too.
  EXPECT_THAT(ir::printProgram(*b->program), HasSubstr("loc(\"model.py\":4:9)"));
  // And serialising again gives the same bytes.
  EXPECT_EQ(serializeArtifact(*b), bytes);
}

TEST(ArtifactTest, HeaderLayout) {
  std::string bytes = serializeArtifact(makeArtifact());
  uint32_t version = 0;
  uint64_t size = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t(uint8_t(bytes[8 + i])) << (8 * i);
  for (int i = 0; i < 8; ++i) size |= uint64_t(uint8_t(bytes[12 + i])) << (8 * i);
  EXPECT_EQ(version, kArtifactFormatVersion);
  EXPECT_EQ(size, bytes.size() - kHeaderSize);
}

TEST(ArtifactTest, ProgramWithoutWeights) {
  Artifact a;
  a.program = parse("func @forward(%n: i64) -> (i64) {\n  return(%n)\n}\n");
  auto b = deserializeArtifact(serializeArtifact(a), "x");
  ASSERT_TRUE(b.ok()) << b.status().str();
  expectSameArtifact(*b, a);
}

TEST(ArtifactTest, ZeroSizeWeightRoundTrips) {
  Artifact a;
  a.program = parse(R"(weight @e : f32[0,4]
func @forward(%n: i64) -> (f32[0,4]) {
  %e = weight {name = "e"} : f32[0,4]
  return(%e)
}
)");
  auto b = deserializeArtifact(serializeArtifact(a), "x");
  ASSERT_TRUE(b.ok()) << b.status().str();
  expectSameArtifact(*b, a);
}

TEST_F(ArtifactFileTest, SaveLoadThroughFile) {
  Artifact a = makeArtifact();
  auto path = tempPath("model.cocktail");
  ir::Status saved = saveArtifact(a, path.string());
  ASSERT_TRUE(saved.ok()) << saved.str();
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  EXPECT_EQ(std::filesystem::file_size(path), serializeArtifact(a).size());
  auto b = loadArtifact(path.string());
  ASSERT_TRUE(b.ok()) << b.status().str();
  expectSameArtifact(*b, a);
  // Saving over an existing artifact replaces it.
  a.sourceModel = "other.pt";
  ASSERT_TRUE(saveArtifact(a, path.string()).ok());
  auto c = loadArtifact(path.string());
  ASSERT_TRUE(c.ok()) << c.status().str();
  EXPECT_EQ(c->sourceModel, "other.pt");
}

TEST_F(ArtifactFileTest, LoadThroughAPipe) {
  // `cocktail-run <(...)`: a FIFO has no size to read up front.
  Artifact a = makeArtifact();
  auto path = tempPath("pipe.cocktail");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  const std::string bytes = serializeArtifact(a);
  std::thread writer([&] { std::ofstream(path, std::ios::binary).write(bytes.data(), std::ssize(bytes)); });
  auto b = loadArtifact(path.string());
  writer.join();
  ASSERT_TRUE(b.ok()) << b.status().str();
  expectSameArtifact(*b, a);
}

TEST_F(ArtifactFileTest, LoadMissingFile) {
  auto a = loadArtifact(tempPath("nope.cocktail").string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().str(), HasSubstr("cannot open artifact"));
  EXPECT_THAT(a.status().str(), HasSubstr("nope.cocktail"));
  EXPECT_THAT(a.status().str(), HasSubstr("No such file"));
}

TEST_F(ArtifactFileTest, LoadDirectory) {
  auto dir = tempPath("adir");
  std::filesystem::create_directories(dir);
  auto a = loadArtifact(dir.string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().str(), HasSubstr("adir"));
}

TEST_F(ArtifactFileTest, LoadDirectorySaysItIsADirectory) {
  auto dir = tempPath("adir");
  std::filesystem::create_directories(dir);
  auto a = loadArtifact(dir.string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().str(), HasSubstr("is a directory"));
}

TEST_F(ArtifactFileTest, SaveIntoMissingDirectory) {
  ir::Status st = saveArtifact(makeArtifact(), tempPath("no/such/dir/m.cocktail").string());
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.str(), HasSubstr("cannot write"));
  EXPECT_THAT(st.str(), HasSubstr("m.cocktail"));
}

TEST_F(ArtifactFileTest, LoadEmptyAndForeignFiles) {
  auto empty = tempPath("empty.cocktail");
  writeFile(empty, "");
  auto a = loadArtifact(empty.string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().str(), HasSubstr("not a Cocktail artifact"));
  EXPECT_THAT(a.status().str(), HasSubstr("empty.cocktail"));

  auto zip = tempPath("model.pt");
  writeFile(zip, std::string("PK\x03\x04", 4) + std::string(200, '\0'));
  a = loadArtifact(zip.string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().str(), HasSubstr("not a Cocktail artifact"));
}

// ---- damaged bytes ---------------------------------------------------------------------

TEST(ArtifactTest, EmptyBytes) { EXPECT_THAT(loadError(""), HasSubstr("not a Cocktail artifact")); }

TEST(ArtifactTest, ForeignBytes) {
  std::mt19937 rng(42);
  std::string junk(300, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  EXPECT_THAT(loadError(junk), HasSubstr("not a Cocktail artifact"));
  EXPECT_THAT(loadError("hello, world\n"), HasSubstr("not a Cocktail artifact"));
}

TEST(ArtifactTest, WrongMagic) {
  std::string bytes = serializeArtifact(makeArtifact());
  bytes[0] = 'c';  // "cOCKTAIL"
  std::string e = loadError(bytes);
  EXPECT_THAT(e, HasSubstr("cannot load 'm.cocktail'"));
  EXPECT_THAT(e, HasSubstr("not a Cocktail artifact"));
  EXPECT_THAT(e, HasSubstr("cocktail-compile"));
}

std::string withVersion(std::string bytes, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[8 + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return bytes;
}

TEST(ArtifactTest, OlderFormatVersion) {
  // 2: before CUDA code carried its host plan.
  std::string bytes = serializeArtifact(makeArtifact());
  for (uint32_t v : {0u, 2u, kArtifactFormatVersion - 1}) {
    std::string e = loadError(withVersion(bytes, v));
    EXPECT_THAT(e, HasSubstr("cannot load 'm.cocktail': it was compiled by an older cocktail-compile"));
    EXPECT_THAT(e, HasSubstr("format version " + std::to_string(v)));
    EXPECT_THAT(e, HasSubstr("recompile it"));
  }
}

TEST(ArtifactTest, NewerFormatVersion) {
  std::string bytes = serializeArtifact(makeArtifact());
  for (uint32_t v : {kArtifactFormatVersion + 1, 0xffffffffu}) {
    std::string e = loadError(withVersion(bytes, v));
    EXPECT_THAT(e, HasSubstr("compiled by a newer cocktail-compile"));
    EXPECT_THAT(e, HasSubstr("format version " + std::to_string(v)));
  }
}

TEST(ArtifactTest, EveryTruncationIsAnError) {
  std::string bytes = serializeArtifact(makeArtifact());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto a = deserializeArtifact(bytes.substr(0, n), "m.cocktail");
    ASSERT_FALSE(a.ok()) << "prefix of " << n << " bytes loaded";
    if (n < kHeaderSize)
      EXPECT_THAT(a.status().str(), HasSubstr("not a Cocktail artifact")) << n;
    else
      EXPECT_THAT(a.status().str(), HasSubstr("truncated")) << n;
  }
}

TEST(ArtifactTest, TruncationMessageGivesSizes) {
  std::string bytes = serializeArtifact(makeArtifact());
  size_t payload = bytes.size() - kHeaderSize;
  std::string e = loadError(bytes.substr(0, bytes.size() - 10));
  EXPECT_THAT(e, HasSubstr(std::to_string(payload) + " payload bytes announced, " + std::to_string(payload - 10) +
                           " present"));
}

TEST(ArtifactTest, ExtraTrailingBytes) {
  std::string bytes = serializeArtifact(makeArtifact()) + "xyz";
  EXPECT_THAT(loadError(bytes), HasSubstr("followed by extra bytes"));
}

TEST(ArtifactTest, HugeAnnouncedSize) {
  std::string bytes = serializeArtifact(makeArtifact());
  for (int i = 0; i < 8; ++i) bytes[12 + i] = '\xff';
  EXPECT_THAT(loadError(bytes), HasSubstr("truncated"));
}

TEST(ArtifactTest, PayloadGarbage) {
  std::string bytes = serializeArtifact(makeArtifact());
  // With a checksum that matches the garbage, so that the parser sees it.
  std::string garbage = withHeader(std::string(bytes.size() - kHeaderSize, '\xff'));
  EXPECT_THAT(loadError(garbage), HasSubstr("payload is corrupt"));
}

TEST(ArtifactTest, EveryFlippedPayloadByteIsRefusedByTheChecksum) {
  // A flipped weight byte parsed fine and answered wrongly before the header
  // had a checksum; now every flip, in the weights or anywhere else, is refused.
  std::string bytes = serializeArtifact(makeArtifact());
  for (size_t i = kHeaderSize; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ 0x01);
    EXPECT_THAT(loadError(b), HasSubstr("the file is corrupt: its payload's CRC-32 is")) << "byte " << i;
  }
}

TEST(ArtifactTest, HandMadePayloadsStillParseWhenTheirChecksumIsRight) {
  // What a hex editor cannot do unnoticed, a tool that rewrites the checksum
  // can: the loader's other checks still apply (here, the version inside).
  std::string bytes = serializeArtifact(makeArtifact());
  std::string header = bytes.substr(0, kHeaderSize);
  header[kHeaderSize - 1] = static_cast<char>(header[kHeaderSize - 1] ^ 0x40);
  EXPECT_THAT(loadError(header + bytes.substr(kHeaderSize)), HasSubstr("CRC-32"));
  EXPECT_TRUE(deserializeArtifact(withHeader(bytes.substr(kHeaderSize)), "m.cocktail").ok());
}

TEST(ArtifactTest, EmptyPayloadHasNoProgram) {
  // A header announcing 0 bytes: the message parses (all defaults) and the
  // empty program text does not.
  EXPECT_THAT(loadError(withHeader("")), AnyOf(HasSubstr("does not parse"), HasSubstr("is invalid")));
}

TEST(ArtifactTest, WeightWithWrongByteCount) {
  Artifact a = makeArtifact();
  a.program->weights()[0].data.resize(5);
  std::string e = loadError(serializeArtifact(a));
  EXPECT_THAT(e, HasSubstr("weight 'w' (f32[2,3]) has 5 bytes, expected 24"));
}

TEST(ArtifactTest, WeightWithoutData) {
  Artifact a = makeArtifact();
  a.program->weights()[1].data.clear();
  EXPECT_THAT(loadError(serializeArtifact(a)), HasSubstr("weight 'ids table' (i64[3]) has 0 bytes, expected 24"));
}

TEST(ArtifactTest, WeightMissingFromPayload) {
  // A payload whose weights list leaves out one the program declares.
  Artifact a = makeArtifact();
  std::string program = ir::printProgram(*a.program);
  std::string payload = pbVarint(1, kArtifactFormatVersion) + pbBytes(6, program);
  EXPECT_THAT(loadError(withHeader(payload)), HasSubstr("has no data"));
}

TEST(ArtifactTest, UndeclaredWeightInPayload) {
  std::string bytes = serializeArtifact(makeArtifact());
  // Appending a field to a protobuf message adds to its repeated field.
  std::string extra = pbBytes(7, pbBytes(1, "zzz") + pbBytes(2, "f32") + pbVarint(3, 1) + pbBytes(4, "abcd"));
  std::string e = loadError(withHeader(bytes.substr(kHeaderSize) + extra));
  EXPECT_THAT(e, HasSubstr("weight 'zzz' is not declared by the program"));
}

TEST(ArtifactTest, ProgramTextThatDoesNotParse) {
  std::string payload = pbVarint(1, kArtifactFormatVersion) + pbBytes(6, "func @forward(%x: f32[4] -> () {\n}\n");
  std::string e = loadError(withHeader(payload));
  EXPECT_THAT(e, HasSubstr("its program does not parse"));
  EXPECT_THAT(e, HasSubstr("m.cocktail:program:1:"));  // the diagnostic points into the program text
}

TEST(ArtifactTest, ProgramThatDoesNotVerify) {
  Artifact a;
  a.program = parse("func @forward(%n: i64) -> (i64) {\n  %a = add(%n) : i64\n  return(%a)\n}\n");
  std::string e = loadError(serializeArtifact(a));
  EXPECT_THAT(e, HasSubstr("its program is invalid"));
  EXPECT_THAT(e, HasSubstr("'add' op expects 2 operands, got 1"));
}

// ---- hand-edited schedules: refused at load, naming the op and the attribute ------------

// A recurrence the scheduling pipeline plans as it plans a compiled model:
// placement, tiles and a memory plan with a loop-carried buffer.
constexpr std::string_view kRecurrence = R"(symbol T <= 8
weight @w : f32[16,16]
func @forward(%xs: f32[T,16], %n: i64) -> (f32[16]) {
  %true = constant true : i1
  %zero = constant 0.0 : f64
  %c16 = constant 16 : i64
  %w = weight {name = "w"} : f32[16,16]
  %h0 = full(%zero, %c16) {dtype = f32} : f32[16]
  %h = loop(%n, %true, %h0) : f32[16] {
  ^(%i: i64, %h.1: f32[16]):
    %x = select(%xs, %i) {dim = 0} : f32[16]
    %m = matmul(%w, %h.1) : f32[16] loc("model.py":6)
    %s = add(%x, %m) : f32[16] loc("model.py":7)
    %t = tanh(%s) : f32[16] loc("model.py":8)
    yield(%true, %t)
  }
  %y = mul(%h, %h) : f32[16] loc("model.py":10)
  return(%y)
}
)";

/// kRecurrence through the scheduling pipeline, with its weight filled.
Artifact scheduledArtifact() {
  Artifact a;
  a.program = parse(kRecurrence);
  passes::PassManager pm;
  EXPECT_TRUE(pm.addPipeline(passes::kSchedulingPipeline).ok());
  ir::Status st = pm.run(*a.program);
  EXPECT_TRUE(st.ok()) << st.str();
  std::vector<float> w(256, 0.5f);
  a.program->weights()[0].data = bytesOf(w.data(), w.size() * sizeof(float));
  return a;
}

/// The op whose first result is `%name`.
ir::Op& opNamed(ir::Program& p, const std::string& name) {
  ir::Op* found = nullptr;
  ir::walk(p.body(), [&](ir::Op& op) {
    if (op.numResults() && op.result()->name() == name) found = &op;
  });
  EXPECT_TRUE(found) << "no op defines %" << name << " in\n" << ir::printProgram(p);
  return *found;
}

ir::Op& firstLoop(ir::Program& p) {
  ir::Op* found = nullptr;
  ir::walk(p.body(), [&](ir::Op& op) {
    if (!found && op.kind() == ir::OpKind::Loop) found = &op;
  });
  EXPECT_TRUE(found);
  return *found;
}

/// Loads `a` after `edit`; the error it must give.
std::string editedLoadError(const std::function<void(ir::Program&)>& edit) {
  Artifact a = scheduledArtifact();
  edit(*a.program);
  return loadError(serializeArtifact(a));
}

TEST(ArtifactSchedule, ThePlannedArtifactLoads) {
  Artifact a = scheduledArtifact();
  const std::string text = ir::printProgram(*a.program);
  // What the edits below change is there to change.
  EXPECT_THAT(text, HasSubstr("arena_bytes = "));
  EXPECT_THAT(text, HasSubstr("placement = \"persistent\""));
  EXPECT_THAT(text, HasSubstr("tiles = "));
  EXPECT_EQ(ir::memPlan(opNamed(*a.program, "y")).offsets.size(), 1u);
  auto back = deserializeArtifact(serializeArtifact(a), "m.cocktail");
  ASSERT_TRUE(back.ok()) << back.status().str();
  EXPECT_EQ(ir::printProgram(*back->program), text);
}

TEST(ArtifactSchedule, AnOffsetPastTheArenaOrFarOutsideIt) {
  for (int64_t offset : {int64_t{-1} /* the arena's size, below */, int64_t{1} << 40, INT64_MAX - 8}) {
    std::string e = editedLoadError([&](ir::Program& p) {
      ir::setMemOffsets(opNamed(p, "y"), {offset < 0 ? ir::arenaPlan(p)->bytes : offset});
    });
    EXPECT_THAT(e, HasSubstr("its program is invalid"));
    EXPECT_THAT(e, HasSubstr("model.py:10: error: 'mul' op attribute 'mem': result #0 at offset"));
    EXPECT_THAT(e, HasSubstr("bytes is outside the"));
  }
}

TEST(ArtifactSchedule, AnArenaSmallerThanThePlanNeeds) {
  std::string e = editedLoadError([](ir::Program& p) { ir::setArenaPlan(p, ir::ArenaPlan{64, 64}); });
  EXPECT_THAT(e, HasSubstr("attribute 'mem'"));
  EXPECT_THAT(e, HasSubstr("is outside the 64-byte arena (arena_bytes)"));
}

TEST(ArtifactSchedule, AnArenaOfInt64Max) {
  std::string e = editedLoadError([](ir::Program& p) { ir::setArenaPlan(p, ir::ArenaPlan{INT64_MAX, 64}); });
  EXPECT_THAT(e, HasSubstr("function attribute 'arena_bytes' = 9223372036854775807 is outside 0 to"));
}

TEST(ArtifactSchedule, ANegativeOffset) {
  std::string e = editedLoadError([](ir::Program& p) { ir::setMemOffsets(opNamed(p, "y"), {-5}); });
  EXPECT_THAT(e, HasSubstr("'mul' op attribute 'mem': result #0 has offset -5, which is negative"));
}

TEST(ArtifactSchedule, TwoLiveTensorsOverlapping) {
  // %y reads the loop's result: both live at %y, so %y may not take its bytes.
  std::string e = editedLoadError([](ir::Program& p) {
    ir::Op& loop = firstLoop(p);
    ir::setMemOffsets(opNamed(p, "y"), {ir::memPlan(loop).offsets[0]});
  });
  EXPECT_THAT(e, HasSubstr("'mul' op attribute 'mem': result #0 at ["));
  EXPECT_THAT(e, HasSubstr("while both are live"));
}

TEST(ArtifactSchedule, InvalidPlacementSyncAndTiles) {
  auto loopOf = [](ir::Program& p) -> ir::Op& { return firstLoop(p); };
  EXPECT_THAT(editedLoadError([&](ir::Program& p) { loopOf(p).attrs().set("placement", std::string("zzz")); }),
              HasSubstr("'loop' op attribute 'placement' = \"zzz\" is not a placement"));
  EXPECT_THAT(editedLoadError([&](ir::Program& p) { opNamed(p, "y").attrs().set("sync", std::string("bogus")); }),
              HasSubstr("'mul' op attribute 'sync' = \"bogus\" is not a sync"));
  EXPECT_THAT(editedLoadError([&](ir::Program& p) { opNamed(p, "y").attrs().set("tiles", int64_t{0}); }),
              HasSubstr("'mul' op attribute 'tiles' = 0 must be positive"));
  EXPECT_THAT(editedLoadError([&](ir::Program& p) { opNamed(p, "y").attrs().set("tile_elems", int64_t{0}); }),
              HasSubstr("'mul' op attribute 'tile_elems' = 0 must be positive"));
}

}  // namespace
}  // namespace cocktail::runtime
