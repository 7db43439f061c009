# Messages of raise and warnings.warn: a raise in a branch the specs rule out
# vanishes with its formatted message; a raise that can still happen keeps
# its message text (the f-string's template); warnings.warn is dropped and
# does not block compilation.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=4,6]' --input n:i64 --emit ir --no-locations 2>%t.err | FileCheck %s
# RUN: FileCheck %s --check-prefix=STDERR --allow-empty < %t.err
#
# CHECK:      func @forward(%x: f32[B,6], %n: i64)
# CHECK-NOT:  expected 2-D
# CHECK:      if(
# CHECK-NEXT:   raise {message = "n={} is larger than the batch {}"}
# CHECK-NOT:  raise
# CHECK-NOT:  warn
# CHECK:      return
# STDERR-NOT: error
import sys
import warnings

import torch
from torch import Tensor, nn


class Messages(nn.Module):
    def forward(self, x: Tensor, n: int):
        if x.dim() != 2:
            raise ValueError(f"expected 2-D input, got {x.dim()}-D")
        if n > x.size(0):
            raise ValueError(f"n={n} is larger than the batch {x.size(0)}")
        if n == 0:
            warnings.warn(f"n is {n}: the result is empty")
        return x[:n] * 2.0


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Messages()), sys.argv[1])
