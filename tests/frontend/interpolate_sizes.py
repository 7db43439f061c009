# F.interpolate builds its lists of scales and output sizes with loops over
# the input's spatial dims (`[scale_factor for _ in range(dim)]`, and with
# recompute_scale_factor `[int(math.floor(float(input.size(i + 2)) *
# scale_factors[i])) for i in range(dim)]`). Once the spec fixes the rank,
# those loops are unrolled and their lists fold to constants: no loop, no
# island, and the upsample is index_selects with static output sizes.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --strict --emit ir --no-locations --input 'x:f32[B<=2,3,4,5]' | FileCheck %s
#
# CHECK:      func @forward(%x: f32[B,3,4,5]) -> (f32[B,3,8,10], f32[B,3,5,6]) {
# CHECK-NOT:  loop(
# CHECK-NOT:  island
# CHECK:      index_select(%x, {{%[0-9]+}}) {dim = -1} : f32[B,3,4,10]
# CHECK:      index_select({{%[0-9]+}}, {{%[0-9]+}}) {dim = -2} : f32[B,3,8,10]
# CHECK-NOT:  loop(
# CHECK-NOT:  island
# CHECK:      : f32[B,3,5,6]
# CHECK:      return
import sys

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Resize(nn.Module):
    def forward(self, x: Tensor):
        nearest = F.interpolate(x, scale_factor=2.0, mode="nearest")
        bilinear = F.interpolate(x, scale_factor=1.3, mode="bilinear", align_corners=False,
                                 recompute_scale_factor=True)
        return nearest, bilinear


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Resize()), sys.argv[1])
