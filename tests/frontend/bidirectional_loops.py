# A bidirectional layer runs each direction in its own time loop (the forward
# one over x[t], the backward one over x[T-1-t]), then concatenates their
# outputs: one loop's recurrent weights stay in a core's cache across its
# steps, where alternating between two directions each step streamed both.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[T<=8,B<=2,6]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      = loop(
# CHECK:        = select(%x, %t) {dim = 0}
# CHECK-NOT:    = select(%x,
# CHECK:        yield(
# CHECK:      = loop(
# CHECK:        [[LAST:%[0-9]+]] = sub(
# CHECK:        [[BACK:%[0-9]+]] = sub([[LAST]], %t{{(\.[0-9]+)?}})
# CHECK:        = select(%x, [[BACK]]) {dim = 0}
# CHECK-NOT:    = select(%x,
# CHECK:        yield(
# CHECK:      = cat({{%[0-9]+}}, {{%[0-9]+}}) {dim = 2}
# CHECK-NOT:  = loop(
import sys

import torch
from torch import nn


class BiGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(6, 8, bidirectional=True)

    def forward(self, x):
        return self.rnn(x)[0]


torch.manual_seed(0)
torch.jit.save(torch.jit.script(BiGru().eval()), sys.argv[1])
