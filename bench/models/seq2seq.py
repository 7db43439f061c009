"""Seq2seq greedy decoder (Cocktailer's `seq2seq`): LSTM cell, hidden 256, vocab 3797.

Control flow: a `while` loop that runs until every row has emitted EOS or
`min(max_len, 50)` tokens were produced. Each step embeds the previous tokens
(starting from SOS), runs one LSTM cell, projects to the vocabulary, and takes
the argmax as the next token (data-dependent embedding gather). Tokens are
written in place into a preallocated `[50, B]` tensor filled with PAD
(`tokens[t] = ...`); rows that already stopped write PAD.

The output projection is scaled (OUT_SCALE) and the EOS logit gets an extra
bias (EOS_BIAS) so that random weights give a mix of rows that stop early and
rows that run to the limit (batch 64, seed 0: row lengths 1..50, 24 rows hit
50; batch 1, seeds 0..9: 29, 28, 7, 50, 50, 50, 17, 50, 50, 28).
"""
import math

import torch
from torch import nn
from typing import Final

HIDDEN = 256
VOCAB = 3797
MAX_LEN = 50
PAD = 0
EOS = 1
SOS = 2
OUT_SCALE = 4.0   # output projection scaled up so argmax follows the state
EOS_BIAS = 0.3    # extra EOS logit: rows stop after 1..50 steps
BATCHES = [1, 64]


class Seq2SeqDecoder(nn.Module):
    pad: Final[int]
    eos: Final[int]
    sos: Final[int]

    def __init__(self, hidden: int = HIDDEN, vocab: int = VOCAB, max_len: int = MAX_LEN):
        super().__init__()
        self.hidden = hidden
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab, hidden)
        k = 1.0 / math.sqrt(hidden)
        self.w_ih = nn.Parameter(torch.empty(4 * hidden, hidden).uniform_(-k, k))
        self.w_hh = nn.Parameter(torch.empty(4 * hidden, hidden).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(4 * hidden).uniform_(-k, k))
        self.out = nn.Linear(hidden, vocab)
        self.pad = PAD
        self.eos = EOS
        self.sos = SOS

    def forward(self, h0: torch.Tensor, c0: torch.Tensor, max_len: int) -> torch.Tensor:
        batch = h0.size(0)
        h = h0
        c = c0
        tokens = torch.full([self.max_len, batch], self.pad, dtype=torch.long, device=h0.device)
        token = torch.full([batch], self.sos, dtype=torch.long, device=h0.device)
        alive = torch.ones([batch], dtype=torch.long, device=h0.device)
        limit = min(max_len, self.max_len)
        t = 0
        while t < limit and bool(alive.sum() > 0):
            x = self.embedding(token)
            gates = torch.nn.functional.linear(x, self.w_ih, self.bias) \
                + torch.nn.functional.linear(h, self.w_hh)
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits = self.out(h)
            token = torch.argmax(logits, dim=1)
            tokens[t] = torch.where(alive > 0, token, torch.full_like(token, self.pad))
            alive = torch.where(token == self.eos, torch.zeros_like(alive), alive)
            t = t + 1
        return tokens


def build() -> nn.Module:
    torch.manual_seed(0)
    m = Seq2SeqDecoder()
    with torch.no_grad():
        m.out.weight.mul_(OUT_SCALE)
        m.out.bias.mul_(OUT_SCALE)
        m.out.bias[EOS] += EOS_BIAS
    return m.eval()


def example_inputs(batch: int, seed: int = 0, max_len: int = MAX_LEN) -> list:
    g = torch.Generator().manual_seed(seed)
    h0 = torch.randn(batch, HIDDEN, generator=g) * 0.5
    c0 = torch.randn(batch, HIDDEN, generator=g) * 0.5
    return [h0, c0, max_len]


def input_specs(batch: int) -> list:
    return [f"h0:f32[{batch},{HIDDEN}]", f"c0:f32[{batch},{HIDDEN}]", "max_len:i64"]
