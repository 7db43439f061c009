//===- runtime/TorchSaveArchive.cpp ----------------------------------------------------===//
#include "runtime/TorchSaveArchive.h"

#include <optional>
#include <utility>

#include <fmt/format.h>
#include <zlib.h>

namespace cocktail::runtime {

namespace {

// The zip format's records (PKWARE's APPNOTE.TXT): signatures, fixed sizes,
// and the offsets of the fields read here.
constexpr uint32_t kEndOfCentralDirectorySig = 0x06054b50;
constexpr uint64_t kEndOfCentralDirectorySize = 22;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kZip64Marker = 0xffffffff;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kFlagEncrypted = 0x1;
// The end record may be followed by a comment of at most 65535 bytes.
constexpr uint64_t kMaxCommentSize = 0xffff;

/// Little-endian reads at offsets the caller has checked against the size.
uint64_t le(std::string_view b, uint64_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

/// Whether [at, at + n) lies inside a buffer of `size` bytes, without overflow.
bool inside(uint64_t at, uint64_t n, uint64_t size) { return at <= size && n <= size - at; }

ir::Status corrupt(std::string what) { return ir::Status::error("not a zip archive torch.save wrote: " + what); }

/// The end-of-central-directory record: the last signature from the end with
/// room for the record after it, as zip readers (miniz among them) look for it.
std::optional<uint64_t> findEndOfCentralDirectory(std::string_view b) {
  if (b.size() < kEndOfCentralDirectorySize) return std::nullopt;
  const uint64_t last = b.size() - kEndOfCentralDirectorySize;
  const uint64_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
  for (uint64_t at = last + 1; at-- > first;)
    if (le(b, at, 4) == kEndOfCentralDirectorySig) return at;
  return std::nullopt;
}

struct CentralDirectory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
};

ir::Expected<CentralDirectory> readCentralDirectoryLocation(std::string_view b) {
  const std::optional<uint64_t> end = findEndOfCentralDirectory(b);
  if (!end) return corrupt("no end-of-central-directory record");
  CentralDirectory cd{le(b, *end + 16, 4), le(b, *end + 12, 4), le(b, *end + 10, 2)};
  // torch.save writes zip64 records (their sizes take precedence, as in miniz).
  if (*end >= kZip64LocatorSize && le(b, *end - kZip64LocatorSize, 4) == kZip64LocatorSig) {
    const uint64_t at = le(b, *end - kZip64LocatorSize + 8, 8);
    if (!inside(at, kZip64EndSize, *end) || le(b, at, 4) != kZip64EndSig)
      return corrupt(fmt::format("the zip64 end record the locator points at (byte {}) is not there", at));
    cd = CentralDirectory{le(b, at + 48, 8), le(b, at + 40, 8), le(b, at + 32, 8)};
  }
  if (!inside(cd.offset, cd.size, *end))
    return corrupt(fmt::format("its central directory (bytes {} to {} + {}) is not inside the file's {} bytes",
                               cd.offset, cd.offset, cd.size, b.size()));
  if (cd.entries > cd.size / kCentralHeaderSize)
    return corrupt(fmt::format("{} entries cannot fit in a central directory of {} bytes", cd.entries, cd.size));
  return cd;
}

/// Sizes and offset the zip64 extra field holds for the fields set to 0xffffffff.
ir::Status readZip64Extra(std::string_view extra, uint64_t& size, uint64_t& compressedSize, uint64_t& localOffset,
                          bool sizeWide, bool compressedWide, bool offsetWide, const std::string& name) {
  for (uint64_t at = 0; inside(at, 4, extra.size());) {
    const uint64_t id = le(extra, at, 2), length = le(extra, at + 2, 2);
    if (!inside(at + 4, length, extra.size())) break;
    if (id == kZip64ExtraId) {
      uint64_t field = at + 4;
      const uint64_t fieldEnd = field + length;
      for (auto [wide, value] : {std::pair{sizeWide, &size}, std::pair{compressedWide, &compressedSize},
                                 std::pair{offsetWide, &localOffset}}) {
        if (!wide) continue;
        if (!inside(field, 8, fieldEnd)) return corrupt(fmt::format("record '{}' has a short zip64 extra field", name));
        *value = le(extra, field, 8);
        field += 8;
      }
      return ir::Status::success();
    }
    at += 4 + length;
  }
  return corrupt(fmt::format("record '{}' says its sizes are in a zip64 extra field, which it lacks", name));
}

}  // namespace

ir::Expected<TorchSaveArchive> TorchSaveArchive::open(std::string_view b) {
  auto cd = readCentralDirectoryLocation(b);
  if (!cd) return cd.status();
  if (cd->entries == 0) return corrupt("it holds no records");

  TorchSaveArchive archive;
  archive.bytes_ = b;
  const uint64_t cdEnd = cd->offset + cd->size;
  uint64_t at = cd->offset;
  for (uint64_t i = 0; i < cd->entries; ++i) {
    if (!inside(at, kCentralHeaderSize, cdEnd) || le(b, at, 4) != kCentralHeaderSig)
      return corrupt(fmt::format("central directory entry {} (byte {}) is not one", i, at));
    const uint64_t flags = le(b, at + 8, 2), method = le(b, at + 10, 2);
    const uint64_t nameLength = le(b, at + 28, 2), extraLength = le(b, at + 30, 2), commentLength = le(b, at + 32, 2);
    const uint64_t entryEnd = at + kCentralHeaderSize + nameLength + extraLength + commentLength;
    if (entryEnd > cdEnd) return corrupt(fmt::format("central directory entry {} runs past the directory's end", i));
    const std::string fullName(b.substr(at + kCentralHeaderSize, nameLength));
    Entry e;
    e.crc32 = static_cast<uint32_t>(le(b, at + 16, 4));
    uint64_t compressedSize = le(b, at + 20, 4), localOffset = le(b, at + 42, 4);
    e.size = le(b, at + 24, 4);
    if (e.size == kZip64Marker || compressedSize == kZip64Marker || localOffset == kZip64Marker) {
      ir::Status s = readZip64Extra(b.substr(at + kCentralHeaderSize + nameLength, extraLength), e.size, compressedSize,
                                    localOffset, e.size == kZip64Marker, compressedSize == kZip64Marker,
                                    localOffset == kZip64Marker, fullName);
      if (!s.ok()) return s;
    }
    if (flags & kFlagEncrypted) return corrupt(fmt::format("record '{}' is encrypted", fullName));
    if (method != kMethodStored)
      return corrupt(fmt::format("record '{}' is compressed (method {}); torch.save stores records uncompressed",
                                 fullName, method));
    if (compressedSize != e.size)
      return corrupt(fmt::format("record '{}' is stored, but its sizes differ ({} and {} bytes)", fullName,
                                 compressedSize, e.size));
    if (!inside(localOffset, kLocalHeaderSize, b.size()) || le(b, localOffset, 4) != kLocalHeaderSig)
      return corrupt(fmt::format("record '{}' has no local header at byte {}", fullName, localOffset));
    e.dataOffset = localOffset + kLocalHeaderSize + le(b, localOffset + 26, 2) + le(b, localOffset + 28, 2);
    if (!inside(e.dataOffset, e.size, b.size()))
      return corrupt(fmt::format("record '{}' claims {} bytes at byte {}, past the file's end ({} bytes)", fullName,
                                 e.size, e.dataOffset, b.size()));

    // The folder is the first record's (LibTorch's rule); others are ignored.
    const size_t slash = fullName.find('/');
    if (i == 0) {
      if (slash == std::string::npos || slash == 0)
        return corrupt(fmt::format("its first record '{}' is not in a folder", fullName));
      archive.folder_ = fullName.substr(0, slash);
    }
    if (slash == archive.folder_.size() && fullName.compare(0, slash, archive.folder_) == 0)
      if (!archive.entries_.emplace(fullName.substr(slash + 1), e).second)
        return corrupt(fmt::format("it holds record '{}' twice", fullName));
    at = entryEnd;
  }
  return archive;
}

ir::Expected<std::string_view> TorchSaveArchive::record(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return ir::Status::error(fmt::format("it has no record '{}/{}'", folder_, name));
  const Entry& e = it->second;
  const std::string_view data = bytes_.substr(e.dataOffset, e.size);
  const auto crc = static_cast<uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(data.data()), data.size()));
  if (crc != e.crc32)
    return ir::Status::error(fmt::format("record '{}/{}' is corrupt: its CRC-32 is {:08x}, the archive says {:08x}",
                                         folder_, name, crc, e.crc32));
  return data;
}

}  // namespace cocktail::runtime
