//===- tests/fuzz/inputs_file_fuzzer.cpp - torch.save inputs files (cocktail-run --inputs) ----===//
//
// The first byte chooses what the rest is:
//   even: a whole file as torch.save writes it (a zip archive);
//   odd:  only its data.pkl pickle, put here into an archive with four
//         64-byte storages (data/0 .. data/3), so that mutations get past the
//         zip's CRCs into the pickle, the tensors' sizes, strides and
//         storage offsets, and the conversion to runtime values.
// Either must be refused with a message, never crash, read out of bounds or
// allocate by a size the file declares (libFuzzer's -malloc_limit_mb says so).
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <string>
#include <vector>

#include <caffe2/serialize/inline_container.h>

#include "runtime/TorchInterop.h"

namespace {
std::vector<char> archiveWithPickle(const std::string& pickle) {
  std::vector<char> out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) {
    out.insert(out.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  const std::vector<char> storage(64, '\x01');
  for (const char* key : {"data/0", "data/1", "data/2", "data/3"}) writer.writeRecord(key, storage.data(), storage.size());
  writer.writeEndOfFile();
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* rest = reinterpret_cast<const char*>(data) + 1;
  std::vector<char> bytes = (data[0] & 1) ? archiveWithPickle(std::string(rest, size - 1))
                                          : std::vector<char>(rest, rest + size - 1);
  // A limit as cocktail-run derives from a model's signature: no tensor made
  // dense past it (the machine's memory would let ASan see a 64 GiB `new`).
  static const cocktail::runtime::ValuesFileLimits limits{std::uint64_t{64} << 20, "the fuzzer's limit"};
  (void)cocktail::runtime::parseValuesFile(bytes, "fuzz.pt", limits);
  return 0;
}
