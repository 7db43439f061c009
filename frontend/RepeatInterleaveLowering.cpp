//===- frontend/RepeatInterleaveLowering.cpp - repeat_interleave by a count ----------===//
//
// x.repeat_interleave(r, dim) repeats each slice along `dim` r times in a
// row (WaveRNN's Stretch2d upsampling): a new axis of size r after `dim`,
// filled by repeat, then merged into `dim`:
//
//   flatten(repeat(unsqueeze(x, dim + 1), [1, .., r, .., 1]), dim, dim + 1)
//
// Without a dim the flattened tensor's elements are repeated. A tensor of
// counts (one per slice) gives a size that only the data decides; it is
// refused by name.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

/// repeat_interleave.self_int(Tensor self, int repeats, int? dim=None, *, int? output_size=None)
void lowerRepeatInterleave(Lowering& L) {
  if (L.overload() != "self_int")
    throw NotLowered{"repeats given as a tensor make the output's size depend on the data; give an int count"};
  const int64_t repeats = L.cint(1, "repeat count");
  if (repeats < 0) throw NotLowered{fmt::format("its repeat count is {}; it must be at least 0", repeats)};
  ir::Value* x = L.in(0);
  ir::Builder& b = L.b();
  const Type t = Type::unknownTensor();
  int64_t rank = 1, dim = 0;
  if (L.isNone(2)) {
    x = b.create1(OpKind::Flatten, {x}, t, attrs({{"start", int64_t{0}}, {"end", int64_t{-1}}}));
  } else {
    // The rank the specs fixed (frontend/Specialize.cpp records it before
    // the shapes are erased): repeat takes a count for every dim.
    const jit::Node* node = L.node();
    if (!node->hasAttribute(inputSizesAttr())) throw NotLowered{"its input's rank is not known from the input specs"};
    rank = static_cast<int64_t>(node->is(inputSizesAttr()).size());
    dim = L.cint(2, "dim");
    if (dim < -rank || dim >= rank)
      throw NotLowered{fmt::format("dim {} is out of range for a tensor of rank {}", dim, rank)};
    if (dim < 0) dim += rank;
  }
  std::vector<int64_t> counts(static_cast<size_t>(rank + 1), 1);
  counts[static_cast<size_t>(dim + 1)] = repeats;
  ir::Value* spread = b.create1(OpKind::Unsqueeze, {x}, t, attrs({{"dim", dim + 1}}));
  ir::Value* repeated = b.create1(OpKind::Repeat, {spread}, t, attrs({{"repeats", counts}}));
  L.out(L.emit(OpKind::Flatten, {repeated}, attrs({{"start", dim}, {"end", dim + 1}})));
}

}  // namespace

void addRepeatInterleaveLowerings(std::unordered_map<std::string, LowerFn>& table) {
  table.emplace("aten::repeat_interleave", lowerRepeatInterleave);
}

}  // namespace cocktail::frontend::lowering
