# A `while` on a tensor reduction becomes a `loop` with the largest trip
# count, whose condition is computed once before the loop (the initial
# condition operand) and again at the end of the body (the yielded one).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[4]' --input limit:f64 --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[4], %limit: f64) -> (f32[4], i64) {
# CHECK-DAG:    [[MAX:%[0-9]+]] = constant 9223372036854775807 : i64
# CHECK-DAG:    [[ZERO:%[0-9]+]] = constant 0 : i64
# CHECK:        [[SQ:%[0-9]+]] = mul(%x, %x)
# CHECK-NEXT:   [[RED:%[0-9]+]] = sum([[SQ]]) {dims = [], keepdim = false}
# CHECK-NEXT:   [[F:%[0-9]+]] = to_scalar([[RED]]) : f64
# CHECK-NEXT:   [[C0:%[0-9]+]] = gt([[F]], %limit) : i1
# CHECK-NEXT:   [[XOUT:%[^ ,]+]], [[NOUT:%[^ ,]+]] = loop([[MAX]], [[C0]], %x, [[ZERO]]) : f32[4], i64 {
# CHECK-NEXT:   ^({{%[^:]+}}: i64, [[X:%[^:]+]]: f32[4], [[N:%[^:]+]]: i64):
# CHECK-NEXT:     [[XN:%[^ ]+]] = mul([[X]], {{%[0-9]+}})
# CHECK-NEXT:     [[NN:%[^ ]+]] = add([[N]], {{%[0-9]+}}) : i64
# CHECK-NEXT:     [[SQ2:%[0-9]+]] = mul([[XN]], [[XN]])
# CHECK-NEXT:     [[RED2:%[0-9]+]] = sum([[SQ2]])
# CHECK-NEXT:     [[F2:%[0-9]+]] = to_scalar([[RED2]]) : f64
# CHECK-NEXT:     [[C:%[0-9]+]] = gt([[F2]], %limit) : i1
# CHECK-NEXT:     yield([[C]], [[XN]], [[NN]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[XOUT]], [[NOUT]])
import sys

import torch
from torch import Tensor, nn


class WhileLoop(nn.Module):
    def forward(self, x: Tensor, limit: float):
        n = 0
        while float((x * x).sum()) > limit:
            x = x * 0.5
            n += 1
        return x, n


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(WhileLoop()), sys.argv[1])
