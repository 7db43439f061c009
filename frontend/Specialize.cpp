//===- frontend/Specialize.cpp - Fold guards on the input specs -------------------===//
//
// One round: refine tensor types from the inputs (TorchScript's shape
// analysis), fold the guards whose answer the types give (ours below, then
// TorchScript's peephole), constant-propagate (immutable values only: ints,
// bools, strings, tuples, so no new tensor constants appear), drop dead code.
// Rounds repeat until nothing changes: a folded `if` exposes the next guard.
//
//===----------------------------------------------------------------------===//
#include "frontend/Specialize.h"

#include "frontend/ScalarListLoops.h"
#include "frontend/TypeRefinement.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/peephole.h>
#include <torch/csrc/jit/passes/peephole_list_idioms.h>
#include <torch/csrc/jit/passes/shape_analysis.h>
#include <torch/csrc/jit/passes/symbolic_shape_analysis.h>

namespace cocktail::frontend {

namespace jit = torch::jit;

namespace {

constexpr int kMaxRounds = 16;

std::optional<c10::ScalarType> scalarTypeOf(ir::DType d) {
  switch (d) {
    case ir::DType::F32: return c10::ScalarType::Float;
    case ir::DType::F64: return c10::ScalarType::Double;
    case ir::DType::F16: return c10::ScalarType::Half;
    case ir::DType::BF16: return c10::ScalarType::BFloat16;
    case ir::DType::I64: return c10::ScalarType::Long;
    case ir::DType::I32: return c10::ScalarType::Int;
    case ir::DType::I1: return c10::ScalarType::Bool;
    case ir::DType::U8: return c10::ScalarType::Byte;
  }
  return std::nullopt;
}

/// The TorchScript type a spec gives an argument: a tensor with its dtype,
/// rank and static sizes on the CPU (symbolic dims stay unknown), or the
/// scalar type. Nothing when the spec says nothing more than the schema.
c10::TypePtr typeFromSpec(const ir::Type& spec, const c10::TypePtr& declared) {
  if (spec.isTensor()) {
    if (!spec.hasRank() || !spec.hasDType()) return nullptr;
    std::vector<c10::optional<int64_t>> sizes;
    for (const ir::Dim& d : spec.dims()) sizes.push_back(d.isConstant() ? c10::optional<int64_t>(d.value()) : c10::nullopt);
    c10::optional<c10::ScalarType> scalar;
    if (auto st = scalarTypeOf(spec.dtype())) scalar = *st;
    return c10::TensorType::create(scalar, c10::Device(c10::kCPU), c10::VaryingShape<int64_t>(sizes),
                                   c10::VaryingShape<int64_t>(sizes.size()), c10::optional<bool>(false));
  }
  // Optional[int] given as an int, and so on: the argument is not None.
  if (auto opt = declared->cast<c10::OptionalType>()) return opt->getElementType();
  return nullptr;
}

c10::TensorTypePtr tensorType(const jit::Value* v) { return v->type()->cast<c10::TensorType>(); }

void replaceWithConstant(jit::Node* n, const c10::IValue& value) {
  jit::WithInsertPoint guard(n);
  jit::Value* c = n->owningGraph()->insertConstant(value, c10::nullopt, n->scope());
  c->node()->setSourceRange(n->sourceRange());
  n->output()->replaceAllUsesWith(c);
}

bool isNoneType(const c10::TypePtr& t) { return t->kind() == c10::TypeKind::NoneType; }

/// None by its type, or a constant whose value is None (a frozen
/// `Optional[Tensor]` attribute such as nn.MultiheadAttention's `bias_k`).
bool isNone(const jit::Value* v) {
  if (isNoneType(v->type())) return true;
  auto c = jit::toIValue(v);
  return c && c->isNone();
}

/// True when a value of type `t` can never be None.
bool neverNone(const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::OptionalType:
    case c10::TypeKind::UnionType:
    case c10::TypeKind::NoneType:
    case c10::TypeKind::AnyType:
    case c10::TypeKind::AnyClassType: return false;
    default: return true;
  }
}

/// True for an identity test of two tensors in PyTorch's multi-head
/// attention (nn.MultiheadAttention.forward, F.multi_head_attention_forward):
/// there `query is key` and `key is value` only choose between the fused fast
/// path, one packed in-projection or three separate ones, which compute the
/// same values. Two different SSA values may still be one tensor at run time,
/// so the test has no compile-time answer; taking "different" takes the
/// general formula, right either way. Elsewhere (a user's `a is b`) nothing
/// says both answers agree, and the test is left alone.
bool identityOnlyPicksAFormula(const jit::Node* n) {
  // The Python source the node was scripted from, not the code a saved
  // module serialised (its file names are mangled per module).
  const jit::SourceRange& r = n->sourceRange();
  auto flc = r.findSourceRangeThatGenerated() ? r.findSourceRangeThatGenerated()->file_line_col() : r.file_line_col();
  if (!flc) return false;
  const std::string& file = std::get<0>(*flc);
  auto endsWith = [&](const std::string& tail) {
    return file.size() >= tail.size() && file.compare(file.size() - tail.size(), tail.size(), tail) == 0;
  };
  return endsWith("torch/nn/modules/activation.py") || endsWith("torch/nn/functional.py");
}

/// `a is b` / `a is not b` when one side is None and the other's type says
/// whether it is None.
std::optional<bool> foldIs(const jit::Node* n) {
  const c10::TypePtr& a = n->input(0)->type();
  const c10::TypePtr& b = n->input(1)->type();
  bool aNone = isNone(n->input(0));
  bool bNone = isNone(n->input(1));
  std::optional<bool> same;
  // One SSA value is one object (nn.MultiheadAttention's `query is key` on self-attention).
  if (n->input(0) == n->input(1) || (aNone && bNone)) same = true;
  else if ((aNone && neverNone(b)) || (bNone && neverNone(a))) same = false;
  else if (identityOnlyPicksAFormula(n) && a->kind() == c10::TypeKind::TensorType &&
           b->kind() == c10::TypeKind::TensorType)
    same = false;
  if (!same) return std::nullopt;
  return n->kind() == c10::aten::__is__ ? *same : !*same;
}

/// isinstance(x, (T1, ...)) once x's type is concrete.
std::optional<bool> foldIsInstance(const jit::Node* n) {
  const c10::TypePtr& t = n->input()->type();
  if (!neverNone(t) && !isNoneType(t)) return std::nullopt;
  for (const c10::TypePtr& candidate : n->tys(c10::attr::types))
    if (t->isSubtypeOf(*candidate)) return true;
  // A tensor is never an int, a list never a tuple, ...: a concrete type
  // that matches no candidate is not an instance (Any-like ones are kept).
  for (const c10::TypePtr& candidate : n->tys(c10::attr::types))
    if (candidate->isSubtypeOf(*t)) return std::nullopt;
  return false;
}

bool createsFromSizeList(const jit::Node* n) {
  static const std::set<c10::Symbol> ops = {c10::aten::zeros, c10::aten::ones, c10::aten::empty, c10::aten::full,
                                            c10::aten::rand, c10::aten::randn};
  return ops.count(n->kind()) != 0 && n->inputs().size() > 0 && n->input(0)->node()->kind() == c10::prim::ListConstruct &&
         n->input(0)->type()->isSubtypeOf(*c10::ListType::ofInts());
}

/// `zeros(sizes).size()` is `sizes`: a fresh list with the same elements.
bool foldSizeOfCreation(jit::Node* n) {
  if (n->kind() != c10::aten::size || n->inputs().size() != 1) return false;
  const jit::Node* producer = n->input(0)->node();
  if (!createsFromSizeList(producer)) return false;
  jit::Graph* g = n->owningGraph();
  jit::WithInsertPoint guard(n);
  jit::Node* list = g->insertNode(g->createList(c10::IntType::get(), producer->input(0)->node()->inputs()));
  list->setSourceRange(n->sourceRange());
  n->output()->replaceAllUsesWith(list->output());
  return true;
}

/// The same value, or two `aten::size(x, d)` of the same x and constant d.
bool sameSize(const jit::Value* a, const jit::Value* b) {
  if (a == b) return true;
  const jit::Node* x = a->node();
  const jit::Node* y = b->node();
  if (x->kind() != c10::aten::size || y->kind() != c10::aten::size || x->inputs().size() != 2 ||
      y->inputs().size() != 2 || x->input(0) != y->input(0))
    return false;
  auto i = jit::toIValue(x->input(1));
  auto j = jit::toIValue(y->input(1));
  return i && j && *i == *j;
}

/// `[a, b, c] == [a, b, c]` on int lists built from the same values.
std::optional<bool> foldListEquality(const jit::Node* n) {
  if (n->kind() != c10::aten::eq && n->kind() != c10::aten::ne) return std::nullopt;
  if (n->inputs().size() != 2 || !n->input(0)->type()->isSubtypeOf(*c10::ListType::ofInts()) ||
      !n->input(1)->type()->isSubtypeOf(*c10::ListType::ofInts()))
    return std::nullopt;
  const jit::Node* a = n->input(0)->node();
  const jit::Node* b = n->input(1)->node();
  // `key.shape == value.shape` where both are one tensor.
  if (a->kind() == c10::aten::size && b->kind() == c10::aten::size && a->inputs().size() == 1 &&
      b->inputs().size() == 1 && a->input(0) == b->input(0))
    return n->kind() == c10::aten::eq;
  if (a->kind() != c10::prim::ListConstruct || b->kind() != c10::prim::ListConstruct) return std::nullopt;
  bool equal = a->inputs().size() == b->inputs().size();
  for (size_t i = 0; equal && i < a->inputs().size(); ++i) {
    if (sameSize(a->input(i), b->input(i))) continue;
    auto x = jit::toIValue(a->input(i));
    auto y = jit::toIValue(b->input(i));
    if (!x || !y) return std::nullopt;
    equal = *x == *y;
  }
  return n->kind() == c10::aten::eq ? equal : !equal;
}

/// The elements of a constant list, or of a ListConstruct of constants.
std::optional<std::vector<c10::IValue>> constantElements(const jit::Value* v) {
  if (auto iv = jit::toIValue(v)) {
    if (iv->isList()) return iv->toListRef().vec();
    if (iv->isTuple()) return iv->toTupleRef().elements().vec();
    return std::nullopt;
  }
  const jit::Node* n = v->node();
  if (n->kind() != c10::prim::ListConstruct && n->kind() != c10::prim::TupleConstruct) return std::nullopt;
  std::vector<c10::IValue> out;
  for (const jit::Value* e : n->inputs()) {
    auto iv = jit::toIValue(e);
    if (!iv) return std::nullopt;
    out.push_back(*iv);
  }
  return out;
}

/// `x.dim() not in (1, 2)`: membership in a list of constants.
std::optional<bool> foldContains(const jit::Node* n) {
  if (n->inputs().size() != 2) return std::nullopt;
  auto elems = constantElements(n->input(0));
  auto item = jit::toIValue(n->input(1));
  if (!elems || !item || !neverWritten(n->input(0))) return std::nullopt;
  for (const c10::IValue& e : *elems)
    if (e == *item) return true;
  return false;
}

/// True when a string is only ever part of an exception or warning message.
bool onlyMessageText(const jit::Value* v) {
  for (const jit::Use& use : v->uses()) {
    c10::Symbol k = use.user->kind();
    if (k == c10::prim::RaiseException || k == c10::aten::warn) continue;
    if ((k == c10::aten::format || k == c10::aten::add) && onlyMessageText(use.user->output())) continue;
    return false;
  }
  return true;
}

/// Every dim of every argument: a constant for a static dim; for a symbolic
/// one, the first argument dim with that symbol, so that `h0.size(1)` reads
/// `x.size(1)` when both specs say `B` (and the two compare equal).
class ArgumentDims {
 public:
  struct Dim {
    std::optional<int64_t> constant;
    jit::Value* arg = nullptr;  // for a symbol: the argument and dim that define it
    int64_t index = 0;
  };

  ArgumentDims(jit::Graph& g, const std::vector<ir::Type>& argTypes) {
    std::map<std::string, Dim> bySymbol;
    for (size_t i = 1; i < g.inputs().size() && i - 1 < argTypes.size(); ++i) {
      const ir::Type& t = argTypes[i - 1];
      if (!t.isTensor() || !t.hasRank()) continue;
      jit::Value* arg = g.inputs()[i];
      std::vector<std::optional<Dim>>& dims = dims_[arg];
      for (size_t d = 0; d < t.dims().size(); ++d) {
        const ir::Dim& dim = t.dims()[d];
        if (dim.isConstant()) {
          dims.push_back(Dim{dim.value(), nullptr, 0});
        } else if (dim.isSymbol()) {
          auto [it, fresh] = bySymbol.emplace(dim.symbolName(), Dim{std::nullopt, arg, static_cast<int64_t>(d)});
          dims.push_back(it->second);
        } else {
          dims.push_back(std::nullopt);
        }
      }
    }
  }
  /// The dims of argument `arg`, or nullptr when its spec has no rank.
  const std::vector<std::optional<Dim>>* of(const jit::Value* arg) const {
    auto it = dims_.find(arg);
    return it == dims_.end() ? nullptr : &it->second;
  }

 private:
  std::map<const jit::Value*, std::vector<std::optional<Dim>>> dims_;
};

/// The value of one dim, inserted before `where`.
jit::Value* dimValue(jit::Node* where, const ArgumentDims::Dim& d) {
  jit::Graph* g = where->owningGraph();
  jit::WithInsertPoint guard(where);
  if (d.constant) return g->insertConstant(*d.constant);
  jit::Node* size = g->insertNode(g->create(c10::aten::size, {d.arg, g->insertConstant(d.index)}));
  size->output()->setType(c10::IntType::get());
  size->setSourceRange(where->sourceRange());
  return size->output();
}

/// `attn_mask.shape != (tgt_len, src_len)` on a tensor of known rank: the
/// list of its sizes, so the comparison is element by element (folded where
/// sizes are known, at run time where not). Other uses keep the size list.
bool expandComparedSizeList(jit::Node* n) {
  if (n->kind() != c10::aten::size || n->inputs().size() != 1 || !n->output()->hasUses()) return false;
  auto t = tensorType(n->input(0));
  if (!t || !t->dim()) return false;
  // Also list arithmetic (`list(x.size()[2:])` in F.group_norm), which
  // TorchScript's list peepholes then fold on the list of sizes.
  // And unpacking (`B, H, W, C = x.shape` in swin), whose sizes then fold one by one.
  static const std::set<c10::Symbol> listUses = {c10::aten::eq,   c10::aten::ne,  c10::aten::slice,
                                                 c10::aten::list, c10::aten::add, c10::prim::ListUnpack};
  std::vector<jit::Use> comparisons;
  for (const jit::Use& u : n->output()->uses())
    if (listUses.count(u.user->kind())) comparisons.push_back(u);
  if (comparisons.empty()) return false;
  jit::Graph* g = n->owningGraph();
  jit::WithInsertPoint guard(n);
  std::vector<jit::Value*> elems;
  for (size_t d = 0; d < *t->dim(); ++d) {
    jit::Node* size = g->insertNode(g->create(c10::aten::size, {n->input(0), g->insertConstant(static_cast<int64_t>(d))}));
    size->output()->setType(c10::IntType::get());
    size->setSourceRange(n->sourceRange());
    elems.push_back(size->output());
  }
  jit::Node* list = g->insertNode(g->createList(c10::IntType::get(), elems));
  list->setSourceRange(n->sourceRange());
  for (const jit::Use& u : comparisons) u.user->replaceInput(u.offset, list->output());
  return true;
}

/// `x.size(d)` and `x.size()` of an argument, from its spec.
bool foldArgumentSize(jit::Node* n, const ArgumentDims& dims) {
  const auto* all = dims.of(n->input(0));
  if (!all) return false;
  if (n->inputs().size() == 1) {
    // Only for comparisons (`hx.size() != expected_hidden_size`): other uses
    // (`x.size()[i]` with a run-time i) keep the size list the translator reads.
    std::vector<jit::Use> comparisons;
    for (const jit::Use& u : n->output()->uses())
      if (u.user->kind() == c10::aten::eq || u.user->kind() == c10::aten::ne) comparisons.push_back(u);
    if (comparisons.empty()) return false;
    std::vector<jit::Value*> elems;
    for (const auto& d : *all) {
      if (!d) return false;
      elems.push_back(dimValue(n, *d));
    }
    jit::Graph* g = n->owningGraph();
    jit::WithInsertPoint guard(n);
    jit::Node* list = g->insertNode(g->createList(c10::IntType::get(), elems));
    list->setSourceRange(n->sourceRange());
    for (const jit::Use& u : comparisons) u.user->replaceInput(u.offset, list->output());
    return true;
  }
  auto index = jit::toIValue(n->input(1));
  if (!index || !index->isInt()) return false;
  int64_t rank = static_cast<int64_t>(all->size());
  int64_t i = index->toInt() < 0 ? index->toInt() + rank : index->toInt();
  if (i < 0 || i >= rank) return false;
  const auto& d = (*all)[static_cast<size_t>(i)];
  // Already the defining size of its symbol: nothing to do.
  if (!d || (!d->constant && d->arg == n->input(0) && d->index == i && index->toInt() == i)) return false;
  n->output()->replaceAllUsesWith(dimValue(n, *d));
  return true;
}

/// torch.is_grad_enabled() and torch.is_autocast_enabled(): both false in a
/// compiled program (docs/frontend.md, "Inference mode").
bool isGradOrAutocastQuery(c10::Symbol k) {
  static const std::set<c10::Symbol> queries = {
      c10::Symbol::fromQualString("aten::is_grad_enabled"), c10::Symbol::fromQualString("aten::is_autocast_enabled"),
      c10::Symbol::fromQualString("aten::is_autocast_cpu_enabled")};
  return queries.count(k) != 0;
}

c10::Symbol leftAligned() { return c10::Symbol::fromQualString("aten::_nested_tensor_from_mask_left_aligned"); }

/// True for the nested tensor nn.TransformerEncoder makes from its padding
/// mask, and for what its layers' fused forward makes of one.
bool isNestedTensor(const jit::Value* v) {
  static const c10::Symbol fromMask = c10::Symbol::fromQualString("aten::_nested_tensor_from_mask");
  static const c10::Symbol layer = c10::Symbol::fromQualString("aten::_transformer_encoder_layer_fwd");
  const jit::Node* p = v->node();
  if (p->kind() == fromMask) return true;
  if (p->kind() == layer) return isNestedTensor(p->input(0));
  return false;
}

/// `torch._nested_tensor_from_mask_left_aligned(src, valid)`: whether each row
/// of the padding mask pads only at its end. nn.TransformerEncoder takes its
/// nested fast path on it, and that path's output is as long as the longest
/// row and zero at the padding (frontend/AttentionLowering.cpp), while the
/// other path's output is as long as the input: two shapes. A compiled
/// encoder takes the nested path and checks the mask at run time instead, so
/// a mask that is not left-aligned is refused with this message rather than
/// answered differently. Masks built from lengths always pass.
c10::Symbol checkedAttr() { return c10::Symbol::attr("cocktail_checked"); }

void assumeLeftAligned(jit::Node* n) {
  n->i_(checkedAttr(), 1);
  jit::Graph* g = n->owningGraph();
  jit::WithInsertPoint at(n->next());
  jit::Value* notAligned = g->insert(c10::aten::__not__, {n->output()});
  jit::Node* check = g->insertNode(g->create(c10::prim::If, {notAligned}, 0));
  check->setSourceRange(n->sourceRange());
  jit::Block* fail = check->addBlock();
  check->addBlock();
  {
    jit::WithInsertPoint inFail(fail);
    jit::Value* message = g->insertConstant(std::string(
        "src_key_padding_mask must pad each sequence only at its end (left-aligned) in a compiled "
        "nn.TransformerEncoder: PyTorch's nested fast path would shorten the output to the longest sequence"));
    jit::Node* raise = g->insertNode(g->create(c10::prim::RaiseException, {message, g->insertConstant(c10::IValue())}, 0));
    raise->setSourceRange(n->sourceRange());
  }
  jit::Value* yes = g->insertConstant(true);
  n->output()->replaceAllUsesAfterNodeWith(check, yes);
}

/// `all(flags)` / `any(flags)` of a list of constants that only appends grow
/// (nn.MultiheadAttention's `all([x.is_cuda or 'cpu' in str(x.device) for x
/// in tensor_args])` once each element folded).
std::optional<bool> foldAllAny(const jit::Node* n) {
  if ((n->kind() != c10::aten::all && n->kind() != c10::aten::any) || n->inputs().size() != 1) return std::nullopt;
  const jit::Value* list = n->input();
  if (list->node()->kind() != c10::prim::ListConstruct || !list->type()->isSubtypeOf(*c10::ListType::create(c10::BoolType::get())))
    return std::nullopt;
  std::vector<bool> elems;
  for (const jit::Value* e : list->node()->inputs()) {
    auto c = jit::toIValue(e);
    if (!c || !c->isBool()) return std::nullopt;
    elems.push_back(c->toBool());
  }
  // Every other use appends a constant, before `n` in the same block.
  for (const jit::Use& u : list->uses()) {
    if (u.user == n) continue;
    if (u.user->kind() != c10::aten::append || u.offset != 0 || u.user->owningBlock() != n->owningBlock() ||
        !u.user->isBefore(n))
      return std::nullopt;
    auto c = jit::toIValue(u.user->input(1));
    if (!c || !c->isBool()) return std::nullopt;
    elems.push_back(c->toBool());
  }
  bool all = true, any = false;
  for (bool e : elems) {
    all = all && e;
    any = any || e;
  }
  return n->kind() == c10::aten::all ? all : any;
}

/// `a, b = [x.transpose(1, 0) for x in (q, k)]`: unpacking a list that only
/// appends in the same block made is unpacking what was appended.
bool foldUnpackOfAppends(jit::Node* n) {
  if (n->kind() != c10::prim::ListUnpack || !n->hasUses()) return false;
  jit::Value* list = n->input();
  if (list->node()->kind() != c10::prim::ListConstruct || !list->node()->inputs().empty()) return false;
  std::vector<jit::Node*> appends;
  for (const jit::Use& u : list->uses()) {
    if (u.user == n) continue;
    if (u.user->kind() != c10::aten::append || u.offset != 0 || u.user->owningBlock() != n->owningBlock() ||
        !u.user->isBefore(n))
      return false;
    appends.push_back(u.user);
  }
  if (appends.size() != n->outputs().size()) return false;
  std::sort(appends.begin(), appends.end(), [](jit::Node* a, jit::Node* b) { return a->isBefore(b); });
  for (size_t i = 0; i < appends.size(); ++i) n->output(i)->replaceAllUsesWith(appends[i]->input(1));
  return true;
}

bool allConstant(const jit::Node* n) {
  for (const jit::Value* v : n->inputs())
    if (!jit::toIValue(v)) return false;
  return true;
}

/// `"{}.{}".format(a, b)` of constant strings, ints and bools, as Python
/// writes them; nothing for other arguments (floats, whose text Python and
/// C++ write differently).
std::optional<std::string> formatConstant(const jit::Node* n) {
  auto pattern = jit::toIValue(n->input(0));
  if (!pattern || !pattern->isString()) return std::nullopt;
  const std::string& text = pattern->toStringRef();
  std::string out;
  size_t arg = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '}') {
      if (arg >= n->inputs().size()) return std::nullopt;
      c10::IValue v = *jit::toIValue(n->input(arg++));
      if (v.isString()) out += v.toStringRef();
      else if (v.isInt()) out += std::to_string(v.toInt());
      else if (v.isBool()) out += v.toBool() ? "True" : "False";
      else return std::nullopt;
      ++i;
    } else if (text[i] == '{' || text[i] == '}') {
      return std::nullopt;  // {{, }} or a format spec: not worth guessing
    } else {
      out += text[i];
    }
  }
  return out;
}

/// `int(batch_sizes[0])` of a packed sequence (nn.LSTM's batch size and its
/// check of the initial states): the padded input's batch, since every row
/// has at least one step (frontend/PackedSequenceLowering.cpp checks that at
/// run time). The batch then has the input spec's symbol, so the state checks
/// fold and the states keep that symbol.
bool foldPackedBatchSize(jit::Node* n) {
  if (n->kind() != c10::aten::Int || n->inputs().size() != 1) return false;
  const jit::Node* select = n->input()->node();
  if (select->kind() != c10::aten::select || select->inputs().size() != 3) return false;
  const jit::Node* pack = select->input(0)->node();
  static const c10::Symbol packPadded = c10::Symbol::fromQualString("aten::_pack_padded_sequence");
  if (pack->kind() != packPadded || pack->inputs().size() != 3 || select->input(0) != pack->output(1)) return false;
  auto dim = jit::toIValue(select->input(1));
  auto index = jit::toIValue(select->input(2));
  auto batchFirst = jit::toIValue(pack->input(2));
  if (!dim || !index || !batchFirst || !dim->isInt() || !index->isInt() || !batchFirst->isBool() || dim->toInt() != 0 ||
      index->toInt() != 0)
    return false;
  jit::Graph* g = n->owningGraph();
  jit::WithInsertPoint guard(n);
  jit::Node* size = g->insertNode(
      g->create(c10::aten::size, {pack->input(0), g->insertConstant(int64_t{batchFirst->toBool() ? 0 : 1})}));
  size->output()->setType(c10::IntType::get());
  size->setSourceRange(n->sourceRange());
  n->output()->replaceAllUsesWith(size->output());
  return true;
}

bool foldNode(jit::Node* n, const ArgumentDims& dims) {
  c10::Symbol k = n->kind();
  if (foldPackedBatchSize(n)) return true;
  if (k == c10::prim::dtype) {
    auto t = tensorType(n->input());
    if (!t || !t->scalarType()) return false;
    replaceWithConstant(n, static_cast<int64_t>(*t->scalarType()));
    return true;
  }
  if (k == c10::prim::device) {
    auto t = tensorType(n->input());
    if (!t || !t->device()) return false;
    replaceWithConstant(n, *t->device());
    return true;
  }
  static const c10::Symbol isNested = c10::Symbol::fromQualString("prim::is_nested");
  if (k == isNested && tensorType(n->input())) {
    // The specs describe dense tensors; the only nested ones are those
    // nn.TransformerEncoder makes from its padding mask.
    replaceWithConstant(n, isNestedTensor(n->input()));
    return true;
  }
  if (k == leftAligned() && !n->hasAttribute(checkedAttr())) {
    assumeLeftAligned(n);
    return true;
  }
  if (isGradOrAutocastQuery(k)) {
    // An inference compiler: no autograd graph, no autocast region. PyTorch's
    // modules ask to choose their inference fast paths (nn.MultiheadAttention).
    replaceWithConstant(n, false);
    return true;
  }
  static const c10::Symbol toCpu = c10::Symbol::fromQualString("aten::cpu");
  if (k == toCpu && n->inputs().size() == 1 && tensorType(n->input())) {
    // x.cpu() of a tensor the compiled program holds on the host: x (Tacotron2's `input_lengths.cpu()`).
    n->output()->replaceAllUsesWith(n->input());
    return true;
  }
  if (k == c10::prim::is_cuda) {
    auto t = tensorType(n->input());
    if (!t || !t->device()) return false;
    replaceWithConstant(n, t->device()->is_cuda());
    return true;
  }
  if (k == c10::aten::dim) {
    auto t = tensorType(n->input());
    if (!t || !t->dim()) return false;
    replaceWithConstant(n, static_cast<int64_t>(*t->dim()));
    return true;
  }
  if (k == c10::aten::size && n->input(0)->node()->kind() == c10::prim::Param && foldArgumentSize(n, dims)) return true;
  if (k == c10::aten::size && n->inputs().size() == 2) {
    // A static size the refined types know (nn.GRU's `input.size(-1) !=
    // input_size` on an embedding's output).
    auto t = tensorType(n->input(0));
    auto d = jit::toIValue(n->input(1));
    if (!t || !t->dim() || !d || !d->isInt()) return false;
    int64_t rank = static_cast<int64_t>(*t->dim());
    int64_t i = d->toInt() < 0 ? d->toInt() + rank : d->toInt();
    if (i < 0 || i >= rank || !t->sizes()[static_cast<size_t>(i)]) return false;
    replaceWithConstant(n, *t->sizes()[static_cast<size_t>(i)]);
    return true;
  }
  if (foldSizeOfCreation(n)) return true;
  if (expandComparedSizeList(n)) return true;
  if (k == c10::aten::__is__ || k == c10::aten::__isnot__) {
    auto r = foldIs(n);
    if (!r) return false;
    replaceWithConstant(n, *r);
    return true;
  }
  if (k == c10::prim::isinstance) {
    auto r = foldIsInstance(n);
    if (!r) return false;
    replaceWithConstant(n, *r);
    return true;
  }
  if (k == c10::prim::TupleIndex && n->input(0)->node()->kind() == c10::prim::TupleConstruct) {
    // (h0, c0)[0] is h0: the argument, whose spec then answers size checks.
    auto i = jit::toIValue(n->input(1));
    const jit::Node* tuple = n->input(0)->node();
    int64_t size = static_cast<int64_t>(tuple->inputs().size());
    if (!i || !i->isInt() || i->toInt() < -size || i->toInt() >= size) return false;
    n->output()->replaceAllUsesWith(tuple->input(static_cast<size_t>(i->toInt() < 0 ? i->toInt() + size : i->toInt())));
    return true;
  }
  if (k == c10::aten::__contains__) {
    auto r = foldContains(n);
    if (!r) return false;
    replaceWithConstant(n, *r);
    return true;
  }
  if (foldUnpackOfAppends(n)) return true;
  if (k == c10::aten::sum && n->inputs().size() == 1 && n->output()->type()->kind() == c10::TypeKind::IntType) {
    // sum(shift_size) of a list of known ints (swin's `if sum(shift_size) > 0`).
    auto elems = constantElements(n->input(0));
    if (!elems || !neverWritten(n->input(0))) return false;
    int64_t total = 0;
    for (const c10::IValue& e : *elems) {
      if (!e.isInt()) return false;
      total += e.toInt();
    }
    replaceWithConstant(n, total);
    return true;
  }
  if (auto r = foldAllAny(n)) {
    replaceWithConstant(n, *r);
    return true;
  }
  if (auto r = foldListEquality(n)) {
    replaceWithConstant(n, *r);
    return true;
  }
  if (k == c10::aten::format && allConstant(n)) {
    // f"{str_first_layer}.norm_first was True": a reason string whose
    // emptiness picks a path (`if not why_not_sparsity_fast_path`).
    if (auto text = formatConstant(n)) {
      replaceWithConstant(n, *text);
      return true;
    }
  }
  if (k == c10::aten::format && jit::toIValue(n->input(0)) && !allConstant(n) && onlyMessageText(n->output())) {
    // A message whose arguments are only known at run time: keep its
    // template (`"Expected hidden size {}, got {}"`), which says what failed.
    replaceWithConstant(n, jit::toIValue(n->input(0))->toStringRef());
    return true;
  }
  return false;
}

bool foldBlock(jit::Block* block, const ArgumentDims& dims) {
  bool changed = false;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* n = *it++;
    for (jit::Block* sub : n->blocks()) changed |= foldBlock(sub, dims);
    if (n->kind() == c10::aten::warn) {
      // warnings.warn never changes a result; what it would print is lost.
      n->destroy();
      changed = true;
      continue;
    }
    if (foldNode(n, dims)) {
      changed = true;
      if (n->outputs().size() == 1 && !n->output()->hasUses()) n->destroy();
    }
  }
  return changed;
}

bool isPad(c10::Symbol k) {
  const std::string name = k.toQualString();
  return name == "aten::pad" || name == "aten::constant_pad_nd" || name.rfind("aten::reflection_pad", 0) == 0 ||
         name.rfind("aten::replication_pad", 0) == 0;
}

/// The padding, roll and upsampling ops (their index arithmetic), glu (its
/// even-size check), repeat_interleave and unfold (their rank) need the
/// input's sizes.
bool needsInputSizes(c10::Symbol k) {
  const std::string name = k.toQualString();
  return isPad(k) || name == "aten::roll" || name.rfind("aten::upsample_", 0) == 0 ||
         name.rfind("aten::_upsample_", 0) == 0 || name == "aten::glu" || name == "aten::repeat_interleave" ||
         name == "aten::unfold";
}

/// The fused attention ops treat a bool mask and a float one differently,
/// and the translator sees values before the IR's types are inferred: the
/// mask's dtype, while the refined types still know it, as an attribute.
void recordNodeFacts(jit::Block* block) {
  static const std::map<c10::Symbol, size_t> maskInput = {
      {c10::Symbol::fromQualString("aten::_transformer_encoder_layer_fwd"), 18},
      {c10::Symbol::fromQualString("aten::_native_multi_head_attention"), 9}};
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) recordNodeFacts(sub);
    if (needsInputSizes(n->kind())) {
      // F.pad's and F.interpolate's index arithmetic, and glu's check, need the input's sizes.
      auto t = tensorType(n->input(0));
      if (t && t->dim()) {
        std::vector<int64_t> sizes;
        for (size_t d = 0; d < *t->dim(); ++d) sizes.push_back(t->sizes()[d].value_or(-1));
        n->is_(inputSizesAttr(), sizes);
      }
      continue;
    }
    auto it = maskInput.find(n->kind());
    if (it == maskInput.end() || n->inputs().size() <= it->second) continue;
    auto t = tensorType(n->input(it->second));
    if (t && t->scalarType()) n->i_(maskDTypeAttr(), static_cast<int64_t>(*t->scalarType()));
  }
}

/// The sizes of a pad's output, which TorchScript's shape functions leave
/// out (aten::pad has none in 1.13): swin pads to a multiple of its window,
/// then reads the padded sizes.
void refinePadSizes(jit::Block* block) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) refinePadSizes(sub);
    if (!isPad(n->kind()) || n->inputs().size() < 2) continue;
    auto t = tensorType(n->input(0));
    auto pads = constantElements(n->input(1));
    if (!t || !t->dim() || !pads || !neverWritten(n->input(1)) || pads->size() % 2 != 0 || pads->size() / 2 > *t->dim())
      continue;
    std::vector<c10::optional<int64_t>> sizes;
    for (size_t d = 0; d < *t->dim(); ++d) sizes.push_back(t->sizes()[d]);
    for (size_t k = 0; k < pads->size() / 2; ++k) {
      c10::optional<int64_t>& size = sizes[*t->dim() - 1 - k];
      const c10::IValue& left = (*pads)[2 * k];
      const c10::IValue& right = (*pads)[2 * k + 1];
      if (size && left.isInt() && right.isInt())
        *size += left.toInt() + right.toInt();
      else
        size = c10::nullopt;
    }
    n->output()->setType(t->withSymbolicShapes(c10::SymbolicShape(sizes)));
  }
}

std::vector<c10::optional<int64_t>> sizesOf(const c10::TensorTypePtr& t) {
  std::vector<c10::optional<int64_t>> sizes;
  for (size_t d = 0; d < *t->dim(); ++d) sizes.push_back(t->sizes()[d]);
  return sizes;
}

/// The sizes of repeat_interleave's output by an int count along a dim,
/// which has no shape function in 1.13 either (WaveRNN's Stretch2d).
void refineRepeatInterleaveSizes(jit::Node* n) {
  if (n->inputs().size() < 3) return;
  auto t = tensorType(n->input(0));
  auto repeats = jit::toIValue(n->input(1));
  auto dim = jit::toIValue(n->input(2));
  if (!t || !t->dim() || !repeats || !repeats->isInt() || !dim || !dim->isInt()) return;
  const auto rank = static_cast<int64_t>(*t->dim());
  int64_t d = dim->toInt();
  if (d < -rank || d >= rank) return;
  if (d < 0) d += rank;
  std::vector<c10::optional<int64_t>> sizes = sizesOf(t);
  c10::optional<int64_t>& size = sizes[static_cast<size_t>(d)];
  if (size) *size *= repeats->toInt();
  n->output()->setType(t->withSymbolicShapes(c10::SymbolicShape(sizes)));
}

/// The sizes of a recurrent module's outputs (aten::lstm/gru/rnn_* over a
/// padded input; no shape functions in 1.13): the states keep the initial
/// states' sizes, the output is the input with D x hidden features. A
/// module stacked on another (WaveRNN's two GRUs) checks its state against
/// a batch read from the first one's output.
void refineRecurrentSizes(jit::Node* n) {
  const std::string name = n->kind().toQualString();
  if (name != "aten::lstm" && name != "aten::gru" && name != "aten::rnn_tanh" && name != "aten::rnn_relu") return;
  if (n->inputs().size() != 9 || !tensorType(n->input(0))) return;  // the padded-input overload
  std::vector<const jit::Value*> states;
  if (name == "aten::lstm") {
    const jit::Node* list = n->input(1)->node();
    if (list->kind() != c10::prim::ListConstruct || list->inputs().size() != 2) return;
    states = {list->input(0), list->input(1)};
  } else {
    states = {n->input(1)};
  }
  auto in = tensorType(n->input(0));
  auto h = tensorType(states[0]);
  auto bidirectional = jit::toIValue(n->input(7));
  if (!in || !in->dim() || *in->dim() != 3 || !h || !h->dim() || *h->dim() != 3 || !bidirectional ||
      !bidirectional->isBool() || n->outputs().size() != states.size() + 1)
    return;
  for (size_t k = 0; k < states.size(); ++k) {
    auto st = tensorType(states[k]);
    if (st && st->dim()) n->output(k + 1)->setType(st->withSymbolicShapes(c10::SymbolicShape(sizesOf(st))));
  }
  std::vector<c10::optional<int64_t>> sizes = sizesOf(in);
  const c10::optional<int64_t> hidden = h->sizes()[2];
  sizes[2] = hidden ? c10::optional<int64_t>(*hidden * (bidirectional->toBool() ? 2 : 1)) : c10::nullopt;
  n->output(0)->setType(in->withSymbolicShapes(c10::SymbolicShape(sizes)));
}

/// Sizes through the ops TorchScript's shape functions leave out.
void refineSizesWithoutShapeFunctions(jit::Block* block) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) refineSizesWithoutShapeFunctions(sub);
    if (n->kind() == c10::aten::repeat_interleave) refineRepeatInterleaveSizes(n);
    refineRecurrentSizes(n);
  }
}

void refineTypes(const std::shared_ptr<jit::Graph>& graph) {
  try {
    jit::PropagateInputShapes(graph);
  } catch (const std::exception&) {
    // Shape analysis is only a help here: without it fewer guards fold, and
    // the ones left are reported where they are used.
  }
  try {
    // Sizes through the ops that have a shape function (conv2d, linear,
    // permute, ...), which PropagateInputShapes only gives for complete types:
    // swin's pads and F.interpolate's output sizes are computed from them.
    std::shared_ptr<jit::Graph> g = graph;
    jit::PropagateShapesOnGraph(g);
  } catch (const std::exception&) {
    // As above: a help, not a requirement.
  }
  // Then ours, through the loops TorchScript's analysis gives up on.
  refineTensorTypes(graph);
  refinePadSizes(graph->block());
  refineSizesWithoutShapeFunctions(graph->block());
}

}  // namespace

void specializeOnInputs(const std::shared_ptr<jit::Graph>& graph, const std::vector<ir::Type>& argTypes,
                        std::string* specialized) {
  for (size_t i = 1; i < graph->inputs().size() && i - 1 < argTypes.size(); ++i) {
    jit::Value* in = graph->inputs()[i];
    if (c10::TypePtr t = typeFromSpec(argTypes[i - 1], in->type())) in->setType(t);
  }
  ArgumentDims dims(*graph, argTypes);
  for (int round = 0; round < kMaxRounds; ++round) {
    // New types alone change nothing: the folds they allow do, in this round.
    refineTypes(graph);
    bool changed = foldBlock(graph->block(), dims);
    changed |= unrollScalarListLoops(graph);
    changed |= foldAppendsIntoLists(graph);
    changed |= jit::PeepholeOptimize(graph, /*disable_shape_peepholes=*/false);
    changed |= jit::PeepholeOptimizeListIdioms(graph);
    std::shared_ptr<jit::Graph> g = graph;
    changed |= jit::ConstantPropagationImmutableTypes(g);
    jit::EliminateDeadCode(graph);
    if (!changed) break;
  }
  recordNodeFacts(graph->block());
  if (specialized) *specialized = graph->toString();
  // The refined types served the folds; the translator types values itself,
  // and TorchScript islands keep the plain types they were written with.
  jit::EraseShapeInformation(graph);
}

}  // namespace cocktail::frontend
