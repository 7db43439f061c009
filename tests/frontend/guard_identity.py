# Identity tests: `x is x` folds to True (one SSA value is one object), and
# inside PyTorch's multi-head attention `query is key` on two different
# tensors folds to False: the general formula (q, k and v projected apart),
# right whether or not they are one tensor at run time. In the user's own
# code `a is b` on two tensors has no compile-time answer and is refused.
#
# RUN: %python %s %t.pt %t.user.pt
# RUN: cocktail-compile %t.pt -q --input 'q:f32[1,3,8]' --input 'kv:f32[1,5,8]' --emit ir --no-locations --strict | FileCheck %s
# RUN: not cocktail-compile %t.user.pt -q --input 'a:f32[2]' --input 'b:f32[2]' --strict --emit ir 2>&1 | FileCheck %s --check-prefix=USER
#
# CHECK:      func @forward(%q: f32[1,3,8], %kv: f32[1,5,8])
# CHECK-NOT:  island
# CHECK:      linear(%{{[0-9]+}}, %c.2
# CHECK:      linear(%{{[0-9]+}}, %c.1
# CHECK:      linear(%{{[0-9]+}}, %c,
# CHECK:      softmax(
# CHECK:      linear(
# CHECK:      return
#
# USER: error: aten::__is__: {{.*}}identity comparison of two values
import sys

import torch
from torch import Tensor, nn


class Cross(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, q: Tensor, kv: Tensor) -> Tensor:
        y, _ = self.attn(q, kv, kv, need_weights=False)
        return y + (1.0 if q is q else 0.0)


class User(nn.Module):
    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return a + 1 if a is b else a - 1


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Cross().eval()), sys.argv[1])
    torch.jit.save(torch.jit.script(User()), sys.argv[2])
