# `break` in a `for`: the loop runs up to the largest trip count; the
# condition it yields is `index + 1 < T` and-ed with the value an `if` yields
# (false on the branch that breaks), and the loop starts only if T > 0.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=8,4]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%xs: f32[T,4]) -> (f32[4]) {
# CHECK-DAG:    [[ONE:%[0-9]+]] = constant 1 : i64
# CHECK-DAG:    [[MAX:%[0-9]+]] = constant 9223372036854775807 : i64
# CHECK-DAG:    [[ZERO:%[0-9]+]] = constant 0 : i64
# CHECK-DAG:    [[FALSE:%[0-9]+]] = constant false : i1
# CHECK-DAG:    [[TRUE:%[0-9]+]] = constant true : i1
# CHECK:        [[T:%[0-9]+]] = size(%xs, [[ZERO]]) : i64
# CHECK-NEXT:   [[START:%[0-9]+]] = gt([[T]], [[ZERO]]) : i1
# CHECK-NEXT:   [[HOUT:%[^ ,]+]], {{%[^ ]+}} = loop([[MAX]], [[START]], {{%[^ ,]+}}, [[ZERO]]) : f32[4], i64 {
# CHECK-NEXT:   ^({{%[^:]+}}: i64, [[H:%[^:]+]]: f32[4], [[I:%[^:]+]]: i64):
# CHECK-NEXT:     [[X:%[0-9]+]] = select(%xs, [[I]]) {dim = 0}
# CHECK-NEXT:     [[HN:%[^ ]+]] = add([[H]], [[X]])
# CHECK:          [[P:%[0-9]+]] = to_scalar({{%[0-9]+}}) : i1
# CHECK-NEXT:     [[GO:%[0-9]+]] = if([[P]]) : i1 {
# CHECK-NEXT:       yield([[FALSE]])
# CHECK-NEXT:     } else {
# CHECK-NEXT:       yield([[TRUE]])
# CHECK-NEXT:     }
# CHECK-NEXT:     [[NEXT:%[0-9]+]] = add([[I]], [[ONE]]) : i64
# CHECK-NEXT:     [[MORE:%[0-9]+]] = lt([[NEXT]], [[T]]) : i1
# CHECK-NEXT:     [[COND:%[0-9]+]] = and([[MORE]], [[GO]]) : i1
# CHECK-NEXT:     yield([[COND]], [[HN]], [[NEXT]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[HOUT]])
import sys

import torch
from torch import Tensor, nn


class BreakLoop(nn.Module):
    def forward(self, xs: Tensor):
        h = torch.zeros(4)
        for t in range(xs.size(0)):
            h = h + xs[t]
            if bool(h.sum() > 3.0):
                break
        return h


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(BreakLoop()), sys.argv[1])
