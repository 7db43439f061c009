//===- runtime/TorchSaveArchive.h - The zip archive torch.save writes -------------------===//
//
// `torch.save` writes a zip archive of stored (uncompressed) records under one
// folder: `<name>/data.pkl` (the pickle), `<name>/data/<key>` (one per
// storage) and `<name>/version`. LibTorch 1.13's reader allocates each record
// at the size its header declares before it reads a byte, so a mutated header
// is a multi-gigabyte allocation. This reader finds the records from the
// central directory and hands out views of their bytes, checking every
// offset, size and CRC against the file first: nothing it returns lies
// outside the file, and nothing is allocated by a size read from it.
// Pure bytes: no LibTorch, unit-tested on its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "ir/Status.h"

namespace cocktail::runtime {

class TorchSaveArchive {
 public:
  /// Reads the central directory of `bytes` (which must outlive the archive)
  /// and checks each entry: stored, not encrypted, its local header and data
  /// inside the file, names unique and under one folder. The error says what
  /// is wrong and where (byte offsets, the record's name).
  static ir::Expected<TorchSaveArchive> open(std::string_view bytes);

  /// The bytes of the record `name` under the archive's folder ("data.pkl",
  /// "data/0", "version"), after checking their CRC-32; an error names the
  /// record when it is missing or its bytes do not match their CRC.
  ir::Expected<std::string_view> record(std::string_view name) const;

  /// The folder every record is under (torch.save uses the file's stem).
  const std::string& folder() const { return folder_; }

  /// Whether the archive holds the record `name` under its folder.
  bool has(std::string_view name) const { return entries_.find(name) != entries_.end(); }

 private:
  struct Entry {
    uint64_t dataOffset = 0;
    uint64_t size = 0;
    uint32_t crc32 = 0;
  };
  std::string_view bytes_;
  std::string folder_;
  std::map<std::string, Entry, std::less<>> entries_;  // by name under the folder
};

}  // namespace cocktail::runtime
