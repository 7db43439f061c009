//===- codegen/WeightStaging.cpp - Resident weights in shared memory -----------===//
//
// `place-control-flow` marks the weights a persistent loop reads as
// `resident` when they fit the target's on-chip bytes. Here that becomes
// real, as in Cocktailer and Persistent RNN: task i of every uOperator runs
// on block i mod gridDim.x, so a block knows before the loop which rows of a
// `linear` weight its own tiles will read. It copies those rows into its
// dynamic shared memory once, and the linear reads them from there in every
// iteration instead of from global memory.
//
// The per-block budget is TargetModel::cuda().onChipBytesPerWorker (160 KiB,
// under sm_80's and sm_90's opt-in limits); the residency pass's budget is
// that times the workers, so the two agree in total. Slots are sized for the
// schedule's grid (one block per worker); a GPU with fewer SMs gives a block
// more tiles, and those past its slots read global memory. A weight whose
// slice does not fit what is left of the budget stays in global memory, and
// the generated code says so.
//
//===----------------------------------------------------------------------===//
#include <set>

#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"
#include "passes/TargetModel.h"

namespace cocktail::codegen {

namespace {

/// "@w_ih, @w_hh" -> {"w_ih", "w_hh"}
void collectLinears(const ir::Region& region, std::vector<const Op*>& out) {
  for (const auto& op : region.ops()) {
    if (op->kind() == OpKind::Linear) out.push_back(op.get());
    for (size_t r = 0; r < op->numRegions(); ++r) collectLinears(op->region(r), out);
  }
}

/// The name of the weight `v` is, if it is one (not a view of one).
std::string weightName(const ir::Value* v) {
  const Op* def = v->definingOp();
  if (!def || def->kind() != OpKind::Weight) return {};
  return def->attrs().getString("name").value_or("");
}

std::string kib(int64_t bytes) { return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0); }

}  // namespace

const StagedWeight* Generator::stagedWeightOf(const Op& op) const {
  auto it = stagedFor_.find(&op);
  return it == stagedFor_.end() ? nullptr : &staged_[it->second];
}

void Generator::stageResidentWeights(const Op& loop) {
  const std::vector<std::string> names = ir::residentWeights(loop);
  const std::set<std::string> resident(names.begin(), names.end());
  if (resident.empty()) return;
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "@" : ", @") + n;
  const passes::TargetModel target = passes::TargetModel::cuda();
  const int64_t budget = target.onChipBytesPerWorker;
  std::vector<const Op*> linears;
  collectLinears(loop.region(0), linears);

  line(fmt::format("// Resident weights ({}): each block copies the rows its own tiles of each linear read into", list));
  line(fmt::format("// shared memory, once; budget {} B per block, slots sized for a grid of {} blocks.", budget,
                   target.workers));
  std::set<std::string> handled;
  bool declared = false;
  for (const Op* op : linears) {
    const std::string name = weightName(op->operand(1));
    if (!resident.count(name)) continue;
    handled.insert(name);
    const TensorRef& w = weights_.at(name);
    const int64_t tiles = ir::tilesOf(*op);
    int64_t outElems = 1;
    for (int64_t b : boundsOfType(op->result()->type())) outElems *= b;
    const int64_t tileElems = coveringTileElems(tiles, ir::tileElemsOf(*op), outElems);
    const std::string what = fmt::format("@{} (read by {})", name, describe(*op).substr(0, describe(*op).find(" {")));
    if (w.rank() != 2 || !w.contiguous() || tiles <= 0 || tileElems <= 0) {
      line(fmt::format("// {}: not a tiled [N, K] weight: streamed from global memory", what));
      continue;
    }
    const int64_t n = w.bounds[0], k = w.bounds[1];
    // A tile is a range of flat output elements; its weight rows are one
    // contiguous block when the tile and the rows line up.
    // With one output row (batch 1) every tile is rows lo..hi-1, the last
    // one possibly short.
    int64_t rows = 0;
    if (n % tileElems == 0 || (outElems == n && tileElems < n))
      rows = tileElems;
    else if (tileElems % n == 0 || outElems == n)
      rows = n;
    if (rows == 0) {
      line(fmt::format("// {}: tiles of {} outputs do not line up with its {} rows: streamed from global memory",
                       what, tileElems, n));
      continue;
    }
    // Linears that share a weight and a tiling share the slices.
    bool shared = false;
    for (size_t i = 0; i < staged_.size(); ++i)
      if (staged_[i].weight == name && staged_[i].tiles == tiles && staged_[i].tileElems == tileElems) {
        stagedFor_[op] = i;
        shared = true;
      }
    if (shared) continue;
    const int64_t sliceBytes = rows * k * static_cast<int64_t>(ir::dtypeSize(w.dtype));
    const int64_t wanted = (tiles + target.workers - 1) / target.workers;
    const int64_t slots = std::min(wanted, (budget - sharedUsed_) / sliceBytes);
    if (slots <= 0) {
      line(fmt::format("// {}: a tile's {} rows take {}, more than the {} left of the block's {}: streamed from "
                       "global memory",
                       what, rows, kib(sliceBytes), kib(budget - sharedUsed_), kib(budget)));
      continue;
    }
    if (sharedUsed_ == 0) kernel().prologue.push_back("COCKTAIL_DYNAMIC_SHARED(smem);  // this block's, sized by the launch");
    declared = true;
    StagedWeight s{name, fmt::format("sw{}", staged_.size()), tiles, tileElems, rows, k, n, slots};
    const std::string t = ctypeOf(w.dtype);
    line(fmt::format("{}* const {} = ({}*)(smem + {});  // {}: {} slot(s) of {} rows x {}{}", t, s.pointer, t,
                     sharedUsed_, what, slots, rows, k,
                     slots < wanted ? fmt::format("; a block's tiles past {} stream from global memory", slots) : ""));
    open(fmt::format("for (i64 slot = 0; slot < {}; ++slot)", slots));
    line(fmt::format("const i64 task = blockIdx.x + slot * gridDim.x;"));
    line(fmt::format("if (task >= {}) break;", tiles));
    line(rows == n ? fmt::format("const {}* const src = {};", t, bufferPointer(w))
                   : fmt::format("const {}* const src = {} + (task * {} % {}) * {};", t, bufferPointer(w), tileElems,
                                 n, k));
    const std::string count = n % rows == 0 ? std::to_string(s.sliceElems())
                                            : fmt::format("cocktail_min({}, {} - task * {}) * {}", rows, n, tileElems, k);
    line(fmt::format("for (i64 i = threadIdx.x; i < {}; i += blockDim.x) {}[slot * {} + i] = src[i];", count,
                     s.pointer, s.sliceElems()));
    close();
    // Slices start 16-byte aligned, for vector loads.
    sharedUsed_ += (slots * sliceBytes + 15) / 16 * 16;
    stagedFor_[op] = staged_.size();
    staged_.push_back(s);
  }
  for (const std::string& name : resident)
    if (!handled.count(name))
      line(fmt::format("// @{}: not the weight of a linear here: read from global memory", name));
  if (declared) {
    line("__syncthreads();  // the block's slices are in shared memory");
    plan_.kernels[static_cast<size_t>(current_)].sharedBytes = sharedUsed_;
  }
}

}  // namespace cocktail::codegen
