//===- runtime/cpu/Kernels.h - CPU kernels with PyTorch semantics ------===//
//
// A small "mini-ATen": the functions the CPU executor calls for every IR op.
// Each one has exactly the semantics of the PyTorch operator of the same
// name (type promotion, broadcasting, negative dims, clamping of slices,
// first-occurrence ties, NaN propagation), but works on runtime::Tensor and
// always returns a new contiguous tensor: no views, no aliasing.
//
// Supported element types are F32, F64, I64, I32 and I1; F16 and BF16 throw
// std::invalid_argument. Bad shapes and unsupported dtypes throw
// std::invalid_argument, out-of-range dims std::out_of_range, and indices
// out of range IndexOutOfRange (a std::out_of_range);
// messages name the op and the shapes involved.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "runtime/Tensor.h"
#include "runtime/cpu/Activation.h"

namespace cocktail::runtime::cpu {

/// An index the data chose (an index tensor's element, select's index, an
/// embedding's id) outside its dim: the caller's input is at fault, as with
/// ATen's IndexError, and the executor reports a user error.
struct IndexOutOfRange : std::out_of_range {
  using std::out_of_range::out_of_range;
};

class PackedConvWeights;
class PackedPanels;

// ---- types and creation -------------------------------------------------------

/// torch.result_type(a, b): the category (bool < integer < floating) of a
/// dimensioned operand dominates that of a 0-d operand; within the winning
/// category the types are promoted. Python numbers arrive as 0-d I64 / F32.
DType resultType(const Tensor& a, const Tensor& b);
/// torch.promote_types.
DType promoteTypes(DType a, DType b);

/// x.to(dtype), always a copy.
Tensor cast(const Tensor& x, DType dtype);

/// torch.full(shape, value, dtype=dtype); `value` is a one-element tensor.
Tensor full(const Shape& shape, const Tensor& value, DType dtype);
/// torch.arange(start, end, step, dtype=dtype).
Tensor arange(double start, double end, double step, DType dtype);
/// torch.eye(n, m, dtype=dtype); m defaults to n.
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, DType dtype = DType::F32);

// ---- elementwise ------------------------------------------------------------------

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Remainder, FloorDivide,
  Eq, Ne, Lt, Le, Gt, Ge,
  LogicalAnd, LogicalOr, LogicalXor,
  BitwiseAnd, BitwiseOr, BitwiseXor,
};

/// Broadcasting binary op. Arithmetic ops compute in resultType(a, b); Div is
/// true division (integers give F32); comparisons compute in the promoted
/// type and, like the logical ops, return I1.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
/// torch.add(a, b, alpha=alpha) / torch.sub(a, b, alpha=alpha).
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);

enum class UnaryOp {
  Neg, Sigmoid, Tanh, Relu, Exp, Log, Sqrt, Rsqrt, Abs, LogicalNot,
  Gelu /* erf form */, Erf, Sin, Cos, Floor, Ceil, Round, Reciprocal, Silu, BitwiseNot,
};

/// Elementwise unary op. Floating functions (sigmoid, exp, ...) promote
/// integer and bool inputs to F32; rounding ops return integers unchanged.
Tensor unary(UnaryOp op, const Tensor& x);

/// hardswish / hardsigmoid / leaky_relu / elu / softplus / mish (runtime/cpu/Activation.h)
/// on a floating tensor; integer and bool inputs throw, as in ATen.
Tensor activation(Activation op, const Tensor& x, const ActivationParams& params = {});

/// torch.where(cond, a, b), broadcasting all three; cond is read as bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// x.masked_fill(mask, value): x and mask broadcast; value is 0-d and cast to x's dtype.
Tensor maskedFill(const Tensor& x, const Tensor& mask, const Tensor& value);
/// torch.clamp(x, min, max), keeping x's dtype (bounds are cast to it; ATen
/// would promote an integer tensor clamped by a float bound to F32).
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);

// ---- reductions ----------------------------------------------------------------

/// x.sum(dims, keepdim, dtype); empty `dims` reduces everything. Bool and
/// integer inputs sum to I64 unless `dtype` says otherwise.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
/// x.mean(dims, keepdim, dtype); needs a floating input or dtype.
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
/// torch.amax / torch.amin; empty `dims` reduces everything.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
/// torch.max(x, dim, keepdim): values and I64 indices (first occurrence; NaN wins).
std::pair<Tensor, Tensor> maxDim(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> minDim(const Tensor& x, int64_t dim, bool keepdim = false);
/// torch.max(x) / torch.min(x): a 0-d tensor; throws on an empty input.
Tensor maxAll(const Tensor& x);
Tensor minAll(const Tensor& x);
/// torch.argmax / torch.argmin; without a dim the input is flattened.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
/// torch.any / torch.all, returning I1.
Tensor any(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor all(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
/// torch.softmax / torch.log_softmax over one dim (floating inputs only).
Tensor softmax(const Tensor& x, int64_t dim);
Tensor logSoftmax(const Tensor& x, int64_t dim);
/// torch.topk(x, k, dim, largest, sorted=True): values and I64 indices, in
/// order (NaN counts as the largest value; equal values keep index order).
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest = true);
/// torch.cumsum(x, dim, dtype): integer and bool inputs sum to I64 unless
/// `dtype` says otherwise.
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);

// ---- linear algebra (OpenBLAS for F32/F64) -------------------------------------------

/// torch.matmul: dot, mv, mm and broadcast batched products.
Tensor matmul(const Tensor& a, const Tensor& b);
/// torch.mm: [n, k] x [k, m].
Tensor mm(const Tensor& a, const Tensor& b);
/// torch.bmm: [b, n, k] x [b, k, m].
Tensor bmm(const Tensor& a, const Tensor& b);
/// torch.nn.functional.linear: x [..., in], w [out, in], bias [out] or null.
/// `packed`: w packed at load (Gemm.h, BLayout::Transposed), which an f32
/// product of more than one row runs on instead of packing w per call.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor* bias, const PackedPanels* packed = nullptr);
/// torch.addmm: beta * input + alpha * (m1 @ m2); input broadcasts to the product.
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta = 1.0,
             double alpha = 1.0);
/// torch.baddbmm: beta * input + alpha * bmm(b1, b2).
Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta = 1.0,
               double alpha = 1.0);

// ---- shapes, views and indexing (all return copies) ------------------------------------

/// x.reshape(shape); one entry may be -1.
Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor unsqueeze(const Tensor& x, int64_t dim);
/// Removes every size-1 dim.
Tensor squeeze(const Tensor& x);
/// Removes `dim` if its size is 1, else returns a copy of x.
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t startDim = 0, int64_t endDim = -1);
/// x.expand(shape); -1 keeps a size, new leading dims may be added.
Tensor expand(const Tensor& x, const std::vector<int64_t>& shape);
/// x[start:end:step] along dim, with PyTorch's clamping; step must be positive.
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> end, int64_t step = 1);
/// x.select(dim, index); a negative index counts from the end.
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
/// torch.index_select with a 0-d or 1-d I64/I32 index.
Tensor indexSelect(const Tensor& x, int64_t dim, const Tensor& index);
/// x[indices]: advanced indexing. nullopt entries are full slices; index
/// tensors (I64/I32) broadcast together; I1 masks stand for their nonzero()
/// coordinates. Adjacent index tensors keep their place in the result,
/// separated ones move to the front, as in NumPy and PyTorch.
Tensor index(const Tensor& x, const std::vector<std::optional<Tensor>>& indices);
/// torch.gather(x, dim, index).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
/// torch.cat; inputs are promoted to a common dtype; 1-d empty tensors are skipped.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t splitSize, int64_t dim = 0);
std::vector<Tensor> splitWithSizes(const Tensor& x, const std::vector<int64_t>& sizes,
                                   int64_t dim = 0);
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

// ---- functional writes: the new base after an in-place write into a view ---------------
// `src`/`values` broadcast to the written region and are cast to base's dtype.
// `base` is taken by value: when the caller moves in a tensor whose buffer
// nothing else shares (Tensor::uniquelyOwned), the write happens in that
// buffer and no copy of the base is made; otherwise the base is cloned first.

/// torch.slice_scatter.
Tensor sliceScatter(Tensor base, const Tensor& src, int64_t dim, std::optional<int64_t> start,
                    std::optional<int64_t> end, int64_t step = 1);
/// torch.select_scatter.
Tensor selectScatter(Tensor base, const Tensor& src, int64_t dim, int64_t index);
/// base.index_put(indices, values, accumulate), indices as in index().
Tensor indexPut(Tensor base, const std::vector<std::optional<Tensor>>& indices,
                const Tensor& values, bool accumulate = false);
/// dst.copy_(src): dst's shape and dtype, src broadcast and cast into it.
Tensor copyInto(const Tensor& dst, const Tensor& src);
/// torch.scatter(base, dim, index, src); a 0-d src is the scalar-value form.
Tensor scatter(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src);

// ---- neural-network ops ---------------------------------------------------------------

/// torch.nn.functional.embedding: weight [V, D], indices (I64/I32) of any shape.
Tensor embedding(const Tensor& weight, const Tensor& indices);
/// Run on each finished tile of a kernel's f32 output while the tile is
/// still in cache, (the output's elements, first element, rows, width, row
/// stride); it may rewrite the tile in place. A fused op's epilogue
/// (ir::fusedHead). Tiles have at most 256 elements; they may run on any
/// worker, side by side.
using Epilogue = std::function<void(float* out, int64_t begin, int64_t rows, int64_t width, int64_t stride)>;

/// torch.conv2d on NCHW (or unbatched CHW) input; im2col + GEMM. An f32
/// convolution calls `epilogue` (if given) on every range of its output.
/// `packed`: the weight packed at load (PackedConv.h), which an f32
/// convolution runs on: as Winograd F(2x2, 3x3) if it is in that layout and
/// the convolution is 3x3 stride 1 (winogradApplies), on its blocks of
/// channels where packedConvPays; otherwise conv2d reads `w` itself.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor* bias,
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0},
              std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1, const Epilogue* epilogue = nullptr,
              const PackedConvWeights* packed = nullptr);
/// torch.conv_transpose2d on NCHW (or unbatched CHW) input, w [C, O/groups,
/// kh, kw]: per image and group one GEMM (w^T @ x) and a col2im that adds
/// each column into the output (ConvTranspose.cpp).
Tensor convTranspose2d(const Tensor& x, const Tensor& w, const Tensor* bias, std::array<int64_t, 2> stride = {1, 1},
                       std::array<int64_t, 2> padding = {0, 0}, std::array<int64_t, 2> outputPadding = {0, 0},
                       std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);
/// torch.batch_norm in inference mode; channels are dim 1.
Tensor batchNorm(const Tensor& x, const Tensor& runningMean, const Tensor& runningVar,
                 const Tensor* weight, const Tensor* bias, double eps);
/// torch.layer_norm over the trailing `normalizedShape` dims.
Tensor layerNorm(const Tensor& x, const std::vector<int64_t>& normalizedShape,
                 const Tensor* weight, const Tensor* bias, double eps);
/// torch.max_pool2d on NCHW or CHW input. A stride entry of 0 means "same as
/// the kernel" (PyTorch's default for an empty stride list).
Tensor maxPool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                 std::array<int64_t, 2> padding = {0, 0}, std::array<int64_t, 2> dilation = {1, 1},
                 bool ceilMode = false);
/// torch.avg_pool2d on NCHW or CHW input; stride 0 as in maxPool2d.
Tensor avgPool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                 std::array<int64_t, 2> padding = {0, 0}, bool ceilMode = false,
                 bool countIncludePad = true, std::optional<int64_t> divisorOverride = std::nullopt);
/// torch.adaptive_avg_pool2d on NCHW or CHW input.
Tensor adaptiveAvgPool2d(const Tensor& x, std::array<int64_t, 2> outputSize);
/// torch.adaptive_max_pool2d on NCHW or CHW input: values and I64 indices
/// (flat within each plane; NaN wins, the first maximum otherwise).
std::pair<Tensor, Tensor> adaptiveMaxPool2d(const Tensor& x, std::array<int64_t, 2> outputSize);

}  // namespace cocktail::runtime::cpu
