"""The suite's LSTM written as users write it: `nn.LSTM` (10 layers, hidden
256, input 256, 64 steps).

The same configuration as `lstm` (the hand-written stacked LSTM), so the two
rows compare what the compiler makes of PyTorch's own module against the
loops written for it: `aten::lstm` is lowered into the same loops over time
and layers.
"""
import torch
from torch import nn

LAYERS = 10
HIDDEN = 256
INPUT = 256
STEPS = 64
BATCHES = [1, 64]


class LSTMModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(xs)
        return out


def build() -> nn.Module:
    torch.manual_seed(0)
    return LSTMModule().eval()


def example_inputs(batch: int, seed: int = 0, steps: int = STEPS) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, batch, INPUT, generator=g)]


def input_specs(batch: int) -> list:
    return [f"xs:f32[T<=1024,{batch},{INPUT}]"]
