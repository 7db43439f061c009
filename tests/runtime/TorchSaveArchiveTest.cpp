//===- tests/runtime/TorchSaveArchiveTest.cpp - torch.save's zip, read without trust ----===//
//
// TorchSaveArchive on archives assembled here the way torch.save writes them
// (stored records under one folder, zip64 end records), then with one field
// edited at a time: each edit is an error that says what is wrong, and no
// record handed out reaches outside the file. The inputs_file fuzzer covers
// the rest of the space.
//
//===----------------------------------------------------------------------===//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "runtime/TorchSaveArchive.h"

namespace cocktail::runtime {
namespace {

using ::testing::HasSubstr;

void putLE(std::string& out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void setLE(std::string& out, size_t at, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t crcOf(const std::string& s) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(s.data()), s.size()));
}

/// A zip as torch.save (LibTorch's PyTorchStreamWriter) writes it, with the
/// offsets of the fields the tests edit.
struct Zip {
  std::string bytes;
  std::vector<size_t> centralAt;  // each record's central directory header
  std::vector<size_t> localAt;    // each record's local header
  size_t zip64EndAt = 0, locatorAt = 0, endAt = 0;
};

Zip makeZip(const std::vector<std::pair<std::string, std::string>>& records, bool zip64 = true) {
  Zip z;
  std::string& b = z.bytes;
  for (const auto& [name, data] : records) {
    z.localAt.push_back(b.size());
    putLE(b, 0x04034b50, 4);
    putLE(b, 20, 2);  // version needed
    putLE(b, 0, 2);   // flags
    putLE(b, 0, 2);   // stored
    putLE(b, 0, 4);   // time, date
    putLE(b, crcOf(data), 4);
    putLE(b, data.size(), 4);
    putLE(b, data.size(), 4);
    putLE(b, name.size(), 2);
    putLE(b, 0, 2);
    b += name + data;
  }
  const size_t cdAt = b.size();
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& [name, data] = records[i];
    z.centralAt.push_back(b.size());
    putLE(b, 0x02014b50, 4);
    putLE(b, 20, 2);
    putLE(b, 20, 2);
    putLE(b, 0, 2);  // flags
    putLE(b, 0, 2);  // stored
    putLE(b, 0, 4);
    putLE(b, crcOf(data), 4);
    putLE(b, data.size(), 4);
    putLE(b, data.size(), 4);
    putLE(b, name.size(), 2);
    putLE(b, 0, 2);   // extra
    putLE(b, 0, 2);   // comment
    putLE(b, 0, 2);   // disk
    putLE(b, 0, 2);   // internal attributes
    putLE(b, 0, 4);   // external attributes
    putLE(b, z.localAt[i], 4);
    b += name;
  }
  const size_t cdSize = b.size() - cdAt;
  if (zip64) {
    z.zip64EndAt = b.size();
    putLE(b, 0x06064b50, 4);
    putLE(b, 44, 8);
    putLE(b, 45, 2);
    putLE(b, 45, 2);
    putLE(b, 0, 4);
    putLE(b, 0, 4);
    putLE(b, records.size(), 8);
    putLE(b, records.size(), 8);
    putLE(b, cdSize, 8);
    putLE(b, cdAt, 8);
    z.locatorAt = b.size();
    putLE(b, 0x07064b50, 4);
    putLE(b, 0, 4);
    putLE(b, z.zip64EndAt, 8);
    putLE(b, 1, 4);
  }
  z.endAt = b.size();
  putLE(b, 0x06054b50, 4);
  putLE(b, 0, 4);
  putLE(b, records.size(), 2);
  putLE(b, records.size(), 2);
  putLE(b, cdSize, 4);
  putLE(b, cdAt, 4);
  putLE(b, 0, 2);
  return z;
}

const std::vector<std::pair<std::string, std::string>> kRecords = {
    {"inputs/data.pkl", "\x80\x02]."}, {"inputs/data/0", std::string(12, '\x01')}, {"inputs/version", "3\n"}};

std::string openError(const std::string& bytes) {
  auto a = TorchSaveArchive::open(bytes);
  return a.ok() ? "" : a.status().diagnostics().front().message;
}

TEST(TorchSaveArchiveTest, ReadsRecordsUnderTheFolder) {
  for (bool zip64 : {true, false}) {
    const Zip z = makeZip(kRecords, zip64);
    auto a = TorchSaveArchive::open(z.bytes);
    ASSERT_TRUE(a.ok()) << a.status().str();
    EXPECT_EQ(a->folder(), "inputs");
    EXPECT_TRUE(a->has("data/0"));
    EXPECT_FALSE(a->has("data/1"));
    auto data = a->record("data/0");
    ASSERT_TRUE(data.ok());
    EXPECT_EQ(*data, std::string(12, '\x01'));
    EXPECT_EQ(*a->record("version"), "3\n");
    EXPECT_THAT(a->record("data/7").status().str(), HasSubstr("it has no record 'inputs/data/7'"));
  }
}

TEST(TorchSaveArchiveTest, RefusesWhatIsNoZip) {
  EXPECT_THAT(openError(""), HasSubstr("no end-of-central-directory record"));
  EXPECT_THAT(openError("PK\x03\x04 and then nothing"), HasSubstr("no end-of-central-directory record"));
  EXPECT_THAT(openError(makeZip({}, false).bytes), HasSubstr("it holds no records"));
}

// A record whose header claims more than the file holds: LibTorch 1.13's
// reader allocates the claimed size before it reads.
TEST(TorchSaveArchiveTest, RefusesARecordPastTheFilesEnd) {
  for (uint64_t claimed : {uint64_t{1000}, uint64_t{25} << 30}) {
    Zip z = makeZip(kRecords, false);
    setLE(z.bytes, z.centralAt[1] + 20, claimed, 4);
    setLE(z.bytes, z.centralAt[1] + 24, claimed, 4);
    EXPECT_THAT(openError(z.bytes), HasSubstr(fmt::format("record 'inputs/data/0' claims {} bytes", claimed & 0xffffffff)));
  }
}

TEST(TorchSaveArchiveTest, RefusesZip64SizesPastTheFilesEnd) {
  // Sizes of 0xffffffff move to a zip64 extra field; one of 2^40 there.
  Zip z = makeZip({{"inputs/data/0", "abcd"}}, true);
  std::string& b = z.bytes;
  const size_t cd = z.centralAt[0];
  setLE(b, cd + 20, 0xffffffff, 4);
  setLE(b, cd + 24, 0xffffffff, 4);
  std::string extra;
  putLE(extra, 0x0001, 2);
  putLE(extra, 16, 2);
  putLE(extra, uint64_t{1} << 40, 8);
  putLE(extra, uint64_t{1} << 40, 8);
  setLE(b, cd + 30, extra.size(), 2);
  const size_t nameEnd = cd + 46 + std::string("inputs/data/0").size();
  b.insert(nameEnd, extra);
  // The directory grew: move the end records' size fields along.
  setLE(b, z.zip64EndAt + extra.size() + 40, nameEnd + extra.size() - cd, 8);
  setLE(b, z.locatorAt + extra.size() + 8, z.zip64EndAt + extra.size(), 8);
  setLE(b, z.endAt + extra.size() + 12, nameEnd + extra.size() - cd, 4);
  EXPECT_THAT(openError(b), HasSubstr("claims 1099511627776 bytes"));
  // Without the extra field the sizes cannot be known.
  setLE(b, cd + 46 + 13, 0x0009, 2);  // the extra's id no longer zip64's
  EXPECT_THAT(openError(b), HasSubstr("which it lacks"));
}

TEST(TorchSaveArchiveTest, RefusesEditedDirectoryFields) {
  struct Edit {
    const char* what;
    std::function<void(Zip&)> apply;
    const char* error;
  };
  const std::vector<Edit> edits = {
      {"directory offset past the end", [](Zip& z) { setLE(z.bytes, z.zip64EndAt + 48, uint64_t{1} << 50, 8); },
       "is not inside the file"},
      {"entry count beyond the directory", [](Zip& z) { setLE(z.bytes, z.zip64EndAt + 32, 1u << 30, 8); },
       "1073741824 entries cannot fit"},
      {"locator pointing nowhere", [](Zip& z) { setLE(z.bytes, z.locatorAt + 8, 3, 8); },
       "the zip64 end record the locator points at (byte 3) is not there"},
      {"a central header's signature", [](Zip& z) { z.bytes[z.centralAt[1]] = 'X'; },
       "central directory entry 1"},
      {"a name running past the directory", [](Zip& z) { setLE(z.bytes, z.centralAt[2] + 28, 5000, 2); },
       "runs past the directory's end"},
      {"compressed", [](Zip& z) { setLE(z.bytes, z.centralAt[1] + 10, 8, 2); },
       "record 'inputs/data/0' is compressed (method 8)"},
      {"encrypted", [](Zip& z) { setLE(z.bytes, z.centralAt[1] + 8, 1, 2); }, "is encrypted"},
      {"sizes differ", [](Zip& z) { setLE(z.bytes, z.centralAt[1] + 20, 11, 4); }, "its sizes differ (11 and 12"},
      {"local header elsewhere", [](Zip& z) { setLE(z.bytes, z.centralAt[1] + 42, 7, 4); },
       "has no local header at byte 7"},
      {"local name length past the end", [](Zip& z) { setLE(z.bytes, z.localAt[1] + 26, 0xffff, 2); },
       "past the file's end"},
      {"first record in no folder", [](Zip& z) { z.bytes[z.centralAt[0] + 46 + 6] = '_'; },
       "its first record 'inputs_data.pkl' is not in a folder"},
  };
  for (const Edit& e : edits) {
    Zip z = makeZip(kRecords);
    e.apply(z);
    EXPECT_THAT(openError(z.bytes), HasSubstr(e.error)) << e.what;
  }
}

TEST(TorchSaveArchiveTest, RefusesTheSameRecordTwice) {
  EXPECT_THAT(openError(makeZip({{"a/data.pkl", "x"}, {"a/data.pkl", "y"}}).bytes),
              HasSubstr("it holds record 'a/data.pkl' twice"));
}

TEST(TorchSaveArchiveTest, RecordsOutsideTheFolderAreIgnored) {
  auto a = TorchSaveArchive::open(makeZip({{"a/data.pkl", "x"}, {"b/data/0", "y"}, {"ab/version", "3"}}).bytes);
  ASSERT_TRUE(a.ok()) << a.status().str();
  EXPECT_TRUE(a->has("data.pkl"));
  EXPECT_FALSE(a->has("data/0"));
  EXPECT_FALSE(a->has("version"));
}

TEST(TorchSaveArchiveTest, ACorruptRecordFailsItsCrc) {
  Zip z = makeZip(kRecords);
  z.bytes[z.localAt[1] + 30 + std::string("inputs/data/0").size() + 3] ^= 0x40;
  auto a = TorchSaveArchive::open(z.bytes);
  ASSERT_TRUE(a.ok()) << a.status().str();
  EXPECT_TRUE(a->record("version").ok());
  EXPECT_THAT(a->record("data/0").status().str(), HasSubstr("record 'inputs/data/0' is corrupt: its CRC-32 is"));
}

TEST(TorchSaveArchiveTest, EveryTruncationAndByteFlipIsHandled) {
  // Each answer is an error or records inside the bytes; never a crash
  // (the asan preset runs this too).
  const Zip z = makeZip(kRecords);
  for (size_t n = 0; n < z.bytes.size(); ++n) {
    const std::string cut = z.bytes.substr(0, n);
    auto a = TorchSaveArchive::open(cut);
    if (a.ok())
      for (const char* name : {"data.pkl", "data/0", "version"})
        if (auto r = a->record(name); r.ok()) {
          EXPECT_GE(r->data(), cut.data());
          EXPECT_LE(r->data() + r->size(), cut.data() + cut.size());
        }
  }
  std::mt19937 rng(22);
  int opened = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = z.bytes;
    for (int k = 0; k < 3; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    auto a = TorchSaveArchive::open(b);
    if (!a.ok()) continue;
    ++opened;
    for (const char* name : {"data.pkl", "data/0", "version"})
      if (auto r = a->record(name); r.ok()) {
        EXPECT_GE(r->data(), b.data());
        EXPECT_LE(r->data() + r->size(), b.data() + b.size());
      }
  }
  EXPECT_GT(opened, 0);  // flips in record data and names leave the directory readable
}

}  // namespace
}  // namespace cocktail::runtime
