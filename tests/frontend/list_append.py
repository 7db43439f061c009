# A List[Tensor] that a loop appends to becomes rows of one buffer, carried
# with its length: the first append allocates the loop's trip count of rows
# (at most 4096) with index_select, a full buffer doubles with cat, each
# append is a select_scatter at the length; after the loop stack reads the
# first `len` rows, and raises like PyTorch when there are none. A list the
# loop only reads (tokens[-1], len()) reads the live rows.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --emit ir --no-locations --strict --input 'h:f32[2,6]' --input n:i64 | FileCheck %s
#
# CHECK:      func @forward(%h: f32[2,6], %n: i64)
# CHECK:        %outs.1.rows = undef : tensor
# CHECK:        [[CAP:%[0-9]+]] = minimum(%n, {{%[0-9]+}}) : i64
# CHECK:        [[FIRST:%[0-9]+]] = maximum([[CAP]], {{%[0-9]+}}) : i64
# CHECK:        loop({{%[^,]+}}, {{%[^,]+}}, {{.*}}%outs.1.rows, {{%[0-9]+}})
# CHECK:          [[EMPTY:%[0-9]+]] = eq(%outs.1.len.1, {{%[0-9]+}}) : i1
# CHECK-NEXT:     %outs.1.rows.3 = if([[EMPTY]]) : tensor {
# CHECK-NEXT:       [[ROW:%[0-9]+]] = unsqueeze({{%[^)]+}}) {dim = 0}
# CHECK:            [[ZEROS:%[0-9]+]] = full({{%[0-9]+}}, [[FIRST]]) {dtype = i64}
# CHECK-NEXT:       [[BUF:%[0-9]+]] = index_select([[ROW]], [[ZEROS]]) {dim = 0}
# CHECK-NEXT:       yield([[BUF]])
# CHECK-NEXT:     } else {
# CHECK:            [[ROWS:%[0-9]+]] = size(%outs.1.rows.2, {{%[0-9]+}}) : i64
# CHECK-NEXT:       [[FULL:%[0-9]+]] = ge(%outs.1.len.1, [[ROWS]]) : i1
# CHECK-NEXT:       [[ROOMY:%[0-9]+]] = if([[FULL]]) : tensor {
# CHECK-NEXT:         cat(%outs.1.rows.2, %outs.1.rows.2) {dim = 0}
# CHECK:            select_scatter([[ROOMY]], {{%[^,]+}}, %outs.1.len.1) {dim = 0}
# CHECK:          %outs.1.len.2 = add(%outs.1.len.1, {{%[0-9]+}}) : i64
# CHECK:        if({{%[0-9]+}}) {
# CHECK-NEXT:     raise {message = "stack expects a non-empty TensorList"}
# CHECK:        slice(%outs.1.rows.1, {{%[0-9]+}}, %outs.1.len) {dim = 0, step = 1}
import sys
from typing import List

import torch
from torch import Tensor, nn


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)

    def forward(self, h: Tensor, n: int):
        outs: List[Tensor] = []
        for _ in range(n):
            h = torch.tanh(self.lin(h))
            outs.append(h)
            if bool(h.sum() > 3.0):
                break
        return torch.stack(outs)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Decoder()), sys.argv[1])
