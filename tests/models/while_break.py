"""A `while` on an int counter bounded by an int argument, with a `break` on a
tensor condition (the decoder pattern): runs 0 times, to the bound, or stops
early (after 6 steps with the default inputs)."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"max_steps": 50}, {"max_steps": 0}, {"max_steps": 3}, {"max_steps": 50, "gain": 0.2}]


class WhileBreak(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor, gain: torch.Tensor, max_steps: int) -> Tuple[torch.Tensor, torch.Tensor]:
        i = 0
        count = torch.zeros(1)
        while i < max_steps:
            x = torch.tanh(self.lin(x)) + x * gain
            i += 1
            count = count + 1.0
            if bool((x * x).sum() > 200.0):
                break
        return x, count


def build():
    torch.manual_seed(0)
    return WhileBreak().eval()


def example_inputs(seed: int = 0, max_steps: int = 50, gain: float = 1.05):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 8, generator=g), torch.tensor([gain]), max_steps]


def input_specs():
    return ["x:f32[2,8]", "gain:f32[1]", "max_steps:i64"]
