//===- runtime/cuda/CudaPlan.h - What the CUDA runtime needs to run a module ----------===//
//
// The host side of a generated CUDA module, as plain data: the kernels and
// how each is launched, the arena layout, where the weights, inputs, outputs
// and scalar slots live, and the host plan (the part of the schedule that
// stays on the host: loops and branches placed there, as the sequence of
// launches and decisions a driver makes).
//
// The code generator (codegen/) writes it, the artifact stores it (checked
// field by field when it is loaded: runtime/ArtifactCudaPlan.cpp), and the
// plan runner drives it, on a GPU or in the CPU emulation harness. The
// runtime therefore runs an artifact without the generator, and a generator
// change does not invalidate artifacts compiled before it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/DType.h"

namespace cocktail::runtime::cuda {

struct KernelInfo {
  enum class Kind {
    Operator,    // one uOperator of a host region: grid = its tiles
    Persistent,  // a device region (a persistent loop, a device if): cooperative, one block per SM or fewer
    Copy,        // a host loop's or branch's carried values, a program's outputs: grid-stride copies
  };
  std::string name;
  Kind kind = Kind::Operator;
  /// Blocks that have work: tiles of an operator; 0 means "as many as fit" (persistent, copies).
  int64_t tiles = 0;
  /// The IR the kernel comes from, for messages: "loop at lstm.py:44".
  std::string origin;
  /// Dynamic shared memory per block (resident weights' slices), which the
  /// launch must ask for.
  int64_t sharedBytes = 0;
  /// Threads per block: the kernel's __launch_bounds__. The code reads
  /// blockDim, so a harness may launch fewer, as long as they are whole warps.
  int blockThreads = 256;

  bool operator==(const KernelInfo&) const = default;
};

/// A scalar the host needs (a trip count, a condition, a predicate, an
/// output): a literal, a slot of the arena, or a host loop's index.
struct HostScalar {
  enum class Kind { Constant, Slot, LoopIndex };
  Kind kind = Kind::Constant;
  int64_t value = 0;  // the literal, the slot number or the loop-index number
  ir::DType dtype = ir::DType::I64;

  bool operator==(const HostScalar&) const = default;
};

/// One step of the host plan.
struct HostStep {
  enum class Kind { Launch, Loop, If };
  Kind kind = Kind::Launch;
  int kernel = -1;  // Launch: index into CudaPlan::kernels

  // Loop: `for (i = 0; i < trip && cond; ++i) { body; launch yieldKernel; cond = yieldCond }`,
  // after `launch initKernel` has copied the initial carried values.
  HostScalar trip, cond, yieldCond;
  int loopIndex = -1;  // which CocktailFrame::idx entry holds i
  int initKernel = -1, yieldKernel = -1;

  // If: `if (cond) thenSteps else elseSteps` (each branch ends with its copy kernel).
  std::vector<HostStep> body, elseBody;

  static HostStep launch(int kernel) {
    HostStep s;
    s.kind = Kind::Launch;
    s.kernel = kernel;
    return s;
  }

  bool operator==(const HostStep&) const = default;
};

/// A range of the arena: a tensor, the scalar slots, the grid barrier, ...
struct BufferRegion {
  std::string name;   // "%h_new.1", "@w_ih", "slots": for the layout table in --emit cuda and for messages
  int64_t offset = 0; // bytes from the start of the arena
  int64_t bytes = 0;

  bool operator==(const BufferRegion&) const = default;
};

/// Where an input or output lives in the arena.
struct BoundaryValue {
  std::string name;
  ir::DType dtype = ir::DType::F32;
  bool isScalar = false;
  int region = -1;  // tensors: CudaPlan::regions index (contiguous, at the runtime shape)
  int slot = -1;    // scalars: slot; outputs: first slot of the runtime dims (rank of them)
  int rank = 0;

  bool operator==(const BoundaryValue&) const = default;
};

/// A check a kernel makes at run time, which the host reports as the CPU
/// executor would when a kernel sets the device error word: an index out of
/// range (index, index_select, gather), or a model's `raise` reached on the
/// device.
struct DeviceCheck {
  enum class Kind { Raise, Index };
  Kind kind = Kind::Raise;
  std::string op;    // "index_select": the op, as the message names it
  std::string file;  // its source location ("" when unknown)
  int64_t line = 0;
  std::string message;  // Raise: the model's message
  int64_t dim = 0;      // Index: the dim of the input the index selects in

  bool operator==(const DeviceCheck&) const = default;
};

/// The device error word: 3 x 8 bytes at CudaPlan::errorOffset. Word 0 is 0
/// until a check fails; the first failing check stores (the barrier's
/// generation << 32) | (check + 1) there with a compare-and-swap, then the
/// offending value in word 1 and the size it was checked against in word 2.
inline constexpr int64_t kDeviceErrorBytes = 24;

struct CudaPlan {
  std::vector<KernelInfo> kernels;
  std::vector<HostStep> steps;
  /// The arena: one device allocation of `arenaBytes`, every region inside it.
  std::vector<BufferRegion> regions;
  int64_t arenaBytes = 0;
  /// Regions of the weights, in Program::weights() order; the driver copies them once.
  std::vector<int> weightRegions;
  std::vector<BoundaryValue> inputs, outputs;
  /// Byte offset of the scalar slots (8 bytes each) and of the grid barrier in the arena.
  int64_t slotsOffset = 0, numSlots = 0, barrierOffset = 0;
  /// Program symbols in CocktailFrame::sym order, and host loop indices (CocktailFrame::idx).
  std::vector<std::string> symbols;
  int numLoopIndices = 0;
  /// Byte offset of the device error word; -1 where no kernel checks
  /// anything (and in artifacts compiled before the checks existed).
  int64_t errorOffset = -1;
  std::vector<DeviceCheck> checks;

  const BufferRegion& region(int index) const { return regions.at(static_cast<size_t>(index)); }
  /// sizeof(CocktailFrame): arena pointer, then sym[], then idx[] (each at least one entry).
  int64_t frameBytes() const;

  bool operator==(const CudaPlan&) const = default;
};

inline int64_t CudaPlan::frameBytes() const {
  auto atLeastOne = [](size_t n) { return static_cast<int64_t>(n == 0 ? 1 : n); };
  return 8 + 8 * atLeastOne(symbols.size()) + 8 * atLeastOne(static_cast<size_t>(numLoopIndices));
}

}  // namespace cocktail::runtime::cuda
