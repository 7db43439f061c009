//===- frontend/TypeRefinement.cpp - Dtype and rank through loops and branches ----===//
#include "frontend/TypeRefinement.h"

#include <optional>
#include <set>
#include <string>
#include <unordered_map>

namespace cocktail::frontend {

namespace jit = torch::jit;

namespace {

constexpr int kMaxLoopIterations = 8;

/// What is known of a tensor: its dtype and its rank; of a tuple: of each
/// element (nn.LSTMCell's state goes through tuples and ifs on them).
struct Info {
  c10::optional<c10::ScalarType> dtype;
  c10::optional<size_t> rank;
  c10::optional<int64_t> last;  // the size of the last dim (features), when static
  std::vector<Info> elems;
  bool operator==(const Info&) const = default;
};

Info makeInfo(c10::optional<c10::ScalarType> dtype, c10::optional<size_t> rank,
              c10::optional<int64_t> last = c10::nullopt) {
  Info i;
  i.dtype = dtype;
  i.rank = rank;
  i.last = last;
  return i;
}

Info merge(const Info& a, const Info& b) {
  Info m;
  if (a.dtype == b.dtype) m.dtype = a.dtype;
  if (a.rank == b.rank) m.rank = a.rank;
  if (a.last == b.last) m.last = a.last;
  if (a.elems.size() == b.elems.size())
    for (size_t i = 0; i < a.elems.size(); ++i) m.elems.push_back(merge(a.elems[i], b.elems[i]));
  return m;
}

bool isTensor(const jit::Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }
bool isTuple(const jit::Value* v) { return v->type()->kind() == c10::TypeKind::TupleType; }
bool isNumber(const jit::Value* v) {
  auto k = v->type()->kind();
  return k == c10::TypeKind::IntType || k == c10::TypeKind::FloatType || k == c10::TypeKind::NumberType ||
         k == c10::TypeKind::BoolType;
}

bool isFloating(c10::ScalarType t) { return c10::isFloatingType(t); }

class Refiner {
 public:
  void block(jit::Block* b) {
    for (jit::Node* n : b->nodes()) node(n);
  }

  /// Writes what was learnt into the graph's types; true when one changed.
  bool commit() {
    bool changed = false;
    for (const auto& [cv, info] : info_) {
      jit::Value* v = const_cast<jit::Value*>(cv);
      auto t = v->type()->cast<c10::TensorType>();
      if (!t) continue;
      auto refined = t;
      if (!refined->scalarType() && info.dtype) refined = refined->withScalarType(info.dtype);
      if (!refined->dim() && info.rank) refined = refined->withDim(info.rank);
      if (!refined->device() && (info.dtype || info.rank)) refined = refined->withDevice(c10::Device(c10::kCPU));
      if (info.last && refined->dim() && *refined->dim() > 0 && !refined->sizes()[*refined->dim() - 1]) {
        std::vector<c10::optional<int64_t>> sizes;
        for (size_t d = 0; d < *refined->dim(); ++d) sizes.push_back(refined->sizes()[d]);
        sizes.back() = info.last;
        refined = c10::TensorType::create(refined->scalarType(), refined->device(), c10::VaryingShape<int64_t>(sizes),
                                          c10::VaryingShape<int64_t>(sizes.size()), refined->requiresGrad());
      }
      if (refined != t && *refined != *t) {
        v->setType(refined);
        changed = true;
      }
    }
    return changed;
  }

 private:
  Info get(const jit::Value* v) const {
    if (auto it = info_.find(v); it != info_.end()) return it->second;
    return fromType(v);
  }
  static Info fromType(const jit::Value* v) {
    Info i;
    if (auto t = v->type()->cast<c10::TensorType>()) {
      i.dtype = t->scalarType();
      i.rank = t->dim();
      if (i.rank && *i.rank > 0) i.last = t->sizes()[*i.rank - 1];
    }
    return i;
  }
  void set(const jit::Value* v, Info i) {
    if (isTensor(v) || isTuple(v)) info_[v] = std::move(i);
  }
  c10::optional<c10::IValue> constant(const jit::Value* v) const {
    if (auto iv = jit::toIValue(v)) return iv;
    if (auto it = consts_.find(v); it != consts_.end()) return it->second;
    return c10::nullopt;
  }
  c10::optional<int64_t> constInt(const jit::Value* v) const {
    auto c = constant(v);
    if (c && c->isInt()) return c->toInt();
    return c10::nullopt;
  }
  void setConst(const jit::Value* v, c10::optional<c10::IValue> c) {
    if (c) consts_[v] = *c;
    else consts_.erase(v);
  }
  /// Every tensor a list can hold: those it was built with and those appended
  /// to it (a decoder's steps collected in a loop). Nothing when anything
  /// else may change it.
  static c10::optional<std::vector<const jit::Value*>> listElements(const jit::Value* list) {
    if (list->node()->kind() != c10::prim::ListConstruct) return c10::nullopt;
    std::vector<const jit::Value*> elems(list->node()->inputs().begin(), list->node()->inputs().end());
    for (const jit::Use& use : list->uses()) {
      const c10::Symbol k = use.user->kind();
      if (k == c10::aten::append && use.offset == 0)
        elems.push_back(use.user->input(1));
      else if (k != c10::aten::cat && k != c10::aten::stack && k != c10::aten::len && k != c10::aten::__getitem__)
        return c10::nullopt;
    }
    return elems;
  }

  /// The length of an int[] built by ListConstruct or constant.
  c10::optional<size_t> listLength(const jit::Value* v) const {
    if (auto c = jit::toIValue(v); c && c->isList()) return c->toListRef().size();
    if (v->node()->kind() == c10::prim::ListConstruct) return v->node()->inputs().size();
    return c10::nullopt;
  }
  c10::optional<int64_t> lastListElement(const jit::Value* v) const {
    if (auto c = jit::toIValue(v); c && c->isIntList() && !c->toIntVector().empty()) return c->toIntVector().back();
    if (v->node()->kind() == c10::prim::ListConstruct && !v->node()->inputs().empty())
      return constInt(v->node()->inputs().back());
    return c10::nullopt;
  }
  c10::optional<c10::ScalarType> dtypeArg(const jit::Node* n, size_t i) const {
    if (i >= n->inputs().size()) return c10::nullopt;
    auto c = constant(n->input(i));
    if (c && c->isInt()) return static_cast<c10::ScalarType>(c->toInt());
    return c10::nullopt;
  }

  void loop(jit::Node* n) {
    jit::Block* body = n->blocks()[0];
    size_t carried = n->inputs().size() - 2;
    std::vector<Info> state(carried);
    for (size_t i = 0; i < carried; ++i) state[i] = get(n->input(i + 2));
    for (int iter = 0;; ++iter) {
      for (size_t i = 0; i < carried; ++i) {
        set(body->inputs()[i + 1], state[i]);
        setConst(body->inputs()[i + 1], c10::nullopt);
      }
      block(body);
      bool stable = true;
      for (size_t i = 0; i < carried; ++i) {
        Info next = merge(state[i], get(body->outputs()[i + 1]));
        if (!(next == state[i])) stable = false;
        state[i] = next;
      }
      if (stable) break;
      if (iter == kMaxLoopIterations) {
        // No fixed point: claim nothing about what the loop carries.
        for (size_t i = 0; i < carried; ++i) state[i] = Info{};
        for (size_t i = 0; i < carried; ++i) set(body->inputs()[i + 1], state[i]);
        block(body);
        break;
      }
    }
    for (size_t i = 0; i < carried; ++i) set(n->outputs()[i], state[i]);
  }

  void ifNode(jit::Node* n) {
    auto cond = constant(n->input(0));
    if (cond && cond->isBool()) {
      // Only the branch the guard takes says what the results are.
      jit::Block* live = n->blocks()[cond->toBool() ? 0 : 1];
      block(live);
      for (size_t i = 0; i < n->outputs().size(); ++i) {
        set(n->outputs()[i], get(live->outputs()[i]));
        setConst(n->outputs()[i], constant(live->outputs()[i]));
      }
      return;
    }
    for (jit::Block* b : n->blocks()) block(b);
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      set(n->outputs()[i], merge(get(n->blocks()[0]->outputs()[i]), get(n->blocks()[1]->outputs()[i])));
      auto a = constant(n->blocks()[0]->outputs()[i]);
      auto b = constant(n->blocks()[1]->outputs()[i]);
      setConst(n->outputs()[i], a && b && *a == *b ? a : c10::nullopt);
    }
  }

  /// The guards: ints and bools computed from what is known.
  c10::optional<c10::IValue> evaluate(const jit::Node* n) const {
    c10::Symbol k = n->kind();
    if (k == c10::aten::dim) {
      if (auto r = get(n->input()).rank) return c10::IValue(static_cast<int64_t>(*r));
      return c10::nullopt;
    }
    if (k == c10::prim::dtype) {
      if (auto d = get(n->input()).dtype) return c10::IValue(static_cast<int64_t>(*d));
      return c10::nullopt;
    }
    if (k == c10::aten::__not__) {
      auto a = constant(n->input());
      if (a && a->isBool()) return c10::IValue(!a->toBool());
      return c10::nullopt;
    }
    if (k == c10::aten::__contains__) {
      auto l = constant(n->input(0));
      auto x = constant(n->input(1));
      if (!l || !x || !l->isList()) return c10::nullopt;
      for (const c10::IValue& e : l->toListRef())
        if (e == *x) return c10::IValue(true);
      return c10::IValue(false);
    }
    if (n->inputs().size() == 2 && !isTensor(n->input(0)) && !isTensor(n->input(1))) {
      auto a = constant(n->input(0));
      auto b = constant(n->input(1));
      if (!a || !b) return c10::nullopt;
      if (a->isInt() && b->isInt()) {
        int64_t x = a->toInt(), y = b->toInt();
        if (k == c10::aten::eq) return c10::IValue(x == y);
        if (k == c10::aten::ne) return c10::IValue(x != y);
        if (k == c10::aten::lt) return c10::IValue(x < y);
        if (k == c10::aten::le) return c10::IValue(x <= y);
        if (k == c10::aten::gt) return c10::IValue(x > y);
        if (k == c10::aten::ge) return c10::IValue(x >= y);
      }
      if (a->isBool() && b->isBool()) {
        bool x = a->toBool(), y = b->toBool();
        if (k == c10::aten::__and__) return c10::IValue(x && y);
        if (k == c10::aten::__or__) return c10::IValue(x || y);
        if (k == c10::aten::eq) return c10::IValue(x == y);
        if (k == c10::aten::ne) return c10::IValue(x != y);
      }
    }
    return c10::nullopt;
  }

  /// The last dim of a broadcast of the tensor operands, when each one's is known.
  c10::optional<int64_t> broadcastLast(const jit::Node* n, size_t operands) const {
    c10::optional<int64_t> last;
    for (size_t i = 0; i < operands && i < n->inputs().size(); ++i) {
      if (!isTensor(n->input(i))) continue;
      Info in = get(n->input(i));
      if (in.rank && *in.rank == 0) continue;
      if (!in.last) return c10::nullopt;
      if (!last || *last == 1) last = in.last;
      else if (*in.last != 1 && *in.last != *last) return c10::nullopt;
    }
    return last;
  }

  /// Size `d` of a constant tensor operand (a frozen weight).
  static c10::optional<int64_t> weightSize(const jit::Value* w, size_t d) {
    auto iv = jit::toIValue(w);
    if (!iv || !iv->isTensor() || static_cast<size_t>(iv->toTensor().dim()) <= d) return c10::nullopt;
    return iv->toTensor().size(static_cast<int64_t>(d));
  }

  /// Dtype and rank of an elementwise op's result over its tensor and number operands.
  Info elementwise(const jit::Node* n, size_t operands, bool boolean) const {
    Info out;
    c10::optional<size_t> rank = 0;
    c10::optional<c10::ScalarType> dtype;
    bool dtypeKnown = true;
    bool anyNumber = false;
    for (size_t i = 0; i < operands && i < n->inputs().size(); ++i) {
      const jit::Value* v = n->input(i);
      if (isNumber(v)) {
        anyNumber = anyNumber || v->type()->kind() == c10::TypeKind::FloatType;
        continue;
      }
      if (!isTensor(v)) return Info{};
      Info in = get(v);
      rank = rank && in.rank ? c10::optional<size_t>(std::max(*rank, *in.rank)) : c10::nullopt;
      if (!in.dtype || (dtype && *dtype != *in.dtype)) dtypeKnown = false;
      else dtype = in.dtype;
    }
    out.rank = rank;
    out.last = broadcastLast(n, operands);
    if (boolean) out.dtype = c10::ScalarType::Bool;
    else if (dtypeKnown && dtype && (isFloating(*dtype) || !anyNumber)) out.dtype = dtype;
    return out;
  }

  /// A cell's new state: the input's dtype and rows, w_hh's [gates * H, H] columns.
  Info cellState(const jit::Node* n) const {
    Info i = get(n->input(0));
    i.last = weightSize(n->input(3), 1);
    // ATen takes a cell's input and state of one rank: when the input's is
    // not known (a decoder's input built from a squeeze), the state's says it.
    if (!i.rank) {
      const jit::Value* hx = n->input(1);
      if (hx->node()->kind() == c10::prim::ListConstruct && !hx->node()->inputs().empty())
        hx = hx->node()->input(0);  // lstm_cell's (h, c)
      if (isTensor(hx)) i.rank = get(hx).rank;
    }
    return i;
  }

  Info rule(const jit::Node* n) const {
    static const std::set<c10::Symbol> sameAsInput = {
        c10::aten::sigmoid,    c10::aten::tanh,          c10::aten::relu,       c10::aten::neg,
        c10::aten::exp,        c10::aten::log,           c10::aten::sqrt,       c10::aten::rsqrt,
        c10::aten::abs,        c10::aten::gelu,          c10::aten::erf,        c10::aten::sin,
        c10::aten::cos,        c10::aten::silu,          c10::aten::dropout,    c10::aten::feature_dropout,
        c10::aten::contiguous, c10::aten::clone,         c10::aten::detach,     c10::aten::copy_,
        c10::aten::clamp,      c10::aten::clamp_min,     c10::aten::clamp_max,  c10::aten::masked_fill,
        c10::aten::layer_norm, c10::aten::hardtanh,      c10::aten::leaky_relu, c10::aten::elu,
        c10::aten::floor,      c10::aten::ceil,          c10::aten::round,      c10::aten::fill_,
        c10::aten::zero_,      c10::aten::tril,          c10::aten::triu,       c10::aten::roll,
        c10::aten::group_norm, c10::aten::instance_norm, c10::aten::batch_norm, c10::prim::unchecked_cast};
    // Same dtype and rank, other sizes.
    static const std::set<c10::Symbol> sameRank = {
        c10::aten::slice,           c10::aten::narrow,      c10::aten::transpose,
        c10::aten::permute,         c10::aten::flip,        c10::aten::t,
        c10::aten::index_select,    c10::aten::gather,      c10::aten::pad,
        c10::aten::constant_pad_nd, c10::aten::conv1d,      c10::aten::conv2d,
        c10::aten::conv3d,          c10::aten::_convolution};
    c10::Symbol k = n->kind();
    std::string name = k.toQualString();
    if (sameAsInput.count(k)) return isTensor(n->input(0)) ? get(n->input(0)) : Info{};
    // The transformer fast paths: a nested tensor has its dense source's
    // dtype, rank (one more than its elements') and features; the fused
    // layers keep their input's; to_padded_tensor only changes the length.
    if (name == "aten::_nested_tensor_from_mask" || name == "aten::_transformer_encoder_layer_fwd" ||
        name == "aten::to_padded_tensor")
      return isTensor(n->input(0)) ? get(n->input(0)) : Info{};
    if (name == "aten::_native_multi_head_attention") {
      Info i = isTensor(n->input(0)) ? get(n->input(0)) : Info{};
      i.last = c10::nullopt;  // the output projection's width
      return i;
    }
    if (sameRank.count(k)) {
      Info i = isTensor(n->input(0)) ? get(n->input(0)) : Info{};
      i.last.reset();
      return i;
    }
    // repeat_interleave keeps the rank along a dim, and flattens without one.
    if (name == "aten::repeat_interleave" && n->inputs().size() > 2 && isTensor(n->input(0))) {
      Info i = get(n->input(0));
      i.last.reset();
      if (n->input(2)->type()->kind() == c10::TypeKind::NoneType) i.rank = 1;
      return i;
    }
    // In-place variants (add_, mul_, sigmoid_, ...) return self.
    if (name.size() > 1 && name.back() == '_' && name[name.size() - 2] != '_' && !n->inputs().empty() &&
        isTensor(n->input(0)))
      return get(n->input(0));
    if (k == c10::aten::softmax || k == c10::aten::log_softmax) {
      Info i = get(n->input(0));
      if (auto d = dtypeArg(n, 2)) i.dtype = d;
      return i;
    }
    if (k == c10::aten::add || k == c10::aten::sub || k == c10::aten::mul || k == c10::aten::maximum ||
        k == c10::aten::minimum || k == c10::aten::pow)
      return elementwise(n, 2, false);
    if (k == c10::aten::div) {
      Info i = elementwise(n, 2, false);
      if (i.dtype && !isFloating(*i.dtype)) i.dtype.reset();
      return i;
    }
    if (k == c10::aten::where && n->inputs().size() == 3) {
      Info i = elementwise(n, 3, false);
      Info a = get(n->input(1)), b = get(n->input(2));
      i.dtype = isTensor(n->input(1)) && isTensor(n->input(2)) && a.dtype == b.dtype ? a.dtype : c10::nullopt;
      return i;
    }
    if (k == c10::aten::eq || k == c10::aten::ne || k == c10::aten::lt || k == c10::aten::le || k == c10::aten::gt ||
        k == c10::aten::ge || k == c10::aten::logical_and || k == c10::aten::logical_or ||
        k == c10::aten::logical_not)
      return elementwise(n, 2, true);
    if (k == c10::aten::linear) {
      Info i = get(n->input(0));
      i.last = weightSize(n->input(1), 0);
      return i;
    }
    if (k == c10::aten::matmul || k == c10::aten::mm || k == c10::aten::bmm) {
      Info a = get(n->input(0)), b = get(n->input(1));
      Info out;
      out.dtype = a.dtype == b.dtype ? a.dtype : c10::nullopt;
      if (a.rank && b.rank) {
        size_t x = *a.rank, y = *b.rank;
        out.rank = x == 1 && y == 1 ? 0 : x == 1 ? y - 1 : y == 1 ? x - 1 : std::max(x, y);
      }
      return out;
    }
    if (k == c10::aten::embedding) {
      Info w = get(n->input(0)), idx = get(n->input(1));
      return makeInfo(w.dtype, idx.rank ? c10::optional<size_t>(*idx.rank + 1) : c10::nullopt, weightSize(n->input(0), 1));
    }
    if (k == c10::aten::argmax || k == c10::aten::argmin) {
      Info x = get(n->input(0));
      Info out = makeInfo(c10::ScalarType::Long, c10::nullopt);
      auto keep = constant(n->input(2));
      if (n->input(1)->type()->kind() == c10::TypeKind::NoneType) out.rank = 0;
      else if (x.rank && keep && keep->isBool()) out.rank = keep->toBool() ? *x.rank : *x.rank - 1;
      return out;
    }
    if (k == c10::aten::all || k == c10::aten::any) {
      // uint8 stays uint8, as in ATen.
      const c10::ScalarType t =
          get(n->input(0)).dtype == c10::ScalarType::Byte ? c10::ScalarType::Byte : c10::ScalarType::Bool;
      if (n->inputs().size() == 1) return makeInfo(t, 0);
      return makeInfo(t, c10::nullopt);
    }
    // squeeze(dim) drops the dim only where it is 1: known for the last dim
    // when its width is (an attention's `energies.squeeze(2)` after a
    // linear layer of one output).
    if (k == c10::aten::squeeze && n->inputs().size() == 2 && isTensor(n->input(0))) {
      Info i = get(n->input(0));
      auto d = constant(n->input(1));
      if (!i.rank || *i.rank == 0 || !d || !d->isInt() || !i.last) return makeInfo(i.dtype, c10::nullopt);
      const auto rank = static_cast<int64_t>(*i.rank);
      const int64_t dim = d->toInt() < 0 ? d->toInt() + rank : d->toInt();
      if (dim != rank - 1) return makeInfo(i.dtype, c10::nullopt);
      if (*i.last == 1) return makeInfo(i.dtype, *i.rank - 1);
      return i;
    }
    if (k == c10::aten::zeros || k == c10::aten::ones || k == c10::aten::empty || k == c10::aten::rand ||
        k == c10::aten::randn) {
      Info out = makeInfo(c10::ScalarType::Float, listLength(n->input(0)), lastListElement(n->input(0)));
      if (n->inputs().size() > 1 && n->input(1)->type()->kind() != c10::TypeKind::NoneType) out.dtype = dtypeArg(n, 1);
      return out;
    }
    if (k == c10::aten::full) {
      Info out = makeInfo(dtypeArg(n, 2), listLength(n->input(0)));
      if (n->inputs().size() > 2 && n->input(2)->type()->kind() == c10::TypeKind::NoneType) {
        // No dtype: the fill value's (`full((n, n), float("-inf"))` is f32).
        auto fill = n->input(1)->type()->kind();
        if (fill == c10::TypeKind::FloatType) out.dtype = c10::ScalarType::Float;
        else if (fill == c10::TypeKind::IntType) out.dtype = c10::ScalarType::Long;
        else if (fill == c10::TypeKind::BoolType) out.dtype = c10::ScalarType::Bool;
      }
      return out;
    }
    if (k == c10::aten::zeros_like || k == c10::aten::ones_like || k == c10::aten::empty_like ||
        k == c10::aten::full_like) {
      Info out = get(n->input(0));
      size_t at = k == c10::aten::full_like ? 2 : 1;
      if (at < n->inputs().size() && n->input(at)->type()->kind() != c10::TypeKind::NoneType)
        out.dtype = dtypeArg(n, at);
      return out;
    }
    if (k == c10::aten::arange && n->inputs().size() >= 5) {
      // arange(end | start, end[, step], dtype, layout, device, pin_memory):
      // 1-d; without a dtype, i64 from ints and f32 from a float.
      size_t numbers = n->inputs().size() - 4;
      Info out = makeInfo(dtypeArg(n, numbers), 1);
      if (n->input(numbers)->type()->kind() == c10::TypeKind::NoneType) {
        out.dtype = c10::ScalarType::Long;
        for (size_t i = 0; i < numbers; ++i)
          if (n->input(i)->type()->kind() != c10::TypeKind::IntType) out.dtype = c10::nullopt;
      }
      return out;
    }
    if (k == c10::aten::unsqueeze) {
      Info i = get(n->input(0));
      if (i.rank) i.rank = *i.rank + 1;
      return i;
    }
    if (k == c10::aten::select) {
      Info i = get(n->input(0));
      if (i.rank && *i.rank > 0) i.rank = *i.rank - 1;
      else i.rank.reset();
      return i;
    }
    if (k == c10::aten::view || k == c10::aten::reshape || k == c10::aten::expand)
      return makeInfo(get(n->input(0)).dtype, listLength(n->input(1)));
    if (k == c10::aten::cat || k == c10::aten::stack) {
      auto elems = listElements(n->input(0));
      if (!elems || elems->empty()) return Info{};
      Info first = get(elems->front());
      for (const jit::Value* e : *elems) first = merge(first, get(e));
      // ATen joins tensors of one rank: any element whose rank is known says it.
      if (!first.rank) {
        std::set<size_t> ranks;
        for (const jit::Value* e : *elems)
          if (auto r = get(e).rank) ranks.insert(*r);
        if (ranks.size() == 1) first.rank = *ranks.begin();
      }
      if (k == c10::aten::stack && first.rank) first.rank = *first.rank + 1;
      return first;
    }
    // The recurrent cells: the new state is like the input's rows.
    if (k == c10::aten::gru_cell || k == c10::aten::rnn_tanh_cell || k == c10::aten::rnn_relu_cell ||
        k == c10::aten::lstm_cell)
      return cellState(n);
    return Info{};
  }

  /// A packed sequence (nn.utils.rnn.pack_padded_sequence) through a
  /// recurrent module and back: its data is [sum(lengths), features] of the
  /// padded input's dtype, its batch_sizes and lengths are 1-d int64, so that
  /// the guards of nn.LSTM and pad_packed_sequence on them fold. True when
  /// `n` is one of those ops.
  bool packed(const jit::Node* n) {
    const std::string name = n->kind().toQualString();
    const Info batchSizes = makeInfo(c10::ScalarType::Long, 1);
    if (name == "aten::_pack_padded_sequence" && n->outputs().size() == 2) {
      Info x = get(n->input(0));
      set(n->output(0), makeInfo(x.dtype, 2, x.last));
      set(n->output(1), batchSizes);
      return true;
    }
    if (name == "aten::_pad_packed_sequence" && n->outputs().size() == 2) {
      Info data = get(n->input(0));
      set(n->output(0), makeInfo(data.dtype, 3, data.last));
      set(n->output(1), batchSizes);
      return true;
    }
    const bool recurrent =
        name == "aten::lstm" || name == "aten::gru" || name == "aten::rnn_tanh" || name == "aten::rnn_relu";
    const c10::FunctionSchema* schema = n->maybeSchema();
    if (!recurrent || !schema || schema->overload_name() != "data" || n->outputs().empty()) return false;
    // (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
    // bidirectional): the output is packed like its input, with w_hh's columns
    // (hidden or projected size) per direction as features; the final states
    // are like the initial ones.
    c10::optional<int64_t> features;
    auto params = constant(n->input(3));
    auto bidirectional = n->inputs().size() > 8 ? constant(n->input(8)) : c10::nullopt;
    if (params && params->isTensorList() && params->toTensorList().size() > 1 && bidirectional &&
        bidirectional->isBool()) {
      const at::Tensor wHh = params->toTensorList().get(1);
      if (wHh.dim() == 2) features = wHh.size(1) * (bidirectional->toBool() ? 2 : 1);
    }
    set(n->output(0), makeInfo(get(n->input(0)).dtype, 2, features));
    if (name == "aten::lstm") {
      const jit::Node* hx = n->input(2)->node();
      for (size_t k = 1; k < n->outputs().size(); ++k)
        set(n->output(k),
            hx->kind() == c10::prim::ListConstruct && k - 1 < hx->inputs().size() ? get(hx->input(k - 1)) : Info{});
    } else if (n->outputs().size() == 2) {
      set(n->output(1), get(n->input(2)));
    }
    return true;
  }

  void node(jit::Node* n) {
    switch (n->kind()) {
      case c10::prim::Loop: loop(n); return;
      case c10::prim::If: ifNode(n); return;
      default: break;
    }
    if (n->kind() == c10::prim::TupleConstruct) {
      Info t;
      for (const jit::Value* in : n->inputs()) t.elems.push_back(get(in));
      set(n->output(), t);
      return;
    }
    if (n->kind() == c10::prim::TupleUnpack) {
      Info t = get(n->input());
      for (size_t i = 0; i < n->outputs().size(); ++i) set(n->outputs()[i], i < t.elems.size() ? t.elems[i] : Info{});
      return;
    }
    if (n->kind() == c10::prim::TupleIndex) {
      Info t = get(n->input(0));
      auto i = constInt(n->input(1));
      set(n->output(), i && *i >= 0 && static_cast<size_t>(*i) < t.elems.size() ? t.elems[static_cast<size_t>(*i)] : Info{});
      return;
    }
    if (n->outputs().size() == 1 && !isTensor(n->output())) {
      setConst(n->output(), evaluate(n));
      return;
    }
    if (n->kind() == c10::aten::lstm_cell) {
      for (jit::Value* o : n->outputs()) set(o, cellState(n));
      return;
    }
    if (n->kind() == c10::prim::ListUnpack && (n->input()->node()->kind() == c10::aten::chunk ||
                                               n->input()->node()->kind() == c10::aten::split)) {
      // q, k, v = linear(...).chunk(3, -1): each piece has the tensor's dtype and rank.
      Info piece = get(n->input()->node()->input(0));
      piece.last.reset();
      for (jit::Value* o : n->outputs()) set(o, piece);
      return;
    }
    if ((n->kind() == c10::aten::topk || n->kind() == c10::aten::sort) && n->outputs().size() == 2) {
      // values, indices = x.topk(k): the input's rank; values of its dtype,
      // indices int64 (a beam search's next tokens and beams).
      Info x = get(n->input(0));
      x.last.reset();
      set(n->output(0), x);
      set(n->output(1), makeInfo(c10::ScalarType::Long, x.rank));
      return;
    }
    if (packed(n)) return;
    if (n->kind() == c10::prim::ConstantChunk) {
      for (jit::Value* o : n->outputs()) set(o, get(n->input(0)));
      return;
    }
    if (n->kind().toQualString() == std::string("aten::_native_multi_head_attention") && n->outputs().size() == 2) {
      set(n->output(0), rule(n));  // the weights (output 1) are empty unless asked for
      return;
    }
    if (n->outputs().size() != 1) return;
    Info mine = rule(n);
    Info theirs = fromType(n->output());
    // Keep what TorchScript knew; add what it did not.
    Info merged = makeInfo(theirs.dtype ? theirs.dtype : mine.dtype, theirs.rank ? theirs.rank : mine.rank,
                           theirs.last ? theirs.last : mine.last);
    // A last dim is a size of the rank it was worked out for.
    if (merged.rank != mine.rank && !theirs.last) merged.last.reset();
    set(n->output(), merged);
  }

  std::unordered_map<const jit::Value*, Info> info_;
  std::unordered_map<const jit::Value*, c10::IValue> consts_;
};

}  // namespace

bool refineTensorTypes(const std::shared_ptr<jit::Graph>& graph) {
  Refiner r;
  r.block(graph->block());
  return r.commit();
}

}  // namespace cocktail::frontend
