"""A loop-carried tuple: the state (h, c) is a Tuple[Tensor, Tensor] passed to
and returned from a helper method each step, and returned as a tuple."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"steps": 5}, {"steps": 0}, {"steps": 1}, {"steps": 9}]


class TupleCarry(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Linear(8, 8)
        self.g = nn.Linear(8, 8)

    def cell(self, x: torch.Tensor, state: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        c = c * torch.sigmoid(self.f(x)) + torch.tanh(self.g(h))
        h = torch.tanh(c) * 0.9 + x * 0.1
        return (h, c)

    def forward(self, xs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        state = (torch.zeros(xs.size(1), 8), torch.ones(xs.size(1), 8))
        for t in range(xs.size(0)):
            state = self.cell(xs[t], state)
        return state


def build():
    torch.manual_seed(0)
    return TupleCarry().eval()


def example_inputs(seed: int = 0, steps: int = 5):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, 2, 8, generator=g)]


def input_specs():
    return ["xs:f32[T<=16,2,8]"]
