"""KV-cache style in-place writes into an *input* buffer: each step writes a
slice `cache[pos:pos+1] = k`, rescales part of that row in place
(`cache[pos, :, 0:2] = ...`, a copy into a slice of a select), and reads the
dynamic-length prefix `cache[0:pos+1]`. The cache is mutated and returned."""
from typing import Tuple

import torch
from torch import nn

SLOTS = 16
VARIANTS = [{"start": 3, "steps": 4}, {"start": 0, "steps": 1},
            {"start": 10, "steps": 6}, {"start": 5, "steps": 0}]


class KVCacheSlice(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor, cache: torch.Tensor, start: int) -> Tuple[torch.Tensor, torch.Tensor]:
        out = torch.zeros_like(xs)
        for t in range(xs.size(0)):
            pos = start + t
            k = torch.tanh(self.lin(xs[t]))
            cache[pos:pos + 1] = k.unsqueeze(0)
            cache[pos, :, 0:2] = cache[pos, :, 0:2] * 0.5
            out[t] = cache[0:pos + 1].mean(0)
        return out, cache


def build():
    torch.manual_seed(0)
    return KVCacheSlice().eval()


def example_inputs(seed: int = 0, start: int = 3, steps: int = 4):
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(steps, 2, 8, generator=g)
    cache = torch.zeros(SLOTS, 2, 8)
    cache[:start] = torch.randn(start, 2, 8, generator=g)
    return [xs, cache, start]


def input_specs():
    return ["xs:f32[T<=16,2,8]", f"cache:f32[{SLOTS},2,8]", "start:i64"]
