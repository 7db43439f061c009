"""Uses torch.topk inside a loop (lowered) and torch.kthvalue after it
(outside the compiler's op list: a TorchScript island): keep the top-3
logits' embeddings each step, then take each row's third smallest value."""
from typing import Tuple

import torch
from torch import nn

VARIANTS = [{"steps": 4}, {"steps": 0}, {"steps": 1}]


class FallbackTopk(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.emb = nn.Embedding(16, 8)

    def forward(self, h: torch.Tensor, steps: int) -> Tuple[torch.Tensor, torch.Tensor]:
        for _ in range(steps):
            vals, idx = torch.topk(self.proj(h), 3, 1)      # [B, 3]
            h = torch.tanh(h + self.emb(idx).sum(1) * torch.sigmoid(vals.sum(1, keepdim=True)))
        s, where = torch.kthvalue(h, 3, 1)
        return s, where


def build():
    torch.manual_seed(0)
    return FallbackTopk().eval()


def example_inputs(seed: int = 0, steps: int = 4):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 8, generator=g), steps]


def input_specs():
    return ["h:f32[2,8]", "steps:i64"]
