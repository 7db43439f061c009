# A loop-carried Tuple[Tensor, Tensor] (through a helper method that takes
# and returns the tuple) is flattened: the loop carries two tensors, the body
# yields both elements, and forward's tuple result is the loop's two results.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=8,2,4]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%xs: f32[T,2,4]) -> ({{.*}}) {
# CHECK:        [[H0:%[0-9]+]] = full_like({{%[0-9]+}}, {{%[0-9]+}})
# CHECK:        [[C0:%[0-9]+]] = full_like({{%[0-9]+}}, {{%[0-9]+}})
# CHECK-NEXT:   [[T:%[0-9]+]] = size(%xs, {{%[0-9]+}}) : i64
# CHECK-NEXT:   [[HOUT:%[0-9]+]], [[COUT:%[0-9]+]] = loop([[T]], {{%[0-9]+}}, [[H0]], [[C0]]) : {{.*}} {
# CHECK-NEXT:   ^([[I:%[^:]+]]: i64, [[H:%[^:]+]]: {{.*}}, [[C:%[^:]+]]: {{.*}}):
# CHECK-NEXT:     [[X:%[0-9]+]] = select(%xs, [[I]]) {dim = 0}
# CHECK-NEXT:     [[CN:%[^ ]+]] = add([[C]], [[X]])
# CHECK-NEXT:     [[TH:%[0-9]+]] = tanh([[CN]])
# CHECK-NEXT:     [[HN:%[0-9]+]] = mul([[TH]], [[H]])
# CHECK-NEXT:     yield({{%[0-9]+}}, [[HN]], [[CN]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[HOUT]], [[COUT]])
# CHECK-NOT:  tuple
import sys
from typing import Tuple

import torch
from torch import Tensor, nn


class TupleCarry(nn.Module):
    def step(self, x: Tensor, state: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
        h, c = state
        c = c + x
        return torch.tanh(c) * h, c

    def forward(self, xs: Tensor):
        state = (torch.ones_like(xs[0]), torch.zeros_like(xs[0]))
        for t in range(xs.size(0)):
            state = self.step(xs[t], state)
        return state


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(TupleCarry()), sys.argv[1])
