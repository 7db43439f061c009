"""Cases of tests/e2e/op_models.py: tensor ops by family (elementwise,
reductions, linear algebra, views, writes, creation, nn)."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from op_case import case, mask, randint, randn


# ============================================================================================
# elementwise
# ============================================================================================


@case("arith", ["x:f32[3,4]", "y:f32[3,4]", "b:f32[4]", "s:f64", "k:i64"],
      ["add", "add_alpha", "add_scalar", "add_broadcast", "sub", "sub_alpha", "sub_scalar", "mul", "mul_scalar",
       "mul_int_scalar", "div", "div_scalar", "div_floor", "div_floor_scalar", "div_none", "rsub", "rsub_alpha",
       "pow", "pow_scalar", "pow_float_scalar", "maximum", "minimum", "remainder", "remainder_scalar",
       "floor_divide", "floor_divide_scalar", "neg_op"],
      lambda g: [randn(g, 3, 4), randn(g, 3, 4) + 3.0, randn(g, 4), 0.75, 3])
class Arith(nn.Module):
    def forward(self, x: Tensor, y: Tensor, b: Tensor, s: float, k: int):
        return (x + y, torch.add(x, y, alpha=2), x + s, x + b,
                x - y, torch.sub(x, y, alpha=3), x - k,
                x * y, x * s, x * k,
                x / y, x / s, torch.div(x * 5.0, y, rounding_mode="floor"),
                torch.div(x * 5.0, 2, rounding_mode="floor"), torch.div(x, y, rounding_mode=None),
                1.0 - x, torch.rsub(x, y, alpha=2),
                torch.pow(x.abs() + 0.5, y), x ** 2, torch.pow(x.abs(), s),
                torch.maximum(x, y - 3.0), torch.minimum(x, y - 3.0),
                torch.remainder(x * 4.0, y), torch.remainder(x * 4.0, 1.5),
                torch.floor_divide(x * 4.0, y), torch.floor_divide(x * 4.0, 1.5), -x)


@case("arith_int", ["a:i64[2,5]", "c:i64[2,5]", "k:i64"],
      ["add", "sub", "mul", "mul_scalar", "remainder", "remainder_scalar", "floor_div", "div_true", "neg", "abs",
       "maximum", "pow_scalar"],
      lambda g: [randint(g, -20, 20, 2, 5), randint(g, 1, 6, 2, 5) * (1 - 2 * randint(g, 0, 2, 2, 5)), 3])
class ArithInt(nn.Module):
    def forward(self, a: Tensor, c: Tensor, k: int):
        return (a + c, a - c, a * c, a * k, torch.remainder(a, c), a % k,
                torch.div(a, c, rounding_mode="floor"), a / c, -a, a.abs(), torch.maximum(a, c), a ** 2)


@case("compare", ["x:f32[3,4]", "y:f32[3,4]", "s:f64"],
      ["eq", "ne", "lt", "le", "gt", "ge", "eq_scalar", "ne_scalar", "lt_scalar", "le_scalar", "gt_scalar",
       "ge_scalar", "eq_int"],
      lambda g: (lambda x, y: [x, torch.where(mask(g, 3, 4), x, y), 0.0])(randn(g, 3, 4), randn(g, 3, 4)))
class Compare(nn.Module):
    def forward(self, x: Tensor, y: Tensor, s: float):
        return (x == y, x != y, x < y, x <= y, x > y, x >= y, x == s, x != s, x < s, x <= s, x > s, x >= s,
                x.floor() == 0)


@case("logical", ["m:i1[3,4]", "n:i1[3,4]", "a:i64[3,4]", "c:i64[3,4]"],
      ["and", "or", "xor", "logical_and", "logical_or", "logical_xor", "logical_not",
       "bitwise_and", "bitwise_or", "and_int", "or_int"],
      lambda g: [mask(g, 3, 4), mask(g, 3, 4), randint(g, 0, 16, 3, 4), randint(g, 0, 16, 3, 4)])
class Logical(nn.Module):
    def forward(self, m: Tensor, n: Tensor, a: Tensor, c: Tensor):
        return (m & n, m | n, m ^ n, torch.logical_and(m, n), torch.logical_or(m, n), torch.logical_xor(m, n),
                torch.logical_not(m), torch.bitwise_and(a, c),
                torch.bitwise_or(a, c), a & c, a | c)


@case("unary", ["x:f32[4,5]"],
      ["neg", "sigmoid", "tanh", "relu", "exp", "log", "sqrt", "rsqrt", "abs", "gelu", "erf", "sin", "cos",
       "floor", "ceil", "round", "reciprocal", "silu", "relu_fn", "gelu_fn", "silu_fn", "round_halves"],
      lambda g: [randn(g, 4, 5) * 3.0])
class Unary(nn.Module):
    def forward(self, x: Tensor):
        halves = torch.floor(x * 2.0) / 2.0  # ..., -0.5, 0.5, 1.5, 2.5: round half to even
        return (torch.neg(x), torch.sigmoid(x), torch.tanh(x), torch.relu(x), torch.exp(x),
                torch.log(x.abs() + 0.1), torch.sqrt(x.abs()), torch.rsqrt(x.abs() + 0.1), torch.abs(x),
                torch.nn.functional.gelu(x), torch.erf(x), torch.sin(x), torch.cos(x), torch.floor(x), torch.ceil(x),
                torch.round(x), torch.reciprocal(x), torch.nn.functional.silu(x), F.relu(x), F.gelu(x),
                F.silu(x), torch.round(halves))


@case("activations", ["x:f32[4,6]", "img:f32[1,3,8,8]", "w:f32[4,3,3,3]"],
      ["hardtanh", "hardtanh_bounds", "relu6_module", "relu6_fn", "hardswish", "hardsigmoid", "leaky_relu",
       "leaky_relu_slope", "elu", "elu_alpha", "elu_scaled", "softplus", "softplus_beta", "silu_module",
       "hardtanh_inplace", "leaky_relu_inplace", "elu_inplace", "hardswish_inplace", "fused_chain", "conv_relu6",
       "conv_hardswish"],
      {"": lambda g: [randn(g, 4, 6) * 4.0, randn(g, 1, 3, 8, 8), randn(g, 4, 3, 3, 3)],
       # around the kinks: hardswish's -3 and 3, softplus's threshold, zero
       "edges": lambda g: [torch.tensor([[-3.0, 3.0, 0.0, -0.0, 20.0, 10.0]] * 4) + randn(g, 4, 6) * 1e-3,
                           randn(g, 1, 3, 8, 8) * 3.0, randn(g, 4, 3, 3, 3)]})
class Activations(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu6 = nn.ReLU6()
        self.silu = nn.SiLU()

    def forward(self, x: Tensor, img: Tensor, w: Tensor):
        a, b, c, d = x * 1.0, x * 1.0, x * 1.0, x * 1.0
        return (F.hardtanh(x), F.hardtanh(x, -0.5, 2.0), self.relu6(x), F.relu6(x), F.hardswish(x),
                F.hardsigmoid(x), F.leaky_relu(x), F.leaky_relu(x, 0.2), F.elu(x), F.elu(x, 0.5),
                torch._C._nn.elu(x, 1.5, 1.2, 0.7), F.softplus(x), F.softplus(x, 2.0, 5.0),
                self.silu(x), F.hardtanh(a, 0.0, 6.0, inplace=True), F.leaky_relu(b, 0.1, inplace=True),
                F.elu(c, 1.0, inplace=True), F.hardswish(d, inplace=True),
                # one fused uOperator at -O2
                F.softplus(F.elu(F.leaky_relu(x, 0.3) * 2.0) + 0.5) - F.hardsigmoid(x + 1.0),
                # clamp and hardswish in the epilogue of a convolution
                self.relu6(F.conv2d(img, w, padding=1)), F.hardswish(F.conv2d(img, w, stride=2)))


@case("where_fill_clamp", ["x:f32[3,4]", "y:f32[3,4]", "m:i1[3,4]", "v:f32[]", "s:f64"],
      ["where", "where_scalar_other", "where_scalar_self", "where_cond_expr", "masked_fill", "masked_fill_int",
       "masked_fill_tensor", "masked_fill_arg", "clamp", "clamp_min_kw", "clamp_max_kw", "clamp_min",
       "clamp_max", "clamp_int"],
      lambda g: [randn(g, 3, 4), randn(g, 3, 4), mask(g, 3, 4), randn(g), 0.25])
class WhereFillClamp(nn.Module):
    def forward(self, x: Tensor, y: Tensor, m: Tensor, v: Tensor, s: float):
        return (torch.where(m, x, y), torch.where(m, x, 0.0), torch.where(m, 2.0, y), torch.where(x > y, x, y),
                x.masked_fill(m, 0.5), x.masked_fill(m, 2), x.masked_fill(m, v), x.masked_fill(m, s),
                torch.clamp(x, -0.5, 0.5), torch.clamp(x, min=0.1), torch.clamp(x, max=-0.1),
                torch.clamp_min(x, 0.2), torch.clamp_max(x, 0.2), torch.clamp((x * 10.0).long(), -3, 4))


@case("to_dtype", ["x:f32[3,4]", "a:i64[3,4]", "m:i1[3,4]"],
      ["to_i64", "to_f64", "float", "long", "double", "int32", "to_bool", "int_to_f32", "bool_to_f32",
       "bool_to_i64", "to_same", "f64_back"],
      lambda g: [randn(g, 3, 4) * 5.0, randint(g, -5, 5, 3, 4), mask(g, 3, 4)])
class ToDtype(nn.Module):
    def forward(self, x: Tensor, a: Tensor, m: Tensor):
        return (x.to(torch.int64), x.to(torch.float64), a.float(), x.long(), x.double(), x.int(),
                x.to(torch.bool), a.to(torch.float32), m.to(torch.float32), m.long(),
                x.to(dtype=torch.float32), x.double().float())


@case("identity", ["x:f32[3,4]"],
      ["clone", "contiguous", "detach", "dropout_eval", "clone_then_mutated", "x_after"],
      lambda g: [randn(g, 3, 4)])
class Identity(nn.Module):
    def forward(self, x: Tensor):
        c = x.clone()
        d = x.clone()
        d.add_(1.0)   # must not change x or c
        return (c, x.t().contiguous(), x.detach(), F.dropout(x, 0.5, False), d, x)


# ============================================================================================
# reductions
# ============================================================================================


@case("reduce_sum_mean", ["x:f32[3,4,5]", "a:i64[3,4]", "m:i1[3,4]"],
      ["sum", "sum_dim", "sum_dims_keepdim", "sum_neg_dim", "sum_dtype", "sum_int", "sum_bool", "sum_int_dim",
       "mean", "mean_dim", "mean_dims_keepdim", "mean_neg"],
      lambda g: [randn(g, 3, 4, 5), randint(g, -9, 9, 3, 4), mask(g, 3, 4)])
class ReduceSumMean(nn.Module):
    def forward(self, x: Tensor, a: Tensor, m: Tensor):
        return (x.sum(), x.sum(1), x.sum([0, 2], keepdim=True), torch.sum(x, -1), x.sum(dtype=torch.float64),
                a.sum(), m.sum(), a.sum(0), x.mean(), x.mean(1), x.mean([1, 2], True), torch.mean(x, -2))


@case("reduce_max_min", ["x:f32[3,5]", "y:f32[3,5]", "a:i64[3,5]"],
      ["max", "min", "max_dim.values", "max_dim.indices", "min_dim_keepdim.values", "min_dim_keepdim.indices",
       "max_binary", "min_binary", "amax", "amin_keepdim", "max_int", "max_dim_int.values", "max_dim_int.indices"],
      lambda g: [randn(g, 3, 5), randn(g, 3, 5), randint(g, -50, 50, 3, 5)])
class ReduceMaxMin(nn.Module):
    def forward(self, x: Tensor, y: Tensor, a: Tensor):
        mv, mi = torch.max(x, 1)
        nv, ni = x.min(dim=0, keepdim=True)
        iv, ii = a.max(-1)
        return (x.max(), torch.min(x), mv, mi, nv, ni, torch.max(x, y), torch.min(x, y), torch.amax(x, 1),
                torch.amin(x, [0, 1], True), a.max(), iv, ii)


@case("reduce_arg_any_softmax", ["x:f32[3,5]", "m:i1[3,5]"],
      ["argmax", "argmax_dim", "argmin_dim_keepdim", "argmin", "any", "any_dim", "all", "all_dim", "softmax",
       "softmax_neg", "log_softmax", "log_softmax_0"],
      lambda g: [randn(g, 3, 5), mask(g, 3, 5)])
class ReduceArgAnySoftmax(nn.Module):
    def forward(self, x: Tensor, m: Tensor):
        return (x.argmax(), torch.argmax(x, 1), torch.argmin(x, 0, True), x.argmin(), m.any(), m.any(1), m.all(),
                (x > -2.0).all(0), torch.softmax(x, 1), F.softmax(x, dim=-1), torch.log_softmax(x, 1),
                F.log_softmax(x, dim=0))


# ============================================================================================
# linear algebra
# ============================================================================================


@case("topk_cumsum", ["x:f32[4,7]", "a:i64[3,5]", "m:i1[3,5]"],
      ["topk", "topk_idx", "topk_smallest", "topk_smallest_idx", "topk_dim0", "topk_dim0_idx", "topk_unsorted_sum",
       "topk_int", "topk_int_idx", "topk_all", "cumsum", "cumsum_dim0", "cumsum_neg", "cumsum_int", "cumsum_bool",
       "cumsum_dtype", "cumsum_method"],
      {"": lambda g: [randn(g, 4, 7), randint(g, -50, 50, 3, 5), mask(g, 3, 5)],
       # one NaN per row and column: NaN is the largest (ties between NaNs have no defined order)
       "nan": lambda g: [randn(g, 4, 7) + torch.eye(4, 7).masked_fill(torch.eye(4, 7) > 0, float("nan")),
                         randint(g, -50, 50, 3, 5), mask(g, 3, 5)]})
class TopkCumsum(nn.Module):
    def forward(self, x: Tensor, a: Tensor, m: Tensor):
        v, i = torch.topk(x, 3)
        s, si = x.topk(2, dim=1, largest=False)
        d, di = torch.topk(x, 2, 0)
        u, _ = torch.topk(x, 4, sorted=False)  # any order: compare the sum
        iv, ii = torch.topk(a * 7 + torch.arange(5), 2)  # distinct ints
        w, _ = torch.topk(x, 7)
        return (v, i, s, si, d, di, u.sum(1), iv, ii, w,
                torch.cumsum(x, 1), torch.cumsum(x, 0), torch.cumsum(x, -1), torch.cumsum(a, 1), torch.cumsum(m, 0),
                torch.cumsum(a, 0, dtype=torch.float64), x.cumsum(1))


def _row_permutations(g, rows, n):
    return torch.stack([torch.randperm(n, generator=g) for _ in range(rows)])


# sort by counted places (frontend/SortLowering.cpp). Without stable=True
# PyTorch leaves the order of ties unspecified: there only their values are
# compared. scatter of a tensor src by per-row permutations (no collisions).
@case("sort_scatter", ["x:f32[4,7]", "a:i64[N<=6]", "p:i64[3,5]"],
      ["sort", "sort_idx", "sort_desc", "sort_desc_idx", "sort_dim0", "sort_dim0_idx", "sort_stable_ties",
       "sort_stable_ties_idx", "sort_ties_values", "sort_method_desc", "scatter", "scatter_dim0"],
      {"": lambda g: [randn(g, 4, 7), randint(g, 0, 3, 6), _row_permutations(g, 3, 5)],
       "one": lambda g: [randn(g, 4, 7), randint(g, 0, 3, 1), _row_permutations(g, 3, 5)],
       # one NaN per row and column: NaN sorts as the largest
       "nan": lambda g: [randn(g, 4, 7) + torch.eye(4, 7).masked_fill(torch.eye(4, 7) > 0, float("nan")),
                         randint(g, 0, 3, 5), _row_permutations(g, 3, 5)]})
class SortScatter(nn.Module):
    def forward(self, x: Tensor, a: Tensor, p: Tensor):
        v, i = torch.sort(x)
        dv, di = torch.sort(x, descending=True)
        zv, zi = torch.sort(x, 0)
        tv, ti = torch.sort(a, stable=True, descending=True)
        uv, _ = torch.sort(a)
        mv, _ = x.sort(dim=1, descending=True)
        base = torch.zeros(3, 5)
        return (v, i, dv, di, zv, zi, tv, ti, uv, mv, base.scatter(1, p, x[:3, :5]),
                base.scatter(0, torch.arange(3).unsqueeze(1).expand(3, 5).flip(0), x[:3, :5]))


@case("linalg", ["a:f32[3,4]", "b:f32[4,5]", "c:f32[2,3,4]", "d:f32[2,4,5]", "v:f32[4]", "w:f32[5,4]",
                 "bias:f32[5]", "m:f32[3,5]"],
      ["matmul_2d", "matmul_batched", "matmul_broadcast", "matmul_vec_mat", "matmul_mat_vec", "matmul_op",
       "mm", "bmm", "linear", "linear_no_bias", "linear_3d", "addmm", "addmm_beta_alpha", "nn_linear"],
      lambda g: [randn(g, 3, 4), randn(g, 4, 5), randn(g, 2, 3, 4), randn(g, 2, 4, 5), randn(g, 4),
                 randn(g, 5, 4), randn(g, 5), randn(g, 3, 5)])
class Linalg(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(4, 5)

    def forward(self, a: Tensor, b: Tensor, c: Tensor, d: Tensor, v: Tensor, w: Tensor, bias: Tensor, m: Tensor):
        return (torch.matmul(a, b), torch.matmul(c, d), torch.matmul(c, b), torch.matmul(v, b),
                torch.matmul(a, v), a @ b, torch.mm(a, b), torch.bmm(c, d), F.linear(a, w, bias), F.linear(a, w),
                F.linear(c, w, bias), torch.addmm(m, a, b), torch.addmm(m, a, b, beta=0.5, alpha=2.0), self.lin(c))


# ============================================================================================
# views and data movement
# ============================================================================================


@case("views", ["x:f32[4,6]", "z:f32[2,3,4]", "y:f32[3,1,4]"],
      ["select", "select_neg", "select_dim1", "slice", "slice_end_none", "slice_start_none", "slice_neg",
       "slice_neg_both", "slice_step", "slice_dim1", "slice_clamped", "narrow", "view_neg1", "view_2d",
       "reshape", "view_as", "reshape_as", "view_size", "flatten", "flatten_partial", "unsqueeze", "unsqueeze_neg",
       "squeeze", "squeeze_dim", "transpose", "t", "permute", "expand", "expand_neg1", "expand_as", "T_chain"],
      lambda g: [randn(g, 4, 6), randn(g, 2, 3, 4), randn(g, 3, 1, 4)])
class Views(nn.Module):
    def forward(self, x: Tensor, z: Tensor, y: Tensor):
        return (x[1], x[-1], x[:, 2], x[1:3], x[2:], x[:2], x[-2:], x[-3:-1], x[::2], x[:, 1:5:2], x[1:100],
                x.narrow(1, 2, 3), x.view(-1), x.view(3, -1), z.reshape(4, 6), x.view_as(z.view(6, 4)),
                z.reshape_as(x), x.view(x.size()), z.flatten(), z.flatten(1), x.unsqueeze(1), x.unsqueeze(-1),
                y.squeeze(), y.squeeze(1), z.transpose(0, 2), x.t(), z.permute(2, 0, 1), y.expand(3, 5, 4),
                y.expand(-1, 2, -1), y.expand_as(torch.zeros_like(z[0]).unsqueeze(1).expand(3, 7, 4)),
                z.transpose(1, 2)[1, 2:, :2])


@case("gather_index", ["x:f32[5,4]", "i:i64[3]", "j:i64[3]", "m:i1[5]", "gi:i64[5,2]", "mm:i1[5,4]", "i2:i64[2,2]"],
      ["index_select", "index_select_dim1", "gather", "index_tensor", "index_tensor_dim1", "index_two",
       "index_bool_mask", "index_bool_mask_2d", "index_2d_idx", "index_neg"],
      lambda g: [randn(g, 5, 4), randint(g, 0, 4, 3), randint(g, 0, 4, 3), mask(g, 5), randint(g, 0, 4, 5, 2),
                 mask(g, 5, 4), randint(g, 0, 5, 2, 2)])
class GatherIndex(nn.Module):
    def forward(self, x: Tensor, i: Tensor, j: Tensor, m: Tensor, gi: Tensor, mm: Tensor, i2: Tensor):
        return (x.index_select(0, i), torch.index_select(x, 1, j), torch.gather(x, 1, gi), x[i], x[:, j],
                x[i, j], x[m], x[mm], x[i2], x[i - 4])


@case("join_split", ["x:f32[4,6]", "y:f32[4,6]", "z:f32[2,6]"],
      ["cat0", "cat_neg", "cat3", "stack0", "stack1", "chunk.0", "chunk.1", "chunk_uneven.0", "chunk_uneven.1",
       "chunk_uneven.2", "split.0", "split.1", "split_uneven.0", "split_uneven.1", "split_sizes.0",
       "split_sizes.1", "split_with_sizes.0", "split_with_sizes.1", "unbind.0", "unbind.1", "unbind.2",
       "unbind.3", "flip", "flip2", "repeat", "tril", "triu", "tril_neg", "triu_1"],
      lambda g: [randn(g, 4, 6), randn(g, 4, 6), randn(g, 2, 6)])
class JoinSplit(nn.Module):
    def forward(self, x: Tensor, y: Tensor, z: Tensor):
        c0, c1 = x.chunk(2, 1)
        u0, u1, u2 = torch.chunk(y[:, :5], 3, 1)   # 2, 2, 1 columns
        s0, s1 = x.split(3, 1)
        t0, t1 = torch.split(x, 3, 0)
        p0, p1 = x.split([2, 4], 1)
        q0, q1 = torch.split_with_sizes(x, [1, 3], 0)
        b0, b1, b2, b3 = x.unbind(0)
        return (torch.cat([x, z], 0), torch.cat((x, y), -1), torch.cat([x, y, x * 2.0], 1), torch.stack([x, y]),
                torch.stack((x, y, y), 1), c0, c1, u0, u1, u2, s0, s1, t0, t1, p0, p1, q0, q1, b0, b1, b2, b3,
                x.flip(0), torch.flip(x, [0, 1]), x.repeat(2, 3), torch.tril(x), torch.triu(x), x.tril(-1),
                x.triu(1))


# ============================================================================================
# writes (in-place ops)
# ============================================================================================


@case("inplace_input", ["x:f32[4,5]", "y:f32[4,5]", "m:i1[4,5]", "a:i64[4,5]"],
      ["add_", "sub_", "mul_", "div_", "relu_", "clamp_", "masked_fill_", "fill_", "zero_", "sigmoid_",
       "tanh_", "a_mul_"],
      lambda g: [randn(g, 4, 5), randn(g, 4, 5), mask(g, 4, 5), randint(g, -9, 9, 4, 5)])
class InplaceInput(nn.Module):
    """In-place ops on (views of) inputs: RemoveTensorMutation keeps them."""

    def forward(self, x: Tensor, y: Tensor, m: Tensor, a: Tensor):
        x[0].add_(y[0])
        x[1].sub_(1.5)
        x[2].mul_(y[2])
        x[3].div_(2.0)
        y[0].relu_()
        y[1].clamp_(-0.2, 0.2)
        y.masked_fill_(m, 9.0)
        r0 = x[:, 0]
        r0.fill_(3.0)
        x[:, 1].zero_()
        y[2].sigmoid_()
        y[3].tanh_()
        a.mul_(3)
        return (x[0], x[1], x[2], x[3], y[0], y[1], m.float(), x[:, 0], x[:, 1], y[2], y[3], a)


@case("inplace_whole", ["x:f32[3,4]", "y:f32[3,4]", "m:i1[3,4]"],
      ["x_after_add_", "y_after", "alias_of_x", "ret_add_"],
      lambda g: [randn(g, 3, 4), randn(g, 3, 4), mask(g, 3, 4)])
class InplaceWhole(nn.Module):
    def forward(self, x: Tensor, y: Tensor, m: Tensor):
        v = x.view(12)
        r = x.add_(y)       # the result aliases x
        y.mul_(2.0).relu_()
        v.masked_fill_(m.view(12), -1.0)  # writes through a view into x
        return (x, y, v, r)


@case("copy_index_put", ["x:f32[5,4]", "h:f32[4]", "w:f32[2,4]", "i:i64[2]", "v:f32[2,4]", "m:i1[5]"],
      ["copy_select", "copy_slice", "copy_slice_none", "copy_neg", "copy_slice_of_select", "setitem_0d",
       "index_put_", "index_put_accumulate", "index_put_functional", "masked_setitem", "index_put_2d",
       "fresh_out_copy"],
      lambda g: [randn(g, 5, 4), randn(g, 4), randn(g, 2, 4), torch.tensor([3, 0]), randn(g, 2, 4), mask(g, 5)])
class CopyIndexPut(nn.Module):
    def forward(self, x: Tensor, h: Tensor, w: Tensor, i: Tensor, v: Tensor, m: Tensor):
        a = x.clone()
        a[1] = h                      # copy_ into select
        b = x.clone()
        b[1:3] = w                    # copy_ into slice
        c = x.clone()
        c[:, 1:] = w[0, :3]           # slice with a None bound, broadcast value
        d = x.clone()
        d[-1] = h * 2.0
        e = x.clone()
        e[2, 1:3] = h[:2]             # slice of a select
        f = x.clone()
        f[0, 0] = h[3]
        p = x.clone()
        p[i] = v                      # index_put_
        q = x.clone()
        q.index_put_((i,), v, accumulate=True)
        r = torch.index_put(x, (i,), v)
        s = x.clone()
        s[m] = h                      # bool-mask write
        t = x.clone()
        t[i, i] = h[:2]
        out = torch.zeros(5, 4)
        out[2].copy_(h)
        return (a, b, c, d, e, f, p, q, r, s, t, out)


# ============================================================================================
# creation
# ============================================================================================


@case("creation", ["x:f32[N<=8,3]", "n:i64", "s:f64", "k:i64"],
      ["zeros", "ones", "empty.size0", "empty.size1", "full", "full_int", "full_dtype", "zeros_dtype", "zeros_like",
       "ones_like", "ones_like_dtype", "empty_like.size0", "empty_like.size1", "full_like", "full_like_int"],
      {"n4": lambda g: [randn(g, 4, 3), 4, 1.5, 2], "n1": lambda g: [randn(g, 1, 3), 1, -2.0, 0]})
class Creation(nn.Module):
    def forward(self, x: Tensor, n: int, s: float, k: int):
        e = torch.empty([n, 2])
        el = torch.empty_like(x)
        return (torch.zeros([n, 3]), torch.ones(n, 2), (e.size(0), e.size(1)),
                torch.full([2, n], s), torch.full([n], k), torch.full([n, 2], k, dtype=torch.float32),
                torch.zeros(n, dtype=torch.int64), torch.zeros_like(x), torch.ones_like(x),
                torch.ones_like(x, dtype=torch.int64), el.size(0), el.size(1), torch.full_like(x, s),
                torch.full_like(x, k))


# x.new_zeros / new_ones / new_full: x's dtype unless one is given (swin's attention mask).
@case("new_creation", ["x:f32[N<=8,3]", "i:i64[2]", "n:i64", "s:f64"],
      ["new_zeros", "new_ones", "new_full", "new_zeros_dtype", "new_ones_int", "new_full_int"],
      {"n4": lambda g: [randn(g, 4, 3), torch.tensor([3, -1]), 4, 1.5],
       "n1": lambda g: [randn(g, 1, 3), torch.tensor([0, 7]), 1, -2.0]})
class NewCreation(nn.Module):
    def forward(self, x: Tensor, i: Tensor, n: int, s: float):
        return (x.new_zeros((n, 2)), x.new_ones([3, n]), x.new_full((n,), s), x.new_zeros([n], dtype=torch.int64),
                i.new_ones((2, n)), i.new_full([n, 2], s))


# Vector norms: torch.norm / Tensor.norm for several p, over dims or all, and F.normalize (swin v2).
@case("vector_norm", ["x:f32[N<=8,3,5]"], ["norm_2_dim", "norm_1", "norm_inf", "norm_neg_inf", "norm_0", "norm_3_keepdim",
                                     "norm_all", "normalize"],
      {"n4": lambda g: [randn(g, 4, 3, 5)], "n1": lambda g: [randn(g, 1, 3, 5) * 3]})
class VectorNorm(nn.Module):
    def forward(self, x: Tensor):
        z = torch.where(x > 0.5, x, torch.zeros_like(x))
        return (x.norm(2, -1), x.norm(1, [1, 2]), x.norm(float("inf"), 1), x.norm(float("-inf"), -1), z.norm(0, -1),
                x.norm(3, -1, keepdim=True), x.norm(), nn.functional.normalize(x, dim=-1))


# torch.as_tensor of a tensor (pack_padded_sequence's lengths): the tensor, cast where a dtype is given.
@case("as_tensor", ["x:f32[N<=8,3]", "i:i32[2]"], ["as_tensor_same", "as_tensor_int64", "as_tensor_float"],
      {"n4": lambda g: [randn(g, 4, 3), torch.tensor([3, -1], dtype=torch.int32)]})
class AsTensor(nn.Module):
    def forward(self, x: Tensor, i: Tensor):
        return torch.as_tensor(x) * 2.0, torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(x, dtype=torch.float64)


# A constant with 0 elements (folded by freeze into a weight with no data) once failed to load.
@case("empty_constant", ["x:f32[2,4]"], ["cat_empty_constant"], lambda g: [randn(g, 2, 4)])
class EmptyConstant(nn.Module):
    def forward(self, x: Tensor):
        return (torch.cat([torch.zeros(0, 4), x], 0),)


@case("arange", ["n:i64", "a:i64", "s:f64", "x:f32[N<=8]"],
      ["arange1", "arange2", "arange3", "arange3_neg", "arange_float", "arange_dtype", "arange_size",
       "arange_float_step", "arange_plus_x"],
      {"n5": lambda g: [5, 2, 0.5, randn(g, 5)], "n0": lambda g: [0, 0, 0.25, randn(g, 3)],
       "n7": lambda g: [7, -3, 1.5, randn(g, 8)]})
class Arange(nn.Module):
    def forward(self, n: int, a: int, s: float, x: Tensor):
        return (torch.arange(n), torch.arange(a, n + 4), torch.arange(a, n + 9, 3), torch.arange(n + 3, a - 2, -2),
                torch.arange(s), torch.arange(n, dtype=torch.float32), torch.arange(x.size(0)),
                torch.arange(0.0, 2.0, s), torch.arange(x.size(0)) + x)


# ============================================================================================
# nn
# ============================================================================================


@case("embedding", ["tok:i64[2,3]", "w:f32[10,4]", "t1:i64[5]"],
      ["embedding_fn", "nn_embedding", "embedding_1d"],
      lambda g: [randint(g, 0, 10, 2, 3), randn(g, 10, 4), randint(g, 0, 7, 5)])
class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.emb = nn.Embedding(7, 3)

    def forward(self, tok: Tensor, w: Tensor, t1: Tensor):
        return (F.embedding(tok, w), self.emb(t1), F.embedding(t1, w))


@case("conv2d", ["x:f32[2,4,9,9]", "w:f32[6,4,3,3]", "wb:f32[6]", "wg:f32[6,2,3,3]"],
      ["conv", "conv_no_bias", "conv_stride2", "conv_padding1", "conv_groups2", "conv_dilation2",
       "conv_all", "conv_rect", "nn_conv"],
      lambda g: [randn(g, 2, 4, 9, 9), randn(g, 6, 4, 3, 3), randn(g, 6), randn(g, 6, 2, 3, 3)])
class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.conv = nn.Conv2d(4, 8, (3, 2), stride=(2, 1), padding=(1, 0))

    def forward(self, x: Tensor, w: Tensor, wb: Tensor, wg: Tensor):
        return (F.conv2d(x, w, wb), F.conv2d(x, w), F.conv2d(x, w, wb, stride=2), F.conv2d(x, w, wb, padding=1),
                F.conv2d(x, wg, wb, groups=2), F.conv2d(x, w, None, dilation=2),
                F.conv2d(x, wg, wb, stride=2, padding=2, dilation=2, groups=2),
                F.conv2d(x, w[:, :, :2, :], wb, stride=(1, 2), padding=(0, 1)), self.conv(x))


@case("conv1d", ["x:f32[2,4,17]", "w:f32[6,4,3]", "wb:f32[6]", "wg:f32[6,2,3]", "wd:f32[4,1,5]"],
      ["conv", "conv_no_bias", "conv_stride2", "conv_padding2", "conv_groups2", "conv_dilation3", "conv_all",
       "depthwise", "nn_conv", "nn_depthwise"],
      lambda g: [randn(g, 2, 4, 17), randn(g, 6, 4, 3), randn(g, 6), randn(g, 6, 2, 3), randn(g, 4, 1, 5)])
class Conv1d(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(12)
        self.conv = nn.Conv1d(4, 8, 5, stride=2, padding=2)
        self.dw = nn.Conv1d(4, 4, 3, padding=1, groups=4, bias=False)

    def forward(self, x: Tensor, w: Tensor, wb: Tensor, wg: Tensor, wd: Tensor):
        return (F.conv1d(x, w, wb), F.conv1d(x, w), F.conv1d(x, w, wb, stride=2), F.conv1d(x, w, wb, padding=2),
                F.conv1d(x, wg, wb, groups=2), F.conv1d(x, w, None, dilation=3),
                F.conv1d(x, wg, wb, stride=3, padding=4, dilation=2, groups=2), F.conv1d(x, wd, None, padding=2, groups=4),
                self.conv(x), torch.relu(self.dw(x)))


@case("norm", ["x:f32[2,3,4,4]", "s:f32[2,5,6]", "rm:f32[3]", "rv:f32[3]", "lw:f32[6]", "lb:f32[6]"],
      ["batch_norm_module", "batch_norm_fn", "batch_norm_no_affine", "layer_norm_module", "layer_norm_fn",
       "layer_norm_no_affine", "layer_norm_2d"],
      lambda g: [randn(g, 2, 3, 4, 4), randn(g, 2, 5, 6), randn(g, 3), torch.rand(3, generator=g) + 0.5,
                 randn(g, 6), randn(g, 6)])
class Norm(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.bn = nn.BatchNorm2d(3)
        self.bn.running_mean.uniform_(-1, 1)
        self.bn.running_var.uniform_(0.5, 2)
        self.bn.weight.data.uniform_(0.5, 1.5)
        self.bn.bias.data.uniform_(-1, 1)
        self.ln = nn.LayerNorm(6)
        self.ln.weight.data.uniform_(0.5, 1.5)
        self.ln.bias.data.uniform_(-1, 1)

    def forward(self, x: Tensor, s: Tensor, rm: Tensor, rv: Tensor, lw: Tensor, lb: Tensor):
        bn = self.bn  # nn.BatchNorm2d.forward raises in an untaken branch: see case raise_in_untaken_branch
        return (F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.1, bn.eps),
                F.batch_norm(x, rm, rv, lw[:3], lb[:3], False, 0.1, 1e-3),
                F.batch_norm(x, rm, rv, None, None, False), self.ln(s), F.layer_norm(s, [6], lw, lb, 1e-4),
                F.layer_norm(s, [6]), F.layer_norm(s, [5, 6]))


@case("pool", ["x:f32[2,3,7,7]", "y:f32[1,2,8,6]"],
      ["max_pool", "max_pool_stride1", "max_pool_ceil", "max_pool_pad", "max_pool_dilation", "max_pool_rect",
       "avg_pool", "avg_pool_ceil", "avg_pool_pad", "avg_pool_pad_exclude", "avg_pool_ceil_pad",
       "adaptive_1", "adaptive_divisible", "adaptive_uneven", "nn_maxpool", "nn_avgpool"],
      lambda g: [randn(g, 2, 3, 7, 7), randn(g, 1, 2, 8, 6)])
class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.mp = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.ap = nn.AvgPool2d(2)

    def forward(self, x: Tensor, y: Tensor):
        return (F.max_pool2d(x, 2), F.max_pool2d(x, 3, 1), F.max_pool2d(x, 2, ceil_mode=True),
                F.max_pool2d(x, 3, 2, padding=1), F.max_pool2d(x, 2, 1, dilation=2), F.max_pool2d(y, (2, 3)),
                F.avg_pool2d(x, 2), F.avg_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(x, 3, 2, padding=1),
                F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False),
                F.avg_pool2d(x, 2, 2, padding=1, ceil_mode=True),
                # F.adaptive_avg_pool2d raises in an untaken branch: see case raise_in_untaken_branch
                torch._C._nn.adaptive_avg_pool2d(x, [1, 1]), torch._C._nn.adaptive_avg_pool2d(y, [4, 3]),
                torch._C._nn.adaptive_avg_pool2d(x, [3, 5]), self.mp(y), self.ap(y))


@case("pad", ["x:f32[B<=2,3,5,6]", "y:f32[B,4,7]"],
      ["constant", "constant_crop", "reflect", "replicate", "circular", "reflect_1d", "replicate_1d",
       "constant_pad_nd", "reflection_pad2d", "replication_pad1d"],
      {"b2": lambda g: [randn(g, 2, 3, 5, 6), randn(g, 2, 4, 7)],
       "b1": lambda g: [randn(g, 1, 3, 5, 6), randn(g, 1, 4, 7)]})
class Pad(nn.Module):
    """F.pad in each mode (pads from the last dim backwards, a negative one crops)."""

    def forward(self, x: Tensor, y: Tensor):
        return (F.pad(x, (1, 2, 0, 3), value=0.5), F.pad(x, (-1, 2, 1, -2)),
                F.pad(x, (2, 1, 3, 0), mode="reflect"), F.pad(x, (2, 3, 1, 1), mode="replicate"),
                F.pad(x, (1, 2, 2, 1), mode="circular"), F.pad(y, (3, 2), mode="reflect"),
                F.pad(y, (4, 1), mode="replicate"), torch.constant_pad_nd(y, [1, 1, 2, 0], -1.0),
                torch._C._nn.reflection_pad2d(x, [1, 1, 2, 2]), torch._C._nn.replication_pad1d(y, [2, 5]))


@case("prelu_baddbmm", ["x:f32[B<=2,4,5]", "w:f32[4]", "w1:f32[1]", "a:f32[3,2,4]", "b:f32[3,2,5]", "c:f32[3,5,4]"],
      ["prelu", "prelu_shared", "prelu_2d", "baddbmm", "baddbmm_scaled"],
      {"b2": lambda g: [randn(g, 2, 4, 5), randn(g, 4), randn(g, 1), randn(g, 3, 2, 4), randn(g, 3, 2, 5),
                        randn(g, 3, 5, 4)],
       "b1": lambda g: [randn(g, 1, 4, 5), randn(g, 4), randn(g, 1), randn(g, 3, 2, 4), randn(g, 3, 2, 5),
                        randn(g, 3, 5, 4)]})
class PreluBaddbmm(nn.Module):
    def forward(self, x: Tensor, w: Tensor, w1: Tensor, a: Tensor, b: Tensor, c: Tensor):
        return (F.prelu(x, w), F.prelu(x, w1), F.prelu(x[:, :, 0], w),
                torch.baddbmm(a, b, c), torch.baddbmm(a, b, c, beta=0.5, alpha=2.0))


@case("group_instance_norm", ["x:f32[B<=2,6,5,4]", "y:f32[B,4,9]", "w:f32[6]", "b:f32[6]"],
      ["group_norm", "group_norm_affine", "group_norm_one_group", "group_norm_1d", "instance_norm",
       "instance_norm_affine", "instance_norm_1d"],
      {"b2": lambda g: [randn(g, 2, 6, 5, 4) * 3.0 + 1.0, randn(g, 2, 4, 9), randn(g, 6), randn(g, 6)],
       "b1": lambda g: [randn(g, 1, 6, 5, 4), randn(g, 1, 4, 9) - 2.0, randn(g, 6), randn(g, 6)]})
class GroupInstanceNorm(nn.Module):
    """F.group_norm (its batch size check reads the input's sizes as a list) and F.instance_norm."""

    def forward(self, x: Tensor, y: Tensor, w: Tensor, b: Tensor):
        return (F.group_norm(x, 3), F.group_norm(x, 2, w, b, eps=1e-3), F.group_norm(x, 1, w, None),
                F.group_norm(y, 2), F.instance_norm(x), F.instance_norm(x, weight=w, bias=b, eps=1e-4),
                F.instance_norm(y))
