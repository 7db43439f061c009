# `hx is None` / `is not None` on an Optional argument of an inlined helper
# (nn.GRUCell's `if hx is None: hx = zeros(...)`) folds once the call site's
# value is known: a tensor, or None.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=4,5]' --input 'h:f32[B,5]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[B,5], %h: f32[B,5])
# CHECK-NOT:  if(
# CHECK:      [[Z:%[^ ]+]] = full_like(%x, {{%[0-9]+}})
# CHECK:      add(%x, [[Z]])
# CHECK:      add(%x, %h)
# CHECK-NOT:  if(
# CHECK:      return
import sys
from typing import Optional

import torch
from torch import Tensor, nn


def step(x: Tensor, hx: Optional[Tensor] = None) -> Tensor:
    if hx is None:
        hx = torch.zeros_like(x)
    if hx is not None and hx.dim() != x.dim():
        raise ValueError("hx and x must have the same rank")
    return x + hx


class IsNone(nn.Module):
    def forward(self, x: Tensor, h: Tensor):
        return step(x), step(x, h)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(IsNone()), sys.argv[1])
