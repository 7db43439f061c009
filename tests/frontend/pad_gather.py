# F.pad is one index_select per padded dim, with the index computed from the
# output position i in [-left, n + right): reflect (n-1) - |(n-1) - |i||,
# replicate clamp(i, 0, n-1), constant the clamped gather with `value` where
# i is outside [0, n). The pad list runs from the last dim backwards. Static
# sizes stay static.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=2,3,8]' --emit ir --no-locations --strict | FileCheck %s
#
# CHECK:      func @forward(%x: f32[B,3,8]) -> (f32[B,3,11], f32[B,5,8])
# reflect, last dim by (2, 1)
# CHECK:      [[I:%[0-9]+]] = arange({{%[0-9]+}}, {{%[0-9]+}}, {{%[0-9]+}}) {dtype = i64} : i64[11]
# CHECK:      abs([[I]])
# CHECK:      abs(
# CHECK:      [[R:%[0-9]+]] = sub(
# CHECK:      index_select(%x, [[R]]) {dim = -1} : f32[B,3,11]
# constant 0.5, dim -2 by (1, 1)
# CHECK:      [[J:%[0-9]+]] = arange(
# CHECK:      [[C:%[0-9]+]] = minimum(
# CHECK:      [[G:%[0-9]+]] = index_select(%x, [[C]]) {dim = -2}
# CHECK:      [[IN:%[0-9]+]] = eq([[J]], [[C]])
# CHECK:      [[M:%[0-9]+]] = reshape([[IN]],
# CHECK:      [[OUT:%[0-9]+]] = eq([[M]],
# CHECK:      masked_fill([[G]], [[OUT]], {{%[0-9]+}}) : f32[B,5,8]
# CHECK-NOT:  island
import sys

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Pads(nn.Module):
    def forward(self, x: Tensor):
        return F.pad(x, (2, 1), mode="reflect"), F.pad(x, (0, 0, 1, 1), value=0.5)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Pads()), sys.argv[1])
