//===- ir/ScheduleVerifier.cpp ----------------------------------------------------===//
//
// Two walks: one checks each op's schedule attributes on their own and
// collects the planned buffers (an op's `mem` offsets; a loop's carried
// buffer, which its body's argument shares; the operand-0 buffer a
// `mem_alias` op shares), the other sweeps the buffers by offset and reports
// every pair that shares bytes while both are live.
//
//===----------------------------------------------------------------------===//
#include "ir/ScheduleVerifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ir/Liveness.h"
#include "ir/Printer.h"
#include "ir/Schedule.h"
#include "ir/Verifier.h"

namespace cocktail::ir {

namespace {

bool isPowerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/// Elements of `t` at its bounds, a dim of no bound counted as 1 (as the
/// partition pass counts them); nullopt past int64.
std::optional<int64_t> boundElements(const Type& t, const Program& program) {
  int64_t n = 1;
  if (!t.isTensor() || !t.hasRank()) return n;
  for (const Dim& d : t.dims()) {
    int64_t size = 1;
    if (d.isConstant()) size = d.value();
    else if (const Symbol* s = d.isSymbol() ? program.findSymbol(d.symbolName()) : nullptr) size = s->bound;
    if (size < 0 || __builtin_mul_overflow(n, size, &n)) return std::nullopt;
  }
  return n;
}

/// One planned buffer: bytes at an offset of the arena, and the values in it.
struct PlannedBuffer {
  const Op* owner;  // the op whose `mem` placed it
  size_t result;    // which of its results (a loop: which carried value)
  int64_t offset;
  int64_t bytes;
  std::vector<const Value*> members;
  int start = 0, end = 0;  // lifetime
};

class ScheduleVerifier {
 public:
  ScheduleVerifier(const Program& p, const ScheduleReport& r) : program_(p), report_(r) {}

  void run() {
    checkFunction();
    checkRegion(program_.body());
    checkOverlaps();
  }

 private:
  // ---- the function's attributes -------------------------------------------------------

  void checkFunction() {
    for (const auto& [name, value] : program_.attrs().all()) {
      const ScheduleAttrDecl* decl = findScheduleAttr(name, ScheduleScope::Function);
      if (decl && !hasKind(value, decl->kind))
        report_.atFunction(fmt::format("function attribute '{}' must be {}, got {}", name, kindName(decl->kind),
                                       attrValueToString(value)));
    }
    auto arena = arenaPlan(program_);
    if (!arena) return;
    if (arena->bytes < 0 || arena->bytes > kMaxArenaBytes) {
      arenaReported_ = true;
      report_.atFunction(fmt::format("function attribute 'arena_bytes' = {} is outside 0 to {} (64 GiB)",
                                     arena->bytes, kMaxArenaBytes));
    } else {
      arenaBytes_ = arena->bytes;
    }
    if (!isPowerOfTwo(arena->align) || arena->align > kMaxArenaAlign)
      report_.atFunction(fmt::format("function attribute 'arena_align' = {} is not a power of two up to {}",
                                     arena->align, kMaxArenaAlign));
    else
      align_ = arena->align;
  }

  // ---- each op's attributes ------------------------------------------------------------------

  void checkRegion(const Region& region) {
    for (const auto& opPtr : region.ops()) {
      const Op& op = *opPtr;
      if (op.kind() == OpKind::Loop) {
        if (checkKinds(op)) checkOp(op);
        for (const auto& r : op.regions()) checkRegion(*r);
        continue;
      }
      if (op.kind() != OpKind::Fused)
        for (const auto& r : op.regions()) checkRegion(*r);
      if (checkKinds(op)) checkOp(op);
    }
  }

  /// Each schedule attribute the op has holds its declared kind; false when
  /// one does not (its value is then not looked at further).
  bool checkKinds(const Op& op) {
    bool ok = true;
    for (const auto& [name, value] : op.attrs().all()) {
      const ScheduleAttrDecl* decl = findScheduleAttr(name, ScheduleScope::Op);
      if (!decl || !hasKind(value, decl->kind)) {
        if (decl) {
          report_.atOp(op, fmt::format("expects attribute '{}' to be {}, got {}", name, kindName(decl->kind),
                                       attrValueToString(value)));
          ok = false;
        }
      }
    }
    return ok;
  }

  void checkOp(const Op& op) {
    checkPlacement(op);
    checkResidency(op);
    checkPartition(op);
    checkMemory(op);
  }

  void checkPlacement(const Op& op) {
    const AttrValue* v = op.attrs().find("placement");
    if (!v) return;
    const std::string& text = std::get<std::string>(*v);
    const auto p = parsePlacement(text);
    const bool allowed = p && ((op.kind() == OpKind::Loop && *p != Placement::Device) ||
                               (op.kind() == OpKind::If && *p != Placement::Persistent));
    if (allowed) return;
    if (op.kind() != OpKind::Loop && op.kind() != OpKind::If)
      report_.atOp(op, "has attribute 'placement', which only a 'loop' or an 'if' takes");
    else
      report_.atOp(op, fmt::format("attribute 'placement' = \"{}\" is not a placement of a '{}' (expected {})", text,
                                   op.name(), op.kind() == OpKind::Loop ? "\"persistent\" or \"host\""
                                                                        : "\"device\" or \"host\""));
  }

  void checkResidency(const Op& op) {
    const AttrValue* v = op.attrs().find("resident");
    if (!v) return;
    if (op.kind() != OpKind::Loop) return report_.atOp(op, "has attribute 'resident', which only a 'loop' takes");
    const std::string& text = std::get<std::string>(*v);
    auto names = parseResidentList(text);
    if (!names) return report_.atOp(op, fmt::format("attribute 'resident' = \"{}\" is not a list of weights "
                                                    "(\"@a, @b\")", text));
    for (const std::string& n : *names)
      if (!program_.findWeight(n))
        report_.atOp(op, fmt::format("attribute 'resident' names undeclared weight '@{}'", n));
  }

  void checkPartition(const Op& op) {
    if (const AttrValue* s = op.attrs().find("sync"); s && !parseSync(std::get<std::string>(*s)))
      report_.atOp(op, fmt::format("attribute 'sync' = \"{}\" is not a sync (expected \"none\", \"counter\" or "
                                   "\"barrier\")", std::get<std::string>(*s)));
    const bool hasTiles = op.attrs().has("tiles"), hasElems = op.attrs().has("tile_elems");
    if (!hasTiles && !hasElems) return;
    if (hasTiles != hasElems)
      return report_.atOp(op, fmt::format("has attribute '{}' without '{}'", hasTiles ? "tiles" : "tile_elems",
                                          hasTiles ? "tile_elems" : "tiles"));
    const int64_t tiles = tilesOf(op), elems = tileElemsOf(op);
    if (tiles <= 0) return report_.atOp(op, fmt::format("attribute 'tiles' = {} must be positive", tiles));
    if (elems <= 0) return report_.atOp(op, fmt::format("attribute 'tile_elems' = {} must be positive", elems));
    if (op.numResults() == 0 || !op.result()->type().isTensor())
      return report_.atOp(op, "has attribute 'tiles', but no tensor result to split into tiles");
    const auto total = boundElements(op.result()->type(), program_);
    if (!total) return;  // reported as an unplaceable size where it matters
    const int64_t n = std::max<int64_t>(*total, 1);
    int64_t covered = 0;
    if (tiles > n)
      report_.atOp(op, fmt::format("attribute 'tiles' = {} is more than the {} elements of its result", tiles, n));
    else if (__builtin_mul_overflow(tiles, elems, &covered) || covered < n)
      report_.atOp(op, fmt::format("attributes 'tiles' = {} and 'tile_elems' = {} do not cover the {} elements of "
                                   "its result", tiles, elems, n));
    // The last tiles may be empty: partition rounds tile_elems up for a tile
    // count it chose from the work (1024 elements in 132 tiles of 8).
  }

  // ---- the memory plan, op by op -------------------------------------------------------------

  int bufferOf(const Value* v) const {
    auto it = bufferOf_.find(v);
    return it == bufferOf_.end() ? -1 : it->second;
  }

  void checkMemory(const Op& op) {
    const OpMemPlan plan = memPlan(op);
    if (const AttrValue* a = op.attrs().find("mem_alias")) {
      if (std::get<int64_t>(*a) != 0)
        report_.atOp(op, fmt::format("attribute 'mem_alias' = {} must be 0 (operand 0's buffer)",
                                     std::get<int64_t>(*a)));
      else if (op.numOperands() == 0 || !op.operand(0)->type().isTensor())
        report_.atOp(op, "has attribute 'mem_alias', but no tensor operand 0 to share a buffer with");
      else if (op.attrs().has("mem"))
        report_.atOp(op, "has both 'mem' and 'mem_alias': its results are either placed or in operand 0's buffer");
      else if (int b = bufferOf(op.operand(0)); b >= 0)
        for (const auto& r : op.results())
          if (r->type().isTensor()) join(r.get(), b);
      return;
    }
    if (!op.attrs().has("mem")) return;
    if (plan.offsets.size() != op.numResults())
      return report_.atOp(op, fmt::format("attribute 'mem' has {} offset{} for {} result{}", plan.offsets.size(),
                                          plan.offsets.size() == 1 ? "" : "s", op.numResults(),
                                          op.numResults() == 1 ? "" : "s"));
    for (size_t k = 0; k < plan.offsets.size(); ++k) {
      const int64_t offset = plan.offsets[k];
      if (offset == kNotPlanned) continue;
      const Type& type = op.result(k)->type();
      if (offset < 0) {
        report_.atOp(op, fmt::format("attribute 'mem': result #{} has offset {}, which is negative (-1: not planned)",
                                     k, offset));
        continue;
      }
      const auto bytes = type.isTensor() ? boundBytes(type, program_) : std::nullopt;
      if (!bytes) {
        report_.atOp(op, fmt::format("attribute 'mem': result #{} ({}) has offset {}, but no size at its bounds to "
                                     "place (-1: not planned)", k, type.str(), offset));
        continue;
      }
      if (!arenaBytes_) {
        if (arenaReported_) continue;
        report_.atOp(op, fmt::format("attribute 'mem': result #{} has offset {}, but the function has no valid "
                                     "'arena_bytes'", k, offset));
        continue;
      }
      int64_t end = 0;
      if (__builtin_add_overflow(offset, *bytes, &end) || end > *arenaBytes_) {
        report_.atOp(op, fmt::format("attribute 'mem': result #{} at offset {} + {} bytes is outside the {}-byte arena "
                                     "(arena_bytes)", k, offset, *bytes, *arenaBytes_));
        continue;
      }
      if (offset % align_ != 0) {
        report_.atOp(op, fmt::format("attribute 'mem': result #{} at offset {} is not aligned to the arena's {} "
                                     "bytes (arena_align)", k, offset, align_));
        continue;
      }
      buffers_.push_back(PlannedBuffer{&op, k, offset, *bytes, {}, 0, 0});
      const int b = static_cast<int>(buffers_.size()) - 1;
      join(op.result(k), b);
      // A loop's carried buffer is also its body's argument in every iteration.
      if (op.kind() == OpKind::Loop && op.region(0).numArguments() > k + 1) join(op.region(0).argument(k + 1), b);
    }
  }

  void join(const Value* v, int buffer) {
    bufferOf_[v] = buffer;
    buffers_[static_cast<size_t>(buffer)].members.push_back(v);
  }

  // ---- no two live tensors in the same bytes --------------------------------------------------

  void checkOverlaps() {
    if (buffers_.empty()) return;
    const Liveness liveness(program_.body());
    for (PlannedBuffer& b : buffers_) std::tie(b.start, b.end) = liveness.bufferLifetime(b.members);
    std::vector<size_t> order(buffers_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return buffers_[x].offset < buffers_[y].offset; });
    for (size_t i = 0; i < order.size(); ++i) {
      const PlannedBuffer& a = buffers_[order[i]];
      for (size_t j = i + 1; j < order.size(); ++j) {
        const PlannedBuffer& b = buffers_[order[j]];
        if (b.offset >= a.offset + a.bytes) break;
        if (a.bytes == 0 || b.bytes == 0 || a.end < b.start || b.end < a.start) continue;
        const PlannedBuffer& later = a.start <= b.start ? b : a;
        const PlannedBuffer& other = &later == &a ? b : a;
        report_.atOp(*later.owner,
                     fmt::format("attribute 'mem': result #{} at [{}, {}) overlaps {} at [{}, {}) while both are live",
                                 later.result, later.offset, later.offset + later.bytes,
                                 printValueName(other.owner->result(other.result), *other.owner), other.offset,
                                 other.offset + other.bytes));
      }
    }
  }

  const Program& program_;
  const ScheduleReport& report_;
  std::optional<int64_t> arenaBytes_;
  bool arenaReported_ = false;  // an invalid arena_bytes, reported once
  int64_t align_ = 1;
  std::vector<PlannedBuffer> buffers_;
  std::unordered_map<const Value*, int> bufferOf_;
};

}  // namespace

void verifySchedule(const Program& program, const ScheduleReport& report) { ScheduleVerifier(program, report).run(); }

}  // namespace cocktail::ir
