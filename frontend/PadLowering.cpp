//===- frontend/PadLowering.cpp - F.pad in every mode, as a gather --------------------===//
//
// aten::pad (constant, reflect, replicate, circular), constant_pad_nd and the
// reflection_pad / replication_pad ops. Each padded dim is one index_select
// of the input along that dim, with an index computed from the output
// position i in [-left, n + right):
//
//   constant    clamp(i, 0, n-1), then `value` where i is outside [0, n)
//               (negative pads crop: the same formula)
//   reflect     (n-1) - |(n-1) - |i||
//   replicate   clamp(i, 0, n-1)
//   circular    (i + n) mod n, as PyTorch (pads of at most n)
//
// so a pad is made of IR ops the scheduler already has, whatever the sizes.
// The pad list runs from the last dim backwards, PyTorch's order.
//
// aten::roll is the same gather with index (i - shift) mod n, per rolled dim
// (swin's cyclic shift of its windows).
//
//===----------------------------------------------------------------------===//
#include <optional>

#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

enum class PadMode { Constant, Reflect, Replicate, Circular };

Type tensorT() { return Type::unknownTensor(); }
Type i64() { return Type::scalar(DType::I64); }

/// One dim (negative: from the end) padded by (left, right).
ir::Value* padDim(Lowering& L, ir::Value* x, int64_t dim, int64_t left, int64_t right, PadMode mode,
                  double value) {
  ir::Builder& b = L.b();
  auto scalar = [&](OpKind k, ir::Value* a, ir::Value* c) { return b.create1(k, {a, c}, i64()); };
  auto tensor = [&](OpKind k, std::vector<ir::Value*> ops, Attributes a = {}) {
    return b.create1(k, std::move(ops), tensorT(), std::move(a));
  };
  // A static size (Specialize recorded the input's) gives static output sizes.
  std::optional<int64_t> known;
  const jit::Node* node = L.node();
  if (node->hasAttribute(inputSizesAttr())) {
    const std::vector<int64_t>& sizes = node->is(inputSizesAttr());
    int64_t at = static_cast<int64_t>(sizes.size()) + dim;
    if (at >= 0 && sizes[static_cast<size_t>(at)] >= 0) known = sizes[static_cast<size_t>(at)];
  }
  auto plus = [&](ir::Value* v, int64_t c) {
    return known ? b.constantInt(*known + c) : scalar(OpKind::Add, v, b.constantInt(c));
  };
  ir::Value* n = known ? b.constantInt(*known) : b.create1(OpKind::Size, {x}, i64(), attrs({{"dim", dim}}));
  ir::Value* last = plus(n, -1);
  ir::Value* end = plus(n, right);
  ir::Value* length = plus(n, left + right);
  ir::Value* i = tensor(OpKind::Arange, {b.constantInt(-left), end, b.constantInt(1)}, attrs({{"dtype", DType::I64}}));
  ir::Value* clamped = tensor(OpKind::Minimum, {tensor(OpKind::Maximum, {i, b.constantInt(0)}), last});
  ir::Value* index = clamped;
  if (mode == PadMode::Reflect) {
    ir::Value* fromEnd = tensor(OpKind::Abs, {tensor(OpKind::Sub, {last, tensor(OpKind::Abs, {i})})});
    index = tensor(OpKind::Sub, {last, fromEnd});
  } else if (mode == PadMode::Circular) {
    index = tensor(OpKind::Remainder, {tensor(OpKind::Add, {i, n}), n});
  }
  ir::Value* out = tensor(OpKind::IndexSelect, {x, index}, attrs({{"dim", dim}}));
  if (mode != PadMode::Constant) return out;
  // Outside the input: `value`. The mask along `dim`, broadcast over the dims after it.
  ir::Value* inside = tensor(OpKind::Eq, {i, clamped});
  std::vector<ir::Value*> shape = {inside, length};
  for (int64_t k = dim + 1; k < 0; ++k) shape.push_back(b.constantInt(1));
  ir::Value* mask = tensor(OpKind::Reshape, shape);
  ir::Value* outside = tensor(OpKind::Eq, {mask, b.constantInt(0)});
  return tensor(OpKind::MaskedFill, {out, outside, b.constantFloat(value)});
}

ir::Value* emitPad(Lowering& L, const std::vector<int64_t>& pads, PadMode mode, double value) {
  if (pads.size() % 2 != 0) L.t().fail(L.node(), fmt::format("the pad list must have an even length, got {}", pads.size()));
  ir::Value* x = L.in(0);
  for (size_t k = 0; k < pads.size() / 2; ++k) {
    int64_t left = pads[2 * k], right = pads[2 * k + 1];
    if (left == 0 && right == 0) continue;
    if (mode != PadMode::Constant && (left < 0 || right < 0))
      throw NotLowered{"negative padding is only supported in constant mode"};
    x = padDim(L, x, -static_cast<int64_t>(k) - 1, left, right, mode, value);
  }
  return x;
}

PadMode modeNamed(const std::string& name) {
  if (name == "constant") return PadMode::Constant;
  if (name == "reflect") return PadMode::Reflect;
  if (name == "replicate") return PadMode::Replicate;
  if (name == "circular") return PadMode::Circular;
  throw NotLowered{fmt::format("pad mode '{}' is not supported", name)};
}

/// pad(self, int[] pad, str mode="constant", float? value=None)
void lowerPad(Lowering& L) {
  PadMode mode = PadMode::Constant;
  if (L.numInputs() > 2) {
    const Slot& m = L.slotOf(2);
    if (m.kind != Slot::Kind::String) throw NotLowered{"its mode must be a constant string"};
    mode = modeNamed(m.str);
  }
  double value = L.numInputs() > 3 && !L.isNone(3) ? L.cdouble(3, "value") : 0.0;
  if (mode != PadMode::Constant && value != 0.0) throw NotLowered{"a value is only taken in constant mode"};
  L.out(emitPad(L, L.cints(1, "pad"), mode, value));
}

LowerFn padIn(PadMode mode) {
  return [mode](Lowering& L) {
    double value = mode == PadMode::Constant && L.numInputs() > 2 ? L.cdouble(2, "value") : 0.0;
    L.out(emitPad(L, L.cints(1, "pad"), mode, value));
  };
}

/// roll(self, int[] shifts, int[] dims=[]): each dim's index (i - shift) mod n.
void lowerRoll(Lowering& L) {
  std::vector<int64_t> shifts = L.cints(1, "shifts");
  std::vector<int64_t> dims = L.numInputs() > 2 ? L.cints(2, "dims") : std::vector<int64_t>{};
  if (dims.empty()) throw NotLowered{"a roll of the flattened tensor (no dims) is not supported"};
  if (shifts.size() != dims.size())
    L.t().fail(L.node(),
               fmt::format("shifts and dims must have the same length, got {} and {}", shifts.size(), dims.size()));
  const jit::Node* node = L.node();
  if (!node->hasAttribute(inputSizesAttr())) throw NotLowered{"its input's rank is not known from the input specs"};
  const std::vector<int64_t>& sizes = node->is(inputSizesAttr());
  const int64_t rank = static_cast<int64_t>(sizes.size());
  ir::Builder& b = L.b();
  ir::Value* x = L.in(0);
  for (size_t k = 0; k < dims.size(); ++k) {
    int64_t dim = dims[k] < 0 ? dims[k] + rank : dims[k];
    if (dim < 0 || dim >= rank) L.t().fail(node, fmt::format("dim {} is out of range for rank {}", dims[k], rank));
    int64_t known = sizes[static_cast<size_t>(dim)];
    if (known == 0 || (known > 0 && shifts[k] % known == 0)) continue;
    // A size the specs leave open is read at run time (the remainder has Python's sign).
    ir::Value* n = known > 0 ? b.constantInt(known) : b.create1(OpKind::Size, {x}, i64(), attrs({{"dim", dim}}));
    ir::Value* end =
        known > 0 ? b.constantInt(known - shifts[k]) : b.create1(OpKind::Sub, {n, b.constantInt(shifts[k])}, i64());
    ir::Value* i = b.create1(OpKind::Arange, {b.constantInt(-shifts[k]), end, b.constantInt(1)}, tensorT(),
                             attrs({{"dtype", DType::I64}}));
    ir::Value* index = b.create1(OpKind::Remainder, {i, n}, tensorT());
    x = b.create1(OpKind::IndexSelect, {x, index}, tensorT(), attrs({{"dim", dim}}));
  }
  L.out(x);
}

}  // namespace

void addPadLowerings(std::unordered_map<std::string, LowerFn>& table) {
  table.emplace("aten::pad", lowerPad);
  table.emplace("aten::constant_pad_nd", padIn(PadMode::Constant));
  for (const char* n : {"aten::reflection_pad1d", "aten::reflection_pad2d", "aten::reflection_pad3d"})
    table.emplace(n, padIn(PadMode::Reflect));
  for (const char* n : {"aten::replication_pad1d", "aten::replication_pad2d", "aten::replication_pad3d"})
    table.emplace(n, padIn(PadMode::Replicate));
  table.emplace("aten::roll", lowerRoll);
}

}  // namespace cocktail::frontend::lowering
