"""Data-dependent gathers in a loop whose trip count is an int argument: greedy
decoding with the embedding of the argmax, a row gather `table[tok]` with the
argmax tensor, a column picked by `int(argmax)`, and an index_put_ of visit
counts at the chosen tokens."""
from typing import Tuple

import torch
from torch import nn

VOCAB = 20
VARIANTS = [{"steps": 7}, {"steps": 0}, {"steps": 1}, {"steps": 7, "seed": 3}]


class GreedyGather(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 8)
        self.proj = nn.Linear(8, VOCAB)
        self.table = nn.Parameter(torch.randn(VOCAB, 8) * 0.5)

    def forward(self, h: torch.Tensor, steps: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        toks = torch.zeros(steps, h.size(0), dtype=torch.long)
        visits = torch.zeros(self.table.size(0))
        for t in range(steps):
            tok = torch.argmax(self.proj(h), 1)             # [B]
            h = torch.tanh(self.emb(tok) + self.table[tok] + h)
            col = int(torch.argmax(h[0]))
            h = h + h[:, col:col + 1] * 0.1
            visits[tok] = visits[tok] + 1.0                  # index_put_
            toks[t] = tok
        return h, toks, visits


def build():
    torch.manual_seed(0)
    return GreedyGather().eval()


def example_inputs(seed: int = 0, steps: int = 7):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 8, generator=g), steps]


def input_specs():
    return ["h:f32[2,8]", "steps:i64"]
