//===- frontend/UnfoldLowering.cpp - Tensor.unfold as a gather ------------------------===//
//
// x.unfold(dim, size, step) is every window of `size` elements along `dim`,
// `step` apart: `dim` becomes the window count n = (L - size) / step + 1 and a
// last dim of `size` is added (Tacotron2 regroups its alignments with it).
// ATen returns a strided view; the IR has no general strided view, so the
// windows are gathered with one index tensor of shape [n, size]:
//
//   starts  = arange(0, n) * step                      i64[n]
//   windows = unsqueeze(starts, 1) + arange(0, size)   i64[n, size]
//   out     = permute(index(x, windows at dim), the size dim moved last)
//
// A copy, not a view: writing into the result does not write into x (the
// translator refuses writes through views it cannot recompute).
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "frontend/Specialize.h"

namespace cocktail::frontend::lowering {

namespace {

/// aten::unfold(Tensor(a) self, int dimension, int size, int step)
void lowerUnfold(Lowering& L) {
  const jit::Node* node = L.node();
  if (!node->hasAttribute(inputSizesAttr())) throw NotLowered{"its input's rank is not known from the input specs"};
  const auto rank = static_cast<int64_t>(node->is(inputSizesAttr()).size());
  int64_t dim = L.cint(1, "dimension");
  const int64_t size = L.cint(2, "size");
  const int64_t step = L.cint(3, "step");
  // ATen's checks, made at compile time where ATen makes them at run time.
  if (rank == 0) throw NotLowered{"unfold of a 0-d tensor is not supported"};
  if (dim < -rank || dim >= rank) throw NotLowered{fmt::format("dim {} is out of range for a tensor of rank {}", dim, rank)};
  if (dim < 0) dim += rank;
  if (size < 0) throw NotLowered{fmt::format("its size is {}; it must be at least 0", size)};
  if (step <= 0) throw NotLowered{fmt::format("its step is {}; it must be positive", step)};

  ir::Builder& b = L.b();
  ir::Value* x = L.in(0);
  const Type i64 = Type::scalar(DType::I64), t = Type::unknownTensor();
  ir::Value* length = b.create1(OpKind::Size, {x, b.constantInt(dim)}, i64);
  // ATen: "maximum size for tensor at dimension d is L but size is s".
  ir::Value* tooLong = b.create1(OpKind::Gt, {b.constantInt(size), length}, Type::scalar(DType::I1));
  emitRaiseIf(b, tooLong, fmt::format("unfold: the window size {} is larger than the size of dim {}", size, dim));
  ir::Value* count =
      b.create1(OpKind::Add, {b.create1(OpKind::FloorDiv, {b.create1(OpKind::Sub, {length, b.constantInt(size)}, i64),
                                                           b.constantInt(step)}, i64),
                              b.constantInt(1)},
                i64);
  auto arange = [&](ir::Value* end) {
    return b.create1(OpKind::Arange, {b.constantInt(0), end, b.constantInt(1)}, t, attrs({{"dtype", DType::I64}}));
  };
  ir::Value* starts = b.create1(OpKind::Mul, {arange(count), b.constantInt(step)}, t);
  ir::Value* windows = b.create1(
      OpKind::Add, {b.create1(OpKind::Unsqueeze, {starts}, t, attrs({{"dim", int64_t{1}}})), arange(b.constantInt(size))},
      t);
  ir::Value* gathered = b.create1(OpKind::Index, {x, windows}, t, attrs({{"dims", std::vector<int64_t>{dim}}}));
  // gathered: [..., n, size, ...] with n at dim; the window dim goes last.
  std::vector<int64_t> perm;
  for (int64_t d = 0; d <= rank; ++d)
    if (d != dim + 1) perm.push_back(d);
  perm.push_back(dim + 1);
  L.out(L.emit(OpKind::Permute, {gathered}, attrs({{"dims", perm}})));
}

}  // namespace

void addUnfoldLowerings(std::unordered_map<std::string, LowerFn>& table) { table.emplace("aten::unfold", lowerUnfold); }

}  // namespace cocktail::frontend::lowering
