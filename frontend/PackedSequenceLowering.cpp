//===- frontend/PackedSequenceLowering.cpp - pack_padded_sequence and back ----------===//
//
// nn.utils.rnn.pack_padded_sequence(x, lengths) packs a padded batch into the
// valid steps of every row, ordered by time, with the count of rows still
// running at each step (batch_sizes); nn.LSTM/GRU/RNN run on that, and
// pad_packed_sequence pads the result back. Here a packed sequence stays the
// padded batch it came from (Slot::Kind::Packed): time-major [T, B, F], each
// row's length, and where the padding is. The recurrent modules run it as a
// padded recurrence whose rows keep their state past their length
// (frontend/RecurrentLowering.cpp), which is the packed recurrence row by
// row; pad_packed_sequence cuts the time dim to the longest row, as PyTorch's
// does. batch_sizes is computed for real, so the code that reads it (the
// longest length, `batch_sizes[0]`) reads PyTorch's numbers.
//
// `enforce_sorted=False` needs nothing here: PyTorch's Python sorts the batch
// before _pack_padded_sequence and permutes the results back.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

Type tensorT() { return Type::unknownTensor(); }
Type i64() { return Type::scalar(DType::I64); }
Type i1() { return Type::scalar(DType::I1); }

Attributes dimAttr(int64_t d) { return attrs({{"dim", d}}); }
Attributes sliceAttr(int64_t d) { return attrs({{"dim", d}, {"step", int64_t{1}}}); }

/// any(t) of a 1-d bool tensor, as an i1: a count, which every target has.
ir::Value* anyOf(ir::Builder& b, ir::Value* t) {
  ir::Value* count = b.create1(OpKind::Sum, {b.create1(OpKind::Cast, {t}, tensorT(), attrs({{"dtype", DType::I64}}))},
                               tensorT(), attrs({{"dims", std::vector<int64_t>{0}}, {"keepdim", false}}));
  return b.create1(OpKind::Gt, {b.create1(OpKind::ToScalar, {count}, i64()), b.constantInt(0)}, i1());
}

/// ATen's checks of _pack_padded_sequence (aten/src/ATen/native/PackedSequence.cpp),
/// in its order, plus one it leaves to an out-of-range copy: no row longer
/// than the padded input.
void checkLengths(ir::Builder& b, ir::Value* x, ir::Value* lengths, ir::Value* steps, ir::Value* batch) {
  emitRaiseIf(b, b.create1(OpKind::Eq, {b.create1(OpKind::Numel, {x}, i64()), b.constantInt(0)}, i1()),
              "pack_padded_sequence: Cannot pack empty tensors.");
  emitRaiseIf(b, b.create1(OpKind::Ne, {b.create1(OpKind::Rank, {lengths}, i64()), b.constantInt(1)}, i1()),
              "pack_padded_sequence: 'lengths' argument should be a 1D CPU int64 tensor");
  ir::Value* rows = b.create1(OpKind::Size, {lengths, b.constantInt(0)}, i64());
  emitRaiseIf(b, b.create1(OpKind::Ne, {rows, batch}, i1()),
              "pack_padded_sequence: Expected `len(lengths)` to be equal to batch_size");
  ir::Value* last = b.create1(OpKind::Select, {lengths, b.create1(OpKind::Sub, {rows, b.constantInt(1)}, i64())},
                              tensorT(), dimAttr(0));
  emitRaiseIf(b, b.create1(OpKind::ToScalar, {b.create1(OpKind::Le, {last, b.constantInt(0)}, tensorT())}, i1()),
              "pack_padded_sequence: Length of all samples has to be greater than 0, but found an element in "
              "'lengths' that is <= 0");
  ir::Value* later = b.create1(OpKind::Slice, {lengths, b.constantInt(1), rows}, tensorT(), sliceAttr(0));
  ir::Value* earlier =
      b.create1(OpKind::Slice, {lengths, b.constantInt(0), b.create1(OpKind::Sub, {rows, b.constantInt(1)}, i64())},
                tensorT(), sliceAttr(0));
  emitRaiseIf(b, anyOf(b, b.create1(OpKind::Gt, {later, earlier}, tensorT())),
              "pack_padded_sequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
              "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
              "this requirement if you do not need ONNX exportability.");
  emitRaiseIf(b, anyOf(b, b.create1(OpKind::Gt, {lengths, steps}, tensorT())),
              "pack_padded_sequence: a length is greater than the padded input's sequence length (its dim 0, or "
              "dim 1 with batch_first=True)");
}

/// _pack_padded_sequence(input, lengths, batch_first) -> (data, batch_sizes)
void lowerPackPadded(Lowering& L) {
  ir::Builder& b = L.b();
  const bool batchFirst = L.cbool(2, "batch_first flag");
  ir::Value* x = L.in(0);
  if (batchFirst) x = b.create1(OpKind::Transpose, {x}, tensorT(), attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  ir::Value* lengths = L.in(1);
  ir::Value* steps = b.create1(OpKind::Size, {x, b.constantInt(0)}, i64());
  ir::Value* batch = b.create1(OpKind::Size, {x, b.constantInt(1)}, i64());
  checkLengths(b, x, lengths, steps, batch);

  // valid[t, b] = t < lengths[b]
  ir::Value* time =
      b.create1(OpKind::Arange, {b.constantInt(0), steps, b.constantInt(1)}, tensorT(), attrs({{"dtype", DType::I64}}));
  ir::Value* column = b.create1(OpKind::Unsqueeze, {time}, tensorT(), dimAttr(1));
  ir::Value* row = b.create1(OpKind::Unsqueeze, {lengths}, tensorT(), dimAttr(0));
  ir::Value* valid = b.create1(OpKind::Lt, {column, row}, tensorT());
  ir::Value* padding =
      b.create1(OpKind::Unsqueeze, {b.create1(OpKind::Ge, {column, row}, tensorT())}, tensorT(), dimAttr(2));
  outPacked(L, PackedBatch{x, lengths, padding}, 0);

  // batch_sizes[t]: the rows still running at step t, for t below the longest length.
  ir::Value* running =
      b.create1(OpKind::Sum, {b.create1(OpKind::Cast, {valid}, tensorT(), attrs({{"dtype", DType::I64}}))}, tensorT(),
                attrs({{"dims", std::vector<int64_t>{1}}, {"keepdim", false}}));
  ir::Value* longest = b.create1(
      OpKind::ToScalar,
      {b.create1(OpKind::Amax, {lengths}, tensorT(), attrs({{"dims", std::vector<int64_t>{0}}, {"keepdim", false}}))},
      i64());
  L.out(b.create1(OpKind::Slice, {running, b.constantInt(0), longest}, tensorT(), sliceAttr(0)), 1);
}

/// True when `v` is `batch_sizes.size(0)`: pad_packed_sequence without a
/// total_length pads to the longest row.
bool isLongestLength(const jit::Value* v) {
  const jit::Node* n = v->node();
  if (n->kind() != c10::aten::size || n->inputs().size() != 2) return false;
  auto d = jit::toIValue(n->input(1));
  const jit::Node* pack = n->input(0)->node();
  return d && d->isInt() && d->toInt() == 0 &&
         pack->kind().toQualString() == std::string("aten::_pack_padded_sequence") && pack->outputs().size() == 2 &&
         n->input(0) == pack->output(1);
}

/// _pad_packed_sequence(data, batch_sizes, batch_first, padding_value, total_length) -> (padded, lengths)
void lowerPadPacked(Lowering& L) {
  std::optional<PackedBatch> p = packedBatchOf(L, 0);
  if (!p) throw NotLowered{"its data is not a packed sequence that pack_padded_sequence made"};
  ir::Builder& b = L.b();
  const bool batchFirst = L.cbool(2, "batch_first flag");
  const double paddingValue = L.cdouble(3, "padding_value");
  ir::Value* y = p->padded;  // zero past each row's length
  if (paddingValue != 0) y = b.create1(OpKind::MaskedFill, {y, p->padding, b.constantFloat(paddingValue)}, tensorT());
  ir::Value* total = L.in(4);
  if (isLongestLength(L.input(4))) {
    // max(lengths) <= T: the padding past it goes.
    y = b.create1(OpKind::Slice, {y, b.constantInt(0), total}, tensorT(), sliceAttr(0));
  } else {
    // total_length (PyTorch has checked it is at least the longest length) may
    // be past T: the first min(T, total_length) steps, then padding.
    ir::Value* steps = b.create1(OpKind::Size, {y, b.constantInt(0)}, i64());
    ir::Value* kept = b.create1(OpKind::Minimum, {total, steps}, i64());
    ir::Value* batch = b.create1(OpKind::Size, {y, b.constantInt(1)}, i64());
    ir::Value* features = b.create1(OpKind::Size, {y, b.constantInt(2)}, i64());
    ir::Value* filled = b.create1(OpKind::Full, {b.constantFloat(paddingValue), total, batch, features}, tensorT(),
                                  attrs({{"dtype", DType::F64}}));
    filled = b.create1(OpKind::CastLike, {filled, y}, tensorT());
    ir::Value* head = b.create1(OpKind::Slice, {y, b.constantInt(0), kept}, tensorT(), sliceAttr(0));
    y = b.create1(OpKind::SliceScatter, {filled, head, b.constantInt(0), kept}, tensorT(), sliceAttr(0));
  }
  if (batchFirst) y = b.create1(OpKind::Transpose, {y}, tensorT(), attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  L.out(y, 0);
  L.out(p->lengths, 1);
}

}  // namespace

std::optional<PackedBatch> packedBatchOf(Lowering& L, size_t i) {
  const Slot& s = L.slotOf(i);
  if (s.kind != Slot::Kind::Packed || s.elems.size() != 2) return std::nullopt;
  return PackedBatch{s.value, s.elems[0].value, s.elems[1].value};
}

void outPacked(Lowering& L, const PackedBatch& p, size_t i) {
  Slot s;
  s.kind = Slot::Kind::Packed;
  s.value = p.padded;
  s.elems = {Slot::of(p.lengths), Slot::of(p.padding)};
  L.outSlot(s, i);
}

void addPackedSequenceLowerings(std::unordered_map<std::string, LowerFn>& table) {
  table.emplace("aten::_pack_padded_sequence", lowerPackPadded);
  table.emplace("aten::_pad_packed_sequence", lowerPadPacked);
}

}  // namespace cocktail::frontend::lowering
