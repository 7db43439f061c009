"""PyTorch's transformer modules as users write them, for test_transformers.py
and the CUDA emulation test (tests/cuda_emu/test_emulated_modules.py).

Each module is built in eval mode with dropout 0; `spec` gives the input
spec with a symbolic batch and sequence length, `sizes` an input's shape
for one (batch, steps) pair, RUNS the sizes each case runs at.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

D = 32


def padding_mask(lengths: Tensor, steps: int) -> Tensor:
    return torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1)


class EncoderLayer(nn.Module):
    def __init__(self, batch_first: bool, norm_first: bool, activation: str, padded: bool, layers: int = 0):
        super().__init__()
        layer = nn.TransformerEncoderLayer(D, 4, dim_feedforward=48, dropout=0.0, activation=activation,
                                           batch_first=batch_first, norm_first=norm_first)
        # layers > 0: an nn.TransformerEncoder of that many layers and a final norm.
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(D)) if layers else layer
        self.batch_first = batch_first
        self.padded = padded

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        mask: Optional[Tensor] = None
        if self.padded:
            mask = padding_mask(lengths, x.size(1) if self.batch_first else x.size(0))
        return self.encoder(x, src_key_padding_mask=mask)


def sizes(batch_first: bool, b: int, t: int):
    return (b, t, D) if batch_first else (t, b, D)


def spec(batch_first: bool) -> str:
    return f"x:f32[{'B<=3,T<=9' if batch_first else 'T<=9,B<=3'},{D}]"


# (batch, steps, lengths): the bounds with rows of every length, rows all
# shorter than the input, one step.
RUNS = [(3, 9, [9, 5, 1]), (2, 6, [4, 3]), (1, 1, [1])]


# Each value of each flag, each pair of batch_first/norm_first, with and without a mask.
LAYERS = [(True, False, "relu", True), (True, False, "gelu", False), (True, True, "gelu", True),
          (False, False, "relu", True), (False, True, "relu", False), (False, True, "gelu", True)]


class Attention(nn.Module):
    def __init__(self, batch_first: bool, kind: str):
        super().__init__()
        self.attn = nn.MultiheadAttention(D, 4, batch_first=batch_first)
        self.batch_first = batch_first
        self.kind = kind

    def forward(self, x: Tensor, memory: Tensor, lengths: Tensor) -> Tuple[Tensor, Tensor]:
        steps = x.size(1) if self.batch_first else x.size(0)
        # need_weights=False: the weights are None; the output stands in for them.
        if self.kind == "self":
            y, _ = self.attn(x, x, x, need_weights=False)
            return y, y
        if self.kind == "padding":
            y, _ = self.attn(x, x, x, key_padding_mask=padding_mask(lengths, steps), need_weights=False)
            return y, y
        if self.kind == "causal":
            causal = torch.triu(torch.full((steps, steps), float("-inf")), 1)
            y, _ = self.attn(x, x, x, attn_mask=causal, need_weights=False)
            return y, y
        if self.kind == "weights":
            y, w = self.attn(x, x, x, key_padding_mask=padding_mask(lengths, steps))
        elif self.kind == "head_weights":
            y, w = self.attn(x, x, x, average_attn_weights=False)
        else:  # cross-attention: keys and values from another sequence
            y, w = self.attn(x, memory, memory)
        assert w is not None
        return y, w


class DecoderLayer(nn.Module):
    def __init__(self, batch_first: bool, norm_first: bool):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(D, 4, dim_feedforward=48, dropout=0.0, batch_first=batch_first,
                                                norm_first=norm_first)
        self.batch_first = batch_first

    def forward(self, tgt: Tensor, memory: Tensor, lengths: Tensor) -> Tensor:
        n = tgt.size(1) if self.batch_first else tgt.size(0)
        causal = torch.triu(torch.full((n, n), float("-inf")), 1)
        src_steps = memory.size(1) if self.batch_first else memory.size(0)
        return self.layer(tgt, memory, tgt_mask=causal, memory_key_padding_mask=padding_mask(lengths, src_steps))
