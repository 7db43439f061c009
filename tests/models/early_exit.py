"""Early exit from inside a loop returning a tuple: `return (h * 2, step)` as
soon as the state's max exceeds `limit`, else `(h, -1)` after the loop."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"limit": 0.9}, {"limit": 5.0}, {"limit": 0.9, "steps": 0}, {"limit": -5.0}]


class EarlyExit(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor, limit: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = torch.zeros(xs.size(1), 8)
        for t in range(xs.size(0)):
            h = torch.tanh(self.lin(h) + xs[t])
            if bool(h.max() > limit[0]):
                return h * 2.0, torch.zeros(1) + t
        return h, torch.zeros(1) - 1.0


def build():
    torch.manual_seed(0)
    return EarlyExit().eval()


def example_inputs(seed: int = 0, limit: float = 0.9, steps: int = 8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, 2, 8, generator=g) * 0.5, torch.tensor([limit])]


def input_specs():
    return ["xs:f32[T<=16,2,8]", "limit:f32[1]"]
