"""Uses torch.cumprod (outside the compiler's op list) inside a time loop, to
exercise the TorchScript-island fallback inside a loop body."""
import torch
from torch import nn

VARIANTS = [{"steps": 5}, {"steps": 0}]


class FallbackCumprod(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        h = torch.zeros(xs.size(1), 8)
        for t in range(xs.size(0)):
            h = torch.tanh(self.lin(h) + torch.cumprod(xs[t], 1) * 0.25)
        return h


def build():
    torch.manual_seed(0)
    return FallbackCumprod().eval()


def example_inputs(seed: int = 0, steps: int = 5):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, 2, 8, generator=g)]


def input_specs():
    return ["xs:f32[T<=16,2,8]"]
