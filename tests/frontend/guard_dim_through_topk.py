# A beam search feeds topk's indices back into nn.GRUCell through an
# embedding: the cell's `input.dim() in (1, 2)` check folds only if the rank
# of topk's outputs is known through the loop (frontend/TypeRefinement.cpp).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --strict --input 'h0:f32[1,16]' --input 'steps:i64' --emit ir --no-locations | FileCheck %s
#
# CHECK:      func @forward(%h0: f32[1,16], %steps: i64)
# CHECK-NOT:  raise
# CHECK:      loop(
# CHECK:      topk(
# CHECK:      return
import sys

import torch
from torch import Tensor, nn


class Beams(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.cell = nn.GRUCell(16, 16)
        self.out = nn.Linear(16, 50)

    def forward(self, h0: Tensor, steps: int):
        h = h0.expand(3, 16).contiguous()
        tokens = torch.full((3,), 2, dtype=torch.long)
        scores = torch.zeros(3)
        # Only the first beam is live at the start (a write TorchScript keeps
        # as a mutation, which hides the scores' rank from its own inference).
        scores[1:] = -1e9
        for _ in range(steps):
            h = self.cell(self.embed(tokens), h)
            logp = torch.log_softmax(self.out(h), dim=-1)
            scores, index = (scores.unsqueeze(1) + logp).reshape(-1).topk(3)
            beam = torch.div(index, 50, rounding_mode="floor")
            tokens = index - beam * 50
            h = h.index_select(0, beam)
        return h, tokens, scores


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Beams().eval()), sys.argv[1])
