# if / elif / else with a nested if: each `if` yields y from both regions;
# the elif is an `if` in the else region of the first one.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[3]' --input n:i64 --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[3], %n: i64) -> ({{.*}}) {
# CHECK:        [[C1:%[0-9]+]] = gt(%n, {{%[0-9]+}}) : i1
# CHECK-NEXT:   [[Y:%[^ ]+]] = if([[C1]]) : {{.*}} {
# CHECK-NEXT:     [[A:%[^ ]+]] = relu(%x)
# CHECK-NEXT:     yield([[A]])
# CHECK-NEXT:   } else {
# CHECK-NEXT:     [[C2:%[0-9]+]] = eq(%n, {{%[0-9]+}}) : i1
# CHECK-NEXT:     [[Y2:%[^ ]+]] = if([[C2]]) : {{.*}} {
# CHECK-NEXT:       [[S:%[0-9]+]] = sum(%x) {dims = [], keepdim = false}
# CHECK-NEXT:       [[G:%[0-9]+]] = gt([[S]], {{%[0-9]+}})
# CHECK-NEXT:       [[C3:%[0-9]+]] = to_scalar([[G]]) : i1
# CHECK-NEXT:       [[Y3:%[^ ]+]] = if([[C3]]) : {{.*}} {
# CHECK-NEXT:         [[B:%[^ ]+]] = mul(%x, {{%[0-9]+}})
# CHECK-NEXT:         yield([[B]])
# CHECK-NEXT:       } else {
# CHECK-NEXT:         [[C:%[^ ]+]] = neg(%x)
# CHECK-NEXT:         yield([[C]])
# CHECK-NEXT:       }
# CHECK-NEXT:       yield([[Y3]])
# CHECK-NEXT:     } else {
# CHECK-NEXT:       [[D:%[^ ]+]] = sigmoid(%x)
# CHECK-NEXT:       yield([[D]])
# CHECK-NEXT:     }
# CHECK-NEXT:     yield([[Y2]])
# CHECK-NEXT:   }
# CHECK-NEXT:   return([[Y]])
import sys

import torch
from torch import Tensor, nn


class IfElifElse(nn.Module):
    def forward(self, x: Tensor, n: int):
        if n > 2:
            y = torch.relu(x)
        elif n == 1:
            if bool(x.sum() > 0):
                y = x * 2.0
            else:
                y = -x
        else:
            y = torch.sigmoid(x)
        return y


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(IfElifElse()), sys.argv[1])
