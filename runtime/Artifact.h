//===- runtime/Artifact.h - The `.cocktail` file -------------------------------------===//
//
// A compiled model: its signature, the uProgram as IR text, the weights, the
// fallback report and per-target code. Saving writes a small header before the
// protobuf payload: the magic "COCKTAIL", the format version (uint32), the
// payload size (uint64) and the payload's CRC-32 (uint32), all little-endian,
// so that a foreign, truncated or corrupted file is refused before anything is
// parsed (a flipped weight byte would otherwise load and answer wrongly).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/Program.h"
#include "ir/Status.h"
#include "runtime/cuda/CudaPlan.h"

namespace cocktail::runtime {

/// Bumped whenever the file's layout or the payload's meaning changes; older
/// files are refused with "recompile". 2: the header holds the payload's CRC-32.
/// 3: CUDA code carries its host plan (the runtime no longer regenerates it).
inline constexpr uint32_t kArtifactFormatVersion = 3;
inline constexpr char kArtifactMagic[8] = {'C', 'O', 'C', 'K', 'T', 'A', 'I', 'L'};

struct FallbackInfo {
  std::string op;
  std::string location;
  std::string reason;
};

/// Code generated for one target: for CUDA, the source, a cubin per
/// architecture ("sm_90") and PTX ("ptx") for the others, and the host plan
/// that runs them.
struct TargetCode {
  std::string target;
  std::string source;
  std::map<std::string, std::string> binaries;
  /// target cuda: checked against the program and the arena when loaded.
  std::optional<cuda::CudaPlan> cudaPlan;
};

struct Artifact {
  std::string compilerVersion;
  std::string sourceModel;
  std::string target = "cpu";
  std::vector<std::string> inputSpecs;
  /// The program, with weight bytes.
  std::shared_ptr<ir::Program> program;
  std::vector<FallbackInfo> fallbacks;
  std::vector<TargetCode> code;
  /// The code generated for `target`, or null.
  const TargetCode* codeFor(const std::string& target) const;
};

/// Serialises to bytes (header + payload).
std::string serializeArtifact(const Artifact& artifact);
ir::Status saveArtifact(const Artifact& artifact, const std::string& path);

/// Parses and verifies; every failure names the file and what is wrong.
/// Takes the bytes by value: moved in, they are freed as soon as they are
/// parsed, so a large artifact's weights are never held three times.
ir::Expected<Artifact> deserializeArtifact(std::string bytes, const std::string& name);
ir::Expected<Artifact> loadArtifact(const std::string& path);

/// The version string compiled into this build ("0.1.0").
std::string compilerVersion();

}  // namespace cocktail::runtime
