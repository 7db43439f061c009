"""A tree read bottom-up: every step gathers each node's children from the
node states by index tensors, `h[left]` (aten::index: a negative index
counts from the end), `torch.index_select(h, 0, right)`, and after the loop
`torch.gather` picks slots of each node's state."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"depth": 3}, {"depth": 0}, {"depth": 1, "n": 1}, {"depth": 5, "seed": 3, "n": 16}]


class TreeGather(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.Linear(16, 8)

    def forward(self, leaves: torch.Tensor, left: torch.Tensor, right: torch.Tensor, slot: torch.Tensor,
                depth: int) -> Tuple[torch.Tensor, torch.Tensor]:
        h = leaves
        for _ in range(depth):
            hl = h[left]
            hr = torch.index_select(h, 0, right)
            h = torch.tanh(self.cell(torch.cat([hl, hr], 1)))
        return h, torch.gather(h, 1, slot)


def build():
    torch.manual_seed(0)
    return TreeGather().eval()


def example_inputs(seed: int = 0, depth: int = 3, n: int = 7):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 8, generator=g), torch.randint(-n, n, (n,), generator=g),
            torch.randint(0, n, (n,), generator=g), torch.randint(0, 8, (n, 2), generator=g), depth]


def input_specs():
    return ["leaves:f32[N<=16,8]", "left:i64[N]", "right:i64[N]", "slot:i64[N,2]", "depth:i64"]
