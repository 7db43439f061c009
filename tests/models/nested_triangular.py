"""Nested loops whose inner trip count is the outer index (`for j in range(i)`),
over the rows of x. N = 0, 1, 2, 5 give 0, 0, 1, 10 inner iterations."""
import torch
from torch import nn

VARIANTS = [{"n": 5}, {"n": 0}, {"n": 1}, {"n": 2}]


class NestedTriangular(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acc = torch.zeros(x.size(1))
        for i in range(x.size(0)):
            for j in range(i):
                acc = acc * 0.9 + torch.tanh(self.lin(x[j] * x[i]))
            acc = acc + x[i]
        return acc


def build():
    torch.manual_seed(0)
    return NestedTriangular().eval()


def example_inputs(seed: int = 0, n: int = 5):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 4, generator=g)]


def input_specs():
    return ["x:f32[N<=8,4]"]
