//===- passes/MemoryPlanning.cpp ----------------------------------------------------===//
//
// Three steps: number the ops in program order and find each value's last
// use (ir/Liveness.h), decide which values share a buffer (views,
// in-place writes, a loop's carried values), then place the buffers, largest
// first, at the lowest offset free over their lifetime.
//
//===----------------------------------------------------------------------===//
#include "passes/MemoryPlanning.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/Liveness.h"
#include "ir/Schedule.h"

namespace cocktail::passes {

using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Region;
using ir::Value;

namespace {

/// Views that regroup elements in order: a view only of a dense operand.
bool needsDenseOperand(OpKind k) { return ir::hasTrait(k, ir::kRegroups); }

/// Whether a view's result may not be dense (row-major without gaps) even
/// when its operand is.
bool makesStrided(const Op& op) {
  if (ir::hasTrait(op.kind(), ir::kStrides)) return true;
  if (!ir::hasTrait(op.kind(), ir::kPartAlongDim)) return false;
  if (op.kind() == OpKind::Slice && op.attrs().getInt("step").value_or(1) != 1) return true;
  // A part along dim d is one dense piece only when every dim before d is 1.
  const ir::Type& t = op.operand(0)->type();
  const int64_t d = op.attrs().getInt("dim").value_or(0);
  if (!t.hasRank()) return true;
  const auto& dims = t.dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  const int64_t dim = d < 0 ? d + rank : d;
  for (int64_t i = 0; i < dim && i < rank; ++i)
    if (!dims[static_cast<size_t>(i)].isConstant() || dims[static_cast<size_t>(i)].value() != 1) return true;
  return false;
}

/// One buffer and the values that live in it.
struct Buffer {
  enum class Kind { Arena, External, Dynamic } kind = Kind::Arena;
  int64_t bytes = 0;
  int start = 0;  // first position it must hold data
  int end = 0;    // last position it must hold data
  int64_t offset = -1;
  std::vector<const Value*> members;
};

class MemoryPlanning final : public Pass {
 public:
  explicit MemoryPlanning(TargetModel target) : t_(std::move(target)) {}
  std::string_view name() const override { return "plan-memory"; }
  std::string_view description() const override {
    return "place every tensor at a fixed offset in one arena, sharing bytes between tensors that are not live together";
  }

  ir::Status run(ir::Program& program) override {
    program_ = &program;
    liveness_.emplace(program.body());
    for (const auto& a : program.body().arguments()) join(a.get(), newBuffer(Buffer::Kind::External, 0));
    assign(program.body());
    place();
    annotate(program.body());
    ir::setArenaPlan(program, ir::ArenaPlan{arenaBytes_, t_.memoryAlignment});
    return ir::Status::success();
  }

 private:
  // ---- liveness (ir/Liveness.h) ----------------------------------------------------------

  int defPos(const Value* v) const { return liveness_->defPos(v); }
  int lastUse(const Value* v) const { return liveness_->lastUse(v); }

  // ---- which values share a buffer -------------------------------------------------------

  /// The buffer size of `v` at its bounds, aligned; nullopt when a dim has none.
  std::optional<int64_t> alignedBytes(const Value* v) const {
    const auto bytes = ir::boundBytes(v->type(), *program_);
    if (!bytes) return std::nullopt;
    const int64_t a = t_.memoryAlignment;
    return std::max<int64_t>((*bytes + a - 1) / a * a, a);
  }

  int newBuffer(Buffer::Kind kind, int64_t bytes) {
    Buffer b;
    b.kind = kind;
    b.bytes = bytes;
    buffers_.push_back(std::move(b));
    return static_cast<int>(buffers_.size()) - 1;
  }

  /// A buffer of its own for `v`: in the arena when its size is bounded.
  int ownBuffer(const Value* v) {
    auto bytes = alignedBytes(v);
    return bytes ? newBuffer(Buffer::Kind::Arena, *bytes) : newBuffer(Buffer::Kind::Dynamic, 0);
  }

  void join(const Value* v, int buffer) {
    bufferOf_[v] = buffer;
    buffers_[static_cast<size_t>(buffer)].members.push_back(v);
  }

  int bufferOf(const Value* v) const {
    auto it = bufferOf_.find(v);
    return it == bufferOf_.end() ? -1 : it->second;
  }

  /// A functional write may reuse its base's bytes when they are ours to
  /// write and no value in them is read after the write.
  bool canWriteInPlace(const Op& write) const {
    const int b = bufferOf(write.operand(0));
    if (b < 0 || buffers_[static_cast<size_t>(b)].kind != Buffer::Kind::Arena) return false;
    const int at = liveness_->start(write);
    for (const Value* m : buffers_[static_cast<size_t>(b)].members)
      if (defPos(m) <= at && lastUse(m) > at) return false;
    return true;
  }

  void assign(const Region& region) {
    for (const auto& opPtr : region.ops()) {
      const Op& op = *opPtr;
      const OpKind k = op.kind();
      if (k == OpKind::Loop) {
        assignLoop(op);
        continue;
      }
      if (k != OpKind::Fused)
        for (const auto& r : op.regions()) assign(*r);
      if (op.info().opClass == OpClass::Terminator) continue;
      for (const auto& res : op.results()) {
        const Value* v = res.get();
        if (!v->type().isTensor()) continue;
        const int base = op.numOperands() ? bufferOf(op.operand(0)) : -1;
        if (k == OpKind::Weight) {
          join(v, newBuffer(Buffer::Kind::External, 0));
        } else if (ir::isView(k) && base >= 0 && !(needsDenseOperand(k) && strided_.count(op.operand(0))) &&
                   (t_.readsStridedViews || !makesStrided(op))) {
          join(v, base);
          if (strided_.count(op.operand(0)) || makesStrided(op)) strided_.insert(v);
          shared_.insert(&op);
        } else if (op.info().opClass == OpClass::Write && canWriteInPlace(op)) {
          join(v, base);
          if (strided_.count(op.operand(0))) strided_.insert(v);
          shared_.insert(&op);
        } else if (k == OpKind::Island) {
          join(v, newBuffer(Buffer::Kind::Dynamic, 0));  // the interpreter allocates it
        } else {
          join(v, ownBuffer(v));
        }
      }
    }
  }

  /// One buffer per carried value: the body's argument in every iteration
  /// and the loop's result after it.
  void assignLoop(const Op& loop) {
    const Region& body = *loop.regions()[0];
    std::vector<int> carried;
    for (size_t k = 0; k < loop.numResults(); ++k) {
      const Value* result = loop.result(k);
      const Value* arg = body.argument(k + 1);
      if (!result->type().isTensor()) {
        carried.push_back(-1);
        continue;
      }
      const int b = ownBuffer(result);
      join(arg, b);
      carried.push_back(b);
    }
    assign(body);
    for (size_t k = 0; k < carried.size(); ++k)
      if (carried[k] >= 0) join(loop.result(k), carried[k]);
  }

  // ---- placement ---------------------------------------------------------------------------

  void place() {
    std::vector<size_t> order;
    for (size_t i = 0; i < buffers_.size(); ++i) {
      Buffer& b = buffers_[i];
      if (b.kind != Buffer::Kind::Arena) continue;
      std::tie(b.start, b.end) = liveness_->bufferLifetime(b.members);
      order.push_back(i);
    }
    // Largest first, then earliest: the usual first-fit-decreasing heuristic.
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      if (buffers_[x].bytes != buffers_[y].bytes) return buffers_[x].bytes > buffers_[y].bytes;
      return buffers_[x].start < buffers_[y].start;
    });
    std::vector<size_t> placed;
    for (size_t i : order) {
      Buffer& b = buffers_[i];
      std::vector<std::pair<int64_t, int64_t>> taken;  // [offset, end) of buffers live at the same time
      for (size_t j : placed) {
        const Buffer& o = buffers_[j];
        if (o.start <= b.end && b.start <= o.end) taken.emplace_back(o.offset, o.offset + o.bytes);
      }
      std::sort(taken.begin(), taken.end());
      int64_t offset = 0;
      for (const auto& [lo, hi] : taken) {
        if (offset + b.bytes <= lo) break;
        offset = std::max(offset, hi);
      }
      b.offset = offset;
      arenaBytes_ = std::max(arenaBytes_, offset + b.bytes);
      placed.push_back(i);
    }
  }

  // ---- annotations ---------------------------------------------------------------------------

  int64_t offsetOf(const Value* v) const {
    const int b = bufferOf(v);
    if (b < 0) return -1;
    const Buffer& buf = buffers_[static_cast<size_t>(b)];
    return buf.kind == Buffer::Kind::Arena ? buf.offset : -1;
  }

  void annotate(Region& region) {
    for (const auto& opPtr : region.ops()) {
      Op& op = *opPtr;
      if (op.kind() != OpKind::Fused)
        for (const auto& r : op.regions()) annotate(*r);
      const bool anyTensor = std::any_of(op.results().begin(), op.results().end(),
                                         [](const auto& r) { return r->type().isTensor(); });
      if (!anyTensor || op.kind() == OpKind::Weight) continue;
      if (shared_.count(&op)) {
        ir::setMemAliasesOperand0(op);
        continue;
      }
      std::vector<int64_t> offsets;
      for (const auto& r : op.results()) offsets.push_back(offsetOf(r.get()));
      ir::setMemOffsets(op, std::move(offsets));
    }
  }

  TargetModel t_;
  const ir::Program* program_ = nullptr;
  std::optional<ir::Liveness> liveness_;
  std::vector<Buffer> buffers_;
  std::unordered_map<const Value*, int> bufferOf_;
  std::unordered_set<const Value*> strided_;
  std::unordered_set<const Op*> shared_;
  int64_t arenaBytes_ = 0;
};

}  // namespace

std::unique_ptr<Pass> createMemoryPlanningPass(TargetModel target) {
  return std::make_unique<MemoryPlanning>(std::move(target));
}

}  // namespace cocktail::passes
