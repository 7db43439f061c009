# --emit torchscript prints the graph the frontend translates: frozen,
# inlined, its guards folded on the specs (nn.GRU's and the model's own
# checks and their raises gone) and its types refined (the GRU's outputs
# sized through our refinement). It prints even when translating then fails,
# which is when a user needs to see it: here cumprod under --strict.
#
# RUN: %python %s %t.pt
# RUN: not cocktail-compile %t.pt -q --strict --input 'x:f32[2,5,8]' --input flag:i1 --emit torchscript > %t.out 2> %t.err
# RUN: FileCheck %s < %t.out
# RUN: FileCheck %s --check-prefix=ERR < %t.err
#
# CHECK:      graph(
# CHECK:        %x{{.*}} : Float(2, 5, 8
# CHECK-NOT:    prim::RaiseException
# CHECK:        : Float(2, 5, 16{{.*}}, {{%[0-9]+}} : Float(1, 2, 16{{.*}} = aten::gru(
# CHECK-NOT:    prim::RaiseException
# CHECK:        aten::cumprod(
# CHECK:        return
# ERR:        error: aten::cumprod: aten::cumprod is not supported by the compiler
import sys

import torch
from torch import Tensor, nn


class Guarded(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 16, batch_first=True)

    def forward(self, x: Tensor, flag: bool):
        if x.dim() != 3:
            raise ValueError("expected a batch of sequences")
        h = torch.zeros(1, x.size(0), 16)
        y, _ = self.rnn(x, h)
        if flag:
            y = torch.cumprod(y, 1)
        return y


torch.manual_seed(0)
torch.jit.save(torch.jit.script(Guarded().eval()), sys.argv[1])
