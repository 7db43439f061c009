"""if / elif / else chain inside a time loop, on the sign and size of each row's
sum; also counts (in place) how often each branch ran."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"mode": "mixed"}, {"mode": "pos"}, {"mode": "neg"}, {"mode": "small"},
            {"mode": "mixed", "steps": 0}]


class IfChainLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = torch.zeros(1, 8)
        counts = torch.zeros(3)
        for t in range(xs.size(0)):
            x = xs[t:t + 1]
            s = x.sum()
            if bool(s > 1.0):
                h = torch.relu(self.a(h) + x)
                counts[0] = counts[0] + 1.0
            elif bool(s < -1.0):
                h = torch.tanh(self.b(h)) - x
                counts[1] = counts[1] + 1.0
            else:
                h = h * 0.5 + x
                counts[2] = counts[2] + 1.0
        return h, counts


def build():
    torch.manual_seed(0)
    return IfChainLoop().eval()


def example_inputs(seed: int = 0, mode: str = "mixed", steps: int = 8):
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(steps, 8, generator=g)
    if mode == "mixed":
        xs = xs * 1.0
    elif mode == "pos":
        xs = xs.abs() + 0.2
    elif mode == "neg":
        xs = -xs.abs() - 0.2
    elif mode == "small":
        xs = xs * 0.01
    else:
        raise ValueError(mode)
    return [xs]


def input_specs():
    return ["xs:f32[T<=16,8]"]
