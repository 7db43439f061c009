"""`break` inside a `for` loop over time: stop as soon as the state's sum
exceeds `limit`. Outcomes: no break, break mid-way, zero-trip (T = 0)."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"steps": 6, "limit": 1.0}, {"steps": 6, "limit": 100.0},
            {"steps": 0}, {"steps": 12, "limit": -0.5}]


class ForBreak(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor, limit: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = torch.zeros(xs.size(1), 8)
        out = torch.zeros(xs.size(0), xs.size(1), 8)
        done = torch.zeros(1)
        for t in range(xs.size(0)):
            h = torch.tanh(self.lin(h) + xs[t])
            out[t] = h
            done = done + 1.0
            if bool(h.sum() > limit[0]):
                break
        return h, out, done


def build():
    torch.manual_seed(0)
    return ForBreak().eval()


def example_inputs(seed: int = 0, steps: int = 6, limit: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, 2, 8, generator=g), torch.tensor([limit])]


def input_specs():
    return ["xs:f32[T<=16,2,8]", "limit:f32[1]"]
