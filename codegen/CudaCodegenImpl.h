//===- codegen/CudaCodegenImpl.h - The generator's state (private) --------------===//
//
// Shared by the generator's files: CudaCodegen.cpp (module, kernels,
// scalars, tensors), CudaRegions.cpp, CudaSyncs.cpp, TileCounters.cpp,
// WeightStaging.cpp, and the op bodies in CudaOps.cpp, CudaComputeOps.cpp
// and CudaLayoutOps.cpp. Not part of the public interface.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "codegen/BufferLayout.h"
#include "codegen/CudaCodegen.h"
#include "codegen/CudaExpr.h"
#include "ir/Program.h"
#include "ir/Schedule.h"
#include "ir/Status.h"

namespace cocktail::codegen {

// The IR names every file of the generator uses (this header is private to them).
using ir::DType;
using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Value;

/// A user error inside the generator, turned into a Status at its entry point.
struct CodegenError {
  ir::Status status;
};

/// Elements per tile an op's element loop covers: `tile_elems`, or more where
/// `tiles` of them would not cover the result at its bounds.
int64_t coveringTileElems(int64_t tiles, int64_t tileElems, int64_t boundElements);

/// "float", "i64", ...; empty for a dtype the generator does not render.
std::string ctypeOf(ir::DType t);
/// The C++ literal of a constant's value.
std::string literal(const ir::AttrValue& v);
std::vector<Expr> contiguousStrides(const std::vector<Expr>& dims);

/// A dim index counted from the end when negative.
inline int64_t normalizeDim(int64_t d, int64_t rank) { return d < 0 ? d + rank : d; }
/// An undef (a None): no storage, and no run reads it.
inline bool isUndefValue(const ir::Value* v) { return v->definingOp() && v->definingOp()->kind() == ir::OpKind::Undef; }
/// `expf` for float, `exp` for double.
inline std::string fn(const char* name, ir::DType t) { return t == ir::DType::F64 ? name : std::string(name) + "f"; }
/// `(float)(expr)`
inline std::string castTo(ir::DType t, const std::string& expr) { return "(" + ctypeOf(t) + ")(" + expr + ")"; }

/// A tensor as the generated code sees it: a strided view of one region of
/// the arena. Views (select, slice, transpose, ...) only make new TensorRefs.
struct TensorRef {
  int region = -1;
  ir::DType dtype = ir::DType::F32;
  Expr offset;  // in elements
  std::vector<Expr> dims, strides;
  std::vector<int64_t> bounds;  // upper bound of each dim
  /// Scalars that offset, dims or strides mention: a kernel that uses the
  /// view must have them.
  std::vector<const ir::Value*> deps;

  Expr numel() const;
  int64_t boundElements() const;
  bool contiguous() const;
  int rank() const { return static_cast<int>(dims.size()); }
};

/// How the kernel being generated reaches a scalar.
struct ScalarRef {
  enum class Kind {
    Literal,    // expr is the literal
    Pending,    // a host region's scalar op no kernel has computed yet
    Local,      // a variable of `kernel`
    Slot,       // lives in its slot only (an input, a host loop's carried value)
    LoopIndex,  // a host loop's index: f.idx[slot]
  };
  Kind kind = Kind::Literal;
  std::string expr;
  ir::DType dtype = ir::DType::I64;
  int kernel = -1;
  const ir::Op* pendingOp = nullptr;
  int slot = -1;
  int64_t literalValue = 0;  // Literal: the value, for the host plan
};

/// What the first generation pass learns for the second.
struct ExportState {
  std::set<const ir::Value*> exported;  // scalars read outside the kernel that computes them
  std::map<const ir::Value*, int> slots;
  std::map<size_t, int> outputSlots;  // output i: its scalar, or its first dim
  int nextSlot = 0;
  /// Producers some consumer waited on tile by tile; the second pass gives
  /// counters to these only (a publish nobody waits for costs a block barrier).
  std::set<const ir::Op*> tileWaited;
  bool secondPass = false;
  /// Slots for output i (n of them), the same in both passes.
  int outputSlot(size_t i, int n) {
    auto [it, inserted] = outputSlots.emplace(i, nextSlot);
    if (inserted) nextSlot += n;
    return it->second;
  }
};

struct KernelText {
  std::string name;
  bool cooperative = false;
  std::string comment;
  std::vector<std::string> prologue;
  std::string body;
  std::set<int> declaredRegions;
  std::set<const ir::Value*> imported;
  /// Bytes the prologue reads (a host scalar's to_scalar) and bytes the body
  /// writes: where they overlap, a block could overwrite what a block that
  /// started later still has to read, so the body starts with a grid barrier.
  std::vector<std::pair<int64_t, int64_t>> prologueReads, writes;
  bool syncAfterPrologue = false;
  /// The body reports failed checks: E (the error word) and the barrier are declared.
  bool usesErrors = false;
};

/// A resident weight's slice that a persistent kernel keeps in each block's
/// shared memory: the rows one tile of a `linear` reads, for the first
/// `slots` tiles a block runs (task = blockIdx.x + slot * gridDim.x).
struct StagedWeight {
  std::string weight;                // "w_hh"
  std::string pointer;               // "sw0": its slots in shared memory
  int64_t tiles = 0, tileElems = 0;  // the linear's tiling, as its element loop covers it
  int64_t rows = 0, cols = 0;        // one slot: `rows` rows of K = `cols`
  int64_t weightRows = 0;            // N
  int64_t slots = 0;
  int64_t sliceElems() const { return rows * cols; }
};

/// A producer's per-tile counters in the arena (TileCounters.cpp).
struct TileCounters {
  int region = -1;
  std::string pointer, epoch;  // "tc12": the counters; "ep12": the producer's runs so far
  int64_t tiles = 0, tileElems = 0;
};

class Generator {
 public:
  Generator(const ir::Program& program, const CudaCodegenOptions& options, ExportState& exports);
  CudaModule run();

 private:
  // ---- errors and text
  /// What the generator cannot render: Unsupported unless said otherwise.
  CodegenError error(const ir::Op& op, const std::string& message,
                     ir::ErrorKind kind = ir::ErrorKind::Unsupported) const;
  std::string describe(const ir::Op& op) const;
  std::string origin(const ir::Op& op) const;
  std::string render() const;
  static std::string joinDims(const std::vector<Expr>& dims);

  // ---- kernels
  int openKernel(const std::string& what, KernelInfo::Kind kind, int64_t tiles, const ir::Op* from, std::string comment);
  void closeKernel();
  KernelText& kernel() { return kernels_.at(static_cast<size_t>(current_)); }
  void line(const std::string& text);
  void open(const std::string& text);
  void close(const std::string& suffix = "");
  std::string bufferPointer(const TensorRef& ref);
  void requireDeps(const TensorRef& ref);

  // ---- scalars
  int slotOf(const ir::Value* v);
  int valueId(const ir::Value* v) const;
  std::string scalarName(const ir::Value* v) const;
  std::string loadSlot(const ir::Value* v, ir::DType t) const;
  std::string storeSlot(const ir::Value* v, const std::string& expr, ir::DType t);
  /// The expression for a scalar in the current kernel (importing or computing it first).
  std::string scalar(const ir::Value* v);
  std::string importScalar(const ir::Value* v, ScalarRef& s);
  std::string materializeHostScalar(const ir::Value* v);
  void defineLocalScalar(const ir::Value* v, const std::string& expr, const std::string& comment);
  HostScalar hostScalar(const ir::Value* v);
  void ensureStored(const ir::Value* v);
  /// C++ for a scalar op (size, add on scalars, to_scalar, ...), in CudaOps.cpp.
  std::string scalarOpExpr(const ir::Op& op);

  // ---- tensors
  TensorRef freshRef(const std::string& name, ir::DType dtype, std::vector<Expr> dims, std::vector<int64_t> bounds);
  std::vector<Expr> dimsOfType(const ir::Type& type, const ir::Op* op) const;
  std::vector<int64_t> boundsOfType(const ir::Type& type) const;
  const TensorRef& tensor(const ir::Value* v, const ir::Op& user);
  bool isView(const ir::Op& op) const;
  TensorRef undefCarriedRef(const ir::Op& loop, const ir::Value* arg);
  TensorRef carriedRef(const ir::Op& loop, const TensorRef& init, const ir::Value* arg);
  std::vector<TensorRef> ifResults(const ir::Op& op);
  void bindResult(const ir::Value* result, const ir::Value* carried);

  // ---- regions (CudaRegions.cpp)
  bool declareCommon(const ir::Op& op);
  void hostRegion(const ir::Region& region, std::vector<HostStep>& steps);
  void operatorKernel(const ir::Op& op, std::vector<HostStep>& steps);
  void deviceRegionKernel(const ir::Op& op, std::vector<HostStep>& steps);
  void hostLoop(const ir::Op& op, std::vector<HostStep>& steps);
  void hostIf(const ir::Op& op, std::vector<HostStep>& steps);
  void returnKernel(const ir::Op& ret, std::vector<HostStep>& steps);
  void deviceRegion(const ir::Region& region);
  void deviceLoop(const ir::Op& op);
  void deviceIf(const ir::Op& op);
  void yieldInto(const ir::Op& yield, size_t first, const std::function<const ir::Value*(size_t)>& carriedArg, bool host);
  void yieldIfResults(const ir::Op& op, const ir::Op& yield, const std::vector<TensorRef>& results, bool host);

  // ---- syncs (CudaSyncs.cpp)
  /// An access to arena bytes since the last grid barrier; `op` null for a
  /// grid-stride copy.
  struct Access {
    int64_t begin = 0, end = 0;
    const ir::Op* op = nullptr;
    bool write = false;
  };
  std::pair<int64_t, int64_t> bytesOf(const TensorRef& ref) const;
  void gridSync(const std::string& why);
  void syncBeforeRead(const std::vector<ir::Value*>& operands, const std::string& why);
  /// Before `op` (null: a copy) reads `reads` and writes `writes`: a grid
  /// barrier where another block may have written what it reads, or may
  /// still read or write what it writes; a block barrier where the other
  /// access was this block's own tile of the same tiling.
  void syncForAccess(const ir::Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes,
                     const std::string& copy = {});
  void recordAccess(const ir::Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes);
  bool sameTileOfSameBlock(const ir::Op* a, const ir::Op* b) const;
  static bool isTileLocal(const ir::Op& op);
  /// The ref a result gets: the plan's offset when it placed the value, a region of its own otherwise.
  TensorRef resultRef(const ir::Op& op, size_t i, const std::string& name, ir::DType dtype, std::vector<Expr> dims,
                      std::vector<int64_t> bounds);
  void emitInPlaceWrite(const ir::Op& op, const TensorRef& base);

  // ---- per-tile counters (TileCounters.cpp)
  /// The producer of `operand` whose tiles a tile of `consumer` can wait for
  /// one by one (element e read at e, producer tiled), or null.
  const ir::Op* tileProducer(const ir::Op& consumer, const ir::Value* operand) const;
  /// Producers in `region` that a `sync = counter` consumer on another tiling reads.
  void findCounterProducers(const ir::Region& region);
  /// Before a producer's body: its counters, its epoch, its publish after each tile.
  void beginCounterProducer(const ir::Op& op);
  /// A wait in `consumer`'s uTask loop for the tiles of `producer` it reads; false where none can be used.
  bool waitForTiles(const ir::Op* consumer, const ir::Op* producer);
  /// At the start of the kernel: every counter to 0, then a grid barrier.
  void zeroTileCounters();

  // ---- resident weights (WeightStaging.cpp)
  /// Before a persistent loop marked `resident`: copies each block's slices
  /// of the resident weights its linears read into dynamic shared memory,
  /// as far as the per-block budget goes, and says in a comment what stays
  /// in global memory.
  void stageResidentWeights(const ir::Op& loop);
  /// The staged slice `op` (a linear) reads its weight from, or null.
  const StagedWeight* stagedWeightOf(const ir::Op& op) const;

  // ---- run-time checks (DeviceChecks.cpp)
  /// Registers a check of `op` that the current kernel makes (an index's
  /// range at `dim` of its input, a `raise`) and returns its number.
  int deviceCheck(const ir::Op& op, DeviceCheck::Kind kind, int64_t dim = 0);
  /// `raw` (an index read from a tensor) as an index into dim `dim` of
  /// `op`'s input, of `size`, checked (and, for `index`, wrapped when negative).
  std::string checkedIndex(const ir::Op& op, const std::string& raw, const Expr& size, int64_t dim);
  /// A `raise` inside a kernel: the leader thread reports it.
  void emitRaise(const ir::Op& op);
  /// A `raise` in a host region: a one-block kernel that reports it.
  void raiseKernel(const ir::Op& op, std::vector<HostStep>& steps);
  /// After the grid barrier that ends a persistent loop's iteration whose
  /// body made checks: every block leaves the loop if one failed.
  void leaveLoopOnFailure();

  // ---- op bodies (CudaOps.cpp, CudaComputeOps.cpp, CudaLayoutOps.cpp)
  void viewOp(const ir::Op& op);
  void computeOp(const ir::Op& op);
  /// A grid-stride copy (with broadcasting and a cast); `op` is the op it
  /// implements, if any, for the access record.
  void copyTensor(const TensorRef& dst, const TensorRef& src, const std::string& what, const ir::Op* op = nullptr);
  TensorRef selectView(const TensorRef& x, int64_t dim, const ir::Value* index);
  TensorRef sliceView(const TensorRef& x, int64_t dim, const ir::Value* start, const ir::Value* end, int64_t step);
  /// Emits the loops over this block's elements of an op's result: the
  /// uTask loop (task = blockIdx.x; task < tiles; ...) when the op is tiled,
  /// a grid-stride loop otherwise; `e` is the flat element index inside.
  /// `perTask` lines go inside the uTask loop, before the element loop.
  void openElementLoop(const TensorRef& out, int64_t tiles, int64_t tileElems, bool perWarp,
                       const std::vector<std::string>& perTask = {});
  void closeElementLoop();
  /// Coordinates of element `e` of a tensor of `dims`: names c0, c1, ...
  /// Lazy: written only if an operand needs them (see at()).
  std::vector<std::string> emitCoords(const std::vector<Expr>& dims, const std::string& flat, const std::string& prefix,
                                      bool lazy = false);
  /// The element expression `b3[offset + c0 * s0 + ...]` of `ref` at
  /// coordinates of a result of rank coords.size() (numpy broadcasting).
  std::string at(const TensorRef& ref, const std::vector<std::string>& coords);
  std::string operandValue(const ir::Op& op, size_t i, const std::vector<std::string>& coords, ir::DType as);
  std::string elementwiseExpr(const ir::Op& op, const std::vector<std::string>& args, ir::DType computeType);
  std::vector<Expr> resultDims(const ir::Op& op, size_t result, std::vector<int64_t>& bounds,
                               std::vector<const ir::Value*>& deps);
  void emitElementwise(const ir::Op& op, const std::vector<TensorRef>& out);
  void emitFused(const ir::Op& op, const std::vector<TensorRef>& out);
  void emitLinear(const ir::Op& op, const TensorRef& out);
  void emitMatmul(const ir::Op& op, const TensorRef& out);
  void emitReduction(const ir::Op& op, const TensorRef& out);
  void emitSoftmax(const ir::Op& op, const TensorRef& out);
  void emitLayerNorm(const ir::Op& op, const TensorRef& out);
  void emitConv2d(const ir::Op& op, const TensorRef& out);
  void emitPool2d(const ir::Op& op, const TensorRef& out);
  void emitConvTranspose2d(const ir::Op& op, const TensorRef& out);
  void emitAdaptivePool2d(const ir::Op& op, const std::vector<TensorRef>& out);
  void emitEmbedding(const ir::Op& op, const TensorRef& out);
  void emitCat(const ir::Op& op, const TensorRef& out);
  void emitTriangle(const ir::Op& op, const TensorRef& out);
  void emitRepeat(const ir::Op& op, const TensorRef& out);
  // Gathers (CudaGatherOps.cpp): every index read is checked.
  void emitIndexSelect(const ir::Op& op, const TensorRef& out);
  void emitGather(const ir::Op& op, const TensorRef& out);
  void emitIndex(const ir::Op& op, const TensorRef& out);
  void emitScatter(const ir::Op& op, const TensorRef& out);
  void emitMaterialize(const ir::Op& op, const TensorRef& out);

  const ir::Program& program_;
  CudaCodegenOptions options_;
  ExportState& exports_;
  CudaPlan plan_;
  BufferLayout layout_;
  std::vector<KernelText> kernels_;
  int current_ = -1;
  int indent_ = 1;
  std::map<const ir::Value*, TensorRef> tensors_;
  std::map<const ir::Value*, ScalarRef> scalars_;
  std::map<std::string, TensorRef> weights_;
  mutable std::unordered_map<const ir::Value*, int> ids_;
  /// Arena accesses since the last grid barrier.
  std::vector<Access> accesses_;
  /// Where plan-memory's block starts in the arena (-1: the program is not planned).
  int64_t planBase_ = -1;
  /// Coordinates emitCoords left unwritten until an operand needs them.
  struct LazyCoords {
    bool active = false, used = false;
    size_t pos = 0;  // where in the kernel body they go
    std::string text;
    std::vector<std::string> names;
    std::vector<Expr> dims;
    std::string flat;
  };
  LazyCoords coords_;
  /// Braces each open openElementLoop opened (it closes them all).
  std::vector<int> openedBlocks_;
  /// The current kernel's staged weight slices, and the linears that read them.
  std::vector<StagedWeight> staged_;
  std::map<const ir::Op*, size_t> stagedFor_;
  int64_t sharedUsed_ = 0;
  /// The current kernel's per-tile counters, and the waits and the publish
  /// the next element loop takes (openElementLoop, closeElementLoop).
  std::set<const ir::Op*> counterProducers_;
  std::vector<TileCounters> counters_;
  std::map<const ir::Op*, size_t> counterOf_;
  std::vector<std::string> taskWaits_;
  std::vector<const ir::Op*> waitedNow_;  // the producers of taskWaits_
  std::string publishAfterTask_;
};

}  // namespace cocktail::codegen
