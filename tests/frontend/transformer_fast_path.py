# nn.TransformerEncoder with a padding mask, eval mode, no autograd: the fast
# path's guards fold (grad and autocast off, `training`, `is_cuda`, the
# `all([...])` of device checks, `key_padding_mask is not None`), the mask is
# checked to be left-aligned at run time (the one guard that depends on data),
# and the fused layer becomes attention and feed-forward IR ops on the padded
# batch with the padding as key mask; to_padded_tensor zeroes the padding and
# cuts the batch to the longest sequence.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=2,T<=10,16]' --input 'lengths:i64[B]' --emit ir --no-locations --strict | FileCheck %s
#
# CHECK:      func @forward(%x: f32[B,T,16], %lengths: i64[B]) -> (f32[B,?,16])
# CHECK:      [[PAD:%[^ ]+]] = ge(
# CHECK:      [[GAP:%[0-9]+]] = and(
# CHECK:      any([[GAP]])
# CHECK:      raise {message = "src_key_padding_mask must pad each sequence only at its end
# CHECK-NOT:  island
# CHECK:      linear(%x,
# CHECK:      chunk({{.*}}) {chunks = 3, dim = 2}
# CHECK:      [[S:%[0-9]+]] = matmul(
# CHECK:      [[M:%[0-9]+]] = masked_fill([[S]], {{%[0-9]+}}, {{%[0-9]+}})
# CHECK:      softmax([[M]]) {dim = 3}
# CHECK:      layer_norm(
# CHECK:      relu(
# CHECK:      layer_norm(
# CHECK:      [[OUT:%[0-9]+]] = masked_fill(
# CHECK:      [[LONGEST:%[0-9]+]] = to_scalar(
# CHECK:      slice([[OUT]], {{%[0-9]+}}, [[LONGEST]]) {dim = 1, step = 1}
# CHECK-NOT:  if(
# CHECK:      return
import sys

import torch
from torch import Tensor, nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        pad = torch.arange(x.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)
        return self.encoder(x, src_key_padding_mask=pad)


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(Encoder().eval()), sys.argv[1])
