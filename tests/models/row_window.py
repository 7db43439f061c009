"""A loop over rows with slicing by the loop index: `x[i]`, the window
`x[i:i+2]`, a write `y[i] = ...`, an in-place update of the slice
`y[i+1:i+2]`, and `continue` for rows whose sum is very negative."""
import torch
from torch import nn

VARIANTS = [{"n": 7}, {"n": 1}, {"n": 2}, {"n": 7, "seed": 5}]


class RowWindow(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.randn(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.zeros_like(x)
        for i in range(x.size(0) - 1):
            if bool(x[i].sum() < -2.0):
                continue
            w = x[i:i + 2]
            y[i] = x[i] * self.scale + w.sum(0)
            y[i + 1:i + 2] = y[i + 1:i + 2] + torch.max(w, 0)[0]
        return y


def build():
    torch.manual_seed(0)
    return RowWindow().eval()


def example_inputs(seed: int = 0, n: int = 7):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 8, generator=g)]


def input_specs():
    return ["x:f32[N<=16,8]"]
