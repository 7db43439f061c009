"""torch.cat and torch.stack of a fixed number of tensors inside a time loop:
the cell reads cat([x_t, h, c]) and mixes stack([c, h_new, h]); each step
writes stack([h, c]) into a preallocated output."""
import torch
from torch import nn

VARIANTS = [{"steps": 6}, {"steps": 0}, {"steps": 1}]


class CatStackCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4 + 8 + 8, 8)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        batch = xs.size(1)
        h = torch.zeros(batch, 8)
        c = torch.zeros(batch, 8)
        outs = torch.zeros(xs.size(0), 2, batch, 8)
        for t in range(xs.size(0)):
            z = torch.cat([xs[t], h, c], 1)
            h_new = torch.tanh(self.lin(z))
            c = torch.stack([c, h_new, h], 0).mean(0)
            h = h_new
            outs[t] = torch.stack([h, c], 0)
        return outs


def build():
    torch.manual_seed(0)
    return CatStackCell().eval()


def example_inputs(seed: int = 0, steps: int = 6):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, 3, 4, generator=g)]


def input_specs():
    return ["xs:f32[T<=16,3,4]"]
