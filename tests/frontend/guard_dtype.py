# prim::dtype folds to the dtype the --input spec gives: the comparison on it
# and the branch it guards vanish, and zeros(dtype=x.dtype) is an f32 tensor.
# A spec with another dtype takes the other branch.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[B<=4,8]' --emit ir --no-locations | FileCheck %s --check-prefix=F32
# RUN: cocktail-compile %t.pt -q --input 'x:f64[B<=4,8]' --emit ir --no-locations | FileCheck %s --check-prefix=F64
#
# F32:      func @forward(%x: f32[B,8])
# F32-NOT:  if(
# F32-NOT:  raise
# F32:      full({{.*}}) {dtype = f32}
# F32-NOT:  cast
# F32:      return
# F64:      func @forward(%x: f64[B,8])
# F64-NOT:  if(
# F64:      cast(%x) {dtype = f32}
# F64:      return
import sys

import torch
from torch import Tensor, nn


class Dtype(nn.Module):
    def forward(self, x: Tensor):
        if x.dtype == torch.float16:
            raise ValueError("half is not supported")
        z = torch.zeros(x.size(0), 8, dtype=x.dtype)
        if x.dtype != torch.float32:
            x = x.float()
            z = z.float()
        return x + z


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Dtype()), sys.argv[1])
