//===- codegen/CudaLayoutOps.cpp - Views, result shapes, data movement ---------===//
//
// Views (select, slice, chunk, transpose, ...) are new strided TensorRefs
// over their base, no code; result shapes as the generated code computes
// them; and the ops that only move data: cat, the scatters, a reshape that
// must materialize, and the grid-stride copies of carried values.
//
//===----------------------------------------------------------------------===//
#include <algorithm>

#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

// ---- views -----------------------------------------------------------------------------

void Generator::viewOp(const Op& op) {
  const TensorRef& x = tensor(op.operand(0), op);
  TensorRef v = x;
  const int64_t rank = x.rank();
  const ir::Attributes& a = op.attrs();
  auto dimAttr = [&](const char* name) {
    auto d = a.getInt(name);
    if (!d) throw error(op, fmt::format("missing attribute '{}'", name));
    return normalizeDim(*d, rank);
  };
  switch (op.kind()) {
    case OpKind::Select:
      v = selectView(x, dimAttr("dim"), op.operand(1));
      break;
    case OpKind::Slice:
      v = sliceView(x, dimAttr("dim"), op.operand(1), op.operand(2), a.getInt("step").value_or(1));
      if (op.result()->type().dims()[static_cast<size_t>(dimAttr("dim"))].isConstant())
        v.bounds[static_cast<size_t>(dimAttr("dim"))] = op.result()->type().dims()[static_cast<size_t>(dimAttr("dim"))].value();
      break;
    case OpKind::Chunk:
    case OpKind::Split: {
      const int64_t d = dimAttr("dim");
      if (!x.dims[d].isConstant()) throw error(op, "splitting a dim of dynamic size is not supported yet");
      const int64_t size = *x.dims[d].constant();
      std::vector<int64_t> sizes;
      if (op.kind() == OpKind::Chunk) {
        const int64_t chunks = a.getInt("chunks").value_or(1);
        const int64_t each = (size + chunks - 1) / chunks;
        for (int64_t s = 0; s < size; s += each) sizes.push_back(std::min(each, size - s));
      } else {
        sizes = a.getInts("sizes").value_or(std::vector<int64_t>{});
      }
      if (sizes.size() != op.numResults()) throw error(op, "the number of pieces does not match the results");
      int64_t start = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        TensorRef piece = x;
        piece.offset = x.offset + Expr(start) * x.strides[d];
        piece.dims[d] = sizes[i];
        piece.bounds[d] = sizes[i];
        tensors_[op.result(i)] = piece;
        start += sizes[i];
      }
      return;
    }
    case OpKind::Transpose: {
      const int64_t d0 = dimAttr("dim0"), d1 = dimAttr("dim1");
      std::swap(v.dims[d0], v.dims[d1]);
      std::swap(v.strides[d0], v.strides[d1]);
      std::swap(v.bounds[d0], v.bounds[d1]);
      break;
    }
    case OpKind::Permute: {
      const std::vector<int64_t> perm = a.getInts("dims").value_or(std::vector<int64_t>{});
      if (static_cast<int64_t>(perm.size()) != rank) throw error(op, "permutation of the wrong length");
      for (size_t i = 0; i < perm.size(); ++i) {
        const int64_t p = normalizeDim(perm[i], rank);
        v.dims[i] = x.dims[p];
        v.strides[i] = x.strides[p];
        v.bounds[i] = x.bounds[p];
      }
      break;
    }
    case OpKind::Unsqueeze: {
      const int64_t d = normalizeDim(*a.getInt("dim"), rank + 1);
      v.dims.insert(v.dims.begin() + d, Expr(1));
      v.strides.insert(v.strides.begin() + d, Expr(0));
      v.bounds.insert(v.bounds.begin() + d, 1);
      break;
    }
    case OpKind::Squeeze: {
      auto d = a.getInt("dim");
      for (int64_t k = rank - 1; k >= 0; --k) {
        if (d && normalizeDim(*d, rank) != k) continue;
        if (!x.dims[k].is(1)) {
          if (!x.dims[k].isConstant()) throw error(op, "squeezing a dim of dynamic size is not supported yet");
          continue;
        }
        v.dims.erase(v.dims.begin() + k);
        v.strides.erase(v.strides.begin() + k);
        v.bounds.erase(v.bounds.begin() + k);
      }
      break;
    }
    case OpKind::Expand:
    case OpKind::ExpandAs: {
      std::vector<int64_t> bounds = boundsOfType(op.result()->type());
      std::vector<Expr> dims = dimsOfType(op.result()->type(), &op);
      const size_t shift = dims.size() - x.dims.size();
      v.dims = dims;
      v.bounds = bounds;
      v.strides.assign(dims.size(), Expr(0));
      for (size_t k = 0; k < x.dims.size(); ++k)
        if (!x.dims[k].is(1) || dims[shift + k].is(1)) v.strides[shift + k] = x.strides[k];
      break;
    }
    case OpKind::Reshape:
    case OpKind::ReshapeAs:
    case OpKind::Flatten: {
      std::vector<int64_t> bounds;
      std::vector<const Value*> deps;
      v.dims = resultDims(op, 0, bounds, deps);
      v.bounds = bounds;
      v.strides = contiguousStrides(v.dims);
      v.deps.insert(v.deps.end(), deps.begin(), deps.end());
      break;
    }
    default:
      throw error(op, "not a view");
  }
  tensors_[op.result()] = v;
}

// ---- shapes of results -------------------------------------------------------------------

std::vector<Expr> Generator::resultDims(const Op& op, size_t result, std::vector<int64_t>& bounds,
                                        std::vector<const Value*>& deps) {
  const ir::Type& t = op.result(result)->type();
  bounds = boundsOfType(t);
  std::vector<Expr> dims(t.dims().size());
  bool unknown = false;
  for (size_t d = 0; d < dims.size(); ++d) {
    const ir::Dim& dim = t.dims()[d];
    if (dim.isConstant())
      dims[d] = dim.value();
    else if (dim.isSymbol())
      dims[d] = Expr::code("sym_" + dim.symbolName());
    else
      unknown = true;
  }
  if (!unknown) return dims;
  // A `?` dim: the op's own rule gives its runtime size and its bound.
  auto fromTensor = [&](const Value* v) {
    const TensorRef& ref = tensor(v, op);
    const size_t shift = dims.size() - std::min(dims.size(), ref.dims.size());
    for (size_t d = 0; d < dims.size(); ++d) {
      if (!t.dims()[d].isUnknown() || d < shift) continue;
      dims[d] = ref.dims[d - shift];
      bounds[d] = ref.bounds[d - shift];
    }
    deps.insert(deps.end(), ref.deps.begin(), ref.deps.end());
  };
  // Result dim d (if `?`) is dim k of `ref`.
  auto take = [&](size_t d, const TensorRef& ref, size_t k) {
    if (!t.dims()[d].isUnknown()) return;
    dims[d] = ref.dims[k];
    bounds[d] = ref.bounds[k];
    deps.insert(deps.end(), ref.deps.begin(), ref.deps.end());
  };
  auto scalarBound = [&](const Value* s, auto& self) -> int64_t {
    const ScalarRef& r = scalars_.at(s);
    if (r.kind == ScalarRef::Kind::Literal) return r.literalValue;
    const Op* def = s->definingOp();
    if (!def) return -1;
    if (def->kind() == OpKind::Size) {
      const TensorRef& x = tensor(def->operand(0), *def);
      std::optional<int64_t> d = def->attrs().getInt("dim");
      if (def->numOperands() > 1) d = scalars_.at(def->operand(1)).literalValue;
      return d ? x.bounds.at(static_cast<size_t>(normalizeDim(*d, x.rank()))) : -1;
    }
    const int64_t a = def->numOperands() > 0 ? self(def->operand(0), self) : -1;
    const int64_t b = def->numOperands() > 1 ? self(def->operand(1), self) : -1;
    if (a < 0 || (def->numOperands() > 1 && b < 0)) return -1;
    switch (def->kind()) {
      case OpKind::Add: return a + b;
      case OpKind::Mul: return a * b;
      case OpKind::Sub: return a;  // sizes are not negative
      case OpKind::Minimum: return std::min(a, b);
      case OpKind::Maximum: return std::max(a, b);
      default: return -1;
    }
  };
  switch (op.kind()) {
    case OpKind::Full:
    case OpKind::Reshape:
      for (size_t d = 0; d < dims.size(); ++d) {
        if (!t.dims()[d].isUnknown()) continue;
        const Value* s = op.operand(d + 1);
        const int64_t bound = scalarBound(s, scalarBound);
        if (bound < 0 || (op.kind() == OpKind::Reshape && scalars_.at(s).kind == ScalarRef::Kind::Literal &&
                          scalars_.at(s).literalValue < 0))
          throw error(op, fmt::format("cannot bound dim {} of the result (its size comes from a computation the "
                                      "generator cannot bound); the CUDA backend needs bounded shapes",
                                      d));
        // A view on the host opens no kernel: the size is named here, and each
        // kernel that reads the view defines it (the view's deps).
        const bool literal = scalars_.at(s).kind == ScalarRef::Kind::Literal;
        dims[d] = Expr::code(current_ >= 0 || literal ? scalar(s) : scalarName(s));
        bounds[d] = bound;
        if (!literal) deps.push_back(s);
      }
      break;
    case OpKind::FullLike:
    case OpKind::CopyInto:
    case OpKind::SelectScatter:
    case OpKind::SliceScatter:
    case OpKind::ReshapeAs:
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
    case OpKind::LayerNorm:
    case OpKind::Triu:
    case OpKind::Tril: fromTensor(op.operand(0)); break;
    case OpKind::Linear: {
      // x[..., K] by w[N, K]: x's leading dims, then N.
      const TensorRef& x = tensor(op.operand(0), op);
      const TensorRef& w = tensor(op.operand(1), op);
      if (x.rank() != static_cast<int>(dims.size()) || w.rank() != 2) break;
      for (size_t d = 0; d + 1 < dims.size(); ++d) take(d, x, d);
      take(dims.size() - 1, w, 0);
      break;
    }
    case OpKind::Matmul: {
      // a[..., M, K] by b[..., K, N]: the batch dims broadcast (a size-1 dim
      // takes the other operand's), then M from a and N from b; a vector
      // operand contributes no batch dims and no M (or N).
      const TensorRef& a = tensor(op.operand(0), op);
      const TensorRef& b = tensor(op.operand(1), op);
      const size_t aMat = a.rank() >= 2, bMat = b.rank() >= 2;
      if (dims.size() < aMat + bMat) break;
      const size_t batch = dims.size() - aMat - bMat;
      const size_t aBatch = aMat ? a.dims.size() - 2 : 0, bBatch = bMat ? b.dims.size() - 2 : 0;
      if (aBatch > batch || bBatch > batch) break;
      for (size_t d = 0; d < batch; ++d) {
        const bool inA = d >= batch - aBatch, inB = d >= batch - bBatch;
        const bool aIsOne = inA && a.dims[d - (batch - aBatch)].is(1);
        if (inA && (!aIsOne || !inB))
          take(d, a, d - (batch - aBatch));
        else if (inB)
          take(d, b, d - (batch - bBatch));
      }
      if (aMat) take(batch, a, a.dims.size() - 2);
      if (bMat) take(dims.size() - 1, b, b.dims.size() - 1);
      break;
    }
    case OpKind::Repeat: {
      // Each of x's dims times its repeat count; new leading dims are the counts.
      const TensorRef& x = tensor(op.operand(0), op);
      const std::vector<int64_t> reps = op.attrs().getInts("repeats").value_or(std::vector<int64_t>{});
      if (reps.size() != dims.size() || x.dims.size() > dims.size()) break;
      const size_t lead = dims.size() - x.dims.size();
      for (size_t d = lead; d < dims.size(); ++d) {
        if (!t.dims()[d].isUnknown()) continue;
        dims[d] = x.dims[d - lead] * Expr(reps[d]);
        bounds[d] = x.bounds[d - lead] * reps[d];
      }
      deps.insert(deps.end(), x.deps.begin(), x.deps.end());
      break;
    }
    default:
      if (ir::isElementwise(op.kind()) || op.kind() == OpKind::Fused) {
        // Broadcasting: a `?` dim is that of an operand whose dim there is
        // not 1 (operands aligned to the right), or 1 if every one's is.
        for (size_t d = 0; d < dims.size(); ++d) {
          if (!t.dims()[d].isUnknown()) continue;
          const TensorRef* one = nullptr;
          size_t oneAt = 0;
          for (const Value* v : op.operands()) {
            if (!v->type().isTensor() || !v->type().hasRank()) continue;
            const TensorRef& ref = tensor(v, op);
            if (ref.dims.size() + d < dims.size()) continue;  // no dim there: broadcast
            const size_t k = d - (dims.size() - ref.dims.size());
            if (!ref.dims[k].is(1)) {
              take(d, ref, k);
              break;
            }
            one = &ref;
            oneAt = k;
          }
          if (t.dims()[d].isUnknown() && bounds[d] < 0 && one) take(d, *one, oneAt);
        }
        break;
      }
      throw error(op, "a `?` dim in the result of this op is not supported by the CUDA generator yet");
  }
  for (size_t d = 0; d < dims.size(); ++d)
    if (bounds[d] < 0) throw error(op, fmt::format("cannot bound dim {} of the result; the CUDA backend needs bounded shapes", d));
  return dims;
}

void Generator::emitTriangle(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  if (x.rank() < 2) throw error(op, "expects a tensor of at least 2 dims");
  const int64_t diagonal = op.attrs().getInt("diagonal").value_or(0);
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  const std::string offset = fmt::format("{} - {}", c[c.size() - 1], c[c.size() - 2]);  // column - row
  const std::string keep =
      op.kind() == OpKind::Triu ? fmt::format("{} >= {}", offset, diagonal) : fmt::format("{} <= {}", offset, diagonal);
  line(fmt::format("{}[e] = ({}) ? {} : ({})0;", bufferPointer(o), keep, at(x, c), ctypeOf(o.dtype)));
  closeElementLoop();
}

void Generator::emitRepeat(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const size_t lead = o.dims.size() - x.dims.size();
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  // Output coordinate c of a repeated dim reads x at c modulo x's size.
  std::vector<std::string> xc;
  for (size_t d = lead; d < o.dims.size(); ++d) xc.push_back(fmt::format("({} % {})", c[d], x.dims[d - lead].str()));
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(x, xc)));
  closeElementLoop();
}

void Generator::emitCat(const Op& op, const TensorRef& o) {
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), o.rank());
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  Expr start = 0;
  for (size_t i = 0; i < op.numOperands(); ++i) {
    const TensorRef& x = tensor(op.operand(i), op);
    std::vector<std::string> xc = c;
    xc[static_cast<size_t>(d)] = fmt::format("({} - {})", c[static_cast<size_t>(d)], start.str());
    const Expr end = start + x.dims[static_cast<size_t>(d)];
    const std::string value = castTo(o.dtype, at(x, xc));
    if (i + 1 == op.numOperands())
      line(fmt::format("{}{}[e] = {};", i == 0 ? "" : "else ", bufferPointer(o), value));
    else
      line(fmt::format("{}if ({} < {}) {}[e] = {};", i == 0 ? "" : "else ", c[static_cast<size_t>(d)], end.str(),
                       bufferPointer(o), value));
    start = end;
  }
  closeElementLoop();
}

void Generator::emitScatter(const Op& op, const TensorRef& o) {
  const TensorRef& base = tensor(op.operand(0), op);
  const TensorRef& src = tensor(op.operand(1), op);
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), base.rank());
  const std::string size = base.dims[static_cast<size_t>(d)].str();
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  const std::string cd = c[static_cast<size_t>(d)];
  std::vector<std::string> sc = c;
  if (op.kind() == OpKind::SelectScatter) {
    line(fmt::format("const i64 at = cocktail_index({}, {});", scalar(op.operand(2)), size));
    sc.erase(sc.begin() + d);
    line(fmt::format("{}[e] = {} == at ? {} : {};", bufferPointer(o), cd, castTo(o.dtype, at(src, sc)),
                     castTo(o.dtype, at(base, c))));
  } else {
    const int64_t step = op.attrs().getInt("step").value_or(1);
    line(fmt::format("const i64 s0 = cocktail_slice_start({}, {});", scalar(op.operand(2)), size));
    line(fmt::format("const i64 s1 = cocktail_slice_end({}, s0, {});", scalar(op.operand(3)), size));
    sc[static_cast<size_t>(d)] = fmt::format("(({} - s0) / {})", cd, step);
    line(fmt::format("const bool inside = {0} >= s0 && {0} < s1 && ({0} - s0) % {1} == 0;", cd, step));
    line(fmt::format("{}[e] = inside ? {} : {};", bufferPointer(o), castTo(o.dtype, at(src, sc)),
                     castTo(o.dtype, at(base, c))));
  }
  closeElementLoop();
}

void Generator::emitMaterialize(const Op& op, const TensorRef& o) {
  // A reshape of a non-contiguous view: copy in the input's logical order.
  const TensorRef& x = tensor(op.operand(0), op);
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(x.dims, "e", "c");
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(x, c)));
  closeElementLoop();
}

void Generator::copyTensor(const TensorRef& dst, const TensorRef& src, const std::string& what, const Op* op) {
  requireDeps(dst);
  requireDeps(src);
  syncForAccess(op, {src}, {dst}, what);
  line(fmt::format("// copy: {}", what));
  openElementLoop(dst, 0, 0, false);
  std::vector<std::string> c = emitCoords(dst.dims, "e", "c", true);
  const std::string value = at(src, c);
  line(fmt::format("{} = {};", at(dst, c), src.dtype == dst.dtype ? value : castTo(dst.dtype, value)));
  closeElementLoop();
  recordAccess(op, {src}, {dst});
}

}  // namespace cocktail::codegen
