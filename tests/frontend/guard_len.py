# len() of a list whose length is fixed folds, and so does the check on it.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=4,6]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[B,6])
# CHECK-NOT:  if(
# CHECK-NOT:  raise
# CHECK:      return
import sys
from typing import List

import torch
from torch import Tensor, nn


class Len(nn.Module):
    def forward(self, x: Tensor):
        parts: List[Tensor] = [x, x * 2.0, x * 3.0]
        if len(parts) != 3:
            raise ValueError(f"expected 3 parts, got {len(parts)}")
        shape = [x.size(0), x.size(1)]
        if len(shape) == 2:
            return torch.cat(parts, 1)
        return x


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Len()), sys.argv[1])
