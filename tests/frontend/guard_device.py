# prim::device folds to the CPU and `x.device.type` (prim::type) to "cpu",
# and `x.is_nested` (prim::is_nested) to False: the device and layout checks
# PyTorch's modules make vanish.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[4]' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[4])
# CHECK-NOT:  if(
# CHECK-NOT:  raise
# CHECK:      [[Y:%[0-9]+]] = relu(%x)
# CHECK-NEXT: return([[Y]])
import sys

import torch
from torch import Tensor, nn


class Device(nn.Module):
    def forward(self, x: Tensor):
        if x.device.type != "cpu":
            raise RuntimeError("expected a CPU tensor, got one on " + x.device.type)
        if x.is_cuda or x.is_nested:
            return x.sigmoid()
        y = torch.zeros(4, device=x.device)
        return torch.relu(x) + y if x.device == torch.device("cuda") else torch.relu(x)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Device()), sys.argv[1])
