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
import pytest
import torch
from torch import Tensor, nn

from conftest import compile_model, run_model, save_module, check_strict_at_sizes as check
from transformer_models import D, LAYERS, RUNS, Attention, DecoderLayer, EncoderLayer, sizes, spec


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


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, True)])
def test_decoder_layer(tmp_path, batch_first, norm_first):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(4)
    inputs = [[torch.randn(*sizes(batch_first, b, t), generator=g),
               torch.randn(*sizes(batch_first, b, t), generator=g), torch.tensor(lengths)] for b, t, lengths in RUNS]
    memory_spec = f"memory:f32[{'B,S<=9' if batch_first else 'S<=9,B'},{D}]"
    check(DecoderLayer(batch_first, norm_first), [spec(batch_first).replace("x:", "tgt:"), memory_spec,
                                                  "lengths:i64[B]"], inputs, tmp_path, "decoder")
