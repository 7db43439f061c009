"""Stacked LSTM (Cocktailer: 10 layers, hidden 256, input 256, 64 steps).

Control flow: an outer `for t in range(T)` over time (T from xs) and an inner
`for l in range(L)` over layers; the layer weights are stacked into
`[L, ...]` parameters and selected with the loop index, so both loops stay
`prim::Loop` in TorchScript. (The layer loop's trip count is `h.size(0)`, not
the constant `self.layers`: torch.jit.freeze unrolls constant-trip loops.) The state h, c is `[L, B, H]`, updated in place
(`h[l] = ...`), and the top layer's outputs are written into a preallocated
`[T, B, H]` tensor (`out[t] = x`).
"""
import math

import torch
from torch import nn

LAYERS = 10
HIDDEN = 256
INPUT = 256
STEPS = 64
BATCHES = [1, 64]


class StackedLSTM(nn.Module):
    def __init__(self, layers: int = LAYERS, hidden: int = HIDDEN, input_size: int = INPUT):
        super().__init__()
        assert input_size == hidden, "stacked weights need input == hidden"
        self.layers = layers
        self.hidden = hidden
        k = 1.0 / math.sqrt(hidden)
        self.w_ih = nn.Parameter(torch.empty(layers, 4 * hidden, input_size).uniform_(-k, k))
        self.w_hh = nn.Parameter(torch.empty(layers, 4 * hidden, hidden).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(layers, 4 * hidden).uniform_(-k, k))

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        steps = xs.size(0)
        batch = xs.size(1)
        h = torch.zeros(self.layers, batch, self.hidden, device=xs.device)
        c = torch.zeros(self.layers, batch, self.hidden, device=xs.device)
        out = torch.zeros(steps, batch, self.hidden, device=xs.device)
        for t in range(steps):
            x = xs[t]
            # range(h.size(0)), not range(self.layers): freezing unrolls loops
            # whose trip count is a constant, and the layer loop must stay a loop
            for l in range(h.size(0)):
                gates = torch.nn.functional.linear(x, self.w_ih[l], self.bias[l]) \
                    + torch.nn.functional.linear(h[l], self.w_hh[l])
                i, f, g, o = gates.chunk(4, 1)
                i = torch.sigmoid(i)
                f = torch.sigmoid(f)
                g = torch.tanh(g)
                o = torch.sigmoid(o)
                c_new = f * c[l] + i * g
                h_new = o * torch.tanh(c_new)
                c[l] = c_new
                h[l] = h_new
                x = h_new
            out[t] = x
        return out


def build() -> nn.Module:
    torch.manual_seed(0)
    return StackedLSTM().eval()


def example_inputs(batch: int, seed: int = 0, steps: int = STEPS) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, batch, INPUT, generator=g)]


def input_specs(batch: int) -> list:
    return [f"xs:f32[T<=1024,{batch},{INPUT}]"]
