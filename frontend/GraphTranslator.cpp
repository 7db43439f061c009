//===- frontend/GraphTranslator.cpp - Values, control flow and mutation ----------===//
//
// The op-by-op lowering lives in AtenLowering.cpp; this file holds what is
// shared: the value environment, prim::Loop / prim::If, constants, tuples,
// and the functionalisation of in-place writes into views.
//
//===----------------------------------------------------------------------===//
#include "frontend/GraphTranslator.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cocktail::frontend {

using ir::DType;
using ir::OpKind;
using ir::Type;

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const std::set<std::string>& viewOps() {
  static const std::set<std::string> ops = {
      "aten::select",  "aten::slice",   "aten::narrow",    "aten::view",   "aten::reshape",
      "aten::flatten", "aten::unsqueeze", "aten::squeeze", "aten::transpose", "aten::t",
      "aten::permute", "aten::detach",  "aten::contiguous", "aten::alias", "aten::expand",
      "aten::view_as", "aten::reshape_as", "prim::unchecked_cast"};
  return ops;
}

}  // namespace

bool isViewOp(const jit::Node* n) { return viewOps().count(n->kind().toQualString()) != 0; }

bool isInPlaceOp(const jit::Node* n) {
  std::string name = n->kind().toQualString();
  if (name.rfind("aten::", 0) != 0) return false;
  if (name == "aten::copy_" || name == "aten::index_put_") return true;
  // aten::add_, aten::mul_, ...: a trailing underscore on a schema whose
  // first argument is written (`Tensor(a!) self`).
  if (!endsWith(name, "_") || endsWith(name, "__")) return false;
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (!schema || schema->arguments().empty()) return false;
  const auto& alias = schema->arguments()[0].alias_info();
  return alias && alias->isWrite();
}

// ---- diagnostics ----------------------------------------------------------------

ir::Location GraphTranslator::locationOf(const jit::Node* n) {
  ir::Location loc;
  if (!n) return loc;
  // Prefer the innermost user frame: for inlined library code (nn.Linear) the
  // call stack's first entry is the user's line.
  // A saved model's ranges point into its serialized code (code/__torch__.py);
  // the range that generated it is the user's own source, when it was kept.
  auto original = [](const torch::jit::SourceRange& r) {
    if (auto gen = r.findSourceRangeThatGenerated()) return gen->file_line_col();
    return r.file_line_col();
  };
  auto flc = original(n->sourceRange());
  if (auto cs = n->callstack()) {
    auto entries = (*cs)->vec();
    if (!entries.empty()) {
      auto outer = original(std::get<1>(entries.front()));
      if (outer) flc = outer;
    }
  }
  if (flc) {
    loc.file = std::get<0>(*flc);
    loc.line = static_cast<int64_t>(std::get<1>(*flc));
  }
  return loc;
}

namespace {
/// "file:line" of the node's own source range (for inlined library code:
/// the line inside the library), or empty.
std::string innermostSource(const jit::Node* n) {
  if (!n) return {};
  const torch::jit::SourceRange& r = n->sourceRange();
  auto flc = r.findSourceRangeThatGenerated() ? r.findSourceRangeThatGenerated()->file_line_col() : r.file_line_col();
  if (!flc || std::get<0>(*flc).empty()) return {};
  return fmt::format("{}:{}", std::get<0>(*flc), std::get<1>(*flc));
}
/// " 'hx'" for a value the user's code named (TorchScript's "hx.1" without
/// its version), nothing for a temporary: "%167" means nothing to the user.
std::string userName(const jit::Value* v) {
  if (!v->hasDebugName()) return "";
  std::string name = v->debugName();
  if (auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return "";
  return fmt::format(" '{}'", name);
}

}  // namespace

void GraphTranslator::fail(const jit::Node* n, const std::string& message, ir::ErrorKind kind) const {
  ir::Location loc = locationOf(n);
  std::string inner = innermostSource(n);
  std::string where = loc.file.empty() ? std::string() : fmt::format("{}:{}", loc.file, loc.line);
  std::string full = inner.empty() || inner == where ? message : fmt::format("{} (inlined from {})", message, inner);
  throw TranslationError{full, n ? n->kind().toQualString() : "", loc, kind};
}

std::string GraphTranslator::describeUnusable(const jit::Value* v, const Slot& s) const {
  const jit::Node* producer = v->node();
  std::string from = producer->kind() == c10::prim::Param ? "an argument of forward"
                                                            : fmt::format("{}", producer->kind().toQualString());
  std::string producerAt = innermostSource(producer);
  if (!producerAt.empty() && producer->kind() != c10::prim::Param) from += " at " + producerAt;
  const std::string name = userName(v);
  std::string what;
  switch (s.kind) {
    case Slot::Kind::String: what = fmt::format("the string{} (from {})", name, from); break;
    case Slot::Kind::None: what = fmt::format("the value{} (from {}), which is None or a device", name, from); break;
    case Slot::Kind::DTypeOf:
      what = fmt::format("the dtype{} (from {}), which the input specs do not fix here", name, from);
      break;
    case Slot::Kind::List:
    case Slot::Kind::SizeList: what = fmt::format("the list{} (from {})", name, from); break;
    case Slot::Kind::Nested:
      what = fmt::format(
          "the nested tensor{} (from {}), which only nn.TransformerEncoderLayer's fused forward and "
          "to_padded_tensor take,",
          name, from);
      break;
    case Slot::Kind::Packed:
      what = fmt::format(
          "the packed sequence data{} (from {}), which only nn.LSTM, nn.GRU, nn.RNN and pad_packed_sequence take,",
          name, from);
      break;
    default: what = fmt::format("the value{} of type {} (from {})", name, v->type()->repr_str(), from); break;
  }
  return fmt::format("{} cannot be used as a single tensor or scalar here: it is not a constant after specialising on "
                     "the input specs",
                     what);
}

// ---- the environment -----------------------------------------------------------------

const jit::Value* GraphTranslator::canonical(const jit::Value* v) const {
  for (auto it = aliases_.find(v); it != aliases_.end(); it = aliases_.find(v)) v = it->second;
  return v;
}

void GraphTranslator::alias(const jit::Value* out, const jit::Value* in) { aliases_[out] = canonical(in); }

void GraphTranslator::bind(const jit::Value* v, Slot s) { env_[v] = std::move(s); }

const Slot& GraphTranslator::slot(const jit::Value* v) {
  v = canonical(v);
  auto it = env_.find(v);
  if (it == env_.end()) fail(v->node(), fmt::format("internal: value %{} used before it was translated", v->debugName()));
  return it->second;
}

ir::Value* GraphTranslator::value(const jit::Value* v) {
  v = canonical(v);
  // A view taken before its root was written: recompute it from the root.
  if (auto vi = views_.find(v); vi != views_.end()) {
    const ViewInfo& info = vi->second;
    auto rv = rootVersion_.find(info.root);
    int64_t now = rv == rootVersion_.end() ? 0 : rv->second;
    if (now != info.rootVersion) {
      ir::Location saved = b_.loc();
      b_.setLoc(locationOf(info.node));
      ir::Value* fresh = recomputeView(info.node, value(info.base));
      b_.setLoc(saved);
      return fresh;
    }
  }
  const Slot& s = slot(v);
  // An Optional read as a value: TorchScript only lets that happen after a
  // check that it is not None (prim::unchecked_cast).
  if (s.kind == Slot::Kind::Optional) return s.value;
  if (s.kind != Slot::Kind::Value || !s.value) fail(current_ ? current_ : v->node(), describeUnusable(v, s));
  return s.value;
}

std::optional<int64_t> GraphTranslator::constInt(const jit::Value* v) const {
  if (auto iv = jit::toIValue(v); iv && iv->isInt()) return iv->toInt();
  return std::nullopt;
}

std::optional<double> GraphTranslator::constDouble(const jit::Value* v) const {
  auto iv = jit::toIValue(v);
  if (iv && iv->isDouble()) return iv->toDouble();
  if (iv && iv->isInt()) return static_cast<double>(iv->toInt());
  return std::nullopt;
}

std::optional<bool> GraphTranslator::constBool(const jit::Value* v) const {
  if (auto iv = jit::toIValue(v); iv && iv->isBool()) return iv->toBool();
  return std::nullopt;
}

std::optional<std::vector<int64_t>> GraphTranslator::constIntList(const jit::Value* v) const {
  if (auto iv = jit::toIValue(v); iv && iv->isIntList()) return iv->toIntVector();
  if (v->node()->kind() == c10::prim::ListConstruct) {
    std::vector<int64_t> out;
    for (const jit::Value* e : v->node()->inputs()) {
      auto i = constInt(e);
      if (!i) return std::nullopt;
      out.push_back(*i);
    }
    return out;
  }
  // A single int where an int[] is expected (kernel_size=3).
  if (auto i = constInt(v)) return std::vector<int64_t>{*i};
  return std::nullopt;
}

bool GraphTranslator::isNone(const jit::Value* v) const { return v->type()->kind() == c10::TypeKind::NoneType; }

ir::Type GraphTranslator::irType(const c10::TypePtr& t, const jit::Node* where) const {
  switch (t->kind()) {
    case c10::TypeKind::TensorType: return Type::unknownTensor();
    case c10::TypeKind::IntType: return Type::scalar(DType::I64);
    case c10::TypeKind::FloatType: return Type::scalar(DType::F64);
    case c10::TypeKind::BoolType: return Type::scalar(DType::I1);
    // `x.item()` is a Number; we carry it as f64 until an int()/float() says more.
    case c10::TypeKind::NumberType: return Type::scalar(DType::F64);
    default: break;
  }
  fail(where, fmt::format("values of type {} are not supported here", t->repr_str()));
}

// ---- tuples and loop-carried values ------------------------------------------------------

namespace {
/// Optional[T] of a T the IR has (a tensor or a number): carried as two leaves.
c10::TypePtr carriedOptional(const c10::TypePtr& t) {
  auto opt = t->cast<c10::OptionalType>();
  if (!opt) return nullptr;
  switch (opt->getElementType()->kind()) {
    case c10::TypeKind::TensorType:
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::BoolType: return opt->getElementType();
    default: return nullptr;
  }
}
}  // namespace

void GraphTranslator::leafTypes(const c10::TypePtr& t, std::vector<ir::Type>& out, const jit::Node* where) const {
  if (auto tt = t->cast<c10::TupleType>()) {
    for (const auto& e : tt->elements()) leafTypes(e, out, where);
    return;
  }
  if (auto elem = carriedOptional(t)) {
    out.push_back(Type::scalar(DType::I1));
    out.push_back(irType(elem, where));
    return;
  }
  out.push_back(irType(t, where));
}

void GraphTranslator::flattenInto(const Slot& s, std::vector<ir::Value*>& out, const jit::Node* where) const {
  switch (s.kind) {
    case Slot::Kind::Value: out.push_back(s.value); return;
    case Slot::Kind::Optional:
      out.push_back(s.isNone);
      out.push_back(s.value);
      return;
    case Slot::Kind::List:
      for (const Slot& e : s.elems) flattenInto(e, out, where);
      return;
    default: break;
  }
  fail(where, "a value carried through control flow must be a tensor, a number or a tuple of them");
}

Slot GraphTranslator::unflatten(const c10::TypePtr& t, const std::vector<ir::Value*>& leaves, size_t& pos) const {
  if (auto tt = t->cast<c10::TupleType>()) {
    std::vector<Slot> elems;
    for (const auto& e : tt->elements()) elems.push_back(unflatten(e, leaves, pos));
    return Slot::list(std::move(elems));
  }
  if (carriedOptional(t)) {
    ir::Value* isNone = leaves.at(pos++);
    return Slot::optional(isNone, leaves.at(pos++));
  }
  return Slot::of(leaves.at(pos++));
}

void GraphTranslator::flattenAs(const jit::Value* v, const c10::TypePtr& as, std::vector<ir::Value*>& out,
                                const jit::Node* where) {
  const Slot& s = slot(v);
  if (auto elem = carriedOptional(as)) {
    if (s.kind == Slot::Kind::Optional) return flattenInto(s, out, where);
    if (s.kind == Slot::Kind::None) {
      out.push_back(b_.constantBool(true));
      out.push_back(placeholder(elem, where));
      return;
    }
    out.push_back(b_.constantBool(false));
    out.push_back(value(v));
    return;
  }
  // A value, or an Optional that TorchScript has refined to its value.
  if (s.kind == Slot::Kind::Value || s.kind == Slot::Kind::Optional) out.push_back(value(v));
  else flattenInto(s, out, where);
}

ir::Value* GraphTranslator::placeholder(const c10::TypePtr& t, const jit::Node* where) {
  // prim::Uninitialized: a value on a path that never reads it (what
  // TorchScript leaves after lowering `break` and early `return`).
  return b_.create1(OpKind::Undef, {}, irType(t, where));
}

Slot GraphTranslator::placeholderSlot(const c10::TypePtr& t, const jit::Node* where) {
  if (auto tt = t->cast<c10::TupleType>()) {
    std::vector<Slot> elems;
    for (const auto& e : tt->elements()) elems.push_back(placeholderSlot(e, where));
    return Slot::list(std::move(elems));
  }
  if (t->kind() == c10::TypeKind::NoneType) return Slot::none();
  return Slot::of(placeholder(t, where));
}

// ---- mutation analysis --------------------------------------------------------------------

const jit::Value* GraphTranslator::rootOf(const jit::Value* v) const {
  while (true) {
    const jit::Node* n = v->node();
    if (isViewOp(n) || isInPlaceOp(n)) {
      v = n->input(0);
      continue;
    }
    return v;
  }
}

namespace {
/// The block in which `v` is defined (for block parameters: that block).
const jit::Block* definingBlock(const jit::Value* v) {
  const jit::Node* n = v->node();
  if (n->kind() == c10::prim::Param) return n->owningBlock();
  return n->owningBlock();
}

bool blockEncloses(const jit::Block* outer, const jit::Block* inner) {
  for (const jit::Block* b = inner; b; b = b->owningNode() ? b->owningNode()->owningBlock() : nullptr)
    if (b == outer) return true;
  return false;
}
}  // namespace

void GraphTranslator::analyzeMutations(jit::Block* block) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) analyzeMutations(sub);
    if (!isInPlaceOp(n) && !isListAppend(n)) continue;
    const jit::Value* root = rootOf(n->input(0));
    const jit::Block* home = definingBlock(root);
    // Every Loop/If between the write and the root's definition carries it.
    for (const jit::Block* b = n->owningBlock(); b && b != home && b->owningNode(); b = b->owningNode()->owningBlock()) {
      const jit::Node* ctl = b->owningNode();
      if (!blockEncloses(home, ctl->owningBlock())) break;
      auto& roots = mutatedRoots_[ctl];
      if (std::find(roots.begin(), roots.end(), root) == roots.end()) roots.push_back(root);
    }
  }
}

// ---- views ------------------------------------------------------------------------------------

void GraphTranslator::writeInto(const jit::Value* target, ir::Value* newValue) {
  target = canonical(target);
  auto vi = views_.find(target);
  if (vi == views_.end()) {
    // A root: its SSA value is replaced and every view of it goes stale.
    env_[target] = Slot::of(newValue);
    rootVersion_[target] = ++versionCounter_;
    return;
  }
  const ViewInfo info = vi->second;
  ir::Location saved = b_.loc();
  b_.setLoc(locationOf(info.node));
  ir::Value* newBase = scatterInto(info.node, value(info.base), newValue);
  b_.setLoc(saved);
  writeInto(info.base, newBase);
}

// ---- the walk ------------------------------------------------------------------------------------

void GraphTranslator::run(jit::Graph& graph, const std::vector<ir::Type>& argTypes,
                          const std::vector<std::string>& argNames, const std::vector<bool>& absent) {
  analyzeMutations(graph.block());
  ir::Region& body = program_.body();
  // Input 0 is the module (`self`), frozen away.
  for (size_t i = 1; i < graph.inputs().size(); ++i) {
    const jit::Value* in = graph.inputs()[i];
    if (i - 1 < absent.size() && absent[i - 1]) {
      bind(in, Slot::none());  // `is None` on it folds; using it as a value is an error naming it
      continue;
    }
    ir::Value* arg = body.addArgument(argTypes.at(i - 1), argNames.at(i - 1));
    bind(in, arg);
  }
  translateBlock(graph.block());
  std::vector<ir::Value*> results;
  for (const jit::Value* out : graph.outputs()) outputLeaves(out, slot(out), results, graph.return_node());
  b_.setLoc(locationOf(graph.return_node()));
  b_.create(OpKind::Return, results, {});
  for (ir::Value* v : results) program_.resultTypes().push_back(v->type());
}

void GraphTranslator::outputLeaves(const jit::Value* v, const Slot& s, std::vector<ir::Value*>& out,
                                   const jit::Node* ret) {
  switch (s.kind) {
    // Read a tensor through value(): the slot may hold a view its root's later writes made stale.
    case Slot::Kind::Value: out.push_back(v ? value(v) : s.value); return;
    // Always None (googlenet's aux logits in eval mode, wav2vec2's lengths
    // when none were given): not an output of the compiled model, as a KServe
    // response has no None either. The reference runners drop it too.
    case Slot::Kind::None: return;
    case Slot::Kind::List: {
      const jit::Node* tuple = v ? v->node() : nullptr;
      bool fromConstruct = tuple &&
                           (tuple->kind() == c10::prim::TupleConstruct || tuple->kind() == c10::prim::ListConstruct) &&
                           tuple->inputs().size() == s.elems.size();
      for (size_t i = 0; i < s.elems.size(); ++i) {
        const jit::Value* e = fromConstruct ? tuple->input(i) : nullptr;
        outputLeaves(e, e ? slot(e) : s.elems[i], out, ret);
      }
      return;
    }
    case Slot::Kind::Optional:
      fail(ret,
           fmt::format("output {} is None on some runs and a value on others (an Optional decided at run time); "
                       "a compiled model returns the same outputs on every run",
                       v ? "%" + v->debugName() : std::string("element")),
           ir::ErrorKind::Unsupported);
    default: break;
  }
  fail(ret, "an output must be a tensor, a number, None or a tuple of them: " +
                (v ? describeUnusable(v, s) : std::string("a list element is not")));
}

void GraphTranslator::translateBlock(jit::Block* block) {
  for (jit::Node* n : block->nodes()) translateNode(n);
}

void GraphTranslator::translateNode(jit::Node* n) {
  b_.setLoc(locationOf(n));
  current_ = n;
  switch (n->kind()) {
    case c10::prim::Loop: translateLoop(n); return;
    case c10::prim::If: translateIf(n); return;
    case c10::prim::Constant: translateConstant(n); return;
    case c10::prim::Uninitialized: bind(n->output(), placeholderSlot(n->output()->type(), n)); return;
    default: break;
  }
  std::string whyNot;
  if (lowerOp(n, whyNot)) return;
  if (options_.strict)
    fail(n,
         fmt::format("{} is not supported by the compiler{} (without --strict it would run as a TorchScript "
                     "island on the host)",
                     n->kind().toQualString(), whyNot.empty() ? "" : ": " + whyNot),
         ir::ErrorKind::Unsupported);
  emitIsland(n, whyNot);
}

void GraphTranslator::translateConstant(jit::Node* n) {
  const jit::Value* out = n->output();
  auto iv = jit::toIValue(out);
  bind(out, iv ? constantSlot(*iv, out, n) : Slot::none());
}

Slot GraphTranslator::constantSlot(const c10::IValue& iv, const jit::Value* out, const jit::Node* n) {
  if (iv.isNone() || iv.isDevice()) return Slot::none();
  if (iv.isInt()) return Slot::of(b_.constantInt(iv.toInt()));
  if (iv.isDouble()) return Slot::of(b_.constantFloat(iv.toDouble()));
  if (iv.isBool()) return Slot::of(b_.constantBool(iv.toBool()));
  if (iv.isString()) {
    Slot s;
    s.kind = Slot::Kind::String;
    s.str = iv.toStringRef();
    return s;
  }
  // Freezing folds tuples and lists of constants (a tuple of initial states)
  // into one constant: translate it element by element.
  if (iv.isTuple() || iv.isList()) {
    std::vector<Slot> elems;
    const auto items = iv.isTuple() ? iv.toTupleRef().elements().vec() : iv.toListRef().vec();
    for (const auto& e : items) elems.push_back(constantSlot(e, out, n));
    return Slot::list(std::move(elems));
  }
  if (iv.isTensor()) {
    at::Tensor t = iv.toTensor().contiguous();
    std::optional<DType> dtype = dtypeOf(t.scalar_type());
    if (!dtype) fail(n, fmt::format("constant tensors of dtype {} are not supported", c10::toString(t.scalar_type())));
    std::vector<ir::Dim> dims;
    for (int64_t d : t.sizes()) dims.push_back(ir::Dim::constant(d));
    Type type = Type::tensor(*dtype, dims);
    // Name weights after the module attribute they came from (self.lin.weight:
    // freezing names them so whatever forward calls its module parameter).
    std::string base = out->hasDebugName() ? out->debugName() : "c";
    if (base.rfind("self.", 0) == 0) base = base.substr(5);
    std::replace_if(base.begin(), base.end(), [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'); }, '_');
    int& count = weightCount_[base];
    std::string name = count++ == 0 ? base : fmt::format("{}.{}", base, count - 1);
    ir::WeightDecl decl{name, type, {}};
    const auto* bytes = static_cast<const std::byte*>(t.data_ptr());
    decl.data.assign(bytes, bytes + t.nbytes());
    program_.weights().push_back(std::move(decl));
    ir::Attributes a;
    a.set("name", name);
    ir::Value* w = b_.create1(OpKind::Weight, {}, type, std::move(a));
    w->setName(name);
    return Slot::of(w);
  }
  fail(n, fmt::format("constants of type {} are not supported", out->type()->repr_str()));
}

void GraphTranslator::translateLoop(jit::Node* n) {
  jit::Block* body = n->blocks()[0];
  const auto& mutated = mutatedRoots_[n];

  ir::Value* maxTrip = value(n->input(0));
  ir::Value* cond = value(n->input(1));
  std::vector<ir::Value*> carried;
  std::vector<ir::Type> carriedTypes;
  for (size_t i = 2; i < n->inputs().size(); ++i) {
    std::vector<ir::Value*> leaves;
    flattenAs(n->input(i), body->inputs()[i - 1]->type(), leaves, n);
    carried.insert(carried.end(), leaves.begin(), leaves.end());
  }
  size_t numUserCarried = carried.size();
  ir::Value* bound = mutated.empty() ? nullptr : tripBound(n);
  for (const jit::Value* r : mutated) rootLeaves(r, carried, n, bound);
  // A carried tensor's type is what every iteration has in common, which
  // shape inference works out; the initial value's type is only a start.
  for (ir::Value* v : carried) carriedTypes.push_back(v->type().isScalar() ? v->type() : Type::unknownTensor());

  std::vector<ir::Value*> operands = {maxTrip, cond};
  operands.insert(operands.end(), carried.begin(), carried.end());
  ir::Op* loop = b_.create(OpKind::Loop, operands, carriedTypes);
  ir::Builder outer = b_;

  ir::Region& region = loop->addRegion();
  b_.setInsertionPointToEnd(region);
  ir::Value* iv = region.addArgument(Type::scalar(DType::I64), body->inputs()[0]->debugName());
  bind(body->inputs()[0], iv);
  std::vector<ir::Value*> args;
  for (size_t i = 0; i < carried.size(); ++i) args.push_back(region.addArgument(carriedTypes[i]));
  size_t pos = 0;
  for (size_t i = 1; i < body->inputs().size(); ++i) {
    const jit::Value* p = body->inputs()[i];
    bind(p, unflatten(p->type(), args, pos));
    if (env_[p].kind == Slot::Kind::Value) args[pos - 1]->setName(p->debugName());
  }
  // Saved so that after the loop the roots are rebound to the loop's results.
  size_t rootPos = numUserCarried;
  for (const jit::Value* r : mutated) {
    rebindRoot(r, args, rootPos);
    rootVersion_[r] = ++versionCounter_;
  }

  translateBlock(body);
  current_ = n;

  b_.setLoc(locationOf(n));
  std::vector<ir::Value*> yields = {value(body->outputs()[0])};
  for (size_t i = 1; i < body->outputs().size(); ++i) flattenAs(body->outputs()[i], body->inputs()[i]->type(), yields, n);
  for (const jit::Value* r : mutated) rootLeaves(r, yields, n, nullptr);
  if (yields.size() != carried.size() + 1)
    fail(n, "loop body yields a different structure than the loop carries (an Optional or a list that changes "
            "length inside a loop is not supported)");
  b_.create(OpKind::Yield, yields, {});

  b_ = outer;
  std::vector<ir::Value*> results;
  for (size_t i = 0; i < loop->numResults(); ++i) results.push_back(loop->result(i));
  pos = 0;
  for (const jit::Value* out : n->outputs()) {
    bind(out, unflatten(out->type(), results, pos));
    if (env_[out].kind == Slot::Kind::Value) results[pos - 1]->setName(out->debugName());
  }
  rootPos = numUserCarried;
  for (const jit::Value* r : mutated) {
    rebindRoot(r, results, rootPos);
    rootVersion_[r] = ++versionCounter_;
  }
}

void GraphTranslator::translateIf(jit::Node* n) {
  const auto& mutated = mutatedRoots_[n];
  ir::Value* cond = value(n->input(0));
  if (!cond->type().isScalar()) cond = b_.create1(OpKind::ToScalar, {cond}, Type::scalar(DType::I1));

  std::vector<ir::Type> types;
  for (const jit::Value* out : n->outputs()) {
    if (out->type()->kind() == c10::TypeKind::NoneType) continue;
    leafTypes(out->type(), types, n);
  }
  size_t numUserResults = types.size();
  std::vector<Slot> before;
  std::vector<int64_t> beforeVersion;
  std::vector<ir::Value*> rootValues;
  for (const jit::Value* r : mutated) {
    rootLeaves(r, rootValues, n, nullptr);
    before.push_back(slot(r));
    beforeVersion.push_back(rootVersion_[r]);
  }
  for (ir::Value* v : rootValues) types.push_back(v->type().isScalar() ? v->type() : Type::unknownTensor());

  ir::Op* op = b_.create(OpKind::If, {cond}, types);
  ir::Builder outer = b_;
  for (jit::Block* block : n->blocks()) {
    ir::Region& region = op->addRegion();
    b_.setInsertionPointToEnd(region);
    translateBlock(block);
    current_ = n;
    b_.setLoc(locationOf(n));
    std::vector<ir::Value*> yields;
    for (size_t j = 0; j < block->outputs().size(); ++j) {
      const jit::Value* o = block->outputs()[j];
      const c10::TypePtr& resultType = n->outputs()[j]->type();
      if (resultType->kind() == c10::TypeKind::NoneType) continue;
      if (slot(o).kind == Slot::Kind::None && !carriedOptional(resultType))
        fail(n, "an if whose branches return None and a value is not supported");
      flattenAs(o, resultType, yields, n);
    }
    for (const jit::Value* r : mutated) rootLeaves(r, yields, n, nullptr);
    if (yields.size() != types.size()) fail(n, "the branches of an if yield different structures");
    b_.create(OpKind::Yield, yields, {});
    // The other branch starts from the state before the if.
    for (size_t k = 0; k < mutated.size(); ++k) {
      env_[mutated[k]] = before[k];
      rootVersion_[mutated[k]] = beforeVersion[k];
    }
  }
  b_ = outer;
  std::vector<ir::Value*> results;
  for (size_t i = 0; i < op->numResults(); ++i) results.push_back(op->result(i));
  size_t pos = 0;
  for (const jit::Value* out : n->outputs()) {
    if (out->type()->kind() == c10::TypeKind::NoneType) {
      bind(out, Slot::none());
      continue;
    }
    bind(out, unflatten(out->type(), results, pos));
    if (env_[out].kind == Slot::Kind::Value) results[pos - 1]->setName(out->debugName());
  }
  size_t rootPos = numUserResults;
  for (const jit::Value* r : mutated) {
    rebindRoot(r, results, rootPos);
    rootVersion_[r] = ++versionCounter_;
  }
}

}  // namespace cocktail::frontend
