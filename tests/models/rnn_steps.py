"""A plain RNN whose trip count is an int argument (`for _ in range(steps)`),
including 0 (the output is then the initial state)."""
import torch
from torch import nn

VARIANTS = [{"steps": 10}, {"steps": 0}, {"steps": 1}, {"steps": 33}]


class RNNSteps(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Linear(16, 16)
        self.u = nn.Linear(16, 16, bias=False)

    def forward(self, x: torch.Tensor, h0: torch.Tensor, steps: int) -> torch.Tensor:
        h = h0
        ux = self.u(x)
        for _ in range(steps):
            h = torch.tanh(self.w(h) + ux)
        return h


def build():
    torch.manual_seed(0)
    return RNNSteps().eval()


def example_inputs(seed: int = 0, steps: int = 10):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 16, generator=g), torch.randn(3, 16, generator=g), steps]


def input_specs():
    return ["x:f32[3,16]", "h0:f32[3,16]", "steps:i64"]
