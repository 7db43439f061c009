# A `for` over the time dimension becomes a `loop` whose trip count is the
# size of xs along dim 0, carrying h and the int `steps` (block arguments
# after the induction variable, yielded after the loop condition).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=16,2,8]' --emit ir --no-locations | FileCheck %s
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=16,2,8]' --emit ir | FileCheck %s --check-prefix=LOC
# The emitted IR (with locations) parses back and prints identically:
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=16,2,8]' --emit ir > %t.ir && cocktail-opt %t.ir | diff %t.ir -
#
# CHECK:      symbol T <= 16
# CHECK:      func @forward(%xs: f32[T,2,8]) -> (f32[2,8], i64) {
# CHECK:        [[H0:%[^ ]+]] = weight {name = "{{[^"]+}}"} : f32[2,8]
# CHECK-DAG:    [[ONE:%[0-9]+]] = constant 1 : i64
# CHECK-DAG:    [[ZERO:%[0-9]+]] = constant 0 : i64
# CHECK-DAG:    [[TRUE:%[0-9]+]] = constant true : i1
# CHECK:        [[TRIP:%[0-9]+]] = size(%xs, [[ZERO]]) : i64
# CHECK-NEXT:   [[HOUT:%[^ ,]+]], [[SOUT:%[^ ,]+]] = loop([[TRIP]], [[TRUE]], [[H0]], [[ZERO]]) : f32[2,8], i64 {
# CHECK-NEXT:   ^([[T:%[^:]+]]: i64, [[H:%[^:]+]]: f32[2,8], [[S:%[^:]+]]: i64):
# CHECK-NEXT:     [[X:%[^ ]+]] = select(%xs, [[T]]) {dim = 0}
# CHECK-NEXT:     [[SUM:%[^ ]+]] = add([[H]], [[X]])
# CHECK-NEXT:     [[HN:%[^ ]+]] = tanh([[SUM]])
# CHECK-NEXT:     [[SN:%[^ ]+]] = add([[S]], [[ONE]]) : i64
# CHECK-NEXT:     yield([[TRUE]], [[HN]], [[SN]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[HOUT]], [[SOUT]])
# CHECK-NEXT: }
#
# Locations point into this file:
# LOC: tanh({{.*}}) : {{.*}} loc("{{.*}}for_loop.py":[[@LINE+12]])
import sys

import torch
from torch import Tensor, nn


class ForLoop(nn.Module):
    def forward(self, xs: Tensor):
        h = torch.zeros(2, 8)
        steps = 0
        for t in range(xs.size(0)):
            h = torch.tanh(h + xs[t])
            steps += 1
        return h, steps


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(ForLoop()), sys.argv[1])
