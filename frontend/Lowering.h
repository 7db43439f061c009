//===- frontend/Lowering.h - The state of lowering one TorchScript node -------------===//
//
// Shared by the lowering files of the frontend (AtenLowering.cpp: the op
// table; ViewLowering.cpp: views and writes through them). Not installed:
// it includes LibTorch through GraphTranslator.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "frontend/GraphTranslator.h"

namespace cocktail::frontend::lowering {

using ir::Attributes;
using ir::DType;
using ir::OpKind;
using ir::Type;

struct NotLowered {
  std::string reason;
};

/// The state of lowering one node, with the helpers every lowering needs.
class Lowering {
 public:
  Lowering(GraphTranslator& t, jit::Node* n) : t_(t), n_(n), b_(t.builder()) {}

  jit::Node* node() const { return n_; }
  size_t numInputs() const { return n_->inputs().size(); }
  const jit::Value* input(size_t i) const { return n_->input(i); }
  std::string overload() const {
    const c10::FunctionSchema* s = n_->maybeSchema();
    return s ? s->overload_name() : "";
  }

  ir::Value* in(size_t i) { return t_.value(n_->input(i)); }
  bool isNone(size_t i) const { return t_.isNone(n_->input(i)); }
  bool isTensor(size_t i) const { return n_->input(i)->type()->kind() == c10::TypeKind::TensorType; }
  const Slot& slotOf(size_t i) { return t_.slot(n_->input(i)); }

  int64_t cint(size_t i, const char* what) const {
    auto v = t_.constInt(n_->input(i));
    if (!v) throw NotLowered{fmt::format("its {} must be a constant int", what)};
    return *v;
  }
  double cdouble(size_t i, const char* what) const {
    auto v = t_.constDouble(n_->input(i));
    if (!v) throw NotLowered{fmt::format("its {} must be a constant number", what)};
    return *v;
  }
  bool cbool(size_t i, const char* what) const {
    auto v = t_.constBool(n_->input(i));
    if (!v) throw NotLowered{fmt::format("its {} must be a constant bool", what)};
    return *v;
  }
  std::vector<int64_t> cints(size_t i, const char* what) const {
    auto v = t_.constIntList(n_->input(i));
    if (!v) throw NotLowered{fmt::format("its {} must be a constant list of ints", what)};
    return *v;
  }
  std::optional<DType> cdtype(size_t i) const {
    if (isNone(i)) return std::nullopt;
    auto st = t_.constInt(n_->input(i));
    if (!st) throw NotLowered{"its dtype must be a constant"};
    auto d = dtypeOf(static_cast<c10::ScalarType>(*st));
    if (!d) throw NotLowered{fmt::format("dtype {} is not supported", c10::toString(static_cast<c10::ScalarType>(*st)))};
    return d;
  }
  /// The values of an int[] (or Tensor[]) input built by ListConstruct.
  std::vector<ir::Value*> listValues(size_t i) {
    const Slot& s = slotOf(i);
    if (s.kind != Slot::Kind::List) throw NotLowered{"its list argument is not a list the compiler can see"};
    std::vector<ir::Value*> out;
    const jit::Node* producer = n_->input(i)->node();
    // (Not when appends grew the list past what its ListConstruct made.)
    bool fromConstruct = producer->kind() == c10::prim::ListConstruct && producer->inputs().size() == s.elems.size();
    for (size_t k = 0; k < s.elems.size(); ++k) {
      if (s.elems[k].kind != Slot::Kind::Value) throw NotLowered{"its list holds a None or a nested list"};
      // Re-read each element: it may be a view written since the list was made.
      out.push_back(fromConstruct ? t_.value(producer->input(k)) : s.elems[k].value);
    }
    return out;
  }

  Type outType(size_t i = 0) const { return t_.irType(n_->output(i)->type(), n_); }

  ir::Value* emit(OpKind k, std::vector<ir::Value*> operands, Attributes a = {}) {
    return b_.create1(k, std::move(operands), outType(), std::move(a));
  }
  ir::Value* emitTyped(OpKind k, std::vector<ir::Value*> operands, Type type, Attributes a = {}) {
    return b_.create1(k, std::move(operands), std::move(type), std::move(a));
  }

  /// Binds the node's output i; in in-place mode, captures it instead.
  void out(ir::Value* v, size_t i = 0) {
    if (capture_) {
      *capture_ = v;
      return;
    }
    const jit::Value* o = n_->output(i);
    if (o->hasDebugName() && v->name().empty()) v->setName(o->debugName());
    t_.bind(o, v);
  }
  void outSlot(Slot s, size_t i = 0) { t_.bind(n_->output(i), std::move(s)); }
  void captureInto(ir::Value** where) { capture_ = where; }

  ir::Builder& b() { return b_; }
  GraphTranslator& t() { return t_; }

 private:
  GraphTranslator& t_;
  jit::Node* n_;
  ir::Builder& b_;
  ir::Value** capture_ = nullptr;
};

inline Attributes attrs(std::initializer_list<std::pair<const char*, ir::AttrValue>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

using LowerFn = std::function<void(Lowering&)>;

// ---- views and writes (ViewLowering.cpp) ------------------------------------------------

/// The view a node (select, slice, view, transpose, ...) takes of `base`.
ir::Value* emitView(Lowering& L, ir::Value* base);
void lowerView(Lowering& L);
/// `base` with `src` written through the node's view: the functional write.
ir::Value* emitScatter(Lowering& L, ir::Value* base, ir::Value* src);
void lowerCopy(Lowering& L);
/// index_put(self, indices, values, accumulate), functional or in place.
ir::Value* emitIndexPut(Lowering& L);
void lowerIndexPutInPlace(Lowering& L);
void lowerFill(Lowering& L, bool zero);
void lowerIndex(Lowering& L);

// ---- lists, tuples and sizes the compiler sees (ContainerLowering.cpp) --------------------

/// ListConstruct/TupleConstruct, unpacking, indexing, len, size, chunk, split, unbind, cat/stack.
void addContainerLowerings(std::unordered_map<std::string, LowerFn>& table);
/// xs + ys on two lists the compiler sees; false when the node is not.
bool lowerListConcat(Lowering& L);
/// Two int lists compared element by element (==, or != with negate); false when the node is not.
bool lowerListComparison(Lowering& L, bool negate);

// ---- numbers, dtypes, strings, raises (ScalarLowering.cpp) -----------------------------------

/// int()/float()/item(), tensor(), x.dtype, format, raise, range arithmetic, `is None`.
void addScalarLowerings(std::unordered_map<std::string, LowerFn>& table);

/// A run-time check: `if cond: raise message`, at the builder's location (the
/// checks ATen makes when it runs, where the compiler cannot decide them).
void emitRaiseIf(ir::Builder& b, ir::Value* cond, const std::string& message);

// ---- lists that control flow appends to (ListLowering.cpp) -------------------------------

void lowerAppend(Lowering& L);
/// stack/cat, len() and list[i] of a list held as rows; false for other lists.
bool lowerRowsStackOrCat(Lowering& L, OpKind k);
bool lowerRowsLen(Lowering& L);
bool lowerRowsGetItem(Lowering& L);

// ---- recurrent modules (RecurrentLowering.cpp) ------------------------------------------

/// aten::lstm/gru/rnn_tanh/rnn_relu and their cells, as IR loops over time.
void addRecurrentLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- packed sequences (PackedSequenceLowering.cpp) -------------------------------------

/// A packed sequence as the compiler holds it (Slot::Kind::Packed): the padded
/// batch it was packed from, time-major [T, B, F] (zero past each row's length
/// once a recurrent module made it), each row's length [B] (i64), and where
/// the padding is, [T, B, 1] (i1).
struct PackedBatch {
  ir::Value* padded = nullptr;
  ir::Value* lengths = nullptr;
  ir::Value* padding = nullptr;
};
/// The packed sequence input i is; nullopt when it is not one.
std::optional<PackedBatch> packedBatchOf(Lowering& L, size_t i);
/// Binds output i to a packed sequence.
void outPacked(Lowering& L, const PackedBatch& p, size_t i);
/// aten::_pack_padded_sequence and aten::_pad_packed_sequence.
void addPackedSequenceLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- sorting (SortLowering.cpp) ----------------------------------------------------------

/// aten::sort, by counting each element's place (for short rows).
void addSortLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- transformers (AttentionLowering.cpp) -------------------------------------------------

/// The fused fast paths of nn.MultiheadAttention and nn.TransformerEncoder(Layer)
/// and the nested tensor the encoder makes, as IR ops.
void addAttentionLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- padding (PadLowering.cpp) -------------------------------------------------------------

/// aten::pad in every mode, constant_pad_nd, reflection_pad*, replication_pad*, roll.
void addPadLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- layers of the model zoos (ConvTransposeLowering.cpp, PoolLowering.cpp, ...) ---------

/// conv_transpose1d (spatialDims 1) and conv_transpose2d.
void lowerConvTranspose(Lowering& L, size_t spatialDims);
void lowerAdaptiveMaxPool2d(Lowering& L);
/// glu(x, dim) (GluLowering.cpp).
void lowerGlu(Lowering& L);
/// einsum(equation, tensors) as permutes, reshapes and a batched matmul (EinsumLowering.cpp).
void lowerEinsum(Lowering& L);
// ---- upsampling (UpsampleLowering.cpp) ---------------------------------------------------

/// upsample_nearest*, _upsample_nearest_exact*, upsample_linear1d/bilinear2d/trilinear3d.
void addUpsampleLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- vector norms (NormLowering.cpp) ------------------------------------------------------

/// aten::norm for p = 2, 1, inf, -inf, 0 and others, over some dims or all.
void addNormLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- repeat_interleave (RepeatInterleaveLowering.cpp) -------------------------------------

/// repeat_interleave by an int count, along a dim or over the flattened tensor.
void addRepeatInterleaveLowerings(std::unordered_map<std::string, LowerFn>& table);

// ---- unfold (UnfoldLowering.cpp) ----------------------------------------------------------

/// Tensor.unfold(dim, size, step): the windows gathered into a new last dim.
void addUnfoldLowerings(std::unordered_map<std::string, LowerFn>& table);

}  // namespace cocktail::frontend::lowering
