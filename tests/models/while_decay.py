"""`while` loop whose condition is a tensor reduction: halve x until its energy
drops to `limit`, accumulating tanh(W x). Trip count: 0 (limit above the
energy) up to ~20."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"limit": 1.0}, {"limit": 1000.0}, {"limit": 1e-4}, {"limit": 10.0}]


class WhileDecay(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor, limit: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        acc = torch.zeros_like(x)
        count = torch.zeros(1)
        while bool((x * x).sum() > limit[0]):
            acc = acc + torch.tanh(self.lin(x))
            x = x * 0.5
            count = count + 1.0
        return acc, count


def build():
    torch.manual_seed(0)
    return WhileDecay().eval()


def example_inputs(seed: int = 0, limit: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 8, generator=g), torch.tensor([limit])]


def input_specs():
    return ["x:f32[2,8]", "limit:f32[1]"]
