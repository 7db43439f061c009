//===- codegen/CudaRegions.cpp - Host and device regions -----------------------===//
//
// A host region becomes steps of the host plan: a kernel per uOperator, and
// for a host loop or branch the kernels that copy its carried values or
// results. A device region (a loop placed persistent, an if placed device)
// becomes one persistent kernel in which every thread runs the loop and
// decides the branches itself; inside it, carried values are overwritten
// between two grid barriers per iteration.
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

// ---- host regions ----------------------------------------------------------------------

namespace {

bool isScalarOp(const Op& op) {
  if (op.numResults() != 1 || !op.result()->type().isScalar()) return false;
  switch (op.info().opClass) {
    case OpClass::Binary:
    case OpClass::Unary:
    case OpClass::Scalar:
      return true;
    default:
      return op.kind() == OpKind::Cast;
  }
}

}  // namespace

void Generator::hostRegion(const ir::Region& region, std::vector<HostStep>& steps) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    if (op.kind() == OpKind::Raise) {
      raiseKernel(op, steps);
      continue;
    }
    if (declareCommon(op)) continue;
    if (isScalarOp(op)) {
      // Computed by the first kernel that needs it (see materializeHostScalar).
      scalars_[op.result()] = ScalarRef{ScalarRef::Kind::Pending, {}, op.result()->type().dtype(), -1, &op, -1};
      // Except a read of a tensor's element: it is read now, while the bytes
      // are the tensor's; by a later kernel the memory plan may have given
      // them to another tensor (pad_packed_sequence's longest length).
      if (op.kind() == OpKind::ToScalar && op.operand(0)->type().isTensor()) {
        const int id = openKernel("to_scalar", KernelInfo::Kind::Copy, 0, &op, fmt::format("// {}\n", describe(op)));
        (void)scalar(op.result());
        closeKernel();
        steps.push_back(HostStep::launch(id));
      }
      continue;
    }
    if (isView(op)) {
      viewOp(op);
      continue;
    }
    switch (op.kind()) {
      case OpKind::Loop:
        if (ir::placement(op) == ir::Placement::Host)
          hostLoop(op, steps);
        else
          deviceRegionKernel(op, steps);
        break;
      case OpKind::If:
        if (ir::placement(op) == ir::Placement::Host)
          hostIf(op, steps);
        else
          deviceRegionKernel(op, steps);
        break;
      case OpKind::Return:
        returnKernel(op, steps);
        break;
      case OpKind::Yield:
        break;  // the caller copies the yielded values
      default:
        operatorKernel(op, steps);
        break;
    }
  }
}

bool Generator::declareCommon(const Op& op) {
  switch (op.kind()) {
    case OpKind::Constant: {
      const Value* v = op.result();
      auto it = op.attrs().all().find("value");
      if (it == op.attrs().all().end()) throw error(op, "constant without a value");
      ScalarRef s{ScalarRef::Kind::Literal, literal(it->second), v->type().dtype(), -1, nullptr, -1};
      if (const int64_t* i = std::get_if<int64_t>(&it->second)) s.literalValue = *i;
      if (const bool* b = std::get_if<bool>(&it->second)) s.literalValue = *b;
      scalars_[v] = s;
      return true;
    }
    case OpKind::Undef:
      if (op.result()->type().isScalar())
        scalars_[op.result()] = ScalarRef{ScalarRef::Kind::Literal, "0", op.result()->type().dtype(), -1, nullptr, -1};
      return true;
    case OpKind::Weight: {
      auto name = op.attrs().getString("name");
      auto it = name ? weights_.find(*name) : weights_.end();
      if (it == weights_.end()) throw error(op, "refers to a weight the program does not declare");
      tensors_[op.result()] = it->second;
      return true;
    }
    case OpKind::Island:
      throw error(op, fmt::format("the TorchScript island '{}' runs on the host interpreter, which the CUDA backend "
                                  "does not call; compile with --target cpu",
                                  op.attrs().getString("op").value_or("?")));
    default:
      return false;
  }
}

void Generator::operatorKernel(const Op& op, std::vector<HostStep>& steps) {
  const int64_t tiles = ir::tilesOf(op);
  const int id = openKernel(std::string(op.name()), KernelInfo::Kind::Operator, tiles, &op,
                            fmt::format("// {}\n", describe(op)));
  computeOp(op);
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::deviceRegionKernel(const Op& op, std::vector<HostStep>& steps) {
  const bool isLoop = op.kind() == OpKind::Loop;
  std::string comment = fmt::format("// Persistent kernel: {}\n", describe(op));
  if (std::string reason = ir::placementReason(op); !reason.empty())
    comment += fmt::format("//   placement: {}\n", reason);
  if (std::string why = ir::residencyReason(op); !why.empty()) comment += fmt::format("//   residency: {}\n", why);
  const int id = openKernel(isLoop ? "loop" : "if", KernelInfo::Kind::Persistent, 0, &op, comment);
  for (size_t r = 0; r < op.numRegions(); ++r) findCounterProducers(op.region(r));
  if (isLoop)
    deviceLoop(op);
  else
    deviceIf(op);
  zeroTileCounters();
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::hostLoop(const Op& op, std::vector<HostStep>& steps) {
  // loop(trip, cond, init...) ^(i, carried...) yields (cond, carried...)
  const ir::Region& body = op.region(0);
  HostStep step;
  step.kind = HostStep::Kind::Loop;
  step.loopIndex = plan_.numLoopIndices++;

  // Carried values live in their own storage, which is also the loop's results.
  step.initKernel =
      openKernel("loop_init", KernelInfo::Kind::Copy, 0, &op, fmt::format("// Host loop, initial carried values: {}\n", describe(op)));
  std::vector<const Value*> carriedScalars;
  for (size_t i = 2; i < op.numOperands(); ++i) {
    const Value* init = op.operand(i);
    const Value* arg = body.argument(i - 1);
    if (init->type().isScalar()) {
      const std::string expr = scalar(init);
      slotOf(arg);
      exports_.exported.insert(arg);
      line(storeSlot(arg, expr, arg->type().dtype()));
      scalars_[arg] = ScalarRef{ScalarRef::Kind::Slot, {}, arg->type().dtype(), -1, nullptr, exports_.slots.at(arg)};
    } else if (isUndefValue(init)) {
      tensors_[arg] = undefCarriedRef(op, arg);
    } else {
      TensorRef carried = carriedRef(op, tensor(init, op), arg);
      copyTensor(carried, tensor(init, op), "initial carried value");
      tensors_[arg] = carried;
    }
  }
  step.trip = hostScalar(op.operand(0));
  step.cond = hostScalar(op.operand(1));
  // Both must be computed by now: a pending scalar goes into this kernel.
  if (step.trip.kind == HostScalar::Kind::Slot) ensureStored(op.operand(0));
  if (step.cond.kind == HostScalar::Kind::Slot) ensureStored(op.operand(1));
  closeKernel();

  scalars_[body.argument(0)] =
      ScalarRef{ScalarRef::Kind::LoopIndex, fmt::format("f.idx[{}]", step.loopIndex), DType::I64, -1, nullptr, step.loopIndex};
  hostRegion(body, step.body);

  const Op* yield = body.terminator();
  step.yieldKernel =
      openKernel("loop_yield", KernelInfo::Kind::Copy, 0, &op, fmt::format("// Host loop, next carried values: {}\n", describe(op)));
  yieldInto(*yield, 1, [&](size_t i) { return body.argument(i); }, true);
  step.yieldCond = hostScalar(yield->operand(0));
  if (step.yieldCond.kind == HostScalar::Kind::Slot) ensureStored(yield->operand(0));
  closeKernel();

  for (size_t i = 0; i < op.numResults(); ++i) bindResult(op.result(i), body.argument(i + 1));
  steps.push_back(std::move(step));
}

void Generator::hostIf(const Op& op, std::vector<HostStep>& steps) {
  HostStep step;
  step.kind = HostStep::Kind::If;
  // The host reads the predicate, so a kernel must have stored it; one that
  // no kernel computed yet gets a kernel of its own.
  step.cond = hostScalar(op.operand(0));
  if (scalars_.at(op.operand(0)).kind == ScalarRef::Kind::Pending) {
    const int id = openKernel("if_predicate", KernelInfo::Kind::Copy, 0, &op,
                              fmt::format("// Host branch predicate: {}\n", describe(op)));
    ensureStored(op.operand(0));
    closeKernel();
    steps.push_back(HostStep::launch(id));
  }
  std::vector<TensorRef> results = ifResults(op);
  for (int branch = 0; branch < 2; ++branch) {
    std::vector<HostStep>& out = branch == 0 ? step.body : step.elseBody;
    const ir::Region& region = op.region(static_cast<size_t>(branch));
    hostRegion(region, out);
    const int id = openKernel(branch == 0 ? "if_then_yield" : "if_else_yield", KernelInfo::Kind::Copy, 0, &op,
                              fmt::format("// Host branch results: {}\n", describe(op)));
    yieldIfResults(op, *region.terminator(), results, true);
    closeKernel();
    out.push_back(HostStep::launch(id));
  }
  steps.push_back(std::move(step));
}

void Generator::returnKernel(const Op& ret, std::vector<HostStep>& steps) {
  const int id = openKernel("outputs", KernelInfo::Kind::Copy, 0, &ret, "// The program's outputs, contiguous, with their dims.\n");
  for (size_t i = 0; i < ret.numOperands(); ++i) {
    const Value* v = ret.operand(i);
    BoundaryValue bv;
    bv.name = fmt::format("output {}", i);
    bv.dtype = v->type().dtype();
    if (v->type().isScalar()) {
      bv.isScalar = true;
      const std::string expr = scalar(v);
      bv.slot = exports_.outputSlot(i, 1);
      line(fmt::format("if (cocktail_leader()) S[{}] = {};", bv.slot,
                       bv.dtype == DType::F64 ? fmt::format("__double_as_longlong({})", expr) : fmt::format("(i64)({})", expr)));
    } else {
      const TensorRef& src = tensor(v, ret);
      TensorRef out = freshRef(bv.name, src.dtype, src.dims, src.bounds);
      requireDeps(src);
      copyTensor(out, src, bv.name);
      bv.region = out.region;
      bv.rank = static_cast<int>(src.dims.size());
      bv.slot = exports_.outputSlot(i, std::max(bv.rank, 1));
      for (size_t d = 0; d < src.dims.size(); ++d)
        line(fmt::format("if (cocktail_leader()) S[{}] = {};", bv.slot + static_cast<int>(d), src.dims[d].str()));
    }
    plan_.outputs.push_back(bv);
  }
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::ensureStored(const Value* v) {
  // Makes the current kernel compute (and, being exported, store) a scalar
  // the host will read; one already computed elsewhere was stored there.
  ScalarRef& s = scalars_.at(v);
  if (s.kind == ScalarRef::Kind::Pending) (void)scalar(v);
}

void Generator::bindResult(const Value* result, const Value* carried) {
  if (result->type().isScalar()) {
    scalars_[result] = scalars_.at(carried);
    // A host loop's carried scalar lives in its slot; the result is the same slot.
    if (scalars_[result].kind == ScalarRef::Kind::Slot) {
      exports_.slots[result] = exports_.slots.at(carried);
      exports_.exported.insert(result);
    }
  } else {
    tensors_[result] = tensors_.at(carried);
  }
}

TensorRef Generator::carriedRef(const Op& loop, const TensorRef& init, const Value* arg) {
  // The carried storage holds any iteration's value: the IR type's dims
  // where they are known, the initial value's where they are `?`.
  std::vector<Expr> dims = init.dims;
  std::vector<int64_t> bounds = init.bounds;
  const ir::Type& t = arg->type();
  for (size_t d = 0; d < t.dims().size() && d < dims.size(); ++d) {
    if (t.dims()[d].isConstant()) dims[d] = t.dims()[d].value();
    if (t.dims()[d].isSymbol()) dims[d] = Expr::code("sym_" + t.dims()[d].symbolName());
  }
  TensorRef ref = resultRef(loop, static_cast<size_t>(arg->index() - 1), ir::printValueName(arg, loop) + " (carried)",
                            t.dtype(), dims, bounds);
  ref.deps = init.deps;
  return ref;
}

TensorRef Generator::undefCarriedRef(const Op& loop, const Value* arg) {
  // Undef at first (an Optional state that is None): its storage comes from
  // the type, and nothing is copied in; no run reads it before a step writes it.
  const ir::Type& t = arg->type();
  if (!t.isTensor() || !t.hasRank())
    throw error(loop, fmt::format("a carried value that starts undef (None) has no known rank ({})", t.str()));
  std::vector<Expr> dims;
  for (const ir::Dim& dim : t.dims()) {
    if (dim.isUnknown())
      throw error(loop, fmt::format("a carried value that starts undef (None) has a `?` dim ({})", t.str()));
    dims.push_back(dim.isConstant() ? Expr(dim.value()) : Expr::code("sym_" + dim.symbolName()));
  }
  return resultRef(loop, static_cast<size_t>(arg->index() - 1), ir::printValueName(arg, loop) + " (carried)", t.dtype(),
                   dims, boundsOfType(t));
}

std::vector<TensorRef> Generator::ifResults(const Op& op) {
  // Results take the dims of their type, which both branches' yields have
  // (a `?` dim, which could differ between them, is refused).
  std::vector<TensorRef> results;
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    if (r->type().isScalar()) {
      results.emplace_back();
      continue;
    }
    std::vector<int64_t> bounds = boundsOfType(r->type());
    std::vector<Expr> dims;
    for (size_t d = 0; d < r->type().dims().size(); ++d) {
      const ir::Dim& dim = r->type().dims()[d];
      if (dim.isUnknown()) throw error(op, "an `if` result with a `?` dim is not supported yet");
      dims.push_back(dim.isConstant() ? Expr(dim.value()) : Expr::code("sym_" + dim.symbolName()));
    }
    TensorRef ref = resultRef(op, i, ir::printValueName(r, op) + " (if result)", r->type().dtype(), dims, bounds);
    tensors_[r] = ref;
    results.push_back(ref);
  }
  return results;
}

void Generator::yieldIfResults(const Op& op, const Op& yield, const std::vector<TensorRef>& results, bool host) {
  syncBeforeRead(yield.operands(), "the branch's results");
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    const Value* y = yield.operand(i);
    if (r->type().isScalar()) {
      const std::string expr = scalar(y);
      if (host) {
        slotOf(r);
        exports_.exported.insert(r);
        line(storeSlot(r, expr, r->type().dtype()));
        scalars_[r] = ScalarRef{ScalarRef::Kind::Slot, {}, r->type().dtype(), -1, nullptr, exports_.slots.at(r)};
      } else {
        line(fmt::format("{} = {};", scalarName(r), expr));
      }
    } else if (isUndefValue(y)) {
      continue;  // undef: no run that takes this branch reads the result (the branch raises, say)
    } else {
      copyTensor(results[i], tensor(y, yield), "branch result");
    }
  }
}

// ---- device regions ---------------------------------------------------------------------

void Generator::deviceRegion(const ir::Region& region) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    if (op.kind() == OpKind::Raise) {
      emitRaise(op);
      continue;
    }
    if (declareCommon(op)) continue;
    if (op.info().opClass == OpClass::Terminator) continue;
    if (isScalarOp(op)) {
      if (op.kind() == OpKind::ToScalar) syncBeforeRead(op.operands(), "to_scalar reads a tensor element");
      defineLocalScalar(op.result(), scalarOpExpr(op), describe(op));
      if (op.kind() == OpKind::ToScalar && op.operand(0)->type().isTensor())
        recordAccess(&op, {tensor(op.operand(0), op)}, {});
      continue;
    }
    if (isView(op)) {
      viewOp(op);
      continue;
    }
    if (op.kind() == OpKind::Loop) {
      deviceLoop(op);
      continue;
    }
    if (op.kind() == OpKind::If) {
      deviceIf(op);
      continue;
    }
    computeOp(op);
  }
}

void Generator::gridSync(const std::string& why) {
  line(fmt::format("cocktail_grid_sync(barrier);  // {}", why));
  accesses_.clear();
}

void Generator::deviceLoop(const Op& op) {
  // Every thread runs the loop; the carried scalars are variables of the
  // enclosing scope (they are the loop's results), the carried tensors have
  // their own storage, which the yield overwrites between two grid barriers.
  const ir::Region& body = op.region(0);
  const int id = valueId(body.argument(0));
  line(fmt::format("// {}", describe(op)));
  if (ir::placement(op) == ir::Placement::Host)
    line("// (placed on the host, but nested in a device region: it runs here)");
  syncBeforeRead(std::vector<Value*>(op.operands().begin() + 2, op.operands().end()), "the initial carried values");
  for (size_t i = 2; i < op.numOperands(); ++i) {
    const Value* init = op.operand(i);
    const Value* arg = body.argument(i - 1);
    if (init->type().isScalar()) {
      const std::string name = scalarName(arg);
      line(fmt::format("{} {} = {};  // carried", ctypeOf(arg->type().dtype()), name, scalar(init)));
      scalars_[arg] = ScalarRef{ScalarRef::Kind::Local, name, arg->type().dtype(), current_, nullptr, -1};
    } else if (isUndefValue(init)) {
      tensors_[arg] = undefCarriedRef(op, arg);
    } else {
      TensorRef carried = carriedRef(op, tensor(init, op), arg);
      copyTensor(carried, tensor(init, op), "initial carried value");
      tensors_[arg] = carried;
    }
  }
  const std::string cond = fmt::format("cond{}", id);
  line(fmt::format("bool {} = {};", cond, scalar(op.operand(1))));
  line(fmt::format("const i64 trip{} = {};", id, scalar(op.operand(0))));
  if (!accesses_.empty()) gridSync("the carried values are in place");
  stageResidentWeights(op);
  const std::string index = scalarName(body.argument(0));
  scalars_[body.argument(0)] = ScalarRef{ScalarRef::Kind::Local, index, DType::I64, current_, nullptr, -1};
  open(fmt::format("for (i64 {} = 0; {} < trip{} && {}; ++{})", index, index, id, cond, index));
  const size_t checksBefore = plan_.checks.size();
  deviceRegion(body);
  const Op& yield = *body.terminator();
  // Scalars go through temporaries: a yield may swap two carried values.
  std::vector<std::pair<std::string, std::string>> assignments;
  for (size_t i = 1; i < yield.numOperands(); ++i) {
    const Value* arg = body.argument(i);
    if (!arg->type().isScalar()) continue;
    const std::string tmp = fmt::format("next{}_{}", id, i);
    line(fmt::format("const {} {} = {};", ctypeOf(arg->type().dtype()), tmp, scalar(yield.operand(i))));
    assignments.emplace_back(scalarName(arg), tmp);
  }
  const std::string nextCond = scalar(yield.operand(0));
  yieldInto(yield, 1, [&](size_t i) { return body.argument(i); }, false);
  for (const auto& [dst, src] : assignments) line(fmt::format("{} = {};", dst, src));
  line(fmt::format("{} = {};", cond, nextCond));
  // A body that makes checks ends at a barrier, where every block sees a failure alike.
  const bool checked = plan_.checks.size() > checksBefore;
  if (!accesses_.empty())
    gridSync("the next iteration reads the carried values");
  else if (checked)
    gridSync("every block sees a failed check alike");
  if (checked) leaveLoopOnFailure();
  close();
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    const Value* arg = body.argument(i + 1);
    if (r->type().isScalar()) {
      scalars_[r] = scalars_.at(arg);
      if (exports_.exported.count(r)) line(storeSlot(r, scalarName(arg), r->type().dtype()));
    } else {
      tensors_[r] = tensors_.at(arg);
    }
  }
}

void Generator::deviceIf(const Op& op) {
  line(fmt::format("// {}", describe(op)));
  const std::string pred = scalar(op.operand(0));
  for (size_t i = 0; i < op.numResults(); ++i) {
    const Value* r = op.result(i);
    if (!r->type().isScalar()) continue;
    line(fmt::format("{} {} = {{}};", ctypeOf(r->type().dtype()), scalarName(r)));
    scalars_[r] = ScalarRef{ScalarRef::Kind::Local, scalarName(r), r->type().dtype(), current_, nullptr, -1};
  }
  std::vector<TensorRef> results = ifResults(op);
  const std::vector<Access> before = accesses_;
  open(fmt::format("if ({})", pred));
  deviceRegion(op.region(0));
  yieldIfResults(op, *op.region(0).terminator(), results, false);
  const std::vector<Access> afterThen = accesses_;
  --indent_;
  line("} else {");
  ++indent_;
  accesses_ = before;
  deviceRegion(op.region(1));
  yieldIfResults(op, *op.region(1).terminator(), results, false);
  close();
  accesses_.insert(accesses_.end(), afterThen.begin(), afterThen.end());
  for (size_t i = 0; i < op.numResults(); ++i)
    if (op.result(i)->type().isScalar() && exports_.exported.count(op.result(i)))
      line(storeSlot(op.result(i), scalarName(op.result(i)), op.result(i)->type().dtype()));
}

void Generator::yieldInto(const Op& yield, size_t first, const std::function<const Value*(size_t)>& carriedArg,
                          bool host) {
  // Every block must be done reading the carried values before any block
  // overwrites them, and the yielded values must be complete: the copies'
  // access checks put the grid barrier where that is not already so. On the
  // host (`host`), carried scalars live in slots; on the device the caller
  // assigns its variables.
  auto overlapsCarried = [&](const TensorRef& src) {
    const auto [b, e] = bytesOf(src);
    for (size_t j = first; j < yield.numOperands(); ++j) {
      const Value* arg = carriedArg(j);
      if (arg->type().isScalar()) continue;
      const auto [cb, ce] = bytesOf(tensors_.at(arg));
      if (b < ce && cb < e) return true;
    }
    return false;
  };
  std::vector<size_t> staged;
  for (size_t i = first; i < yield.numOperands(); ++i) {
    const Value* arg = carriedArg(i);
    if (arg->type().isScalar()) {
      if (host) {
        exports_.exported.insert(arg);
        line(storeSlot(arg, scalar(yield.operand(i)), arg->type().dtype()));
      }
      continue;
    }
    const TensorRef& src = tensor(yield.operand(i), yield);
    const TensorRef& dst = tensors_.at(arg);
    if (bytesOf(src) == bytesOf(dst) && src.offset == dst.offset && src.strides == dst.strides)
      continue;  // the body left the value in the carried buffer
    if (!(src.dims == dst.dims))
      throw error(yield, fmt::format("yields a value of shape [{}] into a carried value of shape [{}]; a carried value "
                                     "whose shape changes across iterations is not supported yet",
                                     joinDims(src.dims), joinDims(dst.dims)));
    // A yielded value in the bytes of a carried value goes through a staging
    // copy: all carried values are read before any is written.
    if (overlapsCarried(src))
      staged.push_back(i);
    else
      copyTensor(dst, src, "carried value");
  }
  if (staged.empty()) return;
  std::vector<TensorRef> stages;
  for (size_t i : staged) {
    const TensorRef& src = tensor(yield.operand(i), yield);
    TensorRef stage = freshRef("staging for a carried value", src.dtype, src.dims, src.bounds);
    stage.deps = src.deps;
    copyTensor(stage, src, "staging: the yielded value lives in a carried value's bytes");
    stages.push_back(stage);
  }
  for (size_t k = 0; k < staged.size(); ++k) copyTensor(tensors_.at(carriedArg(staged[k])), stages[k], "carried value");
}

std::string Generator::joinDims(const std::vector<Expr>& dims) {
  std::string s;
  for (const Expr& d : dims) s += (s.empty() ? "" : ", ") + d.str();
  return s;
}

}  // namespace cocktail::codegen
