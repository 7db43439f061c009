"""A bidirectional GRU tagger as users write it: `nn.GRU` (2 layers,
bidirectional, batch_first, hidden 256) over 64 steps of 128 features, and a
linear head to 32 tags per step.
"""
import torch
from torch import nn

LAYERS = 2
HIDDEN = 256
INPUT = 128
TAGS = 32
STEPS = 64
BATCHES = [1, 64]


class GRUTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(INPUT, HIDDEN, num_layers=LAYERS, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * HIDDEN, TAGS)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(xs)
        return self.head(out)


def build() -> nn.Module:
    torch.manual_seed(0)
    return GRUTagger().eval()


def example_inputs(batch: int, seed: int = 0, steps: int = STEPS) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, steps, INPUT, generator=g)]


def input_specs(batch: int) -> list:
    return [f"xs:f32[{batch},T<=1024,{INPUT}]"]
