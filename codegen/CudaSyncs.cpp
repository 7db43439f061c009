//===- codegen/CudaSyncs.cpp - Which waits a persistent kernel needs ------------===//
//
// The generator does not trust the schedule's `sync` alone: per kernel it
// keeps the byte ranges read and written since the last grid barrier, and
// before each op or copy it puts a grid barrier where another block may have
// written what it reads (or may still read or write what it writes), a block
// barrier where the other access was this block's own tile of the same
// tiling, and per-tile counter waits where a tile-local consumer reads a
// producer on another tiling (TileCounters.cpp).
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"

namespace cocktail::codegen {

// ---- syncs -------------------------------------------------------------------------------

std::pair<int64_t, int64_t> Generator::bytesOf(const TensorRef& ref) const {
  // The whole region: a view may touch any of it.
  const BufferRegion& r = layout_.region(ref.region);
  return {r.offset, r.offset + std::max<int64_t>(r.bytes, 1)};
}

void Generator::syncBeforeRead(const std::vector<Value*>& operands, const std::string& why) {
  if (!kernel().cooperative) return;
  for (const Value* v : operands) {
    auto it = tensors_.find(v);
    if (it == tensors_.end()) continue;
    const auto [b, e] = bytesOf(it->second);
    for (const Access& a : accesses_)
      if (a.write && b < a.end && a.begin < e) {
        gridSync(why);
        return;
      }
  }
}

bool Generator::sameTileOfSameBlock(const Op* a, const Op* b) const {
  // Tile i of both runs on block i mod gridDim.x, and a tile-local op touches
  // only its tile's elements of a result of the same shape.
  if (!a || !b || !isTileLocal(*a) || !isTileLocal(*b)) return false;
  const int64_t tiles = ir::tilesOf(*a);
  return tiles > 0 && ir::tilesOf(*b) == tiles && ir::tileElemsOf(*a) == ir::tileElemsOf(*b) &&
         a->result()->type() == b->result()->type();
}

void Generator::syncForAccess(const Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes,
                              const std::string& copy) {
  // Kernels of one uOperator start after the previous kernel finished.
  if (!kernel().cooperative) return;
  bool needGrid = false, needBlock = false, needCounters = false;
  auto check = [&](const TensorRef& ref, bool write) {
    const auto [b, e] = bytesOf(ref);
    for (const Access& a : accesses_) {
      if (!(b < a.end && a.begin < e) || (!write && !a.write)) continue;
      if (a.op == op && op) continue;  // the op's own reads of its in-place operand
      // The same tile of a same-tiling op's whole result: only the block
      // waits; tiles of another tiling: the tiles' counters.
      const bool wholeResult = ref.offset.is(0) && ref.contiguous() && b == a.begin && e == a.end;
      if (sameTileOfSameBlock(op, a.op) && wholeResult)
        needBlock = true;
      else if (!write && a.write && wholeResult && waitForTiles(op, a.op))
        needCounters = true;
      else
        needGrid = true;
    }
  };
  for (const TensorRef& r : reads) check(r, false);
  for (const TensorRef& w : writes) check(w, true);
  const std::string planned = op ? std::string(ir::toString(ir::syncOf(*op).value_or(ir::Sync::None))) : "";
  if (needGrid) taskWaits_.clear();  // the grid barrier covers them
  if (!needGrid) exports_.tileWaited.insert(waitedNow_.begin(), waitedNow_.end());
  waitedNow_.clear();
  if (needGrid) {
    if (!copy.empty())
      gridSync(fmt::format("copy ({}): other blocks may still use these bytes", copy));
    else if (planned == "barrier")
      gridSync("sync = barrier");
    else
      gridSync(fmt::format("other blocks wrote what it reads, or read what it writes (schedule: {})", planned));
  } else if (needBlock) {
    line(fmt::format("__syncthreads();  // sync = {}: the producer's tile is this block's", planned));
  } else if (needCounters) {
    line(fmt::format("// sync = {}: each tile waits for the producer tiles it reads (their counters)", planned));
  }
}

void Generator::recordAccess(const Op* op, const std::vector<TensorRef>& reads, const std::vector<TensorRef>& writes) {
  for (const TensorRef& r : reads) {
    const auto [b, e] = bytesOf(r);
    accesses_.push_back({b, e, op, false});
  }
  for (const TensorRef& w : writes) {
    const auto [b, e] = bytesOf(w);
    accesses_.push_back({b, e, op, true});
    kernel().writes.emplace_back(b, e);
  }
}

bool Generator::isTileLocal(const Op& op) {
  return op.kind() == OpKind::Fused || ir::isElementwise(op.kind());
}

}  // namespace cocktail::codegen
