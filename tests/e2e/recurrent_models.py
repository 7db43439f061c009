"""PyTorch's recurrent modules as users write them, for test_recurrent.py.

Each case: a builder of the (eval-mode) module, its `--input` specs with a
symbolic batch and sequence length, and a function making inputs for one
(batch, steps) pair. Weights come from a fixed seed.
"""
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

EOS = 1


class LstmHead(nn.Module):
    """nn.LSTM(64, 128, num_layers=2, batch_first=True) and a linear head."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x: Tensor) -> Tensor:
        y, _ = self.rnn(x)
        return self.head(y)


class LstmWithState(nn.Module):
    """Given (h0, c0), returning the output and the final states."""

    def __init__(self, bidirectional: bool = False):
        super().__init__()
        self.rnn = nn.LSTM(24, 32, num_layers=2, bidirectional=bidirectional)

    def forward(self, x: Tensor, h0: Tensor, c0: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


class LstmProj(nn.Module):
    """proj_size: h is projected to 16 features, c keeps 32."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(20, 32, num_layers=2, proj_size=16, batch_first=True)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        y, (h, c) = self.rnn(x)
        return y, h, c


class GruTagger(nn.Module):
    """A bidirectional two-layer GRU tagger over embedded tokens."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 32)
        self.rnn = nn.GRU(32, 48, num_layers=2, bidirectional=True, batch_first=True)
        self.tag = nn.Linear(96, 7)

    def forward(self, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        y, h = self.rnn(self.emb(tokens))
        return self.tag(y).log_softmax(-1), h


class Rnn(nn.Module):
    def __init__(self, nonlinearity: str, bias: bool = True, bidirectional: bool = False):
        super().__init__()
        self.rnn = nn.RNN(16, 24, num_layers=2, nonlinearity=nonlinearity, bias=bias, bidirectional=bidirectional)

    def forward(self, x: Tensor, h0: Tensor) -> Tuple[Tensor, Tensor]:
        return self.rnn(x, h0)


class GruNoBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(16, 24, bias=False)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        return self.rnn(x)


class GruCellDecoder(nn.Module):
    """Greedy decoding over nn.GRUCell until every row produced EOS."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 16)
        self.cell = nn.GRUCell(16, 32)
        self.out = nn.Linear(32, 20)

    def forward(self, h: Tensor, max_len: int) -> Tuple[Tensor, Tensor]:
        tok = torch.zeros(h.size(0), dtype=torch.long)
        outs = torch.zeros(max_len, h.size(0), dtype=torch.long)
        for t in range(max_len):
            h = self.cell(self.emb(tok), h)
            tok = self.out(h).argmax(-1)
            outs[t] = tok
            if bool((tok == 1).all()):  # EOS
                break
        return outs, h


class LstmCellDecoder(nn.Module):
    """Greedy decoding over nn.LSTMCell until the first row produced EOS."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 16)
        self.cell = nn.LSTMCell(16, 32)
        self.out = nn.Linear(32, 20)

    def forward(self, h: Tensor, c: Tensor, max_len: int) -> Tuple[Tensor, Tensor]:
        tok = torch.zeros(h.size(0), dtype=torch.long)
        outs = torch.zeros(max_len, h.size(0), dtype=torch.long)
        steps = 0
        for t in range(max_len):
            h, c = self.cell(self.emb(tok), (h, c))
            tok = self.out(h).argmax(-1)
            outs[t] = tok
            steps = t + 1
            if bool(tok[0] == 1):  # EOS
                break
        return outs[:steps], c


class RnnCells(nn.Module):
    """One step of each simple cell (tanh and relu), without and with bias."""

    def __init__(self):
        super().__init__()
        self.tanh = nn.RNNCell(12, 20, nonlinearity="tanh")
        self.relu = nn.RNNCell(12, 20, nonlinearity="relu", bias=False)

    def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
        return self.tanh(x, h), self.relu(x, h)


class OptionalState(nn.Module):
    """A recurrence whose state is None before the first step (nn.GRUCell makes
    zeros then), and None after a loop of zero steps."""

    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(8, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, xs: Tensor) -> Tensor:
        h: Optional[Tensor] = None
        for t in range(xs.size(0)):
            h = self.cell(xs[t], h)
        if h is None:
            return torch.zeros(xs.size(1), 4)
        return self.out(h)


class PackedLstm(nn.Module):
    """Tacotron2's encoder recurrence: a padded batch packed by its lengths
    (sorted, batch first) through a bidirectional two-layer nn.LSTM and padded
    back to the longest length; with the final states."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x: Tensor, lengths: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
        y, (h, c) = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True)
        return out, h, c


class PackedGru(nn.Module):
    """Unsorted lengths (enforce_sorted=False), time first, a bidirectional
    two-layer nn.GRU; returns the lengths pad_packed_sequence gives back."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 12, num_layers=2, bidirectional=True)

    def forward(self, x: Tensor, lengths: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        y, h = self.rnn(packed)
        out, out_lengths = nn.utils.rnn.pad_packed_sequence(y)
        return out, h, out_lengths


class PackedRnn(nn.Module):
    """nn.RNN (relu, then tanh) from a given state, unsorted and batch first,
    padded with -1 to a total_length past the input's length."""

    def __init__(self, total_length: int):
        super().__init__()
        self.relu = nn.RNN(8, 10, nonlinearity="relu", batch_first=True)
        self.tanh = nn.RNN(10, 6, num_layers=2, batch_first=True)
        self.total_length = total_length

    def forward(self, x: Tensor, lengths: Tensor, h0: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, h = self.relu(packed, h0)
        z, g = self.tanh(y)
        out, _ = nn.utils.rnn.pad_packed_sequence(z, batch_first=True, padding_value=-1.0,
                                                  total_length=self.total_length)
        return out, h, g


class PackedLstmProj(nn.Module):
    """proj_size on a packed sequence, time first, sorted."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 12, proj_size=5)

    def forward(self, x: Tensor, lengths: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        y, (h, c) = self.rnn(nn.utils.rnn.pack_padded_sequence(x, lengths))
        out, _ = nn.utils.rnn.pad_packed_sequence(y)
        return out, h, c


def _seeded(cls, *args):
    torch.manual_seed(0)
    return cls(*args).eval()


def _randn(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g)


def _tokens(*shape, seed, vocab):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, shape, generator=g)


def _eos_biased(module, amount):
    # Make EOS likely after a few steps, so that the test inputs take both
    # exits of the loop (EOS, and max_len).
    with torch.no_grad():
        module.out.bias[EOS] += amount
    return module


# name -> (build, specs, inputs(batch, steps, seed))
class StackedWithState(nn.Module):
    """WaveRNN's pattern: a second GRU given an explicit state checks it
    against the batch of its input, which comes from the first GRU's output
    (and a repeat_interleave): the check folds only if the compiler knows
    those outputs' sizes."""

    def __init__(self):
        super().__init__()
        self.first = nn.GRU(8, 16, batch_first=True)
        self.second = nn.GRU(32, 16, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.zeros(1, x.size(0), 16)
        y, _ = self.first(x, h)
        z, _ = self.second(torch.cat([y, x.repeat_interleave(2, 2)], -1), h)
        return z


CASES = {
    "lstm_head": (lambda: _seeded(LstmHead), ["x:f32[B<=4,T<=12,64]"],
                  lambda b, t, s: [_randn(b, t, 64, seed=s)]),
    "lstm_state": (lambda: _seeded(LstmWithState), ["x:f32[T<=10,B<=3,24]", "h0:f32[2,B,32]", "c0:f32[2,B,32]"],
                   lambda b, t, s: [_randn(t, b, 24, seed=s), _randn(2, b, 32, seed=s + 1), _randn(2, b, 32, seed=s + 2)]),
    "lstm_bidir_state": (lambda: _seeded(LstmWithState, True),
                         ["x:f32[T<=10,B<=3,24]", "h0:f32[4,B,32]", "c0:f32[4,B,32]"],
                         lambda b, t, s: [_randn(t, b, 24, seed=s), _randn(4, b, 32, seed=s + 1),
                                          _randn(4, b, 32, seed=s + 2)]),
    "lstm_proj": (lambda: _seeded(LstmProj), ["x:f32[B<=3,T<=9,20]"], lambda b, t, s: [_randn(b, t, 20, seed=s)]),
    "gru_tagger": (lambda: _seeded(GruTagger), ["tokens:i64[B<=3,T<=11]"],
                   lambda b, t, s: [_tokens(b, t, seed=s, vocab=50)]),
    "rnn_tanh": (lambda: _seeded(Rnn, "tanh"), ["x:f32[T<=8,B<=3,16]", "h0:f32[2,B,24]"],
                 lambda b, t, s: [_randn(t, b, 16, seed=s), _randn(2, b, 24, seed=s + 1)]),
    "rnn_relu_nobias_bidir": (lambda: _seeded(Rnn, "relu", False, True), ["x:f32[T<=8,B<=3,16]", "h0:f32[4,B,24]"],
                              lambda b, t, s: [_randn(t, b, 16, seed=s), _randn(4, b, 24, seed=s + 1)]),
    "gru_nobias": (lambda: _seeded(GruNoBias), ["x:f32[T<=8,B<=3,16]"], lambda b, t, s: [_randn(t, b, 16, seed=s)]),
    "grucell_decoder": (lambda: _eos_biased(_seeded(GruCellDecoder), 0.3), ["h:f32[B<=4,32]", "max_len:i64"],
                        lambda b, t, s: [_randn(b, 32, seed=s), t]),
    "lstmcell_decoder": (lambda: _eos_biased(_seeded(LstmCellDecoder), 0.2), ["h:f32[B<=4,32]", "c:f32[B,32]", "max_len:i64"],
                         lambda b, t, s: [_randn(b, 32, seed=s), _randn(b, 32, seed=s + 1), t]),
    "optional_state": (lambda: _seeded(OptionalState), ["xs:f32[T<=8,B<=3,8]"],
                       lambda b, t, s: [_randn(t, b, 8, seed=s)]),
    "stacked_with_state": (lambda: _seeded(StackedWithState), ["x:f32[B<=3,T<=8,8]"],
                           lambda b, t, s: [_randn(b, t, 8, seed=s)]),
    "rnn_cells": (lambda: _seeded(RnnCells), ["x:f32[B<=4,12]", "h:f32[B,20]"],
                  lambda b, t, s: [_randn(b, 12, seed=s), _randn(b, 20, seed=s + 1)]),
}


def _packed_inputs(batch_first, state=None):
    """inputs(lengths, max_t, seed) for a packed case: x padded to max_t steps
    (garbage in the padding, which must not matter), the lengths, and an
    initial state of `state` = (layers, hidden) when the model takes one."""

    def make(lengths, max_t, seed):
        b = len(lengths)
        x = _randn(*((b, max_t, 8) if batch_first else (max_t, b, 8)), seed=seed)
        inputs = [x, torch.tensor(lengths, dtype=torch.long)]
        if state is not None:
            inputs.append(_randn(state[0], b, state[1], seed=seed + 1))
        return inputs

    return make


# name -> (build, specs, inputs(lengths, max_t, seed), whether the lengths must be sorted, the T bound)
PACKED_CASES = {
    "packed_lstm": (lambda: _seeded(PackedLstm), ["x:f32[B<=4,T<=10,8]", "lengths:i64[B]"],
                    _packed_inputs(True), True, 10),
    "packed_gru_unsorted": (lambda: _seeded(PackedGru), ["x:f32[T<=10,B<=4,8]", "lengths:i64[B]"],
                            _packed_inputs(False), False, 10),
    "packed_rnn_total_length": (lambda: _seeded(PackedRnn, 12), ["x:f32[B<=4,T<=10,8]", "lengths:i64[B]",
                                                                  "h0:f32[1,B,10]"],
                                _packed_inputs(True, (1, 10)), False, 10),
    "packed_lstm_proj": (lambda: _seeded(PackedLstmProj), ["x:f32[T<=10,B<=4,8]", "lengths:i64[B]"],
                         _packed_inputs(False), True, 10),
}
