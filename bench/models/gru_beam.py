"""Beam search over a `nn.GRUCell` decoder, as users write it: each step
scores every (beam, token) pair by the beam's log-probability plus the
token's, keeps the best BEAM pairs with `topk`, reorders the beams' states
and histories with `index_select`, and stops when every beam has emitted EOS
or after MAX_LEN steps. Vocabulary 1000, hidden 256, 4 beams.

The batch is the number of independent searches; each search's beams are
rows of one [BEAM, H] state, so the model is written for one search
(batch 1, what a serving request is).
"""
from typing import Tuple

import torch
from torch import nn

HIDDEN = 256
VOCAB = 1000
BEAM = 4
MAX_LEN = 30
EOS = 1
SOS = 2
BATCHES = [1]


class BeamSearchDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.cell = nn.GRUCell(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, VOCAB)
        self.beam, self.vocab, self.hidden, self.max_len = BEAM, VOCAB, HIDDEN, MAX_LEN
        self.eos, self.sos = EOS, SOS
        # Random weights rarely pick EOS; a small bias makes searches end at
        # different lengths, as trained decoders do (seeds 0-9 at batch 1:
        # 7, 8, 12, 8, 5, 13, 10, 30, 13 and 8 steps).
        with torch.no_grad():
            self.out.bias[EOS] += 0.5

    def forward(self, h0: torch.Tensor, max_len: int) -> Tuple[torch.Tensor, torch.Tensor]:
        h = h0.expand(self.beam, self.hidden).contiguous()
        tokens = torch.full((self.beam,), self.sos, dtype=torch.long, device=h0.device)
        scores = torch.zeros(self.beam, device=h0.device)
        # Only the first beam is live at the start: the others are copies.
        scores[1:] = -1e9
        finished = torch.zeros(self.beam, dtype=torch.bool, device=h0.device)
        history = torch.zeros(self.max_len, self.beam, dtype=torch.long, device=h0.device)
        t = 0
        while t < min(max_len, self.max_len) and not bool(finished.all()):
            h = self.cell(self.embed(tokens), h)
            logp = torch.log_softmax(self.out(h), dim=-1)
            # A finished beam keeps its score and only extends with EOS.
            logp = torch.where(finished.unsqueeze(1), torch.full_like(logp, -1e9), logp)
            logp[:, self.eos] = torch.where(finished, torch.zeros_like(scores), logp[:, self.eos])
            total = (scores.unsqueeze(1) + logp).reshape(-1)
            best, index = total.topk(self.beam)
            beam = torch.div(index, self.vocab, rounding_mode="floor")
            tokens = index - beam * self.vocab
            h = h.index_select(0, beam)
            history = history.index_select(1, beam)
            history[t] = tokens
            finished = finished.index_select(0, beam) | (tokens == self.eos)
            scores = best
            t += 1
        return history, scores


def build() -> nn.Module:
    torch.manual_seed(0)
    return BeamSearchDecoder().eval()


def example_inputs(batch: int, seed: int = 0, max_len: int = MAX_LEN) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, HIDDEN, generator=g), max_len]


def input_specs(batch: int) -> list:
    return [f"h0:f32[1,{HIDDEN}]", "max_len:i64"]
