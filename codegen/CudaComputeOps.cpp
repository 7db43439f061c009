//===- codegen/CudaComputeOps.cpp - Contractions, reductions, NN ops -----------===//
//
// The bodies of linear (a warp per output, its weight rows from shared
// memory where a persistent loop staged them), matmul, the reductions,
// softmax, conv2d, the poolings and embedding: one uTask per range of flat
// output elements, as every op (CudaOps.cpp).
//
//===----------------------------------------------------------------------===//
#include <algorithm>

#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"
#include "ir/Printer.h"

namespace cocktail::codegen {

namespace {

/// A 2-d window attribute (stride, padding, ...): [a, b], a single [a] as
/// [a, a], or [dflt, dflt] when absent.
std::vector<int64_t> pairAttr(const Op& op, const char* name, int64_t dflt) {
  auto v = op.attrs().getInts(name).value_or(std::vector<int64_t>{dflt, dflt});
  return v.size() == 2 ? v : std::vector<int64_t>{v[0], v[0]};
}

}  // namespace

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
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), true,
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
  line("COCKTAIL_COUNT_FLOPS(2);");
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
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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
  line("COCKTAIL_COUNT_FLOPS(2);");
  close();
  line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

void Generator::emitReduction(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const ir::Attributes& attrs = op.attrs();
  const bool keepdim = attrs.getBool("keepdim").value_or(false);
  const bool arg = op.kind() == OpKind::Argmax || op.kind() == OpKind::Argmin;
  const bool logical = op.kind() == OpKind::Any || op.kind() == OpKind::All;
  std::vector<int64_t> reduced;
  if (arg || logical) {  // one optional dim
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

  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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
  const DType acc = arg ? xt : logical ? DType::I1 : o.dtype;
  switch (op.kind()) {
    case OpKind::Any: line("bool acc = false;"); break;
    case OpKind::All: line("bool acc = true;"); break;
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
    case OpKind::Mean: line("acc += v; COCKTAIL_COUNT_FLOPS(1);"); break;
    case OpKind::Amax: line("if (first || v > acc || v != v) acc = v; first = false;"); break;
    case OpKind::Amin: line("if (first || v < acc || v != v) acc = v; first = false;"); break;
    case OpKind::Argmax: line("if (first || v > acc) { acc = v; best = flat; } first = false; ++flat;"); break;
    case OpKind::Argmin: line("if (first || v < acc) { acc = v; best = flat; } first = false; ++flat;"); break;
    case OpKind::Any: line("acc = acc || v;"); break;
    case OpKind::All: line("acc = acc && v;"); break;
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
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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
  line("COCKTAIL_COUNT_FLOPS(3);");  // a subtraction, an exponential, an addition
  close();
  if (op.kind() == OpKind::Softmax)
    line(fmt::format("{}[e] = {}({} - m) / s;", bufferPointer(o), fn("exp", t), castTo(t, at(x, c))));
  else
    line(fmt::format("{}[e] = {} - m - {}(s);", bufferPointer(o), castTo(t, at(x, c)), fn("log", t)));
  closeElementLoop();
}

void Generator::emitLayerNorm(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const std::vector<int64_t> shape = op.attrs().getInts("shape").value_or(std::vector<int64_t>{});
  const size_t k = shape.size(), r = x.dims.size();
  if (k < 1 || k > r) throw error(op, fmt::format("normalizes {} dims of a rank-{} input", k, r));
  for (size_t i = 0; i < k; ++i)
    if (x.dims[r - k + i].constant() != shape[i])
      throw error(op,
                  fmt::format("normalized_shape {} does not match the input's trailing dims", fmt::join(shape, "x")));
  const DType t = o.dtype;
  const std::string ct = ctypeOf(t);
  int64_t m = 1;
  for (int64_t n : shape) m *= n;
  // Each element computes its row's mean and variance, as emitSoftmax does
  // its row's max and sum: a row's elements need no other thread.
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  std::vector<std::string> rc = c;
  auto openRow = [&] {
    open(fmt::format("for (i64 j = 0; j < {}; ++j)", m));
    line("i64 rest = j;");
    for (size_t i = r; i-- > r - k;) {
      rc[i] = fmt::format("j{}", i);
      line(fmt::format("const i64 j{} = rest % {}; rest /= {};", i, shape[i - (r - k)], shape[i - (r - k)]));
    }
  };
  line(fmt::format("{} mean = 0;", ct));
  openRow();
  line(fmt::format("mean += {};", castTo(t, at(x, rc))));
  close();
  line(fmt::format("mean /= ({}){};", ct, m));
  line(fmt::format("{} var = 0;", ct));
  openRow();
  line(fmt::format("const {} d = {} - mean;", ct, castTo(t, at(x, rc))));
  line("var += d * d;");
  close();
  line(fmt::format("var /= ({}){};", ct, m));
  std::string v = fmt::format("({} - mean) / {}(var + ({}){})", castTo(t, at(x, c)), fn("sqrt", t), ct,
                              op.attrs().getFloat("eps").value_or(1e-5));
  // weight and bias have the normalized shape: at() aligns them to the right.
  if (!isUndefValue(op.operand(1))) v = fmt::format("{} * {}", v, castTo(t, at(tensor(op.operand(1), op), c)));
  if (!isUndefValue(op.operand(2))) v = fmt::format("{} + {}", v, castTo(t, at(tensor(op.operand(2), op), c)));
  line(fmt::format("{}[e] = {};", bufferPointer(o), v));
  closeElementLoop();
}

void Generator::emitConv2d(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& w = tensor(op.operand(1), op);
  if (x.rank() != 4 || w.rank() != 4) throw error(op, "expects x[N, C, H, W] and w[O, C/groups, KH, KW]");
  const auto stride = pairAttr(op, "stride", 1), pad = pairAttr(op, "padding", 0), dil = pairAttr(op, "dilation", 1);
  const int64_t groups = op.attrs().getInt("groups").value_or(1);
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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
  line("COCKTAIL_COUNT_FLOPS(2);");
  close();
  close();
  close();
  line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

void Generator::emitPool2d(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  if (x.rank() != 4) throw error(op, "expects x[N, C, H, W]");
  const auto kernel = pairAttr(op, "kernel", 1), pad = pairAttr(op, "padding", 0), dil = pairAttr(op, "dilation", 1);
  auto stride = pairAttr(op, "stride", 0);
  for (int i = 0; i < 2; ++i)
    if (stride[i] == 0) stride[i] = kernel[i];  // PyTorch: the stride defaults to the kernel
  const bool isMax = op.kind() == OpKind::MaxPool2d;
  const std::string H = x.dims[2].str(), W = x.dims[3].str();
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
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

/// Gathers each output element's taps: input pixel (ih, iw) reaches output
/// (oh, ow) through tap (kh, kw) where oh = ih * stride - pad + kh * dilation.
void Generator::emitConvTranspose2d(const Op& op, const TensorRef& o) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& w = tensor(op.operand(1), op);
  if (x.rank() != 4 || w.rank() != 4) throw error(op, "expects x[N, C, H, W] and w[C, O/groups, KH, KW]");
  const auto stride = pairAttr(op, "stride", 1), pad = pairAttr(op, "padding", 0), dil = pairAttr(op, "dilation", 1);
  const int64_t groups = op.attrs().getInt("groups").value_or(1);
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");  // n, o, oh, ow
  const std::string outPerGroup = w.dims[1].str();
  line(fmt::format("{} acc = {};", ctypeOf(o.dtype),
                   op.numOperands() > 2 ? at(tensor(op.operand(2), op), {c[1]}) : "0"));
  line(fmt::format("const i64 grp = {} / {}, oc = {} - grp * {};", c[1], outPerGroup, c[1], outPerGroup));
  line(fmt::format("const i64 cin = {} / {}, cbase = grp * cin;", x.dims[1].str(), groups));
  open("for (i64 ci = 0; ci < cin; ++ci)");
  open(fmt::format("for (i64 kh = 0; kh < {}; ++kh)", w.dims[2].str()));
  line(fmt::format("const i64 th = {} + {} - kh * {};", c[2], pad[0], dil[0]));
  line(fmt::format("if (th < 0 || th % {0} != 0 || th / {0} >= {1}) continue;", stride[0], x.dims[2].str()));
  open(fmt::format("for (i64 kw = 0; kw < {}; ++kw)", w.dims[3].str()));
  line(fmt::format("const i64 tw = {} + {} - kw * {};", c[3], pad[1], dil[1]));
  line(fmt::format("if (tw < 0 || tw % {0} != 0 || tw / {0} >= {1}) continue;", stride[1], x.dims[3].str()));
  line(fmt::format(
      "acc += {} * {};",
      at(x, {c[0], "(cbase + ci)", fmt::format("(th / {})", stride[0]), fmt::format("(tw / {})", stride[1])}),
      at(w, {"(cbase + ci)", "oc", "kh", "kw"})));
  line("COCKTAIL_COUNT_FLOPS(2);");
  close();
  close();
  close();
  line(fmt::format("{}[e] = acc;", bufferPointer(o)));
  closeElementLoop();
}

/// adaptive_avg_pool2d and adaptive_max_pool2d (values and i64 indices):
/// output (oh, ow) covers rows [oh*H/Ho, ceil((oh+1)*H/Ho)), columns alike;
/// the max keeps the first maximum, a NaN wins (the CPU kernel's rules).
void Generator::emitAdaptivePool2d(const Op& op, const std::vector<TensorRef>& out) {
  const TensorRef& x = tensor(op.operand(0), op);
  const TensorRef& o = out[0];
  if (x.rank() != 4) throw error(op, "expects x[N, C, H, W]");
  const std::string H = x.dims[2].str(), W = x.dims[3].str(), Ho = o.dims[2].str(), Wo = o.dims[3].str();
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  line(fmt::format("const i64 h0 = {0} * {1} / {2}, h1 = (({0} + 1) * {1} + {2} - 1) / {2};", c[2], H, Ho));
  line(fmt::format("const i64 w0 = {0} * {1} / {2}, w1 = (({0} + 1) * {1} + {2} - 1) / {2};", c[3], W, Wo));
  const bool isMax = op.kind() == OpKind::AdaptiveMaxPool2d;
  if (isMax)
    // From the window's first element (never empty), as from -inf: the same picks.
    line(fmt::format("{} m = {}; i64 mi = h0 * {} + w0;", ctypeOf(o.dtype), at(x, {c[0], c[1], "h0", "w0"}), W));
  else
    line("double s = 0;");
  open("for (i64 ih = h0; ih < h1; ++ih)");
  open("for (i64 iw = w0; iw < w1; ++iw)");
  if (isMax) {
    line(fmt::format("const {} v = {};", ctypeOf(o.dtype), at(x, {c[0], c[1], "ih", "iw"})));
    line(fmt::format("if (v > m || v != v) {{ m = v; mi = ih * {} + iw; }}", W));
  } else {
    line(fmt::format("s += {};", at(x, {c[0], c[1], "ih", "iw"})));
  }
  close();
  close();
  if (isMax) {
    line(fmt::format("{}[e] = m;", bufferPointer(o)));
    line(fmt::format("{}[e] = mi;", bufferPointer(out[1])));
  } else {
    line(fmt::format("{}[e] = ({})(s / (double)((h1 - h0) * (w1 - w0)));", bufferPointer(o), ctypeOf(o.dtype)));
  }
  closeElementLoop();
}

void Generator::emitEmbedding(const Op& op, const TensorRef& o) {
  const TensorRef& w = tensor(op.operand(0), op);
  const TensorRef& idx = tensor(op.operand(1), op);
  openElementLoop(o, ir::tilesOf(op), ir::tileElemsOf(op), false);
  std::vector<std::string> c = emitCoords(o.dims, "e", "c");
  std::vector<std::string> ic(c.begin(), c.end() - 1);
  line(fmt::format("const i64 row = (i64){};", idx.rank() == 0 ? at(idx, {}) : at(idx, ic)));
  line(fmt::format("{}[e] = {};", bufferPointer(o), at(w, {"row", c.back()})));
  closeElementLoop();
}

}  // namespace cocktail::codegen
