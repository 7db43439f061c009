# isinstance (prim::isinstance) on a Union/Optional parameter of an inlined
# helper folds once the argument's type is known at the call site.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[3]' --input 'w:f32[3]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[3], %w: f32[3])
# CHECK-NOT:  if(
# CHECK:      mul(%x, %w)
# CHECK:      mul(%x, {{%[0-9]+}})
# CHECK-NOT:  if(
# CHECK:      return
import sys
from typing import Optional, Union

import torch
from torch import Tensor, nn


def scale(x: Tensor, s: Union[Tensor, float]) -> Tensor:
    if isinstance(s, Tensor):
        return x * s
    else:
        return x * float(s)


class IsInstance(nn.Module):
    def forward(self, x: Tensor, w: Tensor):
        return scale(x, w), scale(x, 2.0)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(IsInstance()), sys.argv[1])
