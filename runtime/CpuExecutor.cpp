//===- runtime/CpuExecutor.cpp - Interpreting the uProgram with the CPU kernels -------===//
#include "runtime/CpuExecutor.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <new>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/Schedule.h"

#include "runtime/CpuOpKernels.h"
#include "runtime/FusedElementwise.h"
#include "runtime/OpError.h"
#include "runtime/OpProfile.h"
#include "runtime/PackedWeights.h"
#include "runtime/RunArena.h"
#include "runtime/TensorPlacement.h"
#include "runtime/ValueConversions.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime {

using ir::DType;
using ir::OpKind;

namespace {

struct Block;

/// One op with its operands and results resolved to frame slots.
struct Instr {
  const ir::Op* op = nullptr;
  std::vector<int> in;
  std::vector<int> out;
  std::vector<Block> regions;  // a loop's body, an if's branches
  /// Any other op, decoded at load (runtime/CpuOpKernels.h).
  OpKernel kernel;
  /// Slots whose value is dead after this op: cleared, so that their buffers
  /// are freed (or, being the last reference, written in place by a later op).
  std::vector<int> release;
  /// Operand i is read here for the last time and nowhere else by this op:
  /// its value may be moved out of the frame instead of copied.
  std::vector<char> lastUse;
  /// The memory plan: per result, its arena offset (-1: none) and its bytes
  /// at the bounds; `memAlias`: the results live in operand 0's buffer.
  std::vector<int64_t> mem;
  std::vector<int64_t> memBytes;
  bool memAlias = false;
  /// The row of COCKTAIL_PROFILE's table this op's time goes to.
  std::string profileRow;
};

struct Block {
  std::vector<int> args;
  std::vector<Instr> instrs;
  std::vector<int> yields;  // operands of the terminator
  /// yields[i] is defined in this block and yielded once: move, do not copy.
  std::vector<char> yieldMoves;
};

/// The state of one run: its values, and the arena the memory plan places
/// them in (empty when the program has no plan, e.g. at -O0).
struct Run {
  std::vector<RuntimeValue> frame;
  RunArena arena;
  const Instr* current = nullptr;
  const RunControl* control = nullptr;
};

/// Every slot an instruction reads, including inside its regions.
void collectUses(const Instr& ins, std::vector<int>& uses) {
  uses.insert(uses.end(), ins.in.begin(), ins.in.end());
  for (const Block& b : ins.regions) {
    for (const Instr& inner : b.instrs) collectUses(inner, uses);
    uses.insert(uses.end(), b.yields.begin(), b.yields.end());
  }
}

/// Liveness within one block: a value defined here (an argument or a result)
/// is released after the op that reads it last; yielded values are moved out.
/// Values from enclosing blocks are never released here, since a loop body
/// reads them again on the next iteration.
void planLiveness(Block& block) {
  std::unordered_map<int, int> defined;  // slot -> index of the defining op (-1: argument)
  for (int a : block.args) defined[a] = -1;
  for (size_t i = 0; i < block.instrs.size(); ++i)
    for (int o : block.instrs[i].out) defined[o] = static_cast<int>(i);
  std::unordered_map<int, int> lastUse;
  std::unordered_map<int, int> usesAt;  // slot -> reads by the op that reads it last
  for (size_t i = 0; i < block.instrs.size(); ++i) {
    std::vector<int> uses;
    collectUses(block.instrs[i], uses);
    for (int u : uses) {
      if (lastUse.count(u) && lastUse[u] == static_cast<int>(i)) {
        ++usesAt[u];
      } else {
        lastUse[u] = static_cast<int>(i);
        usesAt[u] = 1;
      }
    }
  }
  const int end = static_cast<int>(block.instrs.size());
  std::unordered_map<int, int> yieldCount;
  for (int y : block.yields) ++yieldCount[y];
  for (int y : block.yields) lastUse[y] = end;
  for (const auto& [slot, def] : defined) {
    auto it = lastUse.find(slot);
    int at = it == lastUse.end() ? def : it->second;  // never read: free right after its definition
    if (at < 0 || at >= end) continue;
    Instr& ins = block.instrs[static_cast<size_t>(at)];
    ins.release.push_back(slot);
  }
  for (Instr& ins : block.instrs) {
    ins.lastUse.assign(ins.in.size(), 0);
    for (size_t k = 0; k < ins.in.size(); ++k) {
      const int s = ins.in[k];
      bool released = std::find(ins.release.begin(), ins.release.end(), s) != ins.release.end();
      ins.lastUse[k] = released && usesAt[s] == 1;
    }
  }
  for (int y : block.yields) block.yieldMoves.push_back(defined.count(y) && yieldCount[y] == 1);
}

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(std::shared_ptr<const ir::Program> program, IslandFactory islands)
      : program_(std::move(program)),
        islands_(std::move(islands)),
        signature_(Signature::of(*program_)),
        profile_(OpProfile::fromEnvironment()) {}

  ~CpuExecutor() override {
    if (!profile_) return;
    try {
      fmt::print(stderr, "cocktail: time per op (COCKTAIL_PROFILE)\n{}", profile_->report());
    } catch (...) {  // the report is best effort; a destructor must not throw
    }
  }

  ir::Status prepare() {
    for (const ir::WeightDecl& w : program_->weights()) {
      if (!w.type.hasDType() || !w.type.hasRank())
        return ir::Status::error(fmt::format("weight @{} has an incomplete type {}", w.name, w.type.str()));
      Shape shape;
      for (const ir::Dim& d : w.type.dims()) shape.push_back(d.value());
      int64_t bytes = numElements(shape) * ir::dtypeSize(w.type.dtype());
      if (static_cast<int64_t>(w.data.size()) != bytes)
        return ir::Status::error(fmt::format("weight @{} ({}) has {} bytes of data, expected {}", w.name, w.type.str(),
                                             w.data.size(), bytes));
      // The program's bytes, not a copy: the executor never writes a weight
      // (weights_ keeps a reference, so no in-place write takes one over).
      weights_.emplace(w.name, Tensor::borrowed(w.type.dtype(), shape, program_, w.data.data()));
    }
    try {
      body_ = compileRegion(program_->body());
    } catch (const OpError& e) {
      return ir::Status::error(e.what());
    }
    if (auto arena = ir::arenaPlan(*program_); arena && arena->bytes > 0)
      arenas_ = std::make_unique<ArenaPool>(arena->bytes, arena->align);
    return ir::Status::success();
  }

  const Signature& signature() const override { return signature_; }
  std::string device() const override { return "cpu"; }

  using Executor::run;
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs,
                                              const RunControl& control) override {
    COCKTAIL_RETURN_IF_ERROR(signature_.check(inputs));
    Run run;
    run.control = &control;
    run.frame.resize(static_cast<size_t>(numSlots_));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const RuntimeValue& v = inputs[i];
      // A float argument given as an int is still a float inside.
      bool wantsFloat = signature_.inputs[i].type.isScalar() && signature_.inputs[i].type.dtype() == DType::F64;
      run.frame[static_cast<size_t>(body_.args[i])] = wantsFloat ? RuntimeValue(asDouble(v)) : v;
    }
    if (arenas_) {
      try {
        run.arena = arenas_->acquire();
      } catch (const std::bad_alloc&) {
        return ir::Status::error(fmt::format("cannot allocate the {}-byte arena of the memory plan (arena_bytes)",
                                             ir::arenaPlan(*program_)->bytes),
                                 {}, ir::ErrorKind::Internal);
      }
    }
    std::vector<RuntimeValue> outputs;
    try {
      execBlock(body_, run);
      // The arena serves the next run: outputs that live in it leave it.
      for (int s : body_.yields) {
        RuntimeValue& v = run.frame[static_cast<size_t>(s)];
        if (const Tensor* t = std::get_if<Tensor>(&v); t && run.arena.contains(*t)) v = t->clone();
        outputs.push_back(v);
      }
    } catch (const InputError& e) {
      return runError(run, e, ir::ErrorKind::User);
    } catch (const cpu::IndexOutOfRange& e) {  // an index the input chose
      return runError(run, e, ir::ErrorKind::User);
    } catch (const std::exception& e) {
      return runError(run, e, ir::ErrorKind::Internal);
    }
    run.frame.clear();
    if (arenas_) arenas_->release(std::move(run.arena));
    return outputs;
  }

 private:
  /// A failed run, at the op that failed.
  static ir::Status runError(const Run& run, const std::exception& e, ir::ErrorKind kind) {
    const Instr* current = run.current;
    ir::Location loc = current ? current->op->loc() : ir::Location{};
    std::string opName = current ? std::string(current->op->name()) : "?";
    if (current && current->op->kind() == OpKind::Island)
      opName = current->op->attrs().getString("op").value_or("island");
    return ir::Status::error(fmt::format("in '{}': {}", opName, e.what()), loc, kind);
  }

  int slotOf(const ir::Value* v) {
    auto [it, inserted] = slots_.emplace(v, numSlots_);
    if (inserted) ++numSlots_;
    return it->second;
  }

  Block compileRegion(const ir::Region& region) {
    Block block;
    for (const auto& a : region.arguments()) block.args.push_back(slotOf(a.get()));
    for (const auto& opPtr : region.ops()) {
      const ir::Op& op = *opPtr;
      if (op.info().opClass == ir::OpClass::Terminator) {
        for (const ir::Value* v : op.operands()) block.yields.push_back(slotOf(v));
        continue;
      }
      Instr ins;
      ins.op = &op;
      for (const ir::Value* v : op.operands()) ins.in.push_back(slotOf(v));
      for (const auto& r : op.results()) ins.out.push_back(slotOf(r.get()));
      const ir::OpMemPlan plan = ir::memPlan(op);
      if (!plan.offsets.empty()) {
        ins.mem.assign(plan.offsets.begin(), plan.offsets.end());
        for (const auto& r : op.results()) ins.memBytes.push_back(ir::boundBytes(r->type(), *program_).value_or(-1));
        if (ins.mem.size() != op.numResults())
          throw OpError(fmt::format("the memory plan of '{}' has {} offsets for {} results", op.name(), ins.mem.size(),
                                    op.numResults()));
      }
      ins.memAlias = plan.aliasesOperand0;
      if (op.kind() == OpKind::Loop || op.kind() == OpKind::If) {
        for (const auto& r : op.regions()) ins.regions.push_back(compileRegion(*r));
        if (profile_) ins.profileRow = std::string(ir::mnemonic(op.kind()));
      } else {
        ins.kernel = decodeKernel(op, ins.profileRow);
      }
      block.instrs.push_back(std::move(ins));
    }
    planLiveness(block);
    return block;
  }

  /// `op` (not a loop or an if) as a kernel, with what it needs from the
  /// load (its weight, its packed weights, its island's interpreter) in it;
  /// `profileRow` gets its COCKTAIL_PROFILE row when profiling.
  OpKernel decodeKernel(const ir::Op& op, std::string& profileRow) {
    KernelResources res;
    if (op.kind() == OpKind::Fused) {
      // The body runs as one kernel, not op by op.
      auto compiled = FusedElementwise::compile(op);
      if (!compiled) throw OpError(compiled.status().str());
      auto fused = std::make_shared<const FusedElementwise>(std::move(*compiled));
      auto head = fused->headOperands();
      size_t linearWeight = 0;
      if (head && head->kind == OpKind::Conv2d) {
        res.packedConv = packed_.forConv(*op.operand(head->weight), op.operand(head->input)->type(), head->stride,
                                         head->dilation, head->groups);
      } else if (head) {
        res.packedLinear = packed_.forLinear(*op.operand(head->weight), op.operand(head->input)->type());
        linearWeight = head->weight;
      }
      if (profile_) profileRow = profileRowOf(op, head);
      return [fused, res = std::move(res), linearWeight](OpOperands& x) {
        std::vector<const RuntimeValue*> args;
        args.reserve(x.size());
        for (size_t i = 0; i < x.size(); ++i) args.push_back(&x[i]);
        const cpu::PackedPanels* linear =
            res.packedLinear.byAddress.empty() ? nullptr : res.packedLinear.find(x[linearWeight]);
        std::vector<Tensor> outs = fused->run(args, PackedHead{res.packedConv.get(), linear});
        for (size_t k = 0; k < outs.size(); ++k) x.set(std::move(outs[k]), k);
      };
    }
    if (profile_) profileRow = profileRowOf(op, std::nullopt);
    if (op.kind() == OpKind::Island) {
      const std::string what = op.attrs().getString("op").value_or("?");
      if (!islands_)
        throw OpError(fmt::format(
            "the program has a TorchScript island ({}) but this runtime has no TorchScript interpreter", what));
      std::shared_ptr<IslandRunner> island = islands_(op.attrs().getString("graph").value_or(""));
      return [island](OpOperands& x) {
        std::vector<RuntimeValue> args(x.size());
        for (size_t i = 0; i < x.size(); ++i) args[i] = x[i];
        std::vector<RuntimeValue> outs = island->run(args);
        if (outs.size() != x.numResults())
          throw OpError(fmt::format("the island returned {} values, expected {}", outs.size(), x.numResults()));
        for (size_t k = 0; k < outs.size(); ++k) x.set(std::move(outs[k]), k);
      };
    }
    if (op.kind() == OpKind::Weight) {
      auto name = op.attrs().getString("name").value_or("");
      auto it = weights_.find(name);
      if (it == weights_.end()) throw OpError(fmt::format("weight @{} has no data", name));
      res.weight = it->second;
    }
    if (op.kind() == OpKind::Conv2d) {
      const std::vector<int64_t> stride = op.attrs().getInts("stride").value_or(std::vector<int64_t>{});
      const std::vector<int64_t> dilation = op.attrs().getInts("dilation").value_or(std::vector<int64_t>{});
      const auto groups = op.attrs().getInt("groups");
      if (stride.size() == 2 && dilation.size() == 2 && groups)
        res.packedConv = packed_.forConv(*op.operand(1), op.operand(0)->type(), {stride[0], stride[1]},
                                         {dilation[0], dilation[1]}, *groups);
    }
    if (op.kind() == OpKind::Linear) res.packedLinear = packed_.forLinear(*op.operand(1), op.operand(0)->type());
    return decodeCpuKernel(op, std::move(res));
  }

  /// COCKTAIL_PROFILE's row for `op`: by shape, a fused op with a head is
  /// labelled with its head's kind, input and weight; any other op with its
  /// first two operands.
  std::string profileRowOf(const ir::Op& op, const std::optional<FusedElementwise::HeadOperands>& head) const {
    if (!profile_->byShape()) return std::string(ir::mnemonic(op.kind()));
    std::vector<size_t> shown;
    std::string name(ir::mnemonic(op.kind()));
    if (head) {
      name = fmt::format("{}({})", name, ir::mnemonic(head->kind));
      shown = {head->input, head->weight};
    } else {
      for (size_t i = 0; i < std::min<size_t>(2, op.numOperands()); ++i) shown.push_back(i);
    }
    std::string types;
    for (size_t i : shown) (types += types.empty() ? "" : " ") += op.operand(i)->type().str();
    return profile_->rowLabel(name, types);
  }

  void execBlock(const Block& block, Run& run) {
    for (const Instr& ins : block.instrs) {
      run.current = &ins;
      if (profile_ && ins.regions.empty()) {
        const auto start = std::chrono::steady_clock::now();
        const int offPlan = execPlaced(ins, run);
        profile_->add(ins.profileRow, std::chrono::steady_clock::now() - start, offPlan);
      } else {
        execPlaced(ins, run);
      }
      for (int s : ins.release) run.frame[static_cast<size_t>(s)] = std::monostate{};
    }
  }

  /// Runs one op with its results placed by the memory plan: a leaf op's
  /// kernel allocates into its slots (TensorPlacement), then every result is
  /// checked to be in its slot, on the heap, or (`mem_alias`) in its
  /// operand's buffer. Returns how many results with a slot the kernel put
  /// on the heap instead.
  int execPlaced(const Instr& ins, Run& run) {
    if (!run.arena || ins.mem.empty()) {
      exec(ins, run);
      if (run.arena && !ins.memAlias) settleResults(ins, run);
      return 0;
    }
    if (!ins.regions.empty()) {  // a loop or an if: its body places its own ops
      exec(ins, run);
      settleResults(ins, run);
      return 0;
    }
    constexpr size_t kMaxSlots = 4;
    std::array<TensorPlacement::Slot, kMaxSlots> slots;
    size_t n = 0;
    for (size_t k = 0; k < ins.mem.size() && n < kMaxSlots; ++k) {
      const ir::Type& type = ins.op->result(k)->type();
      if (ins.mem[k] >= 0 && ins.memBytes[k] >= 0)
        slots[n++] = {run.arena.slot(ins.mem[k], ins.memBytes[k]), static_cast<size_t>(ins.memBytes[k]), type.dtype(),
                      static_cast<int>(type.rank())};
    }
    {
      TensorPlacement placement(std::span<const TensorPlacement::Slot>(slots.data(), n));
      exec(ins, run);
    }
    int offPlan = 0;
    for (size_t k = 0; k < ins.mem.size(); ++k) {
      const Tensor* t = std::get_if<Tensor>(&run.frame[static_cast<size_t>(ins.out[k])]);
      offPlan += ins.mem[k] >= 0 && t && !run.arena.contains(*t);
    }
    settleResults(ins, run);
    return offPlan;
  }

  /// settle() over `count` values given by `at(k)`; on the stack for the
  /// usual handful.
  template <typename At>
  void settleEach(size_t count, At at, std::span<const int64_t> offsets, std::span<const int64_t> bytes,
                  const Run& run) const {
    std::array<RuntimeValue*, 16> small;
    std::vector<RuntimeValue*> many(count > small.size() ? count : 0);
    RuntimeValue** values = count > small.size() ? many.data() : small.data();
    for (size_t k = 0; k < count; ++k) values[k] = at(k);
    run.arena.settle(std::span<RuntimeValue* const>(values, count), offsets, bytes);
  }

  void settleResults(const Instr& ins, Run& run) const {
    settleEach(ins.out.size(), [&](size_t k) { return &run.frame[static_cast<size_t>(ins.out[k])]; }, ins.mem,
               ins.memBytes, run);
  }

  /// Loop-carried values go to their buffers in the plan before an iteration.
  void settleCarried(const Instr& loop, std::vector<RuntimeValue>& carried, const Run& run) const {
    if (loop.mem.empty()) return;
    settleEach(carried.size(), [&](size_t k) { return &carried[k]; }, loop.mem, loop.memBytes, run);
  }

  /// The value of yields[k] of `block`, moved out of the frame where that is safe.
  static RuntimeValue takeYield(const Block& block, size_t k, std::vector<RuntimeValue>& f) {
    RuntimeValue& v = f[static_cast<size_t>(block.yields[k])];
    return block.yieldMoves[k] ? std::move(v) : v;
  }

  void exec(const Instr& ins, Run& run) {
    switch (ins.op->kind()) {
      case OpKind::Loop: return execLoop(ins, run);
      case OpKind::If: return execIf(ins, run);
      default: {
        OpOperands operands(run.frame, ins.in, ins.out, ins.lastUse);
        return ins.kernel(operands);
      }
    }
  }

  void execLoop(const Instr& ins, Run& run) {
    std::vector<RuntimeValue>& f = run.frame;
    auto in = [&](size_t i) -> const RuntimeValue& { return f[static_cast<size_t>(ins.in[i])]; };
    int64_t maxTrip = asInt(in(0));
    bool cond = asBool(in(1));
    // TorchScript gives a `while` loop the trip count INT64_MAX: only a
    // `for` loop's count is known before it starts.
    const int64_t limit = run.control->maxLoopTrips;
    const bool counted = maxTrip != std::numeric_limits<int64_t>::max();
    if (counted && cond && maxTrip > limit)
      throw InputError(fmt::format("the loop would run {} steps, over the limit of {}", maxTrip, limit));
    const Block& body = ins.regions[0];
    std::vector<RuntimeValue> carried;
    for (size_t i = 2; i < ins.in.size(); ++i)
      carried.push_back(ins.lastUse[i] ? std::move(f[static_cast<size_t>(ins.in[i])]) : in(i));
    for (int64_t iter = 0; iter < maxTrip && cond; ++iter) {
      if (auto why = run.control->stopReason())
        throw OpError(fmt::format("stopped at step {} of the loop: {}", iter, *why));
      if (iter == limit) throw InputError(fmt::format("the loop ran past the limit of {} steps", limit));
      settleCarried(ins, carried, run);
      f[static_cast<size_t>(body.args[0])] = iter;
      for (size_t k = 0; k < carried.size(); ++k) f[static_cast<size_t>(body.args[k + 1])] = std::move(carried[k]);
      execBlock(body, run);
      run.current = &ins;
      cond = asBool(f[static_cast<size_t>(body.yields[0])]);
      for (size_t k = 0; k < carried.size(); ++k) carried[k] = takeYield(body, k + 1, f);
    }
    settleCarried(ins, carried, run);
    for (size_t k = 0; k < carried.size(); ++k) f[static_cast<size_t>(ins.out[k])] = std::move(carried[k]);
  }

  void execIf(const Instr& ins, Run& run) {
    std::vector<RuntimeValue>& f = run.frame;
    const Block& branch = ins.regions[asBool(f[static_cast<size_t>(ins.in[0])]) ? 0 : 1];
    execBlock(branch, run);
    run.current = &ins;
    for (size_t k = 0; k < branch.yields.size(); ++k) f[static_cast<size_t>(ins.out[k])] = takeYield(branch, k, f);
  }

  std::shared_ptr<const ir::Program> program_;
  IslandFactory islands_;
  Signature signature_;
  std::unique_ptr<OpProfile> profile_;
  std::unordered_map<std::string, Tensor> weights_;
  PackedWeights packed_{weights_};
  std::unordered_map<const ir::Value*, int> slots_;
  int numSlots_ = 0;
  Block body_;
  std::unique_ptr<ArenaPool> arenas_;  // null without a memory plan
};

}  // namespace

ir::Expected<std::unique_ptr<Executor>> createCpuExecutor(std::shared_ptr<const ir::Program> program,
                                                          IslandFactory islands) {
  auto exec = std::make_unique<CpuExecutor>(std::move(program), std::move(islands));
  COCKTAIL_RETURN_IF_ERROR(exec->prepare());
  return std::unique_ptr<Executor>(std::move(exec));
}

}  // namespace cocktail::runtime
