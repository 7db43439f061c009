"""Cases of tests/e2e/op_models.py: layers the model zoos use beyond the
common ones (transposed convolutions, adaptive max pooling, mish, glu,
einsum, uint8 masks, unfold, the loops of an attention decoder)."""

from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from op_case import case, randn


@case("conv_transpose", ["x:f32[B<=2,4,6,5]", "w:f32[4,3,3,3]", "wb:f32[3]", "wg:f32[4,2,3,2]", "s:f32[B,4,9]",
                         "w1:f32[4,5,4]", "wb1:f32[5]"],
      ["convt", "convt_no_bias", "convt_stride2_pad1_outpad1", "convt_groups2", "convt_dilation2",
       "convt_all", "convt_rect", "nn_convt2d", "nn_convt2d_depthwise", "convt1d", "convt1d_all", "nn_convt1d",
       "convt_relu"],
      {"": lambda g: [randn(g, 2, 4, 6, 5), randn(g, 4, 3, 3, 3), randn(g, 3), randn(g, 4, 2, 3, 2),
                      randn(g, 2, 4, 9), randn(g, 4, 5, 4), randn(g, 5)],
       "batch1": lambda g: [randn(g, 1, 4, 6, 5), randn(g, 4, 3, 3, 3), randn(g, 3), randn(g, 4, 2, 3, 2),
                            randn(g, 1, 4, 9), randn(g, 4, 5, 4), randn(g, 5)]})
class ConvTranspose(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(19)
        self.up = nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1)
        self.dw = nn.ConvTranspose2d(4, 4, (2, 3), stride=(2, 1), groups=4, bias=False)
        self.up1 = nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1)

    def forward(self, x: Tensor, w: Tensor, wb: Tensor, wg: Tensor, s: Tensor, w1: Tensor, wb1: Tensor):
        return (F.conv_transpose2d(x, w, wb), F.conv_transpose2d(x, w),
                F.conv_transpose2d(x, w, wb, stride=2, padding=1, output_padding=1),
                F.conv_transpose2d(x, wg, None, groups=2), F.conv_transpose2d(x, w, wb, dilation=2),
                F.conv_transpose2d(x, wg, wb[:2].repeat(2), stride=(3, 2), padding=(2, 1), output_padding=(1, 0),
                                   groups=2, dilation=(2, 3)),
                F.conv_transpose2d(x, w[:, :, :2, :], wb, stride=(1, 2)), self.up(x), self.dw(x),
                F.conv_transpose1d(s, w1, wb1), F.conv_transpose1d(s, w1, wb1, 3, 2, 1, 1, 2), self.up1(s),
                torch.relu(F.conv_transpose2d(x, w, wb, stride=2)))


@case("adaptive_max_pool", ["x:f32[B<=2,3,9,7]", "y:f32[3,5,5]"],
      ["values", "indices", "uneven_values", "uneven_indices", "global", "unbatched", "nn_module",
       "nn_module_int", "nn_return_indices_values", "nn_return_indices_indices"],
      {"": lambda g: [randn(g, 2, 3, 9, 7), randn(g, 3, 5, 5)],
       # ties and NaN: the first maximum's index, a NaN wins
       "ties": lambda g: [torch.floor(randn(g, 1, 3, 9, 7)).index_put_((torch.tensor([0]), torch.tensor([1]),
                                                                         torch.tensor([4]), torch.tensor([2])),
                                                                        torch.tensor(float("nan"))),
                          torch.floor(randn(g, 3, 5, 5))]})
class AdaptiveMaxPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveMaxPool2d((3, 2))
        self.square = nn.AdaptiveMaxPool2d(4)
        self.with_indices = nn.AdaptiveMaxPool2d(3, return_indices=True)

    def forward(self, x: Tensor, y: Tensor):
        v, i = torch._C._nn.adaptive_max_pool2d(x, [3, 3])
        u, j = torch._C._nn.adaptive_max_pool2d(x, [4, 5])
        wv, wi = self.with_indices(x)
        return (v, i, u, j, torch._C._nn.adaptive_max_pool2d(x, [1, 1])[0],
                torch._C._nn.adaptive_max_pool2d(y, [2, 3])[0], self.pool(x), self.square(x), wv, wi)


@case("mish_glu", ["x:f32[B<=2,6,5]", "img:f32[1,3,8,8]", "w:f32[4,3,3,3]"],
      ["mish", "mish_module", "mish_inplace", "mish_fused_chain", "conv_mish", "glu_last", "glu_dim1",
       "glu_module", "glu_negative_dim"],
      {"": lambda g: [randn(g, 2, 6, 5) * 4.0, randn(g, 1, 3, 8, 8), randn(g, 4, 3, 3, 3)],
       # large magnitudes: exp overflows (mish is x), underflows (mish is -0)
       "edges": lambda g: [torch.tensor([[-200.0, -20.0, 0.0, 20.0, 100.0]] * 6).expand(1, 6, 5).contiguous(),
                           randn(g, 1, 3, 8, 8) * 10.0, randn(g, 4, 3, 3, 3)]})
class MishGlu(nn.Module):
    def __init__(self):
        super().__init__()
        self.mish = nn.Mish()
        self.glu = nn.GLU(dim=1)

    def forward(self, x: Tensor, img: Tensor, w: Tensor):
        a = x * 1.0
        return (F.mish(x), self.mish(x), F.mish(a, inplace=True),
                # one fused uOperator at -O2
                F.mish(x * 0.5 + 1.0) - torch.sigmoid(x),
                F.mish(F.conv2d(img, w, padding=1)),
                F.glu(x[:, :, :4]), F.glu(x, 1), self.glu(x), F.glu(x[:, :, :4], -1))


@case("einsum", ["q:f32[B<=2,2,3,4,5]", "k:f32[B,2,3,6,5]", "v:f32[B,2,3,6,5]", "a:f32[3,4]", "b:f32[4,5]",
                 "c:f32[2,3,4]", "d:f32[2,4,5]", "u:f32[4]"],
      ["maxvit_scores", "maxvit_values", "mm", "mm_transposed_out", "bmm", "outer", "dot", "transpose",
       "sum_rows", "sum_contracted", "implicit", "merged_free_dims"],
      {"": lambda g: [randn(g, 2, 2, 3, 4, 5), randn(g, 2, 2, 3, 6, 5), randn(g, 2, 2, 3, 6, 5), randn(g, 3, 4),
                      randn(g, 4, 5), randn(g, 2, 3, 4), randn(g, 2, 4, 5), randn(g, 4)],
       "batch1": lambda g: [randn(g, 1, 2, 3, 4, 5), randn(g, 1, 2, 3, 6, 5), randn(g, 1, 2, 3, 6, 5),
                            randn(g, 3, 4), randn(g, 4, 5), randn(g, 2, 3, 4), randn(g, 2, 4, 5), randn(g, 4)]})
class Einsum(nn.Module):
    def forward(self, q: Tensor, k: Tensor, v: Tensor, a: Tensor, b: Tensor, c: Tensor, d: Tensor, u: Tensor):
        scores = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
        return (scores, torch.einsum("B G H I J, B G H J D -> B G H I D", scores.softmax(-1), v),
                torch.einsum("ij,jk->ik", a, b), torch.einsum("ij,jk->ki", a, b), torch.einsum("bij,bjk->bik", c, d),
                torch.einsum("i,j->ij", u, b[0]), torch.einsum("i,i->", u, a[0]), torch.einsum("ij->ji", a),
                torch.einsum("ij->i", a), torch.einsum("bij,bjk->k", c, d), torch.einsum("ij,jk", a, b),
                torch.einsum("bij,jk->bik", c, b))


@case("repeat_interleave", ["x:f32[B<=2,3,T<=5]", "n:i64[N<=6]"],
      ["along_time", "along_freq_negative_dim", "stretch2d", "flattened", "ints", "once", "zero_times"],
      {"": lambda g: [randn(g, 2, 3, 5), torch.randint(-9, 9, (6,), generator=g)],
       "short": lambda g: [randn(g, 1, 3, 1), torch.randint(-9, 9, (1,), generator=g)]})
class RepeatInterleave(nn.Module):
    """WaveRNN's Stretch2d (repeat_interleave along frequency, then time)."""

    def forward(self, x: Tensor, n: Tensor):
        return (x.repeat_interleave(3, 2), x.repeat_interleave(2, -2),
                x.unsqueeze(1).repeat_interleave(2, -2).repeat_interleave(4, -1), torch.repeat_interleave(x, 2),
                n.repeat_interleave(3, 0), x.repeat_interleave(1, 0) * 2.0, x.repeat_interleave(0, 1))


@case("uint8_masks", ["x:f32[B<=3,T<=6]", "lengths:i64[B]"],
      ["byte_mask", "le_zero", "wraps", "sum", "all", "any_rows", "invert", "invert_bool", "xor", "masked_fill",
       "by_byte_mask", "to_int"],
      {"": lambda g: [randn(g, 3, 6), torch.tensor([6, 2, 4])],
       "shorter": lambda g: [randn(g, 2, 5), torch.tensor([3, 1])]})
class Uint8Masks(nn.Module):
    """Tacotron2's _get_mask_from_lengths: a uint8 mask as wide as the longest
    length (arange of a run-time value), and the uint8 arithmetic around it
    (it wraps at 256; any/all stay uint8; a uint8 index is a mask)."""

    def forward(self, x: Tensor, lengths: Tensor):
        max_len = torch.max(lengths).item()
        ids = torch.arange(0, max_len, device=lengths.device, dtype=lengths.dtype)
        mask = (ids < lengths.unsqueeze(1)).byte()
        finished = lengths > 2
        rows = x[:, :mask.size(1)]
        return (mask, torch.le(mask, 0), mask * 200 + 100, mask.sum(), torch.all(mask), mask.any(1), ~mask,
                ~finished, torch.bitwise_xor(mask, (ids > 1).byte()), rows.masked_fill(torch.le(mask, 0), 0.0), rows[mask],
                mask.to(torch.int32) - 3)


@case("unfold", ["x:f32[B<=2,7,3]"],
      ["time_step2", "last_overlapping", "last_negative_dim", "whole_dim", "batch_windows_of_one"],
      {"": lambda g: [randn(g, 2, 7, 3)], "batch1": lambda g: [randn(g, 1, 7, 3)]})
class Unfold(nn.Module):
    def forward(self, x: Tensor):
        return (x.unfold(1, 3, 2), x.unfold(2, 2, 1), x.unfold(-1, 3, 3), x.unfold(1, 7, 1), x.unfold(0, 1, 1))


@case("attention_decoder_collected", ["x:f32[2,4]", "memory:f32[2,T<=5,4]", "steps:i64"],
      ["unfolded_weights", "last_context"],
      {"": lambda g: [randn(g, 2, 4), randn(g, 2, 5, 4), 3], "short": lambda g: [randn(g, 2, 4), randn(g, 2, 2, 4), 1]})
class AttentionDecoderCollected(nn.Module):
    """Tacotron2's decoder loop in small: the attention's weights collected in a
    list, stacked and unfolded after the loop. TorchScript types nothing in
    the loop; the rank unfold needs comes from the cell's state and from the
    tensors appended to the list."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(23)
        self.cell = nn.LSTMCell(8, 4)
        self.energy = nn.Linear(4, 1)

    def forward(self, x: Tensor, memory: Tensor, steps: int):
        h = torch.zeros(x.size(0), 4)
        c = torch.zeros(x.size(0), 4)
        context = torch.zeros(x.size(0), 4)
        weights: List[Tensor] = []
        for _ in range(steps):
            h, c = self.cell(torch.cat((x, context), -1), (h, c))
            w = torch.softmax(self.energy(torch.tanh(memory + h.unsqueeze(1))).squeeze(2), dim=1)
            context = torch.bmm(w.unsqueeze(1), memory).squeeze(1)
            weights.append(w)
        return torch.stack(weights, 0).unfold(1, x.size(0), x.size(0)).transpose(0, 2), context


@case("contains", ["x:f32[3]", "k:i64"], ["member", "not_member"], {"one": lambda g: [randn(g, 3), 3],
                                                                    "other": lambda g: [randn(g, 3), 4]})
class Contains(nn.Module):
    def forward(self, x: Tensor, k: int):
        y = x * 2.0 if k in [1, 3, 5] else x
        z = x - 1.0 if k not in [2, 4] else x
        return y, z
