# An output that is always None (torchvision googlenet's and inception_v3's
# NamedTuple with `aux_logits: Optional[Tensor]`, None in eval mode, returned
# from under `torch.jit.is_scripting()`; wav2vec2's `lengths` when none were
# given) is not an output of the compiled model: the program returns the
# tensors only, and the reference runners drop None the same way. An Optional
# output whose None-ness is decided at run time has no such form and is
# refused by name.
#
# RUN: %python %s %t.pt %t.runtime.pt
# RUN: cocktail-compile %t.pt -q --strict --input 'x:f32[2,3]' --emit ir --no-locations | FileCheck %s
# RUN: not cocktail-compile %t.runtime.pt -q --input 'x:f32[2,3]' --input flag:i1 --emit ir 2>&1 | FileCheck %s --check-prefix=RUNTIME
#
# CHECK:      func @forward(%x: f32[2,3]) -> (f32[2,3], f32[2,3]) {
# CHECK-NOT:  if(
# CHECK:      [[R:%[^ ]+]] = relu(%x)
# CHECK:      [[L:%[^ ]+]] = mul([[R]],
# CHECK:      [[E:%[^ ]+]] = add(%x,
# CHECK-NEXT: return([[L]], [[E]])
#
# RUNTIME: error: prim::Return: output %{{[^ ]+}} is None on some runs and a value on others (an Optional decided at run time); a compiled model returns the same outputs on every run
import sys
from typing import NamedTuple, Optional

import torch
from torch import Tensor, nn


class Outputs(NamedTuple):
    logits: Tensor
    aux: Optional[Tensor]
    extra: Tensor


class AuxHead(nn.Module):
    """googlenet's shape: an aux head that exists only in training mode."""

    def __init__(self):
        super().__init__()
        self.aux: Optional[nn.Module] = None

    def forward(self, x: Tensor) -> Outputs:
        aux: Optional[Tensor] = None
        if self.aux is not None and self.training:
            aux = self.aux(x)
        logits = torch.relu(x) * 2.0
        if torch.jit.is_scripting():
            return Outputs(logits, aux, x + 1.0)
        return Outputs(logits, None, x + 1.0)


class RuntimeOptional(nn.Module):
    def forward(self, x: Tensor, flag: bool):
        y: Optional[Tensor] = None
        if flag:
            y = x * 2.0
        return x, y


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(AuxHead().eval()), sys.argv[1])
    torch.jit.save(torch.jit.script(RuntimeOptional()), sys.argv[2])
