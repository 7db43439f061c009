"""Incremental multi-head attention decoding with a KV cache (Cocktailer's `attention`).

12 heads x 64 (hidden 768); a cache of 64 slots whose first `start` (= 32)
slots are filled. Control flow: `for t in range(cache_len - start)` decoding
steps (32 by default; 0 when start == 64). Each step projects x to q, k, v,
writes k and v in place into the caches at slot `pos = start + t`
(`k_cache[:, :, pos] = k`, a copy into a select view of an *input*), attends
over the valid slots (mask `positions > pos`, filled with -1e9), softmax,
output projection, and feeds the result back as the next x.

The caches are inputs that are mutated in place; they are returned too, so
forward returns (x, k_cache, v_cache). Callers that want to keep the inputs
must pass copies.
"""
import torch
from torch import nn

HEADS = 12
HEAD_DIM = 64
HIDDEN = HEADS * HEAD_DIM
CACHE_LEN = 64
START = 32
BATCHES = [1, 64]


class IncrementalAttention(nn.Module):
    def __init__(self, heads: int = HEADS, head_dim: int = HEAD_DIM, cache_len: int = CACHE_LEN):
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim
        self.hidden = heads * head_dim
        self.scale = 1.0 / float(head_dim) ** 0.5
        self.q_proj = nn.Linear(self.hidden, self.hidden)
        self.k_proj = nn.Linear(self.hidden, self.hidden)
        self.v_proj = nn.Linear(self.hidden, self.hidden)
        self.o_proj = nn.Linear(self.hidden, self.hidden)
        # slot index of every cache position, [1, 1, 1, cache_len] (a constant once frozen)
        self.register_buffer("positions", torch.arange(cache_len).view(1, 1, 1, cache_len))

    def forward(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                start: int):
        batch = x.size(0)
        for t in range(k_cache.size(2) - start):
            pos = start + t
            q = self.q_proj(x).view(batch, self.heads, 1, self.head_dim)
            k = self.k_proj(x).view(batch, self.heads, self.head_dim)
            v = self.v_proj(x).view(batch, self.heads, self.head_dim)
            k_cache[:, :, pos] = k
            v_cache[:, :, pos] = v
            scores = torch.matmul(q, k_cache.transpose(2, 3)) * self.scale  # [B, h, 1, S]
            scores = scores.masked_fill(self.positions > pos, -1e9)
            probs = torch.softmax(scores, dim=3)
            ctx = torch.matmul(probs, v_cache)                              # [B, h, 1, d]
            x = self.o_proj(ctx.reshape(batch, self.hidden))
        return x, k_cache, v_cache


def build() -> nn.Module:
    torch.manual_seed(0)
    return IncrementalAttention().eval()


def example_inputs(batch: int, seed: int = 0, start: int = START) -> list:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, HIDDEN, generator=g)
    k_cache = torch.zeros(batch, HEADS, CACHE_LEN, HEAD_DIM)
    v_cache = torch.zeros(batch, HEADS, CACHE_LEN, HEAD_DIM)
    k_cache[:, :, :start] = torch.randn(batch, HEADS, start, HEAD_DIM, generator=g)
    v_cache[:, :, :start] = torch.randn(batch, HEADS, start, HEAD_DIM, generator=g)
    return [x, k_cache, v_cache, start]


def input_specs(batch: int) -> list:
    return [
        f"x:f32[{batch},{HIDDEN}]",
        f"k_cache:f32[{batch},{HEADS},{CACHE_LEN},{HEAD_DIM}]",
        f"v_cache:f32[{batch},{HEADS},{CACHE_LEN},{HEAD_DIM}]",
        "start:i64",
    ]
