//===- frontend/GluLowering.cpp - F.glu as slices, sigmoid and a product ------------===//
//
// glu(x, dim) = a * sigmoid(b), a and b the halves of x along dim. An odd
// size raises as PyTorch does (halves of unequal sizes would otherwise
// broadcast into a wrong answer): at compile time where Specialize recorded
// the size, else by a check at run time.
//
//===----------------------------------------------------------------------===//
#include <optional>

#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

/// The static size of the input's dim `dim`, if Specialize recorded it.
std::optional<int64_t> knownSize(const Lowering& L, int64_t dim) {
  const jit::Node* node = L.node();
  if (!node->hasAttribute(inputSizesAttr())) return std::nullopt;
  const std::vector<int64_t>& sizes = node->is(inputSizesAttr());
  const int64_t rank = static_cast<int64_t>(sizes.size());
  const int64_t at = dim < 0 ? dim + rank : dim;
  if (at < 0 || at >= rank || sizes[static_cast<size_t>(at)] < 0) return std::nullopt;
  return sizes[static_cast<size_t>(at)];
}

}  // namespace

void lowerGlu(Lowering& L) {
  const int64_t dim = L.numInputs() > 1 ? L.cint(1, "dim") : -1;
  const std::string oddMessage = fmt::format("glu: halving dimension {} must have an even size", dim);
  ir::Builder& b = L.b();
  const Type i64 = Type::scalar(DType::I64), t = Type::unknownTensor();
  ir::Value* x = L.in(0);
  const std::optional<int64_t> known = knownSize(L, dim);
  if (known && *known % 2 != 0) L.t().fail(L.node(), fmt::format("{}, got {}", oddMessage, *known));
  ir::Value* size = known ? b.constantInt(*known) : b.create1(OpKind::Size, {x}, i64, attrs({{"dim", dim}}));
  if (!known) {
    ir::Value* remainder = b.create1(OpKind::Remainder, {size, b.constantInt(2)}, i64);
    ir::Value* odd = b.create1(OpKind::Ne, {remainder, b.constantInt(0)}, Type::scalar(DType::I1));
    emitRaiseIf(b, odd, oddMessage);
  }
  ir::Value* half = known ? b.constantInt(*known / 2) : b.create1(OpKind::FloorDiv, {size, b.constantInt(2)}, i64);
  Attributes along = attrs({{"dim", dim}, {"step", int64_t{1}}});
  ir::Value* first = L.emitTyped(OpKind::Slice, {x, b.constantInt(0), half}, t, along);
  ir::Value* second = L.emitTyped(OpKind::Slice, {x, half, size}, t, along);
  L.out(L.emit(OpKind::Mul, {first, L.emitTyped(OpKind::Sigmoid, {second}, t)}));
}

}  // namespace cocktail::frontend::lowering
