"""The coverage corpus: models users build from PyTorch's own modules and the
public model zoos, each with inputs and the --input specs that describe them.

Nobody on the team wrote these models; they are what `docs/coverage.md`
measures (scripts/coverage.py compiles each with --strict and compares it with
the TorchScript interpreter). Weights are random from a fixed seed; nothing is
downloaded. Sizes are small so that the whole corpus runs in minutes, but the
code that runs is the zoo's own.

An entry is a `Case`: a name, the family it belongs to, and `build()`, which
returns the module (an nn.Module, scripted by the runner), the method to
compile, the `--input` specs and one or more input lists (a symbolic dim is
exercised at several sizes: each input list is run against the same artifact).
"""
import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

SEED = 0


@dataclass
class Built:
    module: nn.Module
    specs: List[str]
    inputs: List[list]              # each a list in forward's argument order
    method: str = "forward"


@dataclass
class Case:
    name: str
    family: str                     # "torchvision", "torchaudio", "torch.nn", "user loops"
    build: Callable[[], Built]
    note: str = ""                  # shown in the report next to the result


# ---- torchvision: every classification constructor -------------------------------------------

# Input sizes where the model's own code needs more than 64x64 (inception's
# stem, fixed-size position embeddings), or accepts an image_size argument.
_TV_SIZE = {"inception_v3": 96, "googlenet": 64, "maxvit_t": 224, "swin_t": 64, "swin_s": 64, "swin_b": 64,
            "swin_v2_t": 64, "swin_v2_s": 64, "swin_v2_b": 64}
_TV_KWARGS = {"vit_b_16": {"image_size": 64}, "vit_b_32": {"image_size": 64}, "vit_l_16": {"image_size": 64},
              "vit_l_32": {"image_size": 64}, "vit_h_14": {"image_size": 56},
              "inception_v3": {"aux_logits": False, "init_weights": False},
              "googlenet": {"aux_logits": False, "init_weights": False}}


def _torchvision_case(name: str) -> Case:
    def build() -> Built:
        import torchvision
        torch.manual_seed(SEED)
        m = torchvision.models.get_model(name, weights=None, **_TV_KWARGS.get(name, {})).eval()
        s = _TV_SIZE.get(name, 64)
        specs = [f"x:f32[B<=2,3,{s},{s}]"]
        return Built(m, specs, [[torch.randn(1, 3, s, s)], [torch.randn(2, 3, s, s)]])
    return Case(name, "torchvision", build)


def torchvision_cases() -> List[Case]:
    try:
        import torchvision
    except ImportError:
        return []
    return [_torchvision_case(n) for n in torchvision.models.list_models(module=torchvision.models)]


# ---- torchaudio ----------------------------------------------------------------------------------


def _ta():
    import torchaudio
    torch.manual_seed(SEED)
    return torchaudio.models


def _wav2letter() -> Built:
    m = _ta().Wav2Letter(num_classes=20, input_type="waveform", num_features=1).eval()
    return Built(m, ["x:f32[B<=2,1,4000]"], [[torch.randn(1, 1, 4000)], [torch.randn(2, 1, 4000)]])


def _wav2letter_mfcc() -> Built:
    m = _ta().Wav2Letter(num_classes=20, input_type="mfcc", num_features=13).eval()
    return Built(m, ["x:f32[B<=2,13,T<=64]"], [[torch.randn(1, 13, 64)], [torch.randn(2, 13, 40)]])


def _deepspeech() -> Built:
    m = _ta().DeepSpeech(n_feature=20, n_hidden=64, n_class=10).eval()
    return Built(m, ["x:f32[B<=2,1,T<=32,20]"], [[torch.randn(1, 1, 32, 20)], [torch.randn(2, 1, 7, 20)]])


def _conformer() -> Built:
    m = _ta().Conformer(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2, depthwise_conv_kernel_size=7).eval()
    lengths = torch.tensor([20, 13])
    return Built(m, ["input:f32[B<=2,T<=20,32]", "lengths:i64[B]"],
                 [[torch.randn(2, 20, 32), lengths], [torch.randn(1, 9, 32), torch.tensor([9])]])


def _emformer() -> Built:
    m = _ta().Emformer(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2, segment_length=4,
                       right_context_length=1).eval()
    return Built(m, ["input:f32[B<=2,9,32]", "lengths:i64[B]"],
                 [[torch.randn(2, 9, 32), torch.tensor([8, 6])], [torch.randn(1, 9, 32), torch.tensor([8])]])


def _conv_tasnet() -> Built:
    m = _ta().ConvTasNet(num_sources=2, enc_kernel_size=16, enc_num_feats=32, msk_kernel_size=3, msk_num_feats=16,
                         msk_num_hidden_feats=32, msk_num_layers=2, msk_num_stacks=1).eval()
    return Built(m, ["input:f32[B<=2,1,L<=800]"], [[torch.randn(1, 1, 800)], [torch.randn(2, 1, 400)]])


def _wavernn() -> Built:
    m = _ta().WaveRNN(upsample_scales=[2, 2], n_classes=16, hop_length=4, n_res_block=1, n_rnn=16, n_fc=16,
                      kernel_size=3, n_freq=8, n_hidden=8, n_output=8).eval()
    frames = 6
    wave = torch.randn(1, 1, (frames - 3 + 1) * 4)
    spec = torch.randn(1, 1, 8, frames)
    return Built(m, [f"waveform:f32[1,1,{(frames - 2) * 4}]", f"specgram:f32[1,1,8,{frames}]"], [[wave, spec]])


def _tacotron2_infer() -> Built:
    m = _ta().Tacotron2(mask_padding=False, n_mels=16, n_symbol=20, n_frames_per_step=1, symbol_embedding_dim=32,
                        encoder_embedding_dim=32, encoder_n_convolution=1, encoder_kernel_size=3,
                        decoder_rnn_dim=32, decoder_max_step=20, decoder_dropout=0.0, decoder_early_stopping=True,
                        attention_rnn_dim=32, attention_hidden_dim=16, attention_location_n_filter=4,
                        attention_location_kernel_size=5, attention_dropout=0.0, prenet_dim=16,
                        postnet_n_convolution=1, postnet_kernel_size=3, postnet_embedding_dim=16,
                        gate_threshold=0.5).eval()
    tokens = torch.randint(0, 20, (1, 7))
    return Built(m, ["tokens:i64[1,N<=7]", "lengths:i64[1]"], [[tokens, torch.tensor([7])]], method="infer")


def _wav2vec2_small(kind: str) -> Callable[[], Built]:
    def build() -> Built:
        ta = _ta()
        m = ta.wav2vec2_model(extractor_mode="group_norm", extractor_conv_layer_config=[(16, 10, 5), (16, 3, 2)],
                              extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.0,
                              encoder_pos_conv_kernel=8, encoder_pos_conv_groups=4, encoder_num_layers=2,
                              encoder_num_heads=4, encoder_attention_dropout=0.0, encoder_ff_interm_features=64,
                              encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=False,
                              encoder_layer_drop=0.0, aux_num_out=None).eval()
        if kind == "lengths":
            return Built(m, ["waveforms:f32[B<=2,800]", "lengths:i64[B]"],
                         [[torch.randn(2, 800), torch.tensor([800, 600])]])
        return Built(m, ["waveforms:f32[B<=2,800]", "lengths:none"], [[torch.randn(2, 800), None]])
    return build


def _hdemucs() -> Built:
    m = _ta().HDemucs(sources=["a", "b"], audio_channels=1, channels=8, growth=2, nfft=256, depth=3).eval()
    return Built(m, ["input:f32[1,1,2048]"], [[torch.randn(1, 1, 2048)]])


def torchaudio_cases() -> List[Case]:
    try:
        import torchaudio  # noqa: F401
    except ImportError:
        return []
    return [
        Case("Wav2Letter (waveform)", "torchaudio", _wav2letter),
        Case("Wav2Letter (mfcc)", "torchaudio", _wav2letter_mfcc),
        Case("DeepSpeech", "torchaudio", _deepspeech),
        Case("Conformer", "torchaudio", _conformer),
        Case("Emformer", "torchaudio", _emformer),
        Case("ConvTasNet", "torchaudio", _conv_tasnet),
        Case("WaveRNN", "torchaudio", _wavernn),
        Case("Tacotron2.infer", "torchaudio", _tacotron2_infer,
             "decoder loop until the stop gate; the Prenet's dropout is on in inference too (random draws)"),
        Case("wav2vec2 (lengths)", "torchaudio", _wav2vec2_small("lengths"), "wav2vec2_base's code, small dims"),
        Case("wav2vec2 (lengths None)", "torchaudio", _wav2vec2_small("none"), "wav2vec2_base's code, small dims"),
        Case("HDemucs", "torchaudio", _hdemucs),
    ]


# ---- torch.nn: the layer families, as users configure them -------------------------------------


class _Seq(nn.Module):
    """A recurrent module with a linear head on its output."""

    def __init__(self, rnn: nn.Module, hidden: int, out: int = 8):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden, out)

    def forward(self, x: Tensor) -> Tensor:
        y, _ = self.rnn(x)
        return self.head(y)


class _WithState(nn.Module):
    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.rnn = rnn

    def forward(self, x: Tensor, h0: Tensor, c0: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


def _rnn_case(name: str, make: Callable[[], nn.Module], hidden_out: int, batch_first: bool) -> Case:
    def build() -> Built:
        torch.manual_seed(SEED)
        m = _Seq(make(), hidden_out).eval()
        if batch_first:
            return Built(m, ["x:f32[B<=4,T<=16,16]"], [[torch.randn(4, 16, 16)], [torch.randn(1, 5, 16)],
                                                         [torch.randn(2, 1, 16)]])
        return Built(m, ["x:f32[T<=16,B<=4,16]"], [[torch.randn(16, 4, 16)], [torch.randn(5, 1, 16)]])
    return Case(name, "torch.nn", build)


def _lstm_with_state() -> Built:
    torch.manual_seed(SEED)
    m = _WithState(nn.LSTM(16, 32, num_layers=2)).eval()
    return Built(m, ["x:f32[T<=8,B<=2,16]", "h0:f32[2,B,32]", "c0:f32[2,B,32]"],
                 [[torch.randn(8, 2, 16), torch.randn(2, 2, 32), torch.randn(2, 2, 32)],
                  [torch.randn(3, 1, 16), torch.randn(2, 1, 32), torch.randn(2, 1, 32)]])


class _GreedyDecoder(nn.Module):
    """Greedy decoding over a cell: embed the last token, step, pick the best
    next token, stop at EOS; the tokens are collected in a list. Subclasses
    say how the cell steps (an LSTM cell's state is a pair)."""

    def __init__(self, cell: nn.Module, vocab: int = 12, hidden: int = 32, eos: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.cell = cell
        self.out = nn.Linear(hidden, vocab)
        self.eos = eos

    def step(self, x: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError

    def forward(self, h: Tensor, max_len: int) -> Tensor:
        tok = torch.full([h.size(0)], 1, dtype=torch.long)
        c = torch.zeros_like(h)
        tokens: List[Tensor] = []
        for _ in range(max_len):
            h, c = self.step(self.embed(tok), h, c)
            tok = self.out(h).argmax(-1)
            tokens.append(tok)
            if bool((tok == self.eos).all()):
                break
        if len(tokens) == 0:
            return torch.zeros([h.size(0), 0], dtype=torch.long)
        return torch.stack(tokens, 1)


class _GruDecoder(_GreedyDecoder):
    def __init__(self):
        super().__init__(nn.GRUCell(32, 32))

    def step(self, x: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        return self.cell(x, h), c


class _LstmDecoder(_GreedyDecoder):
    def __init__(self):
        super().__init__(nn.LSTMCell(32, 32))

    def step(self, x: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        return self.cell(x, (h, c))


def _cell_decoder(cell: str) -> Callable[[], Built]:
    def build() -> Built:
        torch.manual_seed(SEED)
        m = (_GruDecoder() if cell == "gru" else _LstmDecoder()).eval()
        return Built(m, ["h:f32[B<=2,32]", "max_len:i64"],
                     [[torch.randn(2, 32), 10], [torch.randn(1, 32), 0], [torch.randn(1, 32), 3]])
    return build


class _OptionalState(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(8, 16)

    def forward(self, xs: Tensor) -> Tensor:
        h: Optional[Tensor] = None
        for t in range(xs.size(0)):
            h = self.cell(xs[t], h)
        assert h is not None
        return h


def _optional_state() -> Built:
    torch.manual_seed(SEED)
    return Built(_OptionalState().eval(), ["xs:f32[T<=6,B<=2,8]"], [[torch.randn(6, 2, 8)], [torch.randn(1, 1, 8)]])


class _Encoder(nn.Module):
    """nn.TransformerEncoder over padded sequences: the padding mask from lengths."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        pad = torch.arange(x.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)
        return self.encoder(x, src_key_padding_mask=pad)


def _encoder() -> Built:
    torch.manual_seed(SEED)
    return Built(_Encoder().eval(), ["x:f32[B<=2,T<=10,32]", "lengths:i64[B]"],
                 [[torch.randn(2, 10, 32), torch.tensor([10, 6])], [torch.randn(1, 4, 32), torch.tensor([4])]])


class _PreNormEncoder(nn.Module):
    """Sequence-first, pre-norm, gelu: PyTorch's unfused path, with a padding mask."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
                                           activation="gelu", norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(32))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        pad = torch.arange(x.size(0)).unsqueeze(0) >= lengths.unsqueeze(1)
        return self.encoder(x, src_key_padding_mask=pad)


def _pre_norm_encoder() -> Built:
    torch.manual_seed(SEED)
    return Built(_PreNormEncoder().eval(), ["x:f32[T<=10,B<=2,32]", "lengths:i64[B]"],
                 [[torch.randn(10, 2, 32), torch.tensor([10, 6])], [torch.randn(4, 1, 32), torch.tensor([3])]])


class _Transformer(nn.Module):
    """nn.Transformer: encoder, decoder with a causal mask, padding masks on the source."""

    def __init__(self):
        super().__init__()
        self.model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                    dim_feedforward=64, dropout=0.0, batch_first=True)

    def forward(self, src: Tensor, tgt: Tensor, lengths: Tensor) -> Tensor:
        pad = torch.arange(src.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)
        n = tgt.size(1)
        causal = torch.triu(torch.full((n, n), float("-inf")), 1)
        return self.model(src, tgt, tgt_mask=causal, src_key_padding_mask=pad, memory_key_padding_mask=pad)


def _transformer() -> Built:
    torch.manual_seed(SEED)
    return Built(_Transformer().eval(), ["src:f32[B<=2,S<=10,32]", "tgt:f32[B,T<=6,32]", "lengths:i64[B]"],
                 [[torch.randn(2, 10, 32), torch.randn(2, 6, 32), torch.tensor([10, 7])],
                  [torch.randn(1, 5, 32), torch.randn(1, 2, 32), torch.tensor([5])]])


class _Mha(nn.Module):
    def __init__(self, causal: bool):
        super().__init__()
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.causal = causal

    def forward(self, x: Tensor) -> Tensor:
        mask: Optional[Tensor] = None
        if self.causal:
            n = x.size(1)
            mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        y, _ = self.attn(x, x, x, attn_mask=mask, need_weights=False)
        return y


class _Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
                                                batch_first=True)

    def forward(self, tgt: Tensor, memory: Tensor) -> Tensor:
        n = tgt.size(1)
        causal = torch.triu(torch.full((n, n), float("-inf")), 1)
        return self.layer(tgt, memory, tgt_mask=causal)


class _Unary(nn.Module):
    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x)


class _Beam(nn.Module):
    """One step of beam search: log-probabilities, top-k over beams x vocab, gather."""

    def __init__(self, vocab: int = 16, k: int = 3):
        super().__init__()
        self.proj = nn.Linear(8, vocab)
        self.k = k
        self.vocab = vocab

    def forward(self, h: Tensor, scores: Tensor) -> Tuple[Tensor, Tensor]:
        logp = torch.log_softmax(self.proj(h), -1) + scores.unsqueeze(-1)
        best, idx = logp.flatten(1).topk(self.k, dim=-1)
        beam = torch.div(idx, self.vocab, rounding_mode="floor")
        return best, beam


def _layer_case(name: str, layer: Callable[[], nn.Module], shape: Sequence[int], spec: str, note: str = "") -> Case:
    def build() -> Built:
        torch.manual_seed(SEED)
        return Built(_Unary(layer()).eval(), [f"x:{spec}"], [[torch.randn(*shape)]])
    return Case(name, "torch.nn", build, note)


def nn_cases() -> List[Case]:
    cases = [
        _rnn_case("nn.LSTM 2 layers, batch_first", lambda: nn.LSTM(16, 32, num_layers=2, batch_first=True), 32, True),
        _rnn_case("nn.LSTM bidirectional", lambda: nn.LSTM(16, 32, bidirectional=True), 64, False),
        _rnn_case("nn.LSTM proj_size", lambda: nn.LSTM(16, 32, proj_size=8, batch_first=True), 8, True),
        _rnn_case("nn.GRU bidirectional, batch_first", lambda: nn.GRU(16, 32, bidirectional=True, batch_first=True),
                  64, True),
        _rnn_case("nn.GRU 3 layers, no bias", lambda: nn.GRU(16, 32, num_layers=3, bias=False), 32, False),
        _rnn_case("nn.RNN tanh", lambda: nn.RNN(16, 32, num_layers=2), 32, False),
        _rnn_case("nn.RNN relu", lambda: nn.RNN(16, 32, nonlinearity="relu", batch_first=True), 32, True),
        Case("nn.LSTM with (h0, c0)", "torch.nn", _lstm_with_state),
        Case("nn.GRUCell greedy decoder", "user loops", _cell_decoder("gru"), "List[Tensor] of tokens, EOS break"),
        Case("nn.LSTMCell greedy decoder", "user loops", _cell_decoder("lstm"), "List[Tensor] of tokens, EOS break"),
        Case("Optional[Tensor] state", "user loops", _optional_state, "h is None before the first step"),
        Case("beam step (log_softmax, topk)", "user loops",
             lambda: Built(_Beam().eval(), ["h:f32[3,8]", "scores:f32[3]"], [[torch.randn(3, 8), torch.randn(3)]])),
        Case("nn.TransformerEncoder + padding mask", "torch.nn", _encoder),
        Case("nn.TransformerEncoder pre-norm, gelu, seq-first", "torch.nn", _pre_norm_encoder),
        Case("nn.Transformer + masks", "torch.nn", _transformer),
        Case("nn.MultiheadAttention", "torch.nn",
             lambda: Built(_Mha(False).eval(), ["x:f32[B<=2,T<=8,32]"], [[torch.randn(2, 8, 32)],
                                                                          [torch.randn(1, 3, 32)]])),
        Case("nn.MultiheadAttention causal", "torch.nn",
             lambda: Built(_Mha(True).eval(), ["x:f32[B<=2,T<=8,32]"], [[torch.randn(2, 8, 32)]])),
        Case("nn.TransformerDecoderLayer causal", "torch.nn",
             lambda: Built(_Decoder().eval(), ["tgt:f32[B<=2,T<=6,32]", "memory:f32[B,S<=8,32]"],
                           [[torch.randn(2, 6, 32), torch.randn(2, 8, 32)]])),
        _layer_case("nn.Conv1d", lambda: nn.Conv1d(4, 8, 5, padding=2), (2, 4, 32), "f32[B<=2,4,32]"),
        _layer_case("nn.Conv1d depthwise, dilated", lambda: nn.Conv1d(8, 8, 3, groups=8, dilation=2),
                    (2, 8, 32), "f32[B<=2,8,32]"),
        _layer_case("nn.ConvTranspose1d", lambda: nn.ConvTranspose1d(4, 8, 4, stride=2), (2, 4, 16), "f32[2,4,16]"),
        _layer_case("nn.ConvTranspose2d", lambda: nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1),
                    (2, 4, 8, 8), "f32[2,4,8,8]"),
        _layer_case("nn.Conv2d depthwise", lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8), (2, 8, 16, 16),
                    "f32[B<=2,8,16,16]"),
        _layer_case("nn.GroupNorm", lambda: nn.GroupNorm(2, 8), (2, 8, 6, 6), "f32[B<=2,8,6,6]"),
        _layer_case("nn.InstanceNorm2d", lambda: nn.InstanceNorm2d(8, affine=True), (2, 8, 6, 6), "f32[2,8,6,6]"),
        _layer_case("nn.BatchNorm1d", lambda: nn.BatchNorm1d(8), (2, 8, 10), "f32[B<=2,8,10]"),
        _layer_case("nn.LayerNorm", lambda: nn.LayerNorm(16), (2, 5, 16), "f32[B<=2,5,16]"),
        _layer_case("nn.AdaptiveMaxPool2d", lambda: nn.AdaptiveMaxPool2d(3), (2, 4, 9, 9), "f32[2,4,9,9]"),
        _layer_case("nn.ReflectionPad2d", lambda: nn.ReflectionPad2d(2), (1, 3, 8, 8), "f32[1,3,8,8]"),
        _layer_case("nn.ReplicationPad1d", lambda: nn.ReplicationPad1d(3), (1, 3, 8), "f32[1,3,8]"),
        _layer_case("nn.ConstantPad2d", lambda: nn.ConstantPad2d(1, 0.5), (1, 3, 8, 8), "f32[1,3,8,8]"),
        _layer_case("nn.Upsample nearest", lambda: nn.Upsample(scale_factor=2, mode="nearest"), (1, 3, 4, 4),
                    "f32[1,3,4,4]"),
        _layer_case("nn.Upsample bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3, 4, 4),
                    "f32[1,3,4,4]"),
    ]
    for act in ("ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "LeakyReLU", "ELU", "Softplus", "SiLU", "Mish",
                "GELU", "LogSoftmax", "Softmax"):
        kwargs = {"dim": -1} if act in ("LogSoftmax", "Softmax") else {}
        cases.append(_layer_case(f"nn.{act}", (lambda a=act, k=kwargs: getattr(nn, a)(**k)), (2, 3, 7),
                                 "f32[B<=2,3,7]"))
    return cases


def all_cases() -> List[Case]:
    return nn_cases() + torchaudio_cases() + torchvision_cases()


def weight_megabytes(module: nn.Module) -> float:
    return sum(p.numel() * p.element_size() for p in module.state_dict().values()) / 2**20
