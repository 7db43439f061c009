//===- codegen/CudaGatherOps.cpp - index, index_select, gather -----------------===//
//
// The gathers a model that reads rows by an index tensor needs (a tree's
// node states, `h[idx]`, `torch.index_select`, `torch.gather`): a thread
// per output element reads its index, wraps a negative one where ATen does
// (`index`; index_select and gather refuse it), and checks it against the
// dim's size (DeviceChecks.cpp: an index out of range
// fails the run with the CPU executor's message). Index tensors are i64 or
// i32 of any strides (an expanded index is a view); boolean masks, whose
// result shape depends on the data, are refused.
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"

namespace cocktail::codegen {

namespace {

bool isIndexDType(DType t) { return t == DType::I64 || t == DType::I32; }

}  // namespace

void Generator::emitIndexSelect(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& index = tensor(op.operand(1), op);
  if (x.rank() == 0) throw error(op, "index_select of a 0-d tensor is not supported by the CUDA generator yet");
  if (index.rank() > 1 || !isIndexDType(index.dtype))
    throw error(op, "the index must be a 0-d or 1-d tensor of i64 or i32");
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), x.rank());
  if (d < 0 || d >= x.rank() || o.rank() != x.rank()) throw error(op, "the dim is outside the input's rank");
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  const std::string raw = at(index, index.rank() == 0 ? std::vector<std::string>{} : std::vector<std::string>{c[d]});
  line(fmt::format("const i64 j = {};", checkedIndex(op, raw, x.dims[d], d)));
  std::vector<std::string> xc = c;
  xc[d] = "j";
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(x, xc)));
  closeElementLoop();
}

void Generator::emitGather(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& index = tensor(op.operand(1), op);
  if (!isIndexDType(index.dtype)) throw error(op, "the index must be a tensor of i64 or i32");
  if (x.rank() == 0 || index.rank() != x.rank())
    throw error(op, fmt::format("an index of rank {} into an input of rank {} is not supported by the CUDA "
                                "generator (it needs equal ranks, at least 1)",
                                index.rank(), x.rank()));
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), x.rank());
  if (d < 0 || d >= x.rank()) throw error(op, "the dim is outside the input's rank");
  // Off the gathered dim the index's coordinates address the input: they must fit in it.
  for (int64_t k = 0; k < x.rank(); ++k) {
    if (k == d || index.dims[k] == x.dims[k]) continue;
    const auto i = index.dims[k].constant(), n = x.dims[k].constant();
    if (!(i && n && *i <= *n))
      throw error(op, fmt::format("dim {} of the index ({}) may exceed the input's ({}); the CUDA generator needs it "
                                  "to fit at compile time",
                                  k, index.dims[k].str(), x.dims[k].str()));
  }
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  line(fmt::format("const i64 j = {};", checkedIndex(op, at(index, c), x.dims[d], d)));
  std::vector<std::string> xc = c;
  xc[d] = "j";
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(x, xc)));
  closeElementLoop();
}

void Generator::emitIndex(const Op& op, const TensorRef& o) {
  // x[..., i0, i1, ...]: index tensors at `dims` of x (increasing), broadcast
  // together; adjacent ones put the broadcast dims where they are, separated
  // ones put them first (ATen's advanced indexing).
  const TensorRef& x = tensor(op.operand(0), op);
  const std::vector<int64_t> positions = op.attrs().getInts("dims").value_or(std::vector<int64_t>{});
  const size_t k = op.numOperands() - 1;
  if (positions.size() != k) throw error(op, fmt::format("has {} index tensors but {} positions", k, positions.size()));
  std::vector<const TensorRef*> indices;
  int broadcastRank = 0;
  for (size_t i = 0; i < k; ++i) {
    const TensorRef& index = tensor(op.operand(i + 1), op);
    if (!isIndexDType(index.dtype))
      throw error(op, index.dtype == DType::I1 ? "a boolean mask index (whose result shape depends on the data) is "
                                                 "not supported by the CUDA generator"
                                               : "an index tensor must be i64 or i32");
    if (positions[i] < 0 || positions[i] >= x.rank() || (i > 0 && positions[i] <= positions[i - 1]))
      throw error(op, "index positions must increase within the input's rank");
    indices.push_back(&index);
    broadcastRank = std::max(broadcastRank, index.rank());
  }
  const bool adjacent = k > 0 && positions.back() - positions.front() + 1 == static_cast<int64_t>(k);
  if (o.rank() != x.rank() - static_cast<int>(k) + broadcastRank)
    throw error(op, "the result's rank does not match its index tensors");
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  // Where the broadcast dims start among the result's coordinates.
  const size_t first = adjacent ? static_cast<size_t>(positions.front()) : 0;
  const std::vector<std::string> bc(c.begin() + static_cast<std::ptrdiff_t>(first),
                                    c.begin() + static_cast<std::ptrdiff_t>(first + broadcastRank));
  // An index tensor's dims broadcast to the result's: each is 1 or the result's own.
  for (const TensorRef* index : indices)
    for (int j = 0; j < index->rank(); ++j) {
      const Expr& dim = index->dims[static_cast<size_t>(j)];
      const Expr& want = o.dims[first + static_cast<size_t>(broadcastRank - index->rank() + j)];
      if (!dim.is(1) && !(dim == want))
        throw error(op, fmt::format("an index tensor's dim {} ({}) does not broadcast to the result's ({})", j,
                                    dim.str(), want.str()));
    }
  std::vector<std::string> xc(static_cast<size_t>(x.rank()));
  for (size_t i = 0; i < k; ++i) {
    const size_t p = static_cast<size_t>(positions[i]);
    xc[p] = fmt::format("j{}", i);
    line(fmt::format("const i64 j{} = {};", i, checkedIndex(op, at(*indices[i], bc), x.dims[p], positions[i])));
  }
  // The other dims of x take the remaining coordinates in order.
  size_t next = 0;
  for (size_t p = 0; p < xc.size(); ++p) {
    if (!xc[p].empty()) continue;
    if (next == first) next += static_cast<size_t>(broadcastRank);
    xc[p] = c[next++];
  }
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(x, xc)));
  closeElementLoop();
}

}  // namespace cocktail::codegen
