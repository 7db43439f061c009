# aten::dim folds to the spec's rank: nn.RNN-style checks (`if input.dim() not
# in (2, 3)`, `is_batched = input.dim() == 3`) and the branches on them vanish;
# a static size of an argument folds too (`input.size(-1) != input_size`), and
# of a value computed from it.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[T<=8,B<=2,6]' --emit ir --no-locations | FileCheck %s --check-prefix=BATCHED
# RUN: cocktail-compile %t.pt -q --input 'x:f32[T<=8,6]' --emit ir --no-locations | FileCheck %s --check-prefix=UNBATCHED
#
# BATCHED:       func @forward(%x: f32[T,B,6])
# BATCHED-NOT:   if(
# BATCHED-NOT:   raise
# BATCHED-NOT:   unsqueeze
# BATCHED:       tanh(%x)
# UNBATCHED:     func @forward(%x: f32[T,6])
# UNBATCHED-NOT: if(
# UNBATCHED-NOT: raise
# UNBATCHED:     unsqueeze(%x) {dim = 1}
# UNBATCHED:     squeeze
import sys

import torch
from torch import Tensor, nn


class Dim(nn.Module):
    def forward(self, x: Tensor):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2-D or 3-D input, got {x.dim()}-D")
        if x.size(-1) != 6:
            raise ValueError(f"input.size(-1) must be 6, got {x.size(-1)}")
        is_batched = x.dim() == 3
        if not is_batched:
            x = x.unsqueeze(1)
        y = torch.tanh(x)
        if y.size(-1) != 6:  # a static size of a computed value (nn.GRU after an embedding)
            raise ValueError(f"expected 6 features, got {y.size(-1)}")
        if not is_batched:
            y = y.squeeze(1)
        return y


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Dim()), sys.argv[1])
