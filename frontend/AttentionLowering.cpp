//===- frontend/AttentionLowering.cpp - The transformer fast paths as IR ops ----------===//
//
// In eval mode without autograd (what a compiled model is: docs/frontend.md),
// PyTorch 1.13's nn.MultiheadAttention and nn.TransformerEncoderLayer call
// fused ops, and nn.TransformerEncoder turns a padded batch into a nested
// tensor first. Each becomes the IR ops of its formula (ATen's
// native/transformers/attention.cpp and transformer.cpp), so the scheduler
// sees linear layers, matmuls and softmaxes, never an opaque call:
//
//   aten::_native_multi_head_attention   projections, per-head scaled scores,
//                                        the key padding mask, softmax, output projection
//   aten::_transformer_encoder_layer_fwd attention and feed-forward blocks with their
//                                        residuals and layer norms (norm_first or not)
//   aten::_nested_tensor_from_mask       see below
//   aten::to_padded_tensor
//
// A nested tensor here is the padded batch it was made from plus its mask of
// valid positions (Slot::Kind::Nested). The fused layer on a nested tensor
// attends within each sequence: on the padded batch that is the same layer
// with the padding as key padding mask, at every valid position (attention
// rows are independent, and the feed-forward block and layer norms work per
// position). The padding is garbage until to_padded_tensor, which, as
// PyTorch's, cuts the batch to the longest sequence and fills the rest.
// Specialize.cpp has already made the encoder check that masks are
// left-aligned, the case in which that is PyTorch's result.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <limits>

#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

Type tensorT() { return Type::unknownTensor(); }
Type i64() { return Type::scalar(DType::I64); }

class Emitter {
 public:
  explicit Emitter(ir::Builder& b) : b_(b) {}

  ir::Value* op(OpKind k, std::vector<ir::Value*> ops, Attributes a = {}) {
    return b_.create1(k, std::move(ops), tensorT(), std::move(a));
  }
  ir::Value* linear(ir::Value* x, ir::Value* w, ir::Value* bias) {
    std::vector<ir::Value*> ops = {x, w};
    if (bias) ops.push_back(bias);
    return op(OpKind::Linear, ops);
  }
  ir::Value* size(ir::Value* x, int64_t dim) {
    return b_.create1(OpKind::Size, {x}, i64(), attrs({{"dim", dim}}));
  }
  ir::Value* unsqueeze(ir::Value* x, int64_t dim) { return op(OpKind::Unsqueeze, {x}, attrs({{"dim", dim}})); }
  ir::Value* permute(ir::Value* x, std::vector<int64_t> dims) {
    return op(OpKind::Permute, {x}, attrs({{"dims", std::move(dims)}}));
  }
  std::vector<ir::Value*> chunk(ir::Value* x, int64_t n, int64_t dim) {
    ir::Op* c = b_.create(OpKind::Chunk, {x}, std::vector<Type>(static_cast<size_t>(n), tensorT()),
                          attrs({{"chunks", n}, {"dim", dim}}));
    std::vector<ir::Value*> out;
    for (size_t i = 0; i < c->numResults(); ++i) out.push_back(c->result(i));
    return out;
  }
  ir::Value* logicalNot(ir::Value* mask) { return op(OpKind::Eq, {mask, b_.constantInt(0)}); }
  ir::Value* layerNorm(ir::Value* x, ir::Value* w, ir::Value* bias, int64_t features, double eps) {
    return op(OpKind::LayerNorm, {x, w, bias}, attrs({{"shape", std::vector<int64_t>{features}}, {"eps", eps}}));
  }
  ir::Builder& b() { return b_; }

 private:
  ir::Builder& b_;
};

/// The weights of one attention block: in_proj ([3E, E] and [3E]) and out_proj.
struct AttentionWeights {
  ir::Value* qkvWeight = nullptr;
  ir::Value* qkvBias = nullptr;
  ir::Value* projWeight = nullptr;
  ir::Value* projBias = nullptr;
  int64_t embedDim = 0;
  int64_t heads = 0;
};

struct AttentionResult {
  ir::Value* output = nullptr;   // [B, T, E]
  ir::Value* weights = nullptr;  // [B, H, T, S], the softmax
};

/// Batch-first attention of q [B,T,E] over k, v [B,S,E]; `keyPadding`
/// ([B,S] bool, true = padding) may be null. ATen's native_multi_head_attention:
/// q scaled by 1/sqrt(head_dim) before q·kᵀ, masked keys -inf before softmax
/// (a row whose keys are all padding is NaN, as PyTorch's).
AttentionResult attention(Emitter& e, ir::Value* query, ir::Value* key, ir::Value* value, const AttentionWeights& w,
                          ir::Value* keyPadding) {
  ir::Builder& b = e.b();
  std::vector<ir::Value*> qkv;
  if (query == key && key == value) {
    qkv = e.chunk(e.linear(query, w.qkvWeight, w.qkvBias), 3, 2);
  } else {
    auto ws = e.chunk(w.qkvWeight, 3, 0);
    std::vector<ir::Value*> bs = w.qkvBias ? e.chunk(w.qkvBias, 3, 0) : std::vector<ir::Value*>(3, nullptr);
    qkv = {e.linear(query, ws[0], bs[0]), e.linear(key, ws[1], bs[1]), e.linear(value, ws[2], bs[2])};
  }
  int64_t headDim = w.embedDim / w.heads;
  // [B, L, E] -> [B, H, L, D]
  auto heads = [&](ir::Value* x) {
    ir::Value* split = e.op(OpKind::Reshape, {x, e.size(x, 0), e.size(x, 1), b.constantInt(w.heads), b.constantInt(headDim)});
    return e.permute(split, {0, 2, 1, 3});
  };
  ir::Value* q = e.op(OpKind::Mul, {heads(qkv[0]), b.constantFloat(1.0 / std::sqrt(static_cast<double>(headDim)))});
  ir::Value* k = heads(qkv[1]);
  ir::Value* v = heads(qkv[2]);
  ir::Value* scores = e.op(OpKind::Matmul, {q, e.op(OpKind::Transpose, {k}, attrs({{"dim0", int64_t{2}}, {"dim1", int64_t{3}}}))});
  if (keyPadding) {
    ir::Value* m = e.unsqueeze(e.unsqueeze(keyPadding, 1), 1);  // [B, 1, 1, S]
    scores = e.op(OpKind::MaskedFill, {scores, m, b.constantFloat(-std::numeric_limits<double>::infinity())});
  }
  ir::Value* p = e.op(OpKind::Softmax, {scores}, attrs({{"dim", int64_t{3}}}));
  ir::Value* o = e.permute(e.op(OpKind::Matmul, {p, v}), {0, 2, 1, 3});  // [B, T, H, D]
  o = e.op(OpKind::Reshape, {o, e.size(o, 0), e.size(o, 1), b.constantInt(w.embedDim)});
  return {e.linear(o, w.projWeight, w.projBias), p};
}

ir::Value* optionalTensor(Lowering& L, size_t i) { return L.isNone(i) ? nullptr : L.in(i); }

/// The key padding mask of a fused op: `mask` with mask_type 1 ([B,S] bool).
/// An attention mask (type 0) never reaches the 1.13 fast paths (they
/// require attn_mask / src_mask to be None).
ir::Value* keyPaddingMask(Lowering& L, size_t maskIndex, size_t typeIndex) {
  if (L.numInputs() <= maskIndex || L.isNone(maskIndex)) return nullptr;
  if (L.numInputs() <= typeIndex || L.isNone(typeIndex) || L.cint(typeIndex, "mask_type") != 1)
    throw NotLowered{"only a key padding mask (mask_type 1) is supported"};
  const jit::Node* n = L.node();
  if (!n->hasAttribute(maskDTypeAttr()) || n->i(maskDTypeAttr()) != static_cast<int64_t>(c10::ScalarType::Bool))
    throw NotLowered{"only a key padding mask whose dtype is bool after specialising is supported"};
  return L.in(maskIndex);
}

/// _native_multi_head_attention(query, key, value, embed_dim, num_head,
///   qkv_weight, qkv_bias, proj_weight, proj_bias, mask, need_weights,
///   average_attn_weights, mask_type) -> (output, weights)
void lowerNativeMultiHeadAttention(Lowering& L) {
  AttentionWeights w;
  w.embedDim = L.cint(3, "embed_dim");
  w.heads = L.cint(4, "num_head");
  if (w.heads <= 0 || w.embedDim % w.heads != 0) throw NotLowered{"embed_dim must be a multiple of num_heads"};
  bool needWeights = L.numInputs() > 10 && L.cbool(10, "need_weights");
  bool average = L.numInputs() <= 11 || L.cbool(11, "average_attn_weights");
  for (size_t i = 0; i < 3; ++i)
    if (L.slotOf(i).kind == Slot::Kind::Nested) throw NotLowered{"nested query, key or value tensors are not supported"};
  ir::Value* mask = keyPaddingMask(L, 9, 12);
  w.qkvWeight = L.in(5);
  w.qkvBias = optionalTensor(L, 6);
  w.projWeight = L.in(7);
  w.projBias = optionalTensor(L, 8);
  Emitter e(L.b());
  AttentionResult r = attention(e, L.in(0), L.in(1), L.in(2), w, mask);
  L.out(r.output, 0);
  if (needWeights) {
    ir::Value* weights = average ? e.op(OpKind::Mean, {r.weights}, attrs({{"dims", std::vector<int64_t>{1}}, {"keepdim", false}}))
                                 : r.weights;
    L.out(weights, 1);
  } else {
    L.outSlot(Slot::none(), 1);  // ATen returns an undefined tensor
  }
}

/// _transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight,
///   qkv_bias, proj_weight, proj_bias, use_gelu, norm_first, eps, norm_weight_1,
///   norm_bias_1, norm_weight_2, norm_bias_2, ffn_weight_1, ffn_bias_1,
///   ffn_weight_2, ffn_bias_2, mask, mask_type)
void lowerTransformerEncoderLayer(Lowering& L) {
  AttentionWeights w;
  w.embedDim = L.cint(1, "embed_dim");
  w.heads = L.cint(2, "num_heads");
  if (w.heads <= 0 || w.embedDim % w.heads != 0) throw NotLowered{"embed_dim must be a multiple of num_heads"};
  bool gelu = L.cbool(7, "use_gelu");
  bool normFirst = L.cbool(8, "norm_first");
  double eps = L.cdouble(9, "eps");
  const Slot& src = L.slotOf(0);
  bool nested = src.kind == Slot::Kind::Nested;
  ir::Value* x = nested ? src.value : L.in(0);
  ir::Value* padding = nullptr;
  Emitter e(L.b());
  if (nested) {
    if (L.numInputs() > 18 && !L.isNone(18)) throw NotLowered{"a mask with a nested input is not supported"};
    padding = e.logicalNot(src.elems.at(0).value);
  } else {
    padding = keyPaddingMask(L, 18, 19);
  }
  w.qkvWeight = L.in(3);
  w.qkvBias = optionalTensor(L, 4);
  w.projWeight = L.in(5);
  w.projBias = optionalTensor(L, 6);
  auto norm = [&](ir::Value* v, size_t weight) { return e.layerNorm(v, L.in(weight), L.in(weight + 1), w.embedDim, eps); };
  auto selfAttention = [&](ir::Value* v) { return attention(e, v, v, v, w, padding).output; };
  auto feedForward = [&](ir::Value* v) {
    ir::Value* h = e.linear(v, L.in(14), optionalTensor(L, 15));
    h = e.op(gelu ? OpKind::Gelu : OpKind::Relu, {h});
    return e.linear(h, L.in(16), optionalTensor(L, 17));
  };
  if (normFirst) {
    x = e.op(OpKind::Add, {x, selfAttention(norm(x, 10))});
    x = e.op(OpKind::Add, {x, feedForward(norm(x, 12))});
  } else {
    x = norm(e.op(OpKind::Add, {x, selfAttention(x)}), 10);
    x = norm(e.op(OpKind::Add, {x, feedForward(x)}), 12);
  }
  if (nested) {
    Slot out = src;
    out.value = x;
    return L.outSlot(out);
  }
  L.out(x);
}

/// _nested_tensor_from_mask_left_aligned(src, valid): no row of `valid`
/// has a valid position after a padded one.
void lowerLeftAligned(Lowering& L) {
  Emitter e(L.b());
  ir::Builder& b = L.b();
  ir::Value* valid = L.in(1);
  ir::Value* length = e.size(valid, 1);
  ir::Value* before = b.create1(OpKind::Sub, {length, b.constantInt(1)}, i64());
  auto columns = [&](ir::Value* start, ir::Value* end) {
    return e.op(OpKind::Slice, {valid, start, end}, attrs({{"dim", int64_t{1}}, {"step", int64_t{1}}}));
  };
  ir::Value* later = columns(b.constantInt(1), length);
  ir::Value* earlier = columns(b.constantInt(0), before);
  ir::Value* gap = e.op(OpKind::And, {later, e.logicalNot(earlier)});
  ir::Value* any = e.op(OpKind::Any, {gap}, attrs({{"keepdim", false}}));
  ir::Value* none = b.create1(OpKind::Not, {b.create1(OpKind::ToScalar, {any}, Type::scalar(DType::I1))},
                              Type::scalar(DType::I1));
  L.out(none);
}

/// _nested_tensor_from_mask(src, valid, mask_check): the padded batch and its mask.
void lowerNestedFromMask(Lowering& L) {
  Slot s;
  s.kind = Slot::Kind::Nested;
  s.value = L.in(0);
  s.elems = {Slot::of(L.in(1))};
  L.outSlot(s);
}

/// to_padded_tensor(nested, padding, output_size=None): [B, longest, ...],
/// `padding` where a sequence has ended.
void lowerToPaddedTensor(Lowering& L) {
  const Slot& s = L.slotOf(0);
  if (s.kind != Slot::Kind::Nested) throw NotLowered{"its input is not a nested tensor the compiler made"};
  if (L.numInputs() > 2 && !L.isNone(2)) throw NotLowered{"an output_size is not supported"};
  Emitter e(L.b());
  ir::Builder& b = L.b();
  ir::Value* valid = s.elems.at(0).value;  // [B, T]
  ir::Value* filled = e.op(OpKind::MaskedFill, {s.value, e.unsqueeze(e.logicalNot(valid), 2), b.constantFloat(L.cdouble(1, "padding"))});
  ir::Value* counts = e.op(OpKind::Cast, {valid}, attrs({{"dtype", DType::I64}}));
  ir::Value* lengths = e.op(OpKind::Sum, {counts}, attrs({{"dims", std::vector<int64_t>{1}}, {"keepdim", false}}));
  ir::Value* longest = e.op(OpKind::Amax, {lengths}, attrs({{"dims", std::vector<int64_t>{0}}, {"keepdim", false}}));
  ir::Value* end = b.create1(OpKind::ToScalar, {longest}, i64());
  L.out(e.op(OpKind::Slice, {filled, b.constantInt(0), end}, attrs({{"dim", int64_t{1}}, {"step", int64_t{1}}})));
}

void lowerIsNested(Lowering& L) { L.out(L.b().constantBool(L.slotOf(0).kind == Slot::Kind::Nested)); }

}  // namespace

void addAttentionLowerings(std::unordered_map<std::string, LowerFn>& table) {
  table.emplace("aten::_native_multi_head_attention", lowerNativeMultiHeadAttention);
  table.emplace("aten::_transformer_encoder_layer_fwd", lowerTransformerEncoderLayer);
  table.emplace("aten::_nested_tensor_from_mask_left_aligned", lowerLeftAligned);
  table.emplace("aten::_nested_tensor_from_mask", lowerNestedFromMask);
  table.emplace("aten::to_padded_tensor", lowerToPaddedTensor);
  table.emplace("prim::is_nested", lowerIsNested);
}

}  // namespace cocktail::frontend::lowering
