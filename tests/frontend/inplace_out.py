# `out[t] = h` in a loop: the write into the select view becomes a
# copy_into of the view and a select_scatter of the result into out, and out
# is carried through the loop (initial value: the zeros built before it;
# result: the loop's second result, which forward returns).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=16,2,8]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%xs: f32[T,2,8]) -> ({{.*}}) {
# CHECK:        [[T:%[0-9]+]] = size(%xs, {{%[0-9]+}}) : i64
# CHECK:        [[OUT0:%[^ ]+]] = full({{%[0-9]+}}, [[T]], {{%[0-9]+}}, {{%[0-9]+}}) {dtype = f32}
# CHECK-NEXT:   {{%[^ ,]+}}, [[OUTN:%[^ ,]+]] = loop([[T]], {{%[0-9]+}}, {{%[^ ,]+}}, [[OUT0]]) : f32[2,8], {{.*}} {
# CHECK-NEXT:   ^([[I:%[^:]+]]: i64, {{%[^:]+}}: f32[2,8], [[OUT:%[^:]+]]: {{.*}}):
# CHECK:          [[H:%[^ ]+]] = tanh({{%[0-9]+}})
# CHECK-NEXT:     [[VIEW:%[0-9]+]] = select([[OUT]], [[I]]) {dim = 0}
# CHECK-NEXT:     [[W:%[0-9]+]] = copy_into([[VIEW]], [[H]])
# CHECK-NEXT:     [[NEW:%[0-9]+]] = select_scatter([[OUT]], [[W]], [[I]]) {dim = 0}
# CHECK-NEXT:     yield({{%[0-9]+}}, [[H]], [[NEW]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[OUTN]])
import sys

import torch
from torch import Tensor, nn


class InplaceOut(nn.Module):
    def forward(self, xs: Tensor):
        out = torch.zeros(xs.size(0), 2, 8)
        h = torch.zeros(2, 8)
        for t in range(xs.size(0)):
            h = torch.tanh(xs[t] + h)
            out[t] = h
        return out


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(InplaceOut()), sys.argv[1])
