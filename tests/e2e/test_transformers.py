"""PyTorch's transformer modules (nn.MultiheadAttention, nn.TransformerEncoderLayer,
nn.TransformerEncoder, nn.TransformerDecoderLayer), scripted in eval mode,
compiled with --strict and run against the TorchScript interpreter without
autograd (rel. error < 1e-5), each compiled once with a symbolic batch and
sequence length and run at several sizes.

Without autograd PyTorch 1.13 takes its fast paths where it can (the fused
aten::_transformer_encoder_layer_fwd and aten::_native_multi_head_attention,
and a nested tensor in nn.TransformerEncoder when given a padding mask); with
batch_first=False, attention masks or cross-attention it takes the unfused
path. Both are compiled: the cases below cover each.

    /usr/bin/python3 -m pytest -q tests/e2e/test_transformers.py
"""
from typing import Optional, Tuple

import pytest
import torch
from torch import Tensor, nn

from conftest import compile_model, run_model, save_module, check_strict_at_sizes as check

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


@pytest.mark.parametrize("batch_first,norm_first,activation,padded", LAYERS,
                         ids=["-".join(["batch_first" if b else "seq_first", "pre_norm" if n else "post_norm", a,
                                        "padding_mask" if p else "no_mask"]) for b, n, a, p in LAYERS])
def test_encoder_layer(tmp_path, batch_first, norm_first, activation, padded):
    torch.manual_seed(0)
    module = EncoderLayer(batch_first, norm_first, activation, padded)
    g = torch.Generator().manual_seed(1)
    inputs = [[torch.randn(*sizes(batch_first, b, t), generator=g), torch.tensor(lengths)] for b, t, lengths in RUNS]
    check(module, [spec(batch_first), "lengths:i64[B]"], inputs, tmp_path, "layer")


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, False), (True, True)],
                         ids=["nested_fast_path", "seq_first", "pre_norm"])
def test_encoder_with_padding_mask(tmp_path, batch_first, norm_first):
    """Two layers and a final norm. batch_first with post-norm is PyTorch's
    nested path: the output is as long as the longest sequence and zero past
    each one's end; the others keep the input's length."""
    torch.manual_seed(0)
    module = EncoderLayer(batch_first, norm_first, "relu", True, layers=2)
    g = torch.Generator().manual_seed(2)
    inputs = [[torch.randn(*sizes(batch_first, b, t), generator=g), torch.tensor(lengths)] for b, t, lengths in RUNS]
    outs = check(module, [spec(batch_first), "lengths:i64[B]"], inputs, tmp_path, "encoder")
    for (b, t, lengths), got in zip(RUNS, outs):
        steps = got[0].size(1) if batch_first else got[0].size(0)
        assert steps == (max(lengths) if batch_first and not norm_first else t)


def test_encoder_refuses_padding_before_tokens(tmp_path):
    """A mask that pads before a valid token would make PyTorch leave its nested
    path (and the output's length change): the compiled encoder says so."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, 4, dim_feedforward=48, dropout=0.0, batch_first=True)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.TransformerEncoder(layer, 2)

        def forward(self, x: Tensor, pad: Tensor) -> Tensor:
            return self.encoder(x, src_key_padding_mask=pad)

    scripted = torch.jit.script(Encoder().eval())
    model = save_module(scripted, tmp_path, "encoder")
    artifact = tmp_path / "encoder.cocktail"
    compile_model(model, ["x:f32[B<=2,T<=6,32]", "pad:i1[B,T]"], artifact, strict=True)
    x = torch.randn(2, 6, D)
    aligned = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    run_model(artifact, [x, aligned], tmp_path, reference=model, name="aligned")
    holes = torch.tensor([[False] * 6, [False, True, False, False, True, True]])
    proc = run_model(artifact, [x, holes], tmp_path, name="holes", check=False)
    assert proc.returncode != 0
    assert "src_key_padding_mask must pad each sequence only at its end" in proc.stderr, proc.stderr


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


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "seq_first"])
@pytest.mark.parametrize("kind", ["self", "padding", "causal", "weights", "head_weights", "cross"])
def test_multihead_attention(tmp_path, batch_first, kind):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    inputs = []
    for b, t, lengths in RUNS:
        memory_steps = t + 2
        inputs.append([torch.randn(*sizes(batch_first, b, t), generator=g),
                       torch.randn(*sizes(batch_first, b, memory_steps), generator=g), torch.tensor(lengths)])
    memory_spec = f"memory:f32[{'B,S<=11' if batch_first else 'S<=11,B'},{D}]"
    check(Attention(batch_first, kind), [spec(batch_first), memory_spec, "lengths:i64[B]"], inputs, tmp_path, "mha")


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


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, True)])
def test_decoder_layer(tmp_path, batch_first, norm_first):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(4)
    inputs = [[torch.randn(*sizes(batch_first, b, t), generator=g),
               torch.randn(*sizes(batch_first, b, t), generator=g), torch.tensor(lengths)] for b, t, lengths in RUNS]
    memory_spec = f"memory:f32[{'B,S<=9' if batch_first else 'S<=9,B'},{D}]"
    check(DecoderLayer(batch_first, norm_first), [spec(batch_first).replace("x:", "tgt:"), memory_spec,
                                                  "lengths:i64[B]"], inputs, tmp_path, "decoder")
