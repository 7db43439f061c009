# A recurrent state that is None before the first step (Optional[Tensor]
# carried by a loop) is carried as two values: an i1 that is true while it
# is None, and the tensor, undef until the first step sets it. `h is None`
# reads the flag; nn.GRUCell's `if hx is None: zeros` stays a branch on it.
# The loop's state is typed by what the body yields (the undef start says
# nothing); the CUDA generator gives it storage from that type.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=8,B<=3,8]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%xs: f32[T,B,8])
# CHECK:      size(%xs
# CHECK:      [[NONE:%[^ ]+]] = constant true : i1
# CHECK-NEXT: [[UNDEF:%[^ ]+]] = undef : tensor
# CHECK-NEXT: [[FLAG:%[^,]+]], [[H:%[^ ]+]] = loop({{%[^,]+}}, {{%[^,]+}}, [[NONE]], [[UNDEF]]) : i1, f32[B,16] {
# CHECK-NEXT:   ^({{%[^:]+}}: i64, [[ISNONE:%[^:]+]]: i1, [[HIN:%[^:]+]]: f32[B,16]):
# CHECK:        if([[ISNONE]])
# CHECK:          full
# CHECK:        } else {
# CHECK-NEXT:     yield([[HIN]])
# CHECK:        [[FALSE:%[^ ]+]] = constant false : i1
# CHECK-NEXT:   yield({{%[^,]+}}, [[FALSE]], {{%[^)]+}})
# After the loop, `if h is None` (zero steps) reads the flag the loop returns:
# CHECK:      = if([[FLAG]])
# CHECK:      yield([[H]])
import sys
from typing import Optional

import torch
from torch import Tensor, nn


class OptionalState(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(8, 16)

    def forward(self, xs: Tensor):
        h: Optional[Tensor] = None
        for t in range(xs.size(0)):
            h = self.cell(xs[t], h)
        if h is None:
            return torch.zeros(xs.size(1), 16)
        return h


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(OptionalState()), sys.argv[1])
