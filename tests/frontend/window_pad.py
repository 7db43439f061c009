# torchvision swin's window padding and cyclic shift, as a user writes it:
# the pad amounts come from `B, H, W, C = x.shape` of a conv's output,
# `shift_size.copy()` is edited under ifs on the padded sizes, and
# `sum(shift_size) > 0` picks the shifted path. With static spatial sizes in
# the spec, every one of those folds (the conv's and the pad's output sizes
# come from shape functions): the pad is constant, the list edits and the ifs
# vanish, and the program has no island. 10x10 pads 5x5 to 8x8 and shifts;
# 6x6 pads 3x3 to 4x4, where the window covers it all and nothing shifts.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --strict --emit ir --no-locations --input 'x:f32[B<=2,3,10,10]' | FileCheck %s --check-prefix=SHIFT
# RUN: cocktail-compile %t.pt -q --strict --emit ir --no-locations --input 'x:f32[1,3,6,6]' | FileCheck %s --check-prefix=NOSHIFT
#
# SHIFT:      func @forward(%x: f32[B,3,10,10]) -> (f32[B,5,5,8]) {
# SHIFT-NOT:  if(
# SHIFT:      index_select({{.*}} {dim = -2} : f32[B,5,8,8]
# SHIFT:      index_select({{.*}} {dim = -3} : f32[B,8,8,8]
# SHIFT:      remainder({{.*}} : i64[8]
# SHIFT:      index_select({{.*}} {dim = 1} : f32[B,8,8,8]
# SHIFT:      remainder({{.*}} : i64[8]
# SHIFT:      index_select({{.*}} {dim = 2} : f32[B,8,8,8]
# SHIFT:      full({{.*}} : f32[8,8]
# SHIFT-NOT:  if(
# SHIFT-NOT:  island
# SHIFT:      return
#
# NOSHIFT:     func @forward(%x: f32[1,3,6,6]) -> (f32[1,3,3,8]) {
# NOSHIFT-NOT: remainder(
# NOSHIFT-NOT: full(
# NOSHIFT:     return
import sys
from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class WindowPad(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 8, 2, stride=2)
        self.window: List[int] = [4, 4]
        self.shift: List[int] = [2, 2]

    def forward(self, x: Tensor) -> Tensor:
        x = self.embed(x).permute(0, 2, 3, 1)
        B, H, W, C = x.shape
        pad_r = (self.window[1] - W % self.window[1]) % self.window[1]
        pad_b = (self.window[0] - H % self.window[0]) % self.window[0]
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        _, pad_H, pad_W, _ = x.shape
        shift = self.shift.copy()
        if self.window[0] >= pad_H:
            shift[0] = 0
        if self.window[1] >= pad_W:
            shift[1] = 0
        if sum(shift) > 0:
            x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
            mask = x.new_zeros((pad_H, pad_W))
            mask[: pad_H // 2, :] = 1.0
            x = x + mask[None, :, :, None]
        x = F.dropout(x, p=0.0)  # training=True, as swin calls it: p=0 keeps x
        return x[:, :H, :W, :].contiguous()


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(WindowPad().eval()), sys.argv[1])
