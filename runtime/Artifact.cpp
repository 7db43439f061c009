//===- runtime/Artifact.cpp ------------------------------------------------------------===//
#include "runtime/Artifact.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <zlib.h>

#include "artifact.pb.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "runtime/ArtifactCudaPlan.h"

#ifndef COCKTAIL_VERSION
#define COCKTAIL_VERSION "0.0.0"
#endif

namespace cocktail::runtime {

namespace {
constexpr size_t kSizeAt = sizeof(kArtifactMagic) + sizeof(uint32_t);
constexpr size_t kChecksumAt = kSizeAt + sizeof(uint64_t);
constexpr size_t kHeaderSize = kChecksumAt + sizeof(uint32_t);

/// zlib's CRC-32 (hardware-assisted where zlib is): ~0.1 s for a 200 MB model.
uint32_t checksum(const char* data, size_t size) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(data), size));
}

template <typename T>
void putLE(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <typename T>
T getLE(const std::string& in, size_t at) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}
}  // namespace

std::string compilerVersion() { return COCKTAIL_VERSION; }

std::string serializeArtifact(const Artifact& a) {
  cocktail::artifact::Artifact pb;
  pb.set_format_version(kArtifactFormatVersion);
  pb.set_compiler_version(a.compilerVersion);
  pb.set_source_model(a.sourceModel);
  pb.set_target(a.target);
  for (const auto& s : a.inputSpecs) pb.add_input_specs(s);
  pb.set_program(ir::printProgram(*a.program));
  for (const ir::WeightDecl& w : a.program->weights()) {
    auto* pw = pb.add_weights();
    pw->set_name(w.name);
    pw->set_dtype(std::string(ir::dtypeName(w.type.dtype())));
    for (const ir::Dim& d : w.type.dims()) pw->add_shape(d.value());
    pw->set_data(reinterpret_cast<const char*>(w.data.data()), w.data.size());
  }
  for (const auto& f : a.fallbacks) {
    auto* pf = pb.add_fallbacks();
    pf->set_op(f.op);
    pf->set_location(f.location);
    pf->set_reason(f.reason);
  }
  for (const TargetCode& c : a.code) {
    auto* pc = pb.add_code();
    pc->set_target(c.target);
    pc->set_source(c.source);
    for (const auto& [key, bytes] : c.binaries) (*pc->mutable_binaries())[key] = bytes;
    if (c.cudaPlan) writeCudaPlan(*c.cudaPlan, *pc->mutable_cuda_plan());
  }
  std::string payload = pb.SerializeAsString();
  std::string out(kArtifactMagic, sizeof(kArtifactMagic));
  putLE<uint32_t>(out, kArtifactFormatVersion);
  putLE<uint64_t>(out, payload.size());
  putLE<uint32_t>(out, checksum(payload.data(), payload.size()));
  return out + payload;
}

ir::Status saveArtifact(const Artifact& artifact, const std::string& path) {
  std::string bytes = serializeArtifact(artifact);
  // Write to a temporary name first so that a failed write never leaves a
  // half-written artifact under the real name.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return ir::Status::error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return ir::Status::error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return ir::Status::error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  return ir::Status::success();
}

ir::Expected<Artifact> deserializeArtifact(std::string bytes, const std::string& name) {
  auto fail = [&](const std::string& why) { return ir::Status::error(fmt::format("cannot load '{}': {}", name, why)); };
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kArtifactMagic, sizeof(kArtifactMagic)) != 0)
    return fail("not a Cocktail artifact (it does not start with the COCKTAIL header); compile one with cocktail-compile");
  uint32_t version = getLE<uint32_t>(bytes, sizeof(kArtifactMagic));
  if (version < kArtifactFormatVersion)
    return fail(fmt::format("it was compiled by an older cocktail-compile (artifact format version {}; this build "
                            "reads version {}); recompile it with this cocktail-compile",
                            version, kArtifactFormatVersion));
  if (version > kArtifactFormatVersion)
    return fail(fmt::format("it was compiled by a newer cocktail-compile (artifact format version {}; this build "
                            "reads version {}); recompile it with this cocktail-compile or run a newer build",
                            version, kArtifactFormatVersion));
  uint64_t size = getLE<uint64_t>(bytes, kSizeAt);
  uint64_t available = bytes.size() - kHeaderSize;
  if (size != available)
    return fail(fmt::format("the file is {} ({} payload bytes announced, {} present)",
                            size > available ? "truncated" : "followed by extra bytes", size, available));
  const uint32_t announced = getLE<uint32_t>(bytes, kChecksumAt);
  if (const uint32_t actual = checksum(bytes.data() + kHeaderSize, size); actual != announced)
    return fail(fmt::format("the file is corrupt: its payload's CRC-32 is {:08x}, the header says {:08x} (the bytes "
                            "changed after cocktail-compile wrote them); recompile the model or copy it again",
                            actual, announced));
  cocktail::artifact::Artifact pb;
  if (!pb.ParseFromArray(bytes.data() + kHeaderSize, static_cast<int>(size)))
    return fail("the payload is corrupt (it is not a valid artifact message)");
  // The weights are now in `pb`; from here on each byte of them is held at
  // most twice (in the message and in the program), never three times.
  std::string().swap(bytes);

  auto program = ir::parseProgram(pb.program(), name + ":program");
  if (!program) return fail("its program does not parse:\n" + program.status().str());
  std::shared_ptr<ir::Program> prog = program.take();
  std::set<std::string> present;
  for (auto& pw : *pb.mutable_weights()) {
    present.insert(pw.name());
    ir::WeightDecl* decl = nullptr;
    for (auto& w : prog->weights())
      if (w.name == pw.name()) decl = &w;
    if (!decl) return fail(fmt::format("weight '{}' is not declared by the program", pw.name()));
    int64_t expected = ir::dtypeSize(decl->type.dtype());
    for (const ir::Dim& d : decl->type.dims()) expected *= d.isConstant() ? d.value() : -1;
    if (expected < 0 || static_cast<int64_t>(pw.data().size()) != expected)
      return fail(fmt::format("weight '{}' ({}) has {} bytes, expected {}", pw.name(), decl->type.str(),
                              pw.data().size(), expected));
    const auto* p = reinterpret_cast<const std::byte*>(pw.data().data());
    decl->data.assign(p, p + pw.data().size());
    std::string().swap(*pw.mutable_data());  // copied: free the message's bytes now, not at the end
  }
  for (const auto& w : prog->weights())
    if (!present.count(w.name)) return fail(fmt::format("weight '{}' has no data", w.name));
  ir::Status verified = ir::verifyProgram(*prog);
  if (!verified.ok()) return fail("its program is invalid:\n" + verified.str());

  Artifact a;
  a.compilerVersion = pb.compiler_version();
  a.sourceModel = pb.source_model();
  a.target = pb.target();
  a.inputSpecs.assign(pb.input_specs().begin(), pb.input_specs().end());
  a.program = std::move(prog);
  for (const auto& f : pb.fallbacks()) a.fallbacks.push_back({f.op(), f.location(), f.reason()});
  for (const auto& pc : pb.code()) {
    TargetCode c{pc.target(), pc.source(), {}, std::nullopt};
    for (const auto& [key, bytes] : pc.binaries()) c.binaries[key] = bytes;
    if (c.target.empty()) return fail("it has generated code without a target name");
    if (c.target == "cuda") {
      if (!pc.has_cuda_plan()) return fail("its CUDA code has no host plan");
      auto plan = readCudaPlan(pc.cuda_plan(), *a.program);
      if (!plan) return fail(plan.status().diagnostics().front().message);
      c.cudaPlan = plan.take();
    }
    a.code.push_back(std::move(c));
  }
  if (a.target != "cpu" && !a.codeFor(a.target))
    return fail(fmt::format("its target is '{}' but it holds no code for it", a.target));
  return a;
}

const TargetCode* Artifact::codeFor(const std::string& target) const {
  for (const TargetCode& c : code)
    if (c.target == target) return &c;
  return nullptr;
}

ir::Expected<Artifact> loadArtifact(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return ir::Status::error(fmt::format("cannot open artifact '{}': it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return ir::Status::error(fmt::format("cannot open artifact '{}': {}", path, std::strerror(errno)));
  std::string bytes;
  in.seekg(0, std::ios::end);
  if (const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1; size >= 0) {
    // A regular file: one buffer of its size (a stringstream would hold the bytes twice).
    bytes.resize(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
      return ir::Status::error(fmt::format("cannot read artifact '{}': it ended after {} of {} bytes", path,
                                           in.gcount(), size));
  } else {
    // A pipe (`<(...)`) has no size: read it through.
    in.clear();
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes = std::move(ss).str();
  }
  if (in.bad()) return ir::Status::error(fmt::format("cannot read artifact '{}': {}", path, std::strerror(errno)));
  return deserializeArtifact(std::move(bytes), path);
}

}  // namespace cocktail::runtime
