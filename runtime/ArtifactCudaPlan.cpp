//===- runtime/ArtifactCudaPlan.cpp ---------------------------------------------------===//
#include "runtime/ArtifactCudaPlan.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cocktail::runtime {

using cuda::BoundaryValue;
using cuda::BufferRegion;
using cuda::CudaPlan;
using cuda::DeviceCheck;
using cuda::HostScalar;
using cuda::HostStep;
using cuda::KernelInfo;

namespace {

// Limits a plan the generator writes stays far inside; past them a number
// is a hand edit or corruption, refused before anything is allocated for it.
constexpr int64_t kMaxArenaBytes = int64_t{1} << 40;   // 1 TiB: more than any GPU's memory
constexpr int64_t kMaxSharedBytes = int64_t{1} << 24;  // 16 MiB: more than any GPU's shared memory per block
constexpr int64_t kMaxGridBlocks = (int64_t{1} << 31) - 1;  // CUDA's gridDim.x
constexpr int kMaxBlockThreads = 1024;
// The error word's code is (check + 1) in 32 bits.
constexpr int kMaxDeviceChecks = (1 << 30);

// ---- writing ---------------------------------------------------------------------------

artifact::CudaKernel::Kind kindOf(KernelInfo::Kind k) {
  switch (k) {
    case KernelInfo::Kind::Operator: return artifact::CudaKernel::OPERATOR;
    case KernelInfo::Kind::Persistent: return artifact::CudaKernel::PERSISTENT;
    case KernelInfo::Kind::Copy: return artifact::CudaKernel::COPY;
  }
  return artifact::CudaKernel::OPERATOR;
}

void writeScalar(const HostScalar& s, artifact::HostScalar& out) {
  out.set_kind(s.kind == HostScalar::Kind::Slot        ? artifact::HostScalar::SLOT
               : s.kind == HostScalar::Kind::LoopIndex ? artifact::HostScalar::LOOP_INDEX
                                                       : artifact::HostScalar::CONSTANT);
  out.set_value(s.value);
  out.set_dtype(std::string(ir::dtypeName(s.dtype)));
}

void writeSteps(const std::vector<HostStep>& steps, google::protobuf::RepeatedPtrField<artifact::HostStep>& out) {
  for (const HostStep& s : steps) {
    artifact::HostStep& o = *out.Add();
    switch (s.kind) {
      case HostStep::Kind::Launch:
        o.set_kind(artifact::HostStep::LAUNCH);
        o.set_kernel(s.kernel);
        break;
      case HostStep::Kind::Loop:
        o.set_kind(artifact::HostStep::LOOP);
        writeScalar(s.trip, *o.mutable_trip());
        writeScalar(s.cond, *o.mutable_cond());
        writeScalar(s.yieldCond, *o.mutable_yield_cond());
        o.set_loop_index(s.loopIndex);
        o.set_init_kernel(s.initKernel);
        o.set_yield_kernel(s.yieldKernel);
        writeSteps(s.body, *o.mutable_body());
        break;
      case HostStep::Kind::If:
        o.set_kind(artifact::HostStep::IF);
        writeScalar(s.cond, *o.mutable_cond());
        writeSteps(s.body, *o.mutable_body());
        writeSteps(s.elseBody, *o.mutable_else_body());
        break;
    }
  }
}

void writeBoundary(const BoundaryValue& b, artifact::BoundaryValue& out) {
  out.set_name(b.name);
  out.set_dtype(std::string(ir::dtypeName(b.dtype)));
  out.set_is_scalar(b.isScalar);
  out.set_region(b.region);
  out.set_slot(b.slot);
  out.set_rank(b.rank);
}

void writeDeviceErrors(const CudaPlan& plan, artifact::DeviceErrors& out) {
  out.set_offset(plan.errorOffset);
  for (const DeviceCheck& c : plan.checks) {
    artifact::DeviceCheck& o = *out.add_checks();
    o.set_kind(c.kind == DeviceCheck::Kind::Index ? artifact::DeviceCheck::INDEX : artifact::DeviceCheck::RAISE);
    o.set_op(c.op);
    o.set_file(c.file);
    o.set_line(c.line);
    o.set_message(c.message);
    o.set_dim(c.dim);
  }
}

// ---- reading ---------------------------------------------------------------------------

/// A check that failed, with the entry it is about; caught in readCudaPlan.
struct PlanError {
  std::string message;
};

[[noreturn]] void refuse(std::string message) { throw PlanError{std::move(message)}; }

bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

class PlanReader {
 public:
  PlanReader(const artifact::CudaPlan& in, const ir::Program& program) : in_(in), program_(program) {}

  CudaPlan read() {
    arena();
    kernels();
    for (const std::string& s : in_.symbols()) plan_.symbols.push_back(s);
    std::vector<std::string> expected;
    for (const ir::Symbol& s : program_.symbols()) expected.push_back(s.name);
    if (plan_.symbols != expected)
      refuse(fmt::format("symbols [{}] are not the program's [{}]", fmt::join(plan_.symbols, ", "),
                         fmt::join(expected, ", ")));
    if (in_.num_loop_indices() < 0) refuse(fmt::format("num_loop_indices {} is negative", in_.num_loop_indices()));
    plan_.numLoopIndices = in_.num_loop_indices();
    loopIndexUsed_.assign(static_cast<size_t>(plan_.numLoopIndices), false);
    plan_.steps = steps(in_.steps(), "steps");
    for (size_t i = 0; i < loopIndexUsed_.size(); ++i)
      if (!loopIndexUsed_[i]) refuse(fmt::format("loop index {} of num_loop_indices {} belongs to no loop", i,
                                                 plan_.numLoopIndices));
    weights();
    inputs();
    outputs();
    deviceErrors();
    return std::move(plan_);
  }

 private:
  void arena() {
    plan_.arenaBytes = in_.arena_bytes();
    if (plan_.arenaBytes <= 0 || plan_.arenaBytes > kMaxArenaBytes)
      refuse(fmt::format("arena_bytes {} is not in 1..{}", plan_.arenaBytes, kMaxArenaBytes));
    for (int i = 0; i < in_.regions_size(); ++i) {
      const artifact::ArenaRegion& r = in_.regions(i);
      inArena(fmt::format("region {} ('{}')", i, r.name()), r.offset(), r.bytes());
      plan_.regions.push_back({r.name(), r.offset(), r.bytes()});
    }
    plan_.numSlots = in_.num_slots();
    plan_.slotsOffset = in_.slots_offset();
    plan_.barrierOffset = in_.barrier_offset();
    if (plan_.numSlots < 0 || plan_.numSlots > plan_.arenaBytes / 8)
      refuse(fmt::format("num_slots {} does not fit the {}-byte arena", plan_.numSlots, plan_.arenaBytes));
    inArena("the scalar slots", plan_.slotsOffset, 8 * plan_.numSlots);
    inArena("the grid barrier", plan_.barrierOffset, 8);
    // Slots hold 8-byte values and the barrier two 4-byte counters, read atomically.
    if (plan_.slotsOffset % 8 != 0 || plan_.barrierOffset % 8 != 0)
      refuse(fmt::format("slots_offset {} and barrier_offset {} must be multiples of 8", plan_.slotsOffset,
                         plan_.barrierOffset));
  }

  void inArena(const std::string& what, int64_t offset, int64_t bytes) const {
    if (offset < 0 || bytes < 0 || offset > plan_.arenaBytes || bytes > plan_.arenaBytes - offset)
      refuse(fmt::format("{} at offset {} (+{} bytes) is outside the {}-byte arena", what, offset, bytes,
                         plan_.arenaBytes));
  }

  void kernels() {
    for (int i = 0; i < in_.kernels_size(); ++i) {
      const artifact::CudaKernel& k = in_.kernels(i);
      const std::string what = fmt::format("kernel {} ('{}')", i, k.name());
      if (!isIdentifier(k.name())) refuse(what + ": its name is not an identifier");
      KernelInfo info;
      info.name = k.name();
      switch (k.kind()) {
        case artifact::CudaKernel::OPERATOR: info.kind = KernelInfo::Kind::Operator; break;
        case artifact::CudaKernel::PERSISTENT: info.kind = KernelInfo::Kind::Persistent; break;
        case artifact::CudaKernel::COPY: info.kind = KernelInfo::Kind::Copy; break;
        default: refuse(fmt::format("{}: kind {} is not operator (0), persistent (1) or copy (2)", what, k.kind()));
      }
      if (k.tiles() < 0 || k.tiles() > kMaxGridBlocks)
        refuse(fmt::format("{}: tiles {} is not in 0..{}", what, k.tiles(), kMaxGridBlocks));
      if (k.shared_bytes() < 0 || k.shared_bytes() > kMaxSharedBytes)
        refuse(fmt::format("{}: shared_bytes {} is not in 0..{}", what, k.shared_bytes(), kMaxSharedBytes));
      if (k.block_threads() < 32 || k.block_threads() > kMaxBlockThreads || k.block_threads() % 32 != 0)
        refuse(fmt::format("{}: block_threads {} is not a multiple of 32 in 32..{}", what, k.block_threads(),
                           kMaxBlockThreads));
      for (const KernelInfo& earlier : plan_.kernels)
        if (earlier.name == info.name) refuse(what + ": a second kernel of that name");
      info.tiles = k.tiles();
      info.origin = k.origin();
      info.sharedBytes = k.shared_bytes();
      info.blockThreads = k.block_threads();
      plan_.kernels.push_back(std::move(info));
    }
  }

  int kernel(int index, const std::string& what) const {
    if (index < 0 || index >= static_cast<int>(plan_.kernels.size()))
      refuse(fmt::format("{}: kernel {} is not one of the {} kernels", what, index, plan_.kernels.size()));
    return index;
  }

  int slot(int64_t index, const std::string& what) const {
    if (index < 0 || index >= plan_.numSlots)
      refuse(fmt::format("{}: slot {} is not one of the {} slots", what, index, plan_.numSlots));
    return static_cast<int>(index);
  }

  int region(int index, const std::string& what) const {
    if (index < 0 || index >= static_cast<int>(plan_.regions.size()))
      refuse(fmt::format("{}: region {} is not one of the {} regions", what, index, plan_.regions.size()));
    return index;
  }

  static ir::DType scalarDType(const std::string& name, const std::string& what) {
    const auto t = ir::parseDType(name);
    if (!t || (*t != ir::DType::I64 && *t != ir::DType::I1 && *t != ir::DType::F64))
      refuse(fmt::format("{}: dtype '{}' is not a scalar dtype (i64, i1, f64)", what, name));
    return *t;
  }

  HostScalar scalar(const artifact::HostScalar& s, const std::string& what) const {
    HostScalar out;
    out.value = s.value();
    out.dtype = scalarDType(s.dtype(), what);
    switch (s.kind()) {
      case artifact::HostScalar::CONSTANT: out.kind = HostScalar::Kind::Constant; break;
      case artifact::HostScalar::SLOT:
        out.kind = HostScalar::Kind::Slot;
        slot(s.value(), what);
        break;
      case artifact::HostScalar::LOOP_INDEX:
        out.kind = HostScalar::Kind::LoopIndex;
        if (s.value() < 0 || s.value() >= plan_.numLoopIndices)
          refuse(fmt::format("{}: loop index {} is not one of the {}", what, s.value(), plan_.numLoopIndices));
        break;
      default:
        refuse(fmt::format("{}: kind {} is not constant (0), slot (1) or loop index (2)", what, s.kind()));
    }
    return out;
  }

  std::vector<HostStep> steps(const google::protobuf::RepeatedPtrField<artifact::HostStep>& in,
                              const std::string& where) {
    std::vector<HostStep> out;
    for (int i = 0; i < in.size(); ++i) {
      const artifact::HostStep& s = in.Get(i);
      const std::string what = fmt::format("{}[{}]", where, i);
      HostStep step;
      switch (s.kind()) {
        case artifact::HostStep::LAUNCH:
          step = HostStep::launch(kernel(s.kernel(), what));
          break;
        case artifact::HostStep::LOOP: {
          step.kind = HostStep::Kind::Loop;
          step.trip = scalar(s.trip(), what + ".trip");
          step.cond = scalar(s.cond(), what + ".cond");
          step.yieldCond = scalar(s.yield_cond(), what + ".yield_cond");
          step.initKernel = kernel(s.init_kernel(), what + ".init_kernel");
          step.yieldKernel = kernel(s.yield_kernel(), what + ".yield_kernel");
          const int index = s.loop_index();
          if (index < 0 || index >= plan_.numLoopIndices)
            refuse(fmt::format("{}: loop_index {} is not one of the {}", what, index, plan_.numLoopIndices));
          // Each host loop has an index of its own: nested loops sharing one would overwrite each other's.
          if (loopIndexUsed_[static_cast<size_t>(index)])
            refuse(fmt::format("{}: loop_index {} belongs to an earlier loop too", what, index));
          loopIndexUsed_[static_cast<size_t>(index)] = true;
          step.loopIndex = index;
          step.body = steps(s.body(), what + ".body");
          break;
        }
        case artifact::HostStep::IF:
          step.kind = HostStep::Kind::If;
          step.cond = scalar(s.cond(), what + ".cond");
          step.body = steps(s.body(), what + ".body");
          step.elseBody = steps(s.else_body(), what + ".else_body");
          break;
        default:
          refuse(fmt::format("{}: kind {} is not launch (0), loop (1) or if (2)", what, s.kind()));
      }
      out.push_back(std::move(step));
    }
    return out;
  }

  void weights() {
    const auto& decls = program_.weights();
    if (in_.weight_regions_size() != static_cast<int>(decls.size()))
      refuse(fmt::format("it places {} weights, the program has {}", in_.weight_regions_size(), decls.size()));
    for (size_t i = 0; i < decls.size(); ++i) {
      const std::string what = fmt::format("weight @{}", decls[i].name);
      const int r = region(in_.weight_regions(static_cast<int>(i)), what);
      const std::optional<int64_t> bytes = ir::boundBytes(decls[i].type, program_);
      if (!bytes || *bytes != plan_.region(r).bytes)
        refuse(fmt::format("{} ({}) has region {} of {} bytes", what, decls[i].type.str(), r, plan_.region(r).bytes));
      plan_.weightRegions.push_back(r);
    }
  }

  /// An input or output against the program's value of the same position.
  BoundaryValue boundary(const artifact::BoundaryValue& b, const ir::Type& type, const std::string& what) const {
    BoundaryValue out;
    out.name = b.name();
    const auto dtype = ir::parseDType(b.dtype());
    if (!dtype || *dtype != type.dtype() || b.is_scalar() != type.isScalar())
      refuse(fmt::format("{}: {}{} does not match the program's {}", what, b.is_scalar() ? "scalar " : "tensor ",
                         b.dtype(), type.str()));
    out.dtype = *dtype;
    out.isScalar = b.is_scalar();
    if (out.isScalar) {
      out.slot = slot(b.slot(), what);
      return out;
    }
    if (b.rank() != type.rank())
      refuse(fmt::format("{}: rank {} does not match the program's {}", what, b.rank(), type.str()));
    out.rank = b.rank();
    out.region = region(b.region(), what);
    // A tensor at its bounds must fit its region: the runtime copies it there whole.
    const std::optional<int64_t> bytes = ir::boundBytes(type, program_);
    if (bytes && *bytes > plan_.region(out.region).bytes)
      refuse(fmt::format("{}: {} takes up to {} bytes, its region {} has {}", what, type.str(), *bytes, out.region,
                         plan_.region(out.region).bytes));
    out.slot = b.slot();
    return out;
  }

  void inputs() {
    const ir::Region& body = program_.body();
    if (in_.inputs_size() != static_cast<int>(body.numArguments()))
      refuse(fmt::format("it has {} inputs, the program {}", in_.inputs_size(), body.numArguments()));
    for (size_t i = 0; i < body.numArguments(); ++i) {
      const ir::Value* arg = body.argument(i);
      const std::string what = fmt::format("input {} (%{})", i, arg->name());
      plan_.inputs.push_back(boundary(in_.inputs(static_cast<int>(i)), arg->type(), what));
    }
  }

  void outputs() {
    const ir::Op* ret = program_.body().terminator();
    const size_t count = ret ? ret->numOperands() : 0;
    if (in_.outputs_size() != static_cast<int>(count))
      refuse(fmt::format("it has {} outputs, the program {}", in_.outputs_size(), count));
    for (size_t i = 0; i < count; ++i) {
      const std::string what = fmt::format("output {}", i);
      BoundaryValue b = boundary(in_.outputs(static_cast<int>(i)), ret->operand(i)->type(), what);
      // A tensor's runtime dims come back in `rank` slots from its first.
      if (!b.isScalar)
        for (int d = 0; d < std::max(b.rank, 1); ++d) slot(int64_t{b.slot} + d, what);
      plan_.outputs.push_back(std::move(b));
    }
  }

  void deviceErrors() {
    if (!in_.has_device_errors()) return;  // no kernel checks anything
    const artifact::DeviceErrors& e = in_.device_errors();
    inArena("the device error word", e.offset(), cuda::kDeviceErrorBytes);
    if (e.offset() % 8 != 0)
      refuse(fmt::format("the device error word's offset {} is not a multiple of 8", e.offset()));
    if (e.checks_size() > kMaxDeviceChecks)
      refuse(
          fmt::format("{} device checks, more than the error word can name ({})", e.checks_size(), kMaxDeviceChecks));
    plan_.errorOffset = e.offset();
    for (int i = 0; i < e.checks_size(); ++i) {
      const artifact::DeviceCheck& c = e.checks(i);
      const std::string what = fmt::format("device check {}", i);
      DeviceCheck out;
      switch (c.kind()) {
        case artifact::DeviceCheck::RAISE: out.kind = DeviceCheck::Kind::Raise; break;
        case artifact::DeviceCheck::INDEX: out.kind = DeviceCheck::Kind::Index; break;
        default: refuse(fmt::format("{}: kind {} is not raise (0) or index (1)", what, c.kind()));
      }
      if (c.line() < 0 || c.dim() < 0)
        refuse(fmt::format("{}: line {} and dim {} must not be negative", what, c.line(), c.dim()));
      out.op = c.op();
      out.file = c.file();
      out.line = c.line();
      out.message = c.message();
      out.dim = c.dim();
      plan_.checks.push_back(std::move(out));
    }
  }

  const artifact::CudaPlan& in_;
  const ir::Program& program_;
  CudaPlan plan_;
  std::vector<bool> loopIndexUsed_;
};

}  // namespace

void writeCudaPlan(const CudaPlan& plan, artifact::CudaPlan& out) {
  for (const KernelInfo& k : plan.kernels) {
    artifact::CudaKernel& o = *out.add_kernels();
    o.set_name(k.name);
    o.set_kind(kindOf(k.kind));
    o.set_tiles(k.tiles);
    o.set_origin(k.origin);
    o.set_shared_bytes(k.sharedBytes);
    o.set_block_threads(k.blockThreads);
  }
  writeSteps(plan.steps, *out.mutable_steps());
  for (const BufferRegion& r : plan.regions) {
    artifact::ArenaRegion& o = *out.add_regions();
    o.set_name(r.name);
    o.set_offset(r.offset);
    o.set_bytes(r.bytes);
  }
  out.set_arena_bytes(plan.arenaBytes);
  for (int r : plan.weightRegions) out.add_weight_regions(r);
  for (const BoundaryValue& b : plan.inputs) writeBoundary(b, *out.add_inputs());
  for (const BoundaryValue& b : plan.outputs) writeBoundary(b, *out.add_outputs());
  out.set_slots_offset(plan.slotsOffset);
  out.set_num_slots(plan.numSlots);
  out.set_barrier_offset(plan.barrierOffset);
  for (const std::string& s : plan.symbols) out.add_symbols(s);
  out.set_num_loop_indices(plan.numLoopIndices);
  if (plan.errorOffset >= 0) writeDeviceErrors(plan, *out.mutable_device_errors());
}

ir::Expected<CudaPlan> readCudaPlan(const artifact::CudaPlan& in, const ir::Program& program) {
  try {
    return PlanReader(in, program).read();
  } catch (const PlanError& e) {
    return ir::Status::error("its CUDA plan is invalid: " + e.message);
  }
}

}  // namespace cocktail::runtime
