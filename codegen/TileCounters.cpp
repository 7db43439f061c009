//===- codegen/TileCounters.cpp - Per-tile dependency counters -------------------===//
//
// `sync = counter` says a consumer tile needs only the producer tiles that
// cover its own elements. Where both are tiled alike, tile i of both runs on
// the same block and a block barrier is enough (CudaCodegen.cpp). Where the
// tilings differ, the tiles a consumer tile reads were made by other blocks,
// and instead of a grid barrier the blocks talk through counters in the
// arena, one per producer tile (the event counters of Mirage's persistent
// kernel):
//
//  - the producer's block, after its threads finish tile t, publishes the
//    producer's epoch in counter t (release: __threadfence, then an atomic
//    store; cocktail_publish_tile in the prelude);
//  - a consumer tile waits until the counters of the producer tiles it reads
//    have reached that epoch (acquire: a spin with __nanosleep backoff, then
//    __threadfence; cocktail_wait_tiles).
//
// The epoch is how many times the producer has run in this launch, which
// every thread knows (control flow is the same on every block), so counters
// need no reset between loop iterations; they are zeroed once at the start
// of the kernel, before a grid barrier.
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

namespace {

bool isInPlaceWrite(const Op& op) {
  return op.info().opClass == OpClass::Write && ir::memPlan(op).aliasesOperand0;
}

}  // namespace

const Op* Generator::tileProducer(const Op& consumer, const ir::Value* operand) const {
  // The consumer reads element e of the operand at e (same type as its
  // result, no view between) and the producer's tiles are ranges of its
  // flat result, which its uTask loop covers (a tiled op of computeOp).
  const Op* p = operand->definingOp();
  if (!p || p->parentRegion() != consumer.parentRegion() || isView(*p) || isInPlaceWrite(*p)) return nullptr;
  if (p->numRegions() > 0 && p->kind() != ir::OpKind::Fused) return nullptr;
  if (!isTileLocal(consumer) || ir::tilesOf(consumer) <= 0) return nullptr;
  if (ir::tilesOf(*p) <= 0 || p->numResults() == 0 || !p->result()->type().isTensor()) return nullptr;
  if (operand->type() != consumer.result()->type() || p->result()->type() != consumer.result()->type()) return nullptr;
  return p;
}

void Generator::findCounterProducers(const ir::Region& region) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    for (size_t r = 0; r < op.numRegions(); ++r)
      if (op.kind() != ir::OpKind::Fused) findCounterProducers(op.region(r));
    if (ir::syncOf(op) != ir::Sync::Counter) continue;
    for (const ir::Value* v : op.operands())
      if (const Op* p = tileProducer(op, v); p && !sameTileOfSameBlock(&op, p))
        if (!exports_.secondPass || exports_.tileWaited.count(p)) counterProducers_.insert(p);
  }
}

void Generator::beginCounterProducer(const Op& op) {
  if (!counterProducers_.count(&op)) return;
  const int64_t tiles = ir::tilesOf(op);
  int64_t elems = 1;
  for (int64_t b : boundsOfType(op.result()->type())) elems *= b;
  const int64_t tileElems = coveringTileElems(tiles, ir::tileElemsOf(op), elems);
  const std::string name = ir::printValueName(op.result(), op);
  const int region = layout_.place(fmt::format("tile counters: {} ({} tiles)", name, tiles), 4 * tiles);
  TileCounters c{region, fmt::format("tc{}", region), fmt::format("ep{}", region), tiles, tileElems};
  kernel().prologue.push_back(fmt::format("unsigned int* const {} = (unsigned int*)(A + {});  // {}'s tile counters",
                                          c.pointer, layout_.region(region).offset, name));
  kernel().prologue.push_back(fmt::format("unsigned int {} = 0;  // runs of {} so far: its tiles' epoch", c.epoch, name));
  line(fmt::format("++{};  // its tiles publish this epoch", c.epoch));
  publishAfterTask_ = fmt::format("cocktail_publish_tile({} + task, {});  // tile `task` of {} is done", c.pointer,
                                  c.epoch, name);
  counterOf_[&op] = counters_.size();
  counters_.push_back(c);
}

bool Generator::waitForTiles(const Op* consumer, const Op* producer) {
  if (!consumer || !producer || !counterOf_.count(producer)) return false;
  bool reads = false;
  for (const ir::Value* v : consumer->operands())
    if (tileProducer(*consumer, v) == producer) reads = true;
  if (!reads) return false;
  const TileCounters& c = counters_[counterOf_.at(producer)];
  const std::string wait =
      fmt::format("if (hi > lo) cocktail_wait_tiles({}, lo / {}, cocktail_min((hi - 1) / {}, {}), {});  // sync = "
                  "counter: the tiles of {} it reads",
                  c.pointer, c.tileElems, c.tileElems, c.tiles - 1, c.epoch, ir::printValueName(producer->result(), *producer));
  waitedNow_.push_back(producer);
  for (const std::string& w : taskWaits_)
    if (w == wait) return true;
  taskWaits_.push_back(wait);
  return true;
}

void Generator::zeroTileCounters() {
  if (counters_.empty()) return;
  std::string text = "  // Tile counters start at 0 in every launch; every block sees that before any tile publishes.\n";
  for (const TileCounters& c : counters_)
    text += fmt::format("  for (i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x; t < {}; t += (i64)gridDim.x * "
                        "blockDim.x) {}[t] = 0;\n",
                        c.tiles, c.pointer);
  text += "  cocktail_grid_sync(barrier);  // the tile counters are zeroed\n";
  kernel().body.insert(0, text);
}

}  // namespace cocktail::codegen
