//===- ir/Verifier.cpp - Checking a Program's invariants ---------------------===//
//
// One walk over the function in program order, keeping the set of values
// visible at the current point (region arguments and earlier results of the
// current region and all enclosing ones): a use is valid iff its value is in
// the set. Every problem becomes a diagnostic; the walk goes on so that one
// run reports all of them.
//
//===----------------------------------------------------------------------===//
#include "ir/Verifier.h"

#include <fmt/format.h>

#include <span>
#include <unordered_set>

#include "ir/Printer.h"
#include "ir/ScheduleVerifier.h"

namespace cocktail::ir {

std::vector<AttrSpec> attrSpecs(OpKind kind) {
  using K = AttrKind;
  auto req = [](std::string_view n, K k) { return AttrSpec{n, k, true}; };
  auto opt = [](std::string_view n, K k) { return AttrSpec{n, k, false}; };
  // Keep in step with the `{required}` / `[optional]` comments in OpDefs.def.
  switch (kind) {
    case OpKind::Constant:
      return {req("value", K::Literal)};
    case OpKind::Weight:
      return {req("name", K::String)};
    case OpKind::Island:
      return {req("graph", K::String), opt("source", K::String)};
    case OpKind::Clamp:
      return {opt("min", K::Number), opt("max", K::Number), opt("float_bounds", K::Bool)};
    case OpKind::LeakyRelu:
      return {req("negative_slope", K::Number)};
    case OpKind::Elu:
      return {req("alpha", K::Number), req("scale", K::Number), req("input_scale", K::Number)};
    case OpKind::Softplus:
      return {req("beta", K::Number), req("threshold", K::Number)};
    case OpKind::Raise:
      return {req("message", K::String)};
    case OpKind::Cast:
      return {req("dtype", K::DType)};
    case OpKind::Size:
      return {opt("dim", K::Int)};  // required with one operand: checked below
    case OpKind::ToTensor:
      return {opt("dtype", K::DType)};
    case OpKind::Sum:
      return {req("dims", K::Ints), req("keepdim", K::Bool), opt("dtype", K::DType)};
    case OpKind::Mean:
    case OpKind::Amax:
    case OpKind::Amin:
      return {req("dims", K::Ints), req("keepdim", K::Bool)};
    case OpKind::MaxDim:
    case OpKind::MinDim:
      return {req("dim", K::Int), req("keepdim", K::Bool)};
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::Any:
    case OpKind::All:
      return {req("keepdim", K::Bool), opt("dim", K::Int)};
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
      return {req("dim", K::Int)};
    case OpKind::Topk:
      return {req("k", K::Int), req("dim", K::Int), req("largest", K::Bool)};
    case OpKind::Cumsum:
      return {req("dim", K::Int), opt("dtype", K::DType)};
    case OpKind::Addmm:
      return {req("beta", K::Number), req("alpha", K::Number)};
    case OpKind::Permute:
      return {req("dims", K::Ints)};
    case OpKind::Transpose:
      return {req("dim0", K::Int), req("dim1", K::Int)};
    case OpKind::Unsqueeze:
      return {req("dim", K::Int)};
    case OpKind::Squeeze:
      return {opt("dim", K::Int)};
    case OpKind::Flatten:
      return {req("start", K::Int), req("end", K::Int)};
    case OpKind::Slice:
    case OpKind::SliceScatter:
      return {req("dim", K::Int), req("step", K::Int)};
    case OpKind::Select:
    case OpKind::IndexSelect:
    case OpKind::Gather:
    case OpKind::Cat:
    case OpKind::Stack:
    case OpKind::SelectScatter:
    case OpKind::Scatter:
      return {req("dim", K::Int)};
    case OpKind::Index:
      return {req("dims", K::Ints)};
    case OpKind::Chunk:
      return {req("chunks", K::Int), req("dim", K::Int)};
    case OpKind::Split:
      return {req("sizes", K::Ints), req("dim", K::Int)};
    case OpKind::Flip:
      return {req("dims", K::Ints)};
    case OpKind::Repeat:
      return {req("repeats", K::Ints)};
    case OpKind::Tril:
    case OpKind::Triu:
      return {req("diagonal", K::Int)};
    case OpKind::IndexPut:
      return {req("dims", K::Ints), req("accumulate", K::Bool)};
    case OpKind::Full:
    case OpKind::Arange:
      return {req("dtype", K::DType)};
    case OpKind::Conv2d:
      return {req("stride", K::Ints), req("padding", K::Ints), req("dilation", K::Ints),
              req("groups", K::Int)};
    case OpKind::ConvTranspose2d:
      return {req("stride", K::Ints), req("padding", K::Ints), req("output_padding", K::Ints), req("dilation", K::Ints),
              req("groups", K::Int)};
    case OpKind::BatchNorm:
      return {req("eps", K::Number)};
    case OpKind::LayerNorm:
      return {req("shape", K::Ints), req("eps", K::Number)};
    case OpKind::MaxPool2d:
      return {req("kernel", K::Ints), req("stride", K::Ints), req("padding", K::Ints),
              req("dilation", K::Ints), req("ceil_mode", K::Bool)};
    case OpKind::AvgPool2d:
      return {req("kernel", K::Ints), req("stride", K::Ints), req("padding", K::Ints),
              req("ceil_mode", K::Bool), req("count_include_pad", K::Bool)};
    case OpKind::AdaptiveAvgPool2d:
    case OpKind::AdaptiveMaxPool2d:
      return {req("output_size", K::Ints)};
    default:
      return {};
  }
}

namespace {

/// Two types can describe the same value: equal, or tensors whose known parts
/// agree (`tensor` stands for any tensor, `f32[*]` for any f32 tensor, a `?`
/// dim for any size), as a loop-carried value's initial and general types do.
bool compatible(const Type& a, const Type& b) {
  if (a == b) return true;
  if (!a.isTensor() || !b.isTensor()) return false;
  if (!a.hasDType() || !b.hasDType()) return true;
  if (a.dtype() != b.dtype()) return false;
  if (!a.hasRank() || !b.hasRank()) return true;
  if (a.rank() != b.rank()) return false;
  for (size_t i = 0; i < a.dims().size(); ++i) {
    const Dim &x = a.dims()[i], &y = b.dims()[i];
    if (!(x == y || x.isUnknown() || y.isUnknown())) return false;
  }
  return true;
}

bool isScalarOf(const Type& t, DType d) { return t.isScalar() && t.dtype() == d; }

/// The region a value is defined in.
const Region* definingRegion(const Value& v) {
  if (v.ownerRegion()) return v.ownerRegion();
  return v.definingOp() ? v.definingOp()->parentRegion() : nullptr;
}

class Verifier {
 public:
  Verifier(const Program& p, const VerifyOptions& o) : program_(p), options_(o) {}

  Status run() {
    collectDefined(program_.body());
    verifyDeclarations();
    for (size_t i = 0; i < program_.body().numArguments(); ++i)
      checkSymbols(program_.body().argument(i)->type(), fmt::format("function argument #{}", i), nullptr);
    for (size_t i = 0; i < program_.resultTypes().size(); ++i)
      checkSymbols(program_.resultTypes()[i], fmt::format("function result #{}", i), nullptr);
    verifyRegion(program_.body(), nullptr);
    // The schedule is read through the program's structure: only once that holds.
    if (status_.ok())
      verifySchedule(program_, ScheduleReport{[this](const Op& op, std::string m) { emitOp(op, std::move(m)); },
                                              [this](std::string m) { emitProgram(std::move(m)); }});
    return std::move(status_);
  }

 private:
  // ---- diagnostics ----------------------------------------------------------

  void emitOp(const Op& op, std::string message) {
    Location loc = op.loc();
    if (options_.sourceMap) {
      Location text = options_.sourceMap->of(op);
      if (text.known()) loc = text;
    }
    PrintOptions brief;
    brief.elideRegions = true;
    status_.add(Diagnostic{
        std::move(loc), fmt::format("'{}' op {}", op.name(), message), {"see op: " + printOp(op, brief)}});
  }

  void emitProgram(std::string message, Location loc = {}) {
    if (!loc.known() && options_.sourceMap) loc = options_.sourceMap->func;
    status_.add(Diagnostic{std::move(loc), std::move(message), {}});
  }

  // ---- declarations and symbols -------------------------------------------------

  void verifyDeclarations() {
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < program_.symbols().size(); ++i) {
      const Symbol& s = program_.symbols()[i];
      Location loc = declLoc(options_.sourceMap ? &options_.sourceMap->symbols : nullptr, i);
      if (!seen.insert(s.name).second) emitProgram(fmt::format("symbol '{}' is declared twice", s.name), loc);
      // The text form spells symbols bare inside types (`f32[T,4]`).
      if (!isIdentifier(s.name)) emitProgram(fmt::format("symbol '{}' is not an identifier", s.name), loc);
      if (s.bound <= 0)
        emitProgram(fmt::format("symbol '{}' must have a positive bound, got {}", s.name, s.bound), loc);
    }
    seen.clear();
    for (size_t i = 0; i < program_.weights().size(); ++i) {
      const WeightDecl& w = program_.weights()[i];
      Location loc = declLoc(options_.sourceMap ? &options_.sourceMap->weights : nullptr, i);
      if (!seen.insert(w.name).second)
        emitProgram(fmt::format("weight '@{}' is declared twice", w.name), loc);
      if (!w.type.isTensor())
        emitProgram(fmt::format("weight '@{}' must be a tensor, got {}", w.name, w.type.str()), loc);
      checkSymbols(w.type, fmt::format("weight '@{}'", w.name), nullptr, loc);
    }
  }

  static Location declLoc(const std::vector<Location>* locs, size_t i) {
    return locs && i < locs->size() ? (*locs)[i] : Location{};
  }

  /// Every symbol `t` names must be declared and sizes must not be
  /// negative; `what` says whose type it is.
  void checkSymbols(const Type& t, const std::string& what, const Op* op, Location loc = {}) {
    for (const Dim& d : t.dims()) {
      std::string msg;
      if (d.isConstant() && d.value() < 0)
        msg = fmt::format("{} has type {} with a negative size", what, t.str());
      else if (d.isSymbol() && !program_.findSymbol(d.symbolName()))
        msg = fmt::format("{} has type {} with undeclared symbol '{}'", what, t.str(), d.symbolName());
      if (msg.empty()) continue;
      op ? emitOp(*op, msg) : emitProgram(msg, loc);
    }
  }

  static bool isIdentifier(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
        return false;
    return true;
  }

  // ---- SSA visibility ----------------------------------------------------------------

  void collectDefined(const Region& r) {
    for (const auto& a : r.arguments()) defined_.insert(a.get());
    for (const auto& op : r.ops()) {
      for (const auto& res : op->results()) defined_.insert(res.get());
      for (const auto& sub : op->regions()) collectDefined(*sub);
    }
  }

  bool encloses(const Region* outer, const Region* inner) const {
    for (const Region* r = inner; r; r = r->parentOp() ? r->parentOp()->parentRegion() : nullptr)
      if (r == outer) return true;
    return false;
  }

  void checkOperands(const Op& op) {
    for (size_t i = 0; i < op.numOperands(); ++i) {
      const Value* v = op.operand(i);
      if (!v) {
        emitOp(op, fmt::format("operand #{} is null", i));
        continue;
      }
      if (visible_.count(v)) continue;
      if (!defined_.count(v)) {
        std::string hint = v->name().empty() ? "" : fmt::format(" ('%{}')", v->name());
        emitOp(op, fmt::format("operand #{}{} is not defined in this function", i, hint));
      } else if (encloses(definingRegion(*v), op.parentRegion())) {
        emitOp(op, fmt::format("operand #{} ({}) is used before its definition", i, printValueName(v, op)));
      } else {
        emitOp(op, fmt::format("operand #{} ({}) is defined in a region that does not enclose this use", i,
                               printValueName(v, op)));
      }
    }
  }

  // ---- regions -------------------------------------------------------------------------

  /// `owner` is null for the function body (ends with `return`); other
  /// regions end with `yield`.
  void verifyRegion(const Region& r, const Op* owner) {
    size_t mark = scope_.size();
    for (const auto& a : r.arguments()) define(a.get());
    const auto& ops = r.ops();
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      bool isTerminator = op.info().opClass == OpClass::Terminator;
      if (isTerminator && i + 1 != ops.size()) emitOp(op, "must be the last op of its region");
      verifyOp(op);
      for (const auto& res : op.results()) define(res.get());
    }
    OpKind want = owner ? OpKind::Yield : OpKind::Return;
    const Op* last = ops.empty() ? nullptr : ops.back().get();
    if (last && last->info().opClass == OpClass::Terminator && last->kind() != want) {
      emitOp(*last, owner ? fmt::format("is not allowed in a '{}' region (expected 'yield')", owner->name())
                          : std::string("is not allowed in the function body (expected 'return')"));
    } else if (!last || last->kind() != want) {
      if (owner)
        emitOp(*owner, fmt::format("region #{} must end with 'yield'", regionIndex(*owner, r)));
      else
        emitProgram("function body must end with 'return'");
    }
    while (scope_.size() > mark) {
      visible_.erase(scope_.back());
      scope_.pop_back();
    }
  }

  static size_t regionIndex(const Op& owner, const Region& r) {
    for (size_t i = 0; i < owner.numRegions(); ++i)
      if (&owner.region(i) == &r) return i;
    return 0;
  }

  void define(const Value* v) {
    if (visible_.insert(v).second) scope_.push_back(v);
  }

  // ---- ops -------------------------------------------------------------------------------

  void verifyOp(const Op& op) {
    checkOperands(op);
    bool shapeOk = checkCounts(op);
    checkAttributes(op);
    for (size_t i = 0; i < op.numResults(); ++i)
      checkSymbols(op.result(i)->type(), fmt::format("result #{}", i), &op);
    for (size_t r = 0; r < op.numRegions(); ++r)
      for (size_t i = 0; i < op.region(r).numArguments(); ++i)
        checkSymbols(op.region(r).argument(i)->type(), fmt::format("region #{} argument #{}", r, i), &op);
    if (shapeOk) {
      switch (op.kind()) {
        case OpKind::Constant:
          verifyConstant(op);
          break;
        case OpKind::Weight:
          verifyWeight(op);
          break;
        case OpKind::Loop:
          verifyLoop(op);
          break;
        case OpKind::If:
          verifyIf(op);
          break;
        case OpKind::Fused:
          verifyFused(op);
          break;
        case OpKind::Return:
          verifyReturn(op);
          break;
        case OpKind::Size:
          if (op.numOperands() == 1 && !op.attrs().has("dim"))
            emitOp(op, "with one operand requires attribute 'dim'");
          break;
        default:
          break;
      }
    }
    for (const auto& r : op.regions()) verifyRegion(*r, &op);
  }

  /// Operand, result and region counts against OpDefs.def.
  bool checkCounts(const Op& op) {
    const OpInfo& info = op.info();
    bool ok = true;
    int n = static_cast<int>(op.numOperands());
    if (info.maxOperands < 0 && n < info.minOperands) {
      emitOp(op, fmt::format("expects at least {} operands, got {}", info.minOperands, n));
      ok = false;
    } else if (info.maxOperands >= 0 && (n < info.minOperands || n > info.maxOperands)) {
      if (info.minOperands == info.maxOperands)
        emitOp(op, fmt::format("expects {} operand{}, got {}", info.minOperands,
                               info.minOperands == 1 ? "" : "s", n));
      else
        emitOp(op, fmt::format("expects {} to {} operands, got {}", info.minOperands, info.maxOperands, n));
      ok = false;
    }
    if (info.numResults >= 0 && static_cast<int>(op.numResults()) != info.numResults) {
      emitOp(op, fmt::format("expects {} result{}, got {}", info.numResults, info.numResults == 1 ? "" : "s",
                             op.numResults()));
      ok = false;
    }
    if (static_cast<int>(op.numRegions()) != info.numRegions) {
      emitOp(op, fmt::format("expects {} region{}, got {}", info.numRegions, info.numRegions == 1 ? "" : "s",
                             op.numRegions()));
      ok = false;
    }
    return ok;
  }

  void checkAttributes(const Op& op) {
    for (const AttrSpec& spec : attrSpecs(op.kind())) {
      std::string name(spec.name);
      auto it = op.attrs().all().find(name);
      if (it == op.attrs().all().end()) {
        if (spec.required) emitOp(op, fmt::format("requires attribute '{}'", name));
        continue;
      }
      if (!hasKind(it->second, spec.kind))
        emitOp(op, fmt::format("expects attribute '{}' to be {}, got {}", name, kindName(spec.kind),
                               attrValueToString(it->second)));
    }
  }

  void verifyConstant(const Op& op) {
    const Type& t = op.result()->type();
    if (!t.isScalar() || !(t.dtype() == DType::I64 || t.dtype() == DType::F64 || t.dtype() == DType::I1)) {
      emitOp(op, fmt::format("expects an i64, f64 or i1 result, got {}", t.str()));
      return;
    }
    auto it = op.attrs().all().find("value");
    if (it == op.attrs().all().end() || !hasKind(it->second, AttrKind::Literal)) return;  // reported already
    const AttrValue& v = it->second;
    bool match = (t.dtype() == DType::I64 && std::holds_alternative<int64_t>(v)) ||
                 (t.dtype() == DType::F64 && std::holds_alternative<double>(v)) ||
                 (t.dtype() == DType::I1 && std::holds_alternative<bool>(v));
    if (!match) {
      std::string_view want = t.dtype() == DType::I64   ? "an integer"
                              : t.dtype() == DType::F64 ? "a double"
                                                        : "a bool";
      emitOp(op,
             fmt::format("expects value {} for an {} result, got {}", want, t.str(), attrValueToString(v)));
    }
  }

  void verifyWeight(const Op& op) {
    auto name = op.attrs().getString("name");
    if (!name) return;  // reported by checkAttributes
    const WeightDecl* decl = program_.findWeight(*name);
    if (!decl) {
      emitOp(op, fmt::format("names undeclared weight '@{}'", *name));
      return;
    }
    if (!(op.result()->type() == decl->type))
      emitOp(op, fmt::format("result type {} differs from the declared type of '@{}', {}",
                             op.result()->type().str(), *name, decl->type.str()));
  }

  /// Checks a yield's operand types against `want` (compatible types).
  void checkYield(const Op& owner, const Region& r, size_t regionNo, const std::vector<Type>& want,
                  std::string_view what) {
    const Op* y = r.terminator();
    if (!y || y->kind() != OpKind::Yield) return;  // reported by verifyRegion
    if (y->numOperands() != want.size()) {
      emitOp(owner, fmt::format("region #{} must yield {} value{} ({}), got {}", regionNo, want.size(),
                                want.size() == 1 ? "" : "s", what, y->numOperands()));
      return;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const Value* v = y->operand(i);
      if (v && !compatible(v->type(), want[i]))
        emitOp(owner, fmt::format("region #{} yields {} as value #{}, expected {}", regionNo, v->type().str(),
                                  i, want[i].str()));
    }
  }

  void verifyLoop(const Op& op) {
    if (op.operand(0) && !isScalarOf(op.operand(0)->type(), DType::I64))
      emitOp(op, fmt::format("expects the trip count (operand #0) to be i64, got {}",
                             op.operand(0)->type().str()));
    if (op.operand(1) && !isScalarOf(op.operand(1)->type(), DType::I1))
      emitOp(op,
             fmt::format("expects the condition (operand #1) to be i1, got {}", op.operand(1)->type().str()));
    std::vector<Type> carried;
    for (size_t i = 2; i < op.numOperands(); ++i)
      carried.push_back(op.operand(i) ? op.operand(i)->type() : Type::unknownTensor());
    if (op.numResults() != carried.size()) {
      emitOp(op, fmt::format("expects {} results (one per carried value), got {}", carried.size(),
                             op.numResults()));
    } else {
      for (size_t i = 0; i < carried.size(); ++i)
        if (!compatible(op.result(i)->type(), carried[i]))
          emitOp(op, fmt::format("result #{} has type {}, but the carried value has type {}", i,
                                 op.result(i)->type().str(), carried[i].str()));
    }
    const Region& body = op.region(0);
    if (body.numArguments() != carried.size() + 1) {
      emitOp(op,
             fmt::format("expects the body to have {} arguments (the iteration index, then one per carried "
                         "value), got {}",
                         carried.size() + 1, body.numArguments()));
    } else {
      if (!isScalarOf(body.argument(0)->type(), DType::I64))
        emitOp(op, fmt::format("expects body argument #0 (the iteration index) to be i64, got {}",
                               body.argument(0)->type().str()));
      for (size_t i = 0; i < carried.size(); ++i)
        if (!compatible(body.argument(i + 1)->type(), carried[i]))
          emitOp(op, fmt::format("body argument #{} has type {}, but the carried value has type {}", i + 1,
                                 body.argument(i + 1)->type().str(), carried[i].str()));
    }
    std::vector<Type> yields{Type::scalar(DType::I1)};
    yields.insert(yields.end(), carried.begin(), carried.end());
    checkYield(op, body, 0, yields, "the condition, then one per carried value");
  }

  void verifyIf(const Op& op) {
    if (op.operand(0) && !isScalarOf(op.operand(0)->type(), DType::I1))
      emitOp(op, fmt::format("expects the condition to be i1, got {}", op.operand(0)->type().str()));
    std::vector<Type> results;
    for (const auto& r : op.results()) results.push_back(r->type());
    for (size_t i = 0; i < 2; ++i) {
      if (op.region(i).numArguments())
        emitOp(op, fmt::format("expects region #{} to have no arguments, got {}", i,
                               op.region(i).numArguments()));
      checkYield(op, op.region(i), i, results, "one per result");
    }
  }

  void verifyFused(const Op& op) {
    const Region& body = op.region(0);
    if (body.numArguments() != op.numOperands()) {
      emitOp(op, fmt::format("expects the body to have {} arguments (one per input), got {}", op.numOperands(),
                             body.numArguments()));
    } else {
      for (size_t i = 0; i < op.numOperands(); ++i)
        if (op.operand(i) && !compatible(body.argument(i)->type(), op.operand(i)->type()))
          emitOp(op, fmt::format("body argument #{} has type {}, but input #{} has type {}", i,
                                 body.argument(i)->type().str(), i, op.operand(i)->type().str()));
    }
    // A fused body is a closed unit of work: it may read only its arguments
    // and its own values, so that an executor can run it tile by tile.
    std::unordered_set<const Value*> local;
    for (const auto& a : body.arguments()) local.insert(a.get());
    for (const auto& inner : body.ops()) {
      for (const Value* v : inner->operands())
        if (v && !local.count(v))
          emitOp(*inner, fmt::format("inside 'fused' reads {}, which is defined outside the fused body",
                                     v->name().empty() ? std::string("a value") : "%" + v->name()));
      if (inner->numRegions())
        emitOp(*inner, "cannot be inside 'fused': a fused body holds elementwise ops only");
      for (const auto& r : inner->results()) local.insert(r.get());
    }
    std::vector<Type> results;
    for (const auto& r : op.results()) results.push_back(r->type());
    checkYield(op, body, 0, results, "one per result");
  }

  void verifyReturn(const Op& op) {
    const std::vector<Type>& want = program_.resultTypes();
    if (op.numOperands() != want.size()) {
      emitOp(op, fmt::format("expects {} operand{} (the function's results), got {}", want.size(),
                             want.size() == 1 ? "" : "s", op.numOperands()));
      return;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const Value* v = op.operand(i);
      if (v && !compatible(v->type(), want[i]))
        emitOp(op, fmt::format("operand #{} has type {}, but the function returns {}", i, v->type().str(),
                               want[i].str()));
    }
  }

  const Program& program_;
  const VerifyOptions& options_;
  Status status_;
  std::unordered_set<const Value*> defined_;
  std::unordered_set<const Value*> visible_;
  std::vector<const Value*> scope_;
};

}  // namespace

Status verifyProgram(const Program& program) { return verifyProgram(program, VerifyOptions{}); }

Status verifyProgram(const Program& program, const VerifyOptions& options) {
  Verifier v(program, options);
  return v.run();
}

}  // namespace cocktail::ir
