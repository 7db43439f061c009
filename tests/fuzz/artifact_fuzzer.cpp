//===- tests/fuzz/artifact_fuzzer.cpp - `.cocktail` files through load and validation ----===//
//
// The first byte chooses what the rest is:
//   even: a whole artifact file, header included (foreign, truncated and
//         corrupted files must be refused by the header checks);
//   odd:  only the protobuf payload, given a correct header here, so that
//         mutations get past the CRC-32 into the payload's parsing, the
//         program's parsing and verification (memory plan and schedule
//         included) and the weights' checks.
// What loads must also make a CPU executor (or refuse with a message): the
// executor trusts what the loader verified.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <string>

#include <zlib.h>
#include <google/protobuf/stubs/logging.h>

#include "runtime/Artifact.h"
#include "runtime/CpuExecutor.h"

namespace {
template <typename T>
void putLE(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// The header runtime/Artifact.h describes, around `payload`.
std::string withHeader(const std::string& payload) {
  using namespace cocktail::runtime;
  std::string out(kArtifactMagic, sizeof(kArtifactMagic));
  putLE<uint32_t>(out, kArtifactFormatVersion);
  putLE<uint64_t>(out, payload.size());
  const auto crc = crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  putLE<uint32_t>(out, static_cast<uint32_t>(crc));
  return out + payload;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every bad string it parses; the fuzzer would print little else.
  static const google::protobuf::LogSilencer quiet;
  using namespace cocktail::runtime;
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes = (data[0] & 1) ? withHeader(rest) : std::move(rest);
  auto artifact = deserializeArtifact(std::move(bytes), "fuzz.cocktail");
  if (!artifact) return 0;
  (void)createCpuExecutor(artifact->program, nullptr);
  return 0;
}
