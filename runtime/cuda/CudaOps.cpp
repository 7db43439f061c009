//===- runtime/cuda/CudaOps.cpp - The CUDA body of each op ---------------------------===//
//
// Every op that computes a tensor writes a fresh contiguous buffer, one uTask
// (a range of its flat output elements) per task of the uTask loop; inside a
// task the block's threads stride over the elements. Semantics follow the
// CPU executor (runtime/cpu), which is the reference the tests compare with.
//
// Deliberately simple kernels: a dot product per warp for `linear` (lanes
// stride over K, coalesced, then a shuffle reduction), a thread per output
// element elsewhere. A linear whose weight a persistent loop keeps resident
// reads its rows from shared memory (WeightStaging.cpp); no other tiling
// for reuse yet.
//
//===----------------------------------------------------------------------===//
#include <algorithm>

#include <fmt/format.h>

#include "ir/Printer.h"
#include "runtime/cuda/CudaCodegenImpl.h"

namespace cocktail::runtime::cuda {

using ir::DType;
using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Value;

namespace {

int64_t normalizeDim(int64_t d, int64_t rank) { return d < 0 ? d + rank : d; }

/// `expf` for float, `exp` for double.
std::string fn(const char* name, DType t) { return t == DType::F64 ? name : std::string(name) + "f"; }

std::string castTo(DType t, const std::string& expr) { return fmt::format("({})({})", ctypeOf(t), expr); }

bool isComparison(OpKind k) {
  return k == OpKind::Eq || k == OpKind::Ne || k == OpKind::Lt || k == OpKind::Le || k == OpKind::Gt ||
         k == OpKind::Ge;
}

/// The type a tensor op computes in: the result's, except for comparisons,
/// which compare in the operands' promoted type (a Python float next to an
/// integer tensor compares in f32, as PyTorch's wrapped numbers do).
DType computeType(const Op& op) {
  if (!isComparison(op.kind())) return op.result()->type().dtype();
  bool tensorFloat = false, tensorF64 = false, scalarFloat = false, anyInt = false;
  for (const Value* v : op.operands()) {
    const DType t = v->type().dtype();
    if (v->type().isTensor()) {
      if (ir::isFloating(t)) tensorFloat = true;
      if (t == DType::F64) tensorF64 = true;
    } else if (ir::isFloating(t)) {
      scalarFloat = true;
    }
    if (t == DType::I64 || t == DType::I32) anyInt = true;
  }
  if (tensorFloat) return tensorF64 ? DType::F64 : DType::F32;
  if (scalarFloat) return DType::F32;
  return anyInt ? DType::I64 : DType::I1;
}

}  // namespace

// ---- loops and addressing -----------------------------------------------------------------

int64_t coveringTileElems(int64_t tiles, int64_t tileElems, int64_t boundElements) {
  // The tiles must cover the result at its bounds (a `?` dim counted as 1
  // by the cost model would leave elements to nobody).
  if (tiles > 0 && tiles * tileElems < boundElements) return (boundElements + tiles - 1) / tiles;
  return tileElems;
}

void Generator::openElementLoop(const TensorRef& out, int64_t tiles, int64_t tileElems, bool perWarp,
                                const std::vector<std::string>& perTask) {
  open("");
  line(fmt::format("const i64 n = {};", out.numel().str()));
  if (const int64_t covering = coveringTileElems(tiles, tileElems, out.boundElements()); covering != tileElems) {
    line(fmt::format("// tile_elems {} does not cover the {} elements of the bound: {} per tile", tileElems,
                     out.boundElements(), covering));
    tileElems = covering;
  }
  if (tiles <= 0 && (!taskWaits_.empty() || !publishAfterTask_.empty()))
    throw CodegenError{ir::Status::error("internal error: tile counters on an op without tiles")};
  const std::string first = perWarp ? "(threadIdx.x >> 5)" : "threadIdx.x";
  const std::string step = perWarp ? "(blockDim.x >> 5)" : "blockDim.x";
  if (tiles > 0) {
    open(fmt::format("for (i64 task = blockIdx.x; task < {}; task += gridDim.x)", tiles));
    line(fmt::format("const i64 lo = task * {}, hi = cocktail_min(lo + {}, n);", tileElems, tileElems));
    for (const std::string& l : taskWaits_) line(l);
    for (const std::string& l : perTask) line(l);
    open(fmt::format("for (i64 e = lo + {}; e < hi; e += {})", first, step));
    openedBlocks_.push_back(3);
    taskWaits_.clear();
  } else {
    const std::string g = perWarp ? "(((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5)"
                                  : "((i64)blockIdx.x * blockDim.x + threadIdx.x)";
    const std::string gs = perWarp ? "(((i64)gridDim.x * blockDim.x) >> 5)" : "((i64)gridDim.x * blockDim.x)";
    open(fmt::format("for (i64 e = {}; e < n; e += {})", g, gs));
    openedBlocks_.push_back(2);
  }
}

void Generator::closeElementLoop() {
  if (coords_.active && coords_.used) kernel().body.insert(coords_.pos, coords_.text);
  coords_ = {};
  int blocks = openedBlocks_.back();
  if (blocks == 3 && !publishAfterTask_.empty()) {
    close();  // the element loop: the tile is done once every thread is past it
    line(publishAfterTask_);
    publishAfterTask_.clear();
    --blocks;
  }
  for (int i = blocks; i > 0; --i) close();
  openedBlocks_.pop_back();
}

std::vector<std::string> Generator::emitCoords(const std::vector<Expr>& dims, const std::string& flat,
                                               const std::string& prefix, bool lazy) {
  std::vector<std::string> names(dims.size());
  std::vector<std::string> lines;
  if (dims.size() == 1) {
    names[0] = prefix + "0";
    lines.push_back(fmt::format("const i64 {} = {};", names[0], flat));
  } else if (!dims.empty()) {
    const std::string rem = prefix + "rem";
    lines.push_back(fmt::format("i64 {} = {};", rem, flat));
    for (size_t i = dims.size(); i-- > 0;) {
      names[i] = fmt::format("{}{}", prefix, i);
      if (i == 0) {
        lines.push_back(fmt::format("const i64 {} = {};", names[i], rem));
      } else if (dims[i].is(1)) {
        lines.push_back(fmt::format("const i64 {} = 0;", names[i]));
      } else {
        lines.push_back(fmt::format("const i64 {} = {} % {};", names[i], rem, dims[i].str()));
        lines.push_back(fmt::format("{} /= {};", rem, dims[i].str()));
      }
    }
  }
  if (!lazy) {
    for (const std::string& l : lines) line(l);
    return names;
  }
  // Written at closeElementLoop, and only if some operand is not read at the
  // flat index itself (a contiguous operand of the result's shape is).
  coords_ = LazyCoords{true, false, kernel().body.size(), {}, names, dims, flat};
  for (const std::string& l : lines) coords_.text += std::string(static_cast<size_t>(2 * indent_), ' ') + l + "\n";
  return names;
}

std::string Generator::at(const TensorRef& ref, const std::vector<std::string>& coords) {
  requireDeps(ref);
  const std::string buf = bufferPointer(ref);
  if (coords_.active && coords == coords_.names) {
    if (ref.contiguous() && ref.dims == coords_.dims) return fmt::format("{}[{}]", buf, (ref.offset + Expr::code(coords_.flat)).str());
    coords_.used = true;
  }
  Expr index = ref.offset;
  const size_t r = ref.dims.size();
  if (coords.size() < r) throw CodegenError{ir::Status::error("internal error: an operand of higher rank than its result")};
  const size_t shift = coords.size() - r;
  for (size_t k = 0; k < r; ++k) {
    if (ref.dims[k].is(1)) continue;  // a broadcast (or size-1) dim contributes nothing
    index = index + Expr::code(coords[shift + k]) * ref.strides[k];
  }
  return fmt::format("{}[{}]", buf, index.str());
}

std::string Generator::operandValue(const Op& op, size_t i, const std::vector<std::string>& coords, DType as) {
  const Value* v = op.operand(i);
  if (v->type().isScalar()) {
    const std::string s = scalar(v);
    return v->type().dtype() == as ? s : castTo(as, s);
  }
  const TensorRef& ref = tensor(v, op);
  const std::string load = at(ref, coords);
  return ref.dtype == as ? load : castTo(as, load);
}

TensorRef Generator::selectView(const TensorRef& x, int64_t d, const Value* index) {
  TensorRef v = x;
  const ScalarRef& s = scalars_.at(index);
  Expr idx;
  if (s.kind == ScalarRef::Kind::Literal) {
    idx = s.literalValue < 0 ? x.dims[d] + Expr(s.literalValue) : Expr(s.literalValue);
  } else {
    idx = Expr::code(fmt::format("cocktail_index({}, {})", scalarName(index), x.dims[d].str()));
    v.deps.push_back(index);
  }
  v.offset = x.offset + idx * x.strides[d];
  v.dims.erase(v.dims.begin() + d);
  v.strides.erase(v.strides.begin() + d);
  v.bounds.erase(v.bounds.begin() + d);
  return v;
}

TensorRef Generator::sliceView(const TensorRef& x, int64_t d, const Value* startValue, const Value* endValue,
                               int64_t step) {
  TensorRef v = x;
  const ScalarRef& s = scalars_.at(startValue);
  const ScalarRef& e = scalars_.at(endValue);
  const bool startLit = s.kind == ScalarRef::Kind::Literal, endLit = e.kind == ScalarRef::Kind::Literal;
  Expr start, end;
  if (startLit && s.literalValue >= 0 && (s.literalValue == 0 || x.dims[d].isConstant()))
    start = std::min(s.literalValue, x.dims[d].constant().value_or(s.literalValue));
  else
    start = Expr::code(fmt::format("cocktail_slice_start({}, {})",
                                   startLit ? std::to_string(s.literalValue) + "LL" : scalarName(startValue),
                                   x.dims[d].str()));
  if (endLit && e.literalValue >= x.bounds[d])
    end = x.dims[d];  // past any size the dim can have: the end of it
  else
    end = Expr::code(fmt::format("cocktail_slice_end({}, {}, {})",
                                 endLit ? std::to_string(e.literalValue) + "LL" : scalarName(endValue), start.str(),
                                 x.dims[d].str()));
  if (!startLit) v.deps.push_back(startValue);
  if (!endLit) v.deps.push_back(endValue);
  v.offset = x.offset + start * x.strides[d];
  v.dims[d] = step == 1 ? end - start
                        : Expr::code(fmt::format("cocktail_slice_len({}, {}, {})", start.str(), end.str(), step));
  v.strides[d] = x.strides[d] * Expr(step);
  return v;
}

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
        dims[d] = Expr::code(scalar(s));
        bounds[d] = bound;
        if (scalars_.at(s).kind != ScalarRef::Kind::Literal) deps.push_back(s);
      }
      break;
    case OpKind::FullLike:
    case OpKind::CopyInto:
    case OpKind::SelectScatter:
    case OpKind::SliceScatter:
    case OpKind::ReshapeAs:
      fromTensor(op.operand(0));
      break;
    default:
      if (op.info().opClass == OpClass::Binary || op.info().opClass == OpClass::Unary ||
          op.info().opClass == OpClass::Elementwise || op.kind() == OpKind::Fused) {
        for (const Value* v : op.operands())
          if (v->type().isTensor() && v->type().rank() == t.rank()) {
            fromTensor(v);
            break;
          }
        break;
      }
      throw error(op, "a `?` dim in the result of this op is not supported by the CUDA generator yet");
  }
  for (size_t d = 0; d < dims.size(); ++d)
    if (bounds[d] < 0) throw error(op, fmt::format("cannot bound dim {} of the result; the CUDA backend needs bounded shapes", d));
  return dims;
}

// ---- tensor ops ----------------------------------------------------------------------------

void Generator::computeOp(const Op& op) {
  for (size_t i = 0; i < op.numResults(); ++i)
    if (ctypeOf(op.result(i)->type().dtype()).empty() || !op.result(i)->type().isTensor())
      throw error(op, fmt::format("results of type {} are not supported by the CUDA generator yet",
                                  op.result(i)->type().str()));
  std::vector<TensorRef> in;
  for (const Value* v : op.operands())
    if (v->type().isTensor()) in.push_back(tensor(v, op));
  // plan-memory may have put a functional write into its base's bytes: then
  // only the written part is written.
  if (op.info().opClass == OpClass::Write && op.attrs().getInt("mem_alias") == 0) {
    emitInPlaceWrite(op, tensor(op.operand(0), op));
    return;
  }
  std::vector<TensorRef> out;
  for (size_t i = 0; i < op.numResults(); ++i) {
    std::vector<int64_t> bounds;
    std::vector<const Value*> deps;
    std::vector<Expr> dims = resultDims(op, i, bounds, deps);
    TensorRef ref = resultRef(op, i, ir::printValueName(op.result(i), op), op.result(i)->type().dtype(), dims, bounds);
    ref.deps = deps;
    requireDeps(ref);
    out.push_back(ref);
  }
  syncForAccess(&op, in, out);
  line(fmt::format("// {}", describe(op)));
  beginCounterProducer(op);
  switch (op.kind()) {
    case OpKind::Fused: emitFused(op, out); break;
    case OpKind::Linear: emitLinear(op, out[0]); break;
    case OpKind::Matmul: emitMatmul(op, out[0]); break;
    case OpKind::Sum:
    case OpKind::Mean:
    case OpKind::Amax:
    case OpKind::Amin:
    case OpKind::Argmax:
    case OpKind::Argmin: emitReduction(op, out[0]); break;
    case OpKind::Softmax:
    case OpKind::LogSoftmax: emitSoftmax(op, out[0]); break;
    case OpKind::Conv2d: emitConv2d(op, out[0]); break;
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: emitPool2d(op, out[0]); break;
    case OpKind::Embedding: emitEmbedding(op, out[0]); break;
    case OpKind::Cat: emitCat(op, out[0]); break;
    case OpKind::SelectScatter:
    case OpKind::SliceScatter: emitScatter(op, out[0]); break;
    case OpKind::Reshape:
    case OpKind::ReshapeAs:
    case OpKind::Flatten: emitMaterialize(op, out[0]); break;
    default:
      switch (op.info().opClass) {
        case OpClass::Binary:
        case OpClass::Unary:
        case OpClass::Elementwise:
        case OpClass::Creation:
          if (op.kind() == OpKind::Arange) throw error(op, "not supported by the CUDA generator yet");
          emitElementwise(op, out);
          break;
        case OpClass::Write:
          if (op.kind() != OpKind::CopyInto) throw error(op, "not supported by the CUDA generator yet");
          emitElementwise(op, out);
          break;
        case OpClass::Scalar:
          if (op.kind() != OpKind::ToTensor) throw error(op, "not supported by the CUDA generator yet");
          emitElementwise(op, out);
          break;
        default:
          throw error(op, "not supported by the CUDA generator yet");
      }
  }
  for (size_t i = 0; i < op.numResults(); ++i) tensors_[op.result(i)] = out[i];
  recordAccess(&op, in, out);
}

void Generator::emitInPlaceWrite(const Op& op, const TensorRef& base) {
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), base.rank());
  TensorRef target = base;
  if (op.kind() == OpKind::SelectScatter)
    target = selectView(base, d, op.operand(2));
  else if (op.kind() == OpKind::SliceScatter)
    target = sliceView(base, d, op.operand(2), op.operand(3), op.attrs().getInt("step").value_or(1));
  else if (op.kind() != OpKind::CopyInto)
    throw error(op, "an in-place write of this kind is not supported by the CUDA generator yet");
  line(fmt::format("// {}", describe(op)));
  line("//   in place (plan-memory): only the written elements");
  copyTensor(target, tensor(op.operand(1), op), std::string(op.name()) + " in place", &op);
  tensors_[op.result()] = base;
}

std::string Generator::elementwiseExpr(const Op& op, const std::vector<std::string>& x, DType t) {
  auto arg = [&](size_t i) { return x.at(i); };
  const bool isFloat = ir::isFloating(t);
  switch (op.kind()) {
    case OpKind::Add: return fmt::format("{} + {}", arg(0), arg(1));
    case OpKind::Sub: return fmt::format("{} - {}", arg(0), arg(1));
    case OpKind::Mul: return fmt::format("{} * {}", arg(0), arg(1));
    case OpKind::Div: return fmt::format("{} / {}", arg(0), arg(1));
    case OpKind::Pow: return fmt::format("{}({}, {})", fn("pow", t), arg(0), arg(1));
    case OpKind::Maximum: return fmt::format("({0} > {1} || {0} != {0}) ? {0} : {1}", arg(0), arg(1));
    case OpKind::Minimum: return fmt::format("({0} < {1} || {0} != {0}) ? {0} : {1}", arg(0), arg(1));
    case OpKind::Remainder:
      return isFloat ? fmt::format("{0}({1}, {2}) + (({0}({1}, {2}) != 0 && (({0}({1}, {2}) < 0) != ({2} < 0))) ? {2} : 0)",
                                   fn("fmod", t), arg(0), arg(1))
                     : fmt::format("cocktail_mod({}, {})", arg(0), arg(1));
    case OpKind::FloorDiv:
      return isFloat ? fmt::format("{}({} / {})", fn("floor", t), arg(0), arg(1))
                     : fmt::format("cocktail_floordiv({}, {})", arg(0), arg(1));
    case OpKind::Eq: return fmt::format("{} == {}", arg(0), arg(1));
    case OpKind::Ne: return fmt::format("{} != {}", arg(0), arg(1));
    case OpKind::Lt: return fmt::format("{} < {}", arg(0), arg(1));
    case OpKind::Le: return fmt::format("{} <= {}", arg(0), arg(1));
    case OpKind::Gt: return fmt::format("{} > {}", arg(0), arg(1));
    case OpKind::Ge: return fmt::format("{} >= {}", arg(0), arg(1));
    case OpKind::And: return t == DType::I1 ? fmt::format("{} && {}", arg(0), arg(1)) : fmt::format("{} & {}", arg(0), arg(1));
    case OpKind::Or: return t == DType::I1 ? fmt::format("{} || {}", arg(0), arg(1)) : fmt::format("{} | {}", arg(0), arg(1));
    case OpKind::Xor: return t == DType::I1 ? fmt::format("{} != {}", arg(0), arg(1)) : fmt::format("{} ^ {}", arg(0), arg(1));
    case OpKind::Neg: return fmt::format("-{}", arg(0));
    case OpKind::Not: return fmt::format("!{}", arg(0));
    case OpKind::Sigmoid: return fmt::format("cocktail_sigmoid({})", arg(0));
    case OpKind::Tanh: return fmt::format("{}({})", fn("tanh", t), arg(0));
    case OpKind::Relu: return fmt::format("{0} > 0 ? {0} : ({1})0", arg(0), ctypeOf(t));
    case OpKind::Exp: return fmt::format("{}({})", fn("exp", t), arg(0));
    case OpKind::Log: return fmt::format("{}({})", fn("log", t), arg(0));
    case OpKind::Sqrt: return fmt::format("{}({})", fn("sqrt", t), arg(0));
    case OpKind::Rsqrt: return fmt::format("{}({})", fn("rsqrt", t), arg(0));
    case OpKind::Abs: return isFloat ? fmt::format("{}({})", fn("fabs", t), arg(0)) : fmt::format("({0} < 0 ? -{0} : {0})", arg(0));
    case OpKind::Erf: return fmt::format("{}({})", fn("erf", t), arg(0));
    case OpKind::Gelu: return fmt::format("0.5f * {0} * (1.0f + {1}({0} * 0.70710678118654752f))", arg(0), fn("erf", t));
    case OpKind::Sin: return fmt::format("{}({})", fn("sin", t), arg(0));
    case OpKind::Cos: return fmt::format("{}({})", fn("cos", t), arg(0));
    case OpKind::Floor: return isFloat ? fmt::format("{}({})", fn("floor", t), arg(0)) : arg(0);
    case OpKind::Ceil: return isFloat ? fmt::format("{}({})", fn("ceil", t), arg(0)) : arg(0);
    case OpKind::Round: return isFloat ? fmt::format("{}({})", fn("rint", t), arg(0)) : arg(0);
    case OpKind::Reciprocal: return fmt::format("({})1 / {}", ctypeOf(t), arg(0));
    case OpKind::Silu: return fmt::format("{0} * cocktail_sigmoid({0})", arg(0));
    case OpKind::Where: return fmt::format("{} ? {} : {}", arg(0), arg(1), arg(2));
    case OpKind::MaskedFill: return fmt::format("{} ? {} : {}", arg(1), arg(2), arg(0));
    case OpKind::Cast:
    case OpKind::CastLike:
    case OpKind::CopyInto:
    case OpKind::ToTensor:
    case OpKind::Full:
    case OpKind::FullLike:
      return arg(0);
    case OpKind::Clamp: {
      std::string v = arg(0);
      if (auto lo = op.attrs().getFloat("min")) v = fmt::format("({0} < ({1}){2} ? ({1}){2} : {0})", v, ctypeOf(t), *lo);
      if (auto hi = op.attrs().getFloat("max")) v = fmt::format("({0} > ({1}){2} ? ({1}){2} : {0})", v, ctypeOf(t), *hi);
      return v;
    }
    default:
      throw error(op, "not an elementwise op the CUDA generator knows");
  }
}

void Generator::emitElementwise(const Op& op, const std::vector<TensorRef>& out) {
  const TensorRef& o = out[0];
  const DType t = computeType(op);
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c", true);
  std::vector<std::string> args;
  switch (op.kind()) {
    case OpKind::Full:
    case OpKind::ToTensor:
      args.push_back(scalar(op.operand(0)));
      break;
    case OpKind::FullLike:
      args.push_back(scalar(op.operand(1)));
      break;
    case OpKind::CopyInto:
      args.push_back(operandValue(op, 1, c, o.dtype));
      break;
    case OpKind::Where:
      args.push_back(operandValue(op, 0, c, DType::I1));
      args.push_back(operandValue(op, 1, c, t));
      args.push_back(operandValue(op, 2, c, t));
      break;
    case OpKind::MaskedFill:
      args.push_back(operandValue(op, 0, c, t));
      args.push_back(operandValue(op, 1, c, DType::I1));
      args.push_back(operandValue(op, 2, c, t));
      break;
    case OpKind::Cast:
    case OpKind::CastLike:
      args.push_back(operandValue(op, 0, c, o.dtype));
      break;
    default:
      for (size_t i = 0; i < op.numOperands(); ++i) args.push_back(operandValue(op, i, c, t));
  }
  line(fmt::format("{}[e] = {};", bufferPointer(o), castTo(o.dtype, elementwiseExpr(op, args, t))));
  closeElementLoop();
}

void Generator::emitFused(const Op& op, const std::vector<TensorRef>& out) {
  const ir::Region& body = op.region(0);
  const TensorRef& o = out[0];
  for (const TensorRef& r : out)
    if (!(r.dims == o.dims)) throw error(op, "a fused op whose results differ in shape is not supported yet");
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c", true);
  std::map<const Value*, std::string> local;
  int next = 0;
  for (size_t i = 0; i < body.numArguments(); ++i) {
    const Value* arg = body.argument(i);
    const std::string name = fmt::format("x{}", next++);
    line(fmt::format("const {} {} = {};", ctypeOf(arg->type().dtype()), name,
                     operandValue(op, i, c, arg->type().dtype())));
    local[arg] = name;
  }
  for (const auto& innerPtr : body.ops()) {
    const Op& inner = *innerPtr;
    if (inner.kind() == OpKind::Yield) {
      for (size_t i = 0; i < inner.numOperands(); ++i)
        line(fmt::format("{}[e] = {};", bufferPointer(out[i]), castTo(out[i].dtype, local.at(inner.operand(i)))));
      continue;
    }
    if (declareCommon(inner)) continue;
    const DType t = computeType(inner);
    std::vector<std::string> args;
    for (size_t i = 0; i < inner.numOperands(); ++i) {
      const Value* v = inner.operand(i);
      DType want = t;
      if ((inner.kind() == OpKind::Where && i == 0) || (inner.kind() == OpKind::MaskedFill && i == 1)) want = DType::I1;
      std::string s = local.count(v) ? local.at(v) : scalar(v);
      args.push_back(v->type().dtype() == want ? s : castTo(want, s));
    }
    const std::string name = fmt::format("x{}", next++);
    const DType rt = inner.result()->type().dtype();
    line(fmt::format("const {} {} = {};  // {}", ctypeOf(rt), name, castTo(rt, elementwiseExpr(inner, args, t)),
                     inner.name()));
    local[inner.result()] = name;
  }
  closeElementLoop();
}

void Generator::emitLinear(const Op& op, const TensorRef& o) {
  // y[..., n] = sum_k x[..., k] * w[n, k] (+ b[n]): a warp per output element.
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& w = tensor(op.operand(1), op);
  if (w.rank() != 2 || x.rank() < 1) throw error(op, "expects x[..., K] and w[N, K]");
  const DType t = o.dtype;
  // A staged weight: each task reads its rows through `wt`, from shared
  // memory for the tiles the block staged, from global memory past them.
  const StagedWeight* staged = stagedWeightOf(op);
  std::vector<std::string> perTask;
  if (staged) {
    const std::string wt = ctypeOf(w.dtype);
    perTask.push_back(staged->rows == staged->weightRows
                          ? "const i64 row0 = 0;  // the tile reads every row of the weight"
                          : fmt::format("const i64 row0 = lo % {};  // the tile's first weight row", staged->weightRows));
    perTask.push_back(fmt::format("const i64 slot = (task - blockIdx.x) / gridDim.x;"));
    perTask.push_back(fmt::format(
        "const {}* const wt = slot < {} ? {} + slot * {} : {} + row0 * {};  // @{}: shared memory; past the staged "
        "tiles, streamed from global memory",
        wt, staged->slots, staged->pointer, staged->sliceElems(), bufferPointer(w), staged->cols, staged->weight));
  }
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), true,
                  perTask);
  line("const int lane = threadIdx.x & 31;");
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  const std::string col = c.back();
  std::vector<std::string> xc = c;
  xc.back() = "k";
  line(fmt::format("{} acc = 0;", ctypeOf(t)));
  open(fmt::format("for (i64 k = lane; k < {}; k += 32)", x.dims.back().str()));
  if (staged)
    line(fmt::format("acc += {} * wt[({} - row0) * {} + k];", at(x, xc), col, staged->cols));
  else
    line(fmt::format("acc += {} * {};", at(x, xc), at(w, {col, "k"})));
  close();
  line(t == DType::F32 ? "acc = cocktail_warp_sum(acc);" : "for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);");
  if (op.numOperands() > 2)
    line(fmt::format("if (lane == 0) {}[e] = acc + {};", bufferPointer(o), at(tensor(op.operand(2), op), {col})));
  else
    line(fmt::format("if (lane == 0) {}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

void Generator::emitMatmul(const Op& op, const TensorRef& o) {
  const TensorRef& a = tensor(op.operand(0), op);
  const TensorRef& b = tensor(op.operand(1), op);
  if (a.rank() < 1 || b.rank() < 1) throw error(op, "matmul of a 0-d tensor");
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  // Output coords: batch..., [m if a is a matrix], [n if b is a matrix].
  const bool aMat = a.rank() >= 2, bMat = b.rank() >= 2;
  const size_t batch = c.size() - (aMat ? 1 : 0) - (bMat ? 1 : 0);
  std::vector<std::string> ac(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(batch));
  std::vector<std::string> bc = ac;
  if (aMat) ac.push_back(c[batch]);
  ac.push_back("k");
  bc.push_back("k");
  if (bMat) bc.push_back(c.back());
  // Operands of lower batch rank are aligned to the right (at() does so).
  line(fmt::format("{} acc = 0;", ctypeOf(o.dtype)));
  open(fmt::format("for (i64 k = 0; k < {}; ++k)", a.dims.back().str()));
  line(fmt::format("acc += {} * {};", at(a, ac), at(b, bc)));
  close();
  line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

void Generator::emitReduction(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const ir::Attributes& attrs = op.attrs();
  const bool keepdim = attrs.getBool("keepdim").value_or(false);
  const bool arg = op.kind() == OpKind::Argmax || op.kind() == OpKind::Argmin;
  std::vector<int64_t> reduced;
  if (arg) {
    if (auto d = attrs.getInt("dim")) reduced.push_back(normalizeDim(*d, x.rank()));
  } else {
    for (int64_t d : attrs.getInts("dims").value_or(std::vector<int64_t>{})) reduced.push_back(normalizeDim(d, x.rank()));
  }
  if (reduced.empty())
    for (int64_t d = 0; d < x.rank(); ++d) reduced.push_back(d);
  std::sort(reduced.begin(), reduced.end());
  auto isReduced = [&](int64_t d) { return std::find(reduced.begin(), reduced.end(), d) != reduced.end(); };
  // A whole-tensor arg-reduction indexes the flattened tensor.
  const bool flatArg = arg && !attrs.getInt("dim");

  openElementLoop(o, attrs.getInt("tiles").value_or(0), attrs.getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  std::vector<std::string> xc;
  size_t next = 0;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (isReduced(d)) {
      xc.push_back(fmt::format("r{}", d));
      if (keepdim && !flatArg) ++next;
    } else {
      xc.push_back(c.at(next++));
    }
  }
  const DType xt = x.dtype;
  const DType acc = arg ? xt : o.dtype;
  switch (op.kind()) {
    case OpKind::Sum:
    case OpKind::Mean: line(fmt::format("{} acc = 0;", ctypeOf(acc))); break;
    case OpKind::Amax:
    case OpKind::Argmax: line(fmt::format("{} acc = 0; bool first = true;", ctypeOf(acc))); break;
    default: line(fmt::format("{} acc = 0; bool first = true;", ctypeOf(acc))); break;
  }
  if (arg) line("i64 best = 0, flat = 0;");
  for (int64_t d : reduced) open(fmt::format("for (i64 r{0} = 0; r{0} < {1}; ++r{0})", d, x.dims[d].str()));
  const std::string v = castTo(acc, at(x, xc));
  line(fmt::format("const {} v = {};", ctypeOf(acc), v));
  switch (op.kind()) {
    case OpKind::Sum:
    case OpKind::Mean: line("acc += v;"); break;
    case OpKind::Amax: line("if (first || v > acc || v != v) acc = v; first = false;"); break;
    case OpKind::Amin: line("if (first || v < acc || v != v) acc = v; first = false;"); break;
    case OpKind::Argmax: line("if (first || v > acc) { acc = v; best = flat; } first = false; ++flat;"); break;
    case OpKind::Argmin: line("if (first || v < acc) { acc = v; best = flat; } first = false; ++flat;"); break;
    default: break;
  }
  for (size_t i = 0; i < reduced.size(); ++i) close();
  if (op.kind() == OpKind::Mean) {
    Expr count = 1;
    for (int64_t d : reduced) count = count * x.dims[d];
    line(fmt::format("acc = acc / ({})({});", ctypeOf(acc), count.str()));
  }
  line(fmt::format("{}[e] = {};", bufferPointer(o), castTo(o.dtype, arg ? "best" : "acc")));
  closeElementLoop();
}

void Generator::emitSoftmax(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(-1), x.rank());
  const DType t = o.dtype;
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  std::vector<std::string> rc = c;
  rc[static_cast<size_t>(d)] = "r";
  const std::string size = x.dims[d].str();
  line(fmt::format("{} m = {};", ctypeOf(t), castTo(t, at(x, c))));
  open(fmt::format("for (i64 r = 0; r < {}; ++r)", size));
  line(fmt::format("const {} v = {};", ctypeOf(t), castTo(t, at(x, rc))));
  line("if (v > m) m = v;");
  close();
  line(fmt::format("{} s = 0;", ctypeOf(t)));
  open(fmt::format("for (i64 r = 0; r < {}; ++r)", size));
  line(fmt::format("s += {}({} - m);", fn("exp", t), castTo(t, at(x, rc))));
  close();
  if (op.kind() == OpKind::Softmax)
    line(fmt::format("{}[e] = {}({} - m) / s;", bufferPointer(o), fn("exp", t), castTo(t, at(x, c))));
  else
    line(fmt::format("{}[e] = {} - m - {}(s);", bufferPointer(o), castTo(t, at(x, c)), fn("log", t)));
  closeElementLoop();
}

void Generator::emitConv2d(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& w = tensor(op.operand(1), op);
  if (x.rank() != 4 || w.rank() != 4) throw error(op, "expects x[N, C, H, W] and w[O, C/groups, KH, KW]");
  auto pair = [&](const char* name, int64_t dflt) {
    auto v = op.attrs().getInts(name).value_or(std::vector<int64_t>{dflt, dflt});
    return v.size() == 2 ? v : std::vector<int64_t>{v[0], v[0]};
  };
  const auto stride = pair("stride", 1), pad = pair("padding", 0), dil = pair("dilation", 1);
  const int64_t groups = op.attrs().getInt("groups").value_or(1);
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");  // n, o, oh, ow
  const Expr cinPerGroup = w.dims[1];
  line(fmt::format("{} acc = {};", ctypeOf(o.dtype), op.numOperands() > 2 ? at(tensor(op.operand(2), op), {c[1]}) : "0"));
  line(fmt::format("const i64 cbase = ({} / ({} / {})) * {};", c[1], o.dims[1].str(), groups, cinPerGroup.str()));
  open(fmt::format("for (i64 ci = 0; ci < {}; ++ci)", cinPerGroup.str()));
  open(fmt::format("for (i64 kh = 0; kh < {}; ++kh)", w.dims[2].str()));
  line(fmt::format("const i64 ih = {} * {} - {} + kh * {};", c[2], stride[0], pad[0], dil[0]));
  line(fmt::format("if (ih < 0 || ih >= {}) continue;", x.dims[2].str()));
  open(fmt::format("for (i64 kw = 0; kw < {}; ++kw)", w.dims[3].str()));
  line(fmt::format("const i64 iw = {} * {} - {} + kw * {};", c[3], stride[1], pad[1], dil[1]));
  line(fmt::format("if (iw < 0 || iw >= {}) continue;", x.dims[3].str()));
  line(fmt::format("acc += {} * {};", at(x, {c[0], "(cbase + ci)", "ih", "iw"}), at(w, {c[1], "ci", "kh", "kw"})));
  close();
  close();
  close();
  line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

void Generator::emitPool2d(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  if (x.rank() != 4) throw error(op, "expects x[N, C, H, W]");
  auto pair = [&](const char* name, int64_t dflt) {
    auto v = op.attrs().getInts(name).value_or(std::vector<int64_t>{dflt, dflt});
    return v.size() == 2 ? v : std::vector<int64_t>{v[0], v[0]};
  };
  const auto kernel = pair("kernel", 1), pad = pair("padding", 0), dil = pair("dilation", 1);
  auto stride = pair("stride", 0);
  for (int i = 0; i < 2; ++i)
    if (stride[i] == 0) stride[i] = kernel[i];  // PyTorch: the stride defaults to the kernel
  const bool isMax = op.kind() == OpKind::MaxPool2d;
  const std::string H = x.dims[2].str(), W = x.dims[3].str();
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  if (isMax) {
    line(fmt::format("{} acc = 0; bool first = true;", ctypeOf(o.dtype)));
    open(fmt::format("for (i64 kh = 0; kh < {}; ++kh)", kernel[0]));
    line(fmt::format("const i64 ih = {} * {} - {} + kh * {};", c[2], stride[0], pad[0], dil[0]));
    line(fmt::format("if (ih < 0 || ih >= {}) continue;", H));
    open(fmt::format("for (i64 kw = 0; kw < {}; ++kw)", kernel[1]));
    line(fmt::format("const i64 iw = {} * {} - {} + kw * {};", c[3], stride[1], pad[1], dil[1]));
    line(fmt::format("if (iw < 0 || iw >= {}) continue;", W));
    line(fmt::format("const {} v = {};", ctypeOf(o.dtype), at(x, {c[0], c[1], "ih", "iw"})));
    line("if (first || v > acc || v != v) acc = v; first = false;");
    close();
    close();
    line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  } else {
    const bool includePad = op.attrs().getBool("count_include_pad").value_or(true);
    line(fmt::format("i64 h0 = {} * {} - {}, w0 = {} * {} - {};", c[2], stride[0], pad[0], c[3], stride[1], pad[1]));
    line(fmt::format("i64 h1 = cocktail_min(h0 + {}, {} + {}), w1 = cocktail_min(w0 + {}, {} + {});", kernel[0], H, pad[0],
                     kernel[1], W, pad[1]));
    line("const i64 padded = (h1 - h0) * (w1 - w0);");
    line(fmt::format("h0 = cocktail_max(h0, 0); w0 = cocktail_max(w0, 0); h1 = cocktail_min(h1, {}); w1 = cocktail_min(w1, {});", H, W));
    line("double s = 0;");
    open("for (i64 ih = h0; ih < h1; ++ih)");
    open("for (i64 iw = w0; iw < w1; ++iw)");
    line(fmt::format("s += {};", at(x, {c[0], c[1], "ih", "iw"})));
    close();
    close();
    line(fmt::format("{}[e] = ({})(s / (double)({}));", bufferPointer(o), ctypeOf(o.dtype),
                     includePad ? "padded" : "((h1 - h0) * (w1 - w0))"));
  }
  closeElementLoop();
}

void Generator::emitEmbedding(const Op& op, const TensorRef& o) {
  const TensorRef& w = tensor(op.operand(0), op);
  const TensorRef& idx = tensor(op.operand(1), op);
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  std::vector<std::string> ic(c.begin(), c.end() - 1);
  line(fmt::format("const i64 row = (i64){};", idx.rank() == 0 ? at(idx, {}) : at(idx, ic)));
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(w, {"row", c.back()})));
  closeElementLoop();
}

void Generator::emitCat(const Op& op, const TensorRef& o) {
  const int64_t d = normalizeDim(op.attrs().getInt("dim").value_or(0), o.rank());
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
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
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
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
  openElementLoop(o, op.attrs().getInt("tiles").value_or(0), op.attrs().getInt("tile_elems").value_or(0), false);
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

// ---- scalar ops ---------------------------------------------------------------------------

std::string Generator::scalarOpExpr(const Op& op) {
  const DType rt = op.result()->type().dtype();
  switch (op.kind()) {
    case OpKind::Size: {
      const TensorRef& x = tensor(op.operand(0), op);
      std::optional<int64_t> d = op.attrs().getInt("dim");
      if (op.numOperands() > 1) {
        const ScalarRef& s = scalars_.at(op.operand(1));
        if (s.kind != ScalarRef::Kind::Literal) throw error(op, "the dim of `size` must be a constant for the CUDA generator");
        d = s.literalValue;
      }
      if (!d) throw error(op, "size without a dim");
      requireDeps(x);
      return x.dims.at(static_cast<size_t>(normalizeDim(*d, x.rank()))).str();
    }
    case OpKind::Numel: {
      const TensorRef& x = tensor(op.operand(0), op);
      requireDeps(x);
      return x.numel().str();
    }
    case OpKind::Rank: return std::to_string(tensor(op.operand(0), op).rank());
    case OpKind::ToScalar: {
      const Value* v = op.operand(0);
      if (v->type().isScalar()) return castTo(rt, scalar(v));
      const TensorRef& x = tensor(v, op);
      return castTo(rt, at(x, std::vector<std::string>(x.dims.size(), "0")));
    }
    case OpKind::Cast: return castTo(rt, scalar(op.operand(0)));
    default: break;
  }
  std::vector<std::string> args;
  bool ints = true;
  for (const Value* v : op.operands()) {
    args.push_back(scalar(v));
    if (ir::isFloating(v->type().dtype())) ints = false;
  }
  if (op.info().opClass == OpClass::Unary) {
    if (op.kind() == OpKind::Not) return fmt::format("!({})", args[0]);
    if (ints && (op.kind() == OpKind::Neg || op.kind() == OpKind::Abs))
      return castTo(rt, op.kind() == OpKind::Neg ? "-" + args[0] : fmt::format("({0} < 0 ? -{0} : {0})", args[0]));
    return castTo(rt, elementwiseExpr(op, {castTo(DType::F64, args[0])}, DType::F64));
  }
  if (op.info().opClass == OpClass::Binary) {
    // Python scalar math: integers stay integers (// and % round down), a float makes it double.
    const bool bools = op.operand(0)->type().dtype() == DType::I1 && op.operand(1)->type().dtype() == DType::I1;
    const DType t = ints && op.kind() != OpKind::Div && op.kind() != OpKind::Pow ? (bools ? DType::I1 : DType::I64) : DType::F64;
    std::vector<std::string> cast = {castTo(t, args[0]), castTo(t, args[1])};
    return castTo(rt, elementwiseExpr(op, cast, t));
  }
  throw error(op, "not supported by the CUDA generator yet");
}

}  // namespace cocktail::runtime::cuda
