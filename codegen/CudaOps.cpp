//===- codegen/CudaOps.cpp - The CUDA body of each op ---------------------------===//
//
// Every op that computes a tensor writes a fresh contiguous buffer, one uTask
// (a range of its flat output elements) per task of the uTask loop; inside a
// task the block's threads stride over the elements. Semantics follow the
// CPU executor (runtime/cpu), which is the reference the tests compare with.
//
// This file: the uTask and element loops and the addressing every op uses,
// the dispatch of computeOp, the elementwise and fused ops, in-place writes
// and the scalar ops. Contractions, reductions and NN ops are in
// CudaComputeOps.cpp; views, result shapes and data movement in
// CudaLayoutOps.cpp.
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

#include "codegen/CudaCodegenImpl.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

namespace {

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
    if (ir::isInteger(t)) anyInt = true;
  }
  if (tensorFloat) return tensorF64 ? DType::F64 : DType::F32;
  if (scalarFloat) return DType::F32;
  return anyInt ? DType::I64 : DType::I1;
}

/// Floating-point operations an elementwise op does per element, for the
/// emulator's count (COCKTAIL_COUNT_FLOPS): one per arithmetic op on floats,
/// none for copies, casts, selects and integer or boolean work.
int64_t elementwiseFlops(const Op& op) {
  switch (op.kind()) {
    case OpKind::Cast:
    case OpKind::CastLike:
    case OpKind::CopyInto:
    case OpKind::ToTensor:
    case OpKind::Full:
    case OpKind::FullLike:
    case OpKind::Where:
    case OpKind::MaskedFill: return 0;
    default: return ir::isFloating(computeType(op)) ? 1 : 0;
  }
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
    throw CodegenError{
        ir::Status::error("internal error: tile counters on an op without tiles", {}, ir::ErrorKind::Internal)};
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
  if (coords.size() < r)
    throw CodegenError{
        ir::Status::error("internal error: an operand of higher rank than its result", {}, ir::ErrorKind::Internal)};
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

// ---- tensor ops ----------------------------------------------------------------------------

void Generator::computeOp(const Op& op) {
  for (size_t i = 0; i < op.numResults(); ++i) {
    if (ctypeOf(op.result(i)->type().dtype()).empty() || !op.result(i)->type().isTensor())
      throw error(op, fmt::format("results of type {} are not supported by the CUDA generator yet",
                                  op.result(i)->type().str()));
    if (!op.result(i)->type().hasRank())
      throw error(op, fmt::format("the rank of its result ({}) is unknown after shape inference; the CUDA "
                                  "generator needs it",
                                  op.result(i)->type().str()));
  }
  std::vector<TensorRef> in;
  for (const Value* v : op.operands())  // an undef (layer_norm without weight) is no operand to sync on
    if (v->type().isTensor() && !isUndefValue(v)) in.push_back(tensor(v, op));
  // plan-memory may have put a functional write into its base's bytes: then
  // only the written part is written.
  if (op.info().opClass == OpClass::Write && ir::memPlan(op).aliasesOperand0) {
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
    case OpKind::Argmin:
    case OpKind::Any:
    case OpKind::All: emitReduction(op, out[0]); break;
    case OpKind::Softmax:
    case OpKind::LogSoftmax: emitSoftmax(op, out[0]); break;
    case OpKind::LayerNorm: emitLayerNorm(op, out[0]); break;
    case OpKind::Triu:
    case OpKind::Tril: emitTriangle(op, out[0]); break;
    case OpKind::Repeat: emitRepeat(op, out[0]); break;
    case OpKind::Conv2d: emitConv2d(op, out[0]); break;
    case OpKind::ConvTranspose2d: emitConvTranspose2d(op, out[0]); break;
    case OpKind::AdaptiveAvgPool2d:
    case OpKind::AdaptiveMaxPool2d: emitAdaptivePool2d(op, out); break;
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: emitPool2d(op, out[0]); break;
    case OpKind::Embedding: emitEmbedding(op, out[0]); break;
    case OpKind::Cat: emitCat(op, out[0]); break;
    case OpKind::IndexSelect: emitIndexSelect(op, out[0]); break;
    case OpKind::Gather: emitGather(op, out[0]); break;
    case OpKind::Index: emitIndex(op, out[0]); break;
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
        case OpClass::Creation: emitElementwise(op, out); break;
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
  // A publish nobody emitted would leave its consumers spinning forever.
  if (!publishAfterTask_.empty() || !taskWaits_.empty())
    throw error(op, "internal error: its body has no uTask loop for the tile counters", ir::ErrorKind::Internal);
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
  // A function of ir/ElementwiseMath.h (in every module's prelude), at the
  // op's compute type: one definition with the CPU's.
  auto math = [&](const char* name, const auto&... args) {
    std::string call = fmt::format("cocktail::math::{}<{}>(", name, ctypeOf(t));
    const char* sep = "";
    ((call += sep, call += args, sep = ", "), ...);
    return call + ")";
  };
  switch (op.kind()) {
    case OpKind::Add: return fmt::format("{} + {}", arg(0), arg(1));
    case OpKind::Sub: return fmt::format("{} - {}", arg(0), arg(1));
    case OpKind::Mul: return fmt::format("{} * {}", arg(0), arg(1));
    case OpKind::Div: return fmt::format("{} / {}", arg(0), arg(1));
    case OpKind::Pow: return fmt::format("{}({}, {})", fn("pow", t), arg(0), arg(1));
    case OpKind::Maximum: return math("maximum", arg(0), arg(1));
    case OpKind::Minimum: return math("minimum", arg(0), arg(1));
    case OpKind::Remainder: return math(isFloat ? "remainderFloat" : "remainderInt", arg(0), arg(1));
    case OpKind::FloorDiv: return math(isFloat ? "floorDivideFloat" : "floorDivideInt", arg(0), arg(1));
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
    case OpKind::Not: return t == DType::I1 ? fmt::format("!{}", arg(0)) : fmt::format("~{}", arg(0));
    case OpKind::Sigmoid: return math("sigmoid", arg(0));
    case OpKind::Tanh: return fmt::format("{}({})", fn("tanh", t), arg(0));
    case OpKind::Relu: return math("relu", arg(0));
    case OpKind::Exp: return fmt::format("{}({})", fn("exp", t), arg(0));
    case OpKind::Log: return fmt::format("{}({})", fn("log", t), arg(0));
    case OpKind::Sqrt: return fmt::format("{}({})", fn("sqrt", t), arg(0));
    case OpKind::Rsqrt: return fmt::format("{}({})", fn("rsqrt", t), arg(0));
    case OpKind::Abs: return isFloat ? fmt::format("{}({})", fn("fabs", t), arg(0)) : fmt::format("({0} < 0 ? -{0} : {0})", arg(0));
    case OpKind::Erf: return fmt::format("{}({})", fn("erf", t), arg(0));
    case OpKind::Gelu: return math("gelu", arg(0));
    case OpKind::Sin: return fmt::format("{}({})", fn("sin", t), arg(0));
    case OpKind::Cos: return fmt::format("{}({})", fn("cos", t), arg(0));
    case OpKind::Floor: return isFloat ? fmt::format("{}({})", fn("floor", t), arg(0)) : arg(0);
    case OpKind::Ceil: return isFloat ? fmt::format("{}({})", fn("ceil", t), arg(0)) : arg(0);
    case OpKind::Round: return isFloat ? math("roundHalfEven", arg(0)) : arg(0);
    case OpKind::Reciprocal: return math("reciprocal", arg(0));
    case OpKind::Silu: return math("silu", arg(0));
    case OpKind::Where: return fmt::format("{} ? {} : {}", arg(0), arg(1), arg(2));
    case OpKind::MaskedFill: return fmt::format("{} ? {} : {}", arg(1), arg(2), arg(0));
    case OpKind::Cast:
    case OpKind::CastLike:
    case OpKind::CopyInto:
    case OpKind::ToTensor:
    case OpKind::Full:
    case OpKind::FullLike:
    case OpKind::Arange: return arg(0);
    case OpKind::Hardswish:
    case OpKind::Hardsigmoid:
    case OpKind::LeakyRelu:
    case OpKind::Elu:
    case OpKind::Softplus:
    case OpKind::Mish: {
      if (!isFloat) throw error(op, fmt::format("'{}' of a {} tensor is not defined", op.name(), ir::dtypeName(t)));
      const std::string ct = ctypeOf(t);
      auto c = [&](const char* name) { return fmt::format("(({}){})", ct, op.attrs().getFloat(name).value_or(0.0)); };
      const std::string x0 = arg(0);
      switch (op.kind()) {
        case OpKind::Hardswish: return math("hardswish", x0);
        case OpKind::Hardsigmoid: return math("hardsigmoid", x0);
        case OpKind::LeakyRelu: return math("leakyRelu", x0, c("negative_slope"));
        case OpKind::Elu: return math("elu", x0, c("alpha"), c("scale"), c("input_scale"));
        case OpKind::Mish: return math("mish", x0);
        default: return math("softplus", x0, c("beta"), c("threshold"));
      }
    }
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
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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
    case OpKind::Arange: {  // start + e * step, as the CPU computes it (in double for a float result)
      // Its length is its type's (shape inference: constants, or a dim);
      // ATen's refusals of a zero or backward step have no kernel to go in.
      const ScalarRef& step = scalars_.at(op.operand(2));
      if (step.kind != ScalarRef::Kind::Literal || step.literalValue <= 0 ||
          op.operand(2)->type().dtype() != DType::I64)
        throw error(op, "only a constant positive step is supported by the CUDA generator");
      const ScalarRef& start = scalars_.at(op.operand(0));
      const ScalarRef& end = scalars_.at(op.operand(1));
      if (start.kind == ScalarRef::Kind::Literal && end.kind == ScalarRef::Kind::Literal &&
          op.operand(0)->type().dtype() == DType::I64 && op.operand(1)->type().dtype() == DType::I64 &&
          end.literalValue < start.literalValue)
        throw error(op,
                    fmt::format("arange from {} down to {} with a positive step (ATen refuses it)", start.literalValue,
                                end.literalValue),
                    ir::ErrorKind::User);
      args.push_back(
          ir::isFloating(o.dtype)
              ? fmt::format("((double){} + (double)e * (double){})", scalar(op.operand(0)), scalar(op.operand(2)))
              : fmt::format("((i64){} + e * (i64){})", scalar(op.operand(0)), scalar(op.operand(2))));
      break;
    }
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
  if (int64_t flops = elementwiseFlops(op)) line(fmt::format("COCKTAIL_COUNT_FLOPS({});", flops));
  closeElementLoop();
}

void Generator::emitFused(const Op& op, const std::vector<TensorRef>& out) {
  if (const Op* head = ir::fusedHead(op))
    throw error(op, fmt::format("a fused op headed by '{}' (fuse-epilogue) runs on the CPU only: the CUDA "
                                "generator has no contraction epilogues yet",
                                head->name()));
  const ir::Region& body = op.region(0);
  const TensorRef& o = out[0];
  for (const TensorRef& r : out)
    if (!(r.dims == o.dims)) throw error(op, "a fused op whose results differ in shape is not supported yet");
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  const std::vector<std::string> c = emitCoords(o.dims, "e", "c", true);
  std::map<const Value*, std::string> local;
  int next = 0;
  int64_t flops = 0;
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
    flops += elementwiseFlops(inner);
  }
  if (flops) line(fmt::format("COCKTAIL_COUNT_FLOPS({});", flops));
  closeElementLoop();
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

}  // namespace cocktail::codegen
