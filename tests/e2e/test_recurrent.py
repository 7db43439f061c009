"""PyTorch's recurrent modules (nn.LSTM, nn.GRU, nn.RNN and the cells) compiled
with --strict and run against the TorchScript interpreter (rel. error < 1e-5).

Each model is compiled once with a symbolic batch (and sequence length), then
run at two batch sizes and several sequence lengths, including 1 and the
bound; the decoders at several max_len, with loops that stop at EOS.
"""
import subprocess

import pytest
import torch

from conftest import compile_model, require_tool, run_model, save_module
from recurrent_models import CASES, EOS, PACKED_CASES

# (batch, steps): both batch sizes, the shortest sequence, one between and the bound.
BOUNDS = {"lstm_head": (4, 12), "lstm_state": (3, 10), "lstm_bidir_state": (3, 10), "lstm_proj": (3, 9),
          "gru_tagger": (3, 11), "rnn_tanh": (3, 8), "rnn_relu_nobias_bidir": (3, 8), "gru_nobias": (3, 8),
          "grucell_decoder": (4, 12), "lstmcell_decoder": (4, 12), "rnn_cells": (4, 1),
          "optional_state": (3, 8), "stacked_with_state": (3, 8)}


def shapes(name):
    max_b, max_t = BOUNDS[name]
    extra = [(max_b, 0)] if name == "optional_state" else []  # zero steps: the state stays None
    return [(1, 1), (1, max_t), (max_b, 1), (max_b, max(2, max_t // 2)), (max_b, max_t)] + extra


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            build, specs, _ = CASES[name]
            tmp = tmp_path_factory.mktemp(name)
            model = save_module(torch.jit.script(build()), tmp, name)
            artifact = tmp / f"{name}.cocktail"
            compile_model(model, specs, artifact, strict=True)
            cache[name] = (model, artifact, tmp)
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torchscript(name, compiled):
    model, artifact, tmp = compiled(name)
    _, _, make_inputs = CASES[name]
    for k, (b, t) in enumerate(shapes(name)):
        inputs = make_inputs(b, t, 100 + k)
        run_model(artifact, inputs, tmp, reference=model, rtol=1e-5, name=f"{name}_{b}_{t}")


@pytest.mark.parametrize("name", ["grucell_decoder", "lstmcell_decoder"])
def test_decoder_inputs_take_both_exits(name):
    """The decoder cases stop at EOS before max_len for some inputs and run to
    max_len for others (a case that never breaks would test half the loop)."""
    build, _, make_inputs = CASES[name]
    m = torch.jit.script(build())
    exits = set()
    for k, (b, t) in enumerate(shapes(name)):
        inputs = make_inputs(b, t, 100 + k)
        outs = m(*inputs)[0]
        if name == "grucell_decoder":
            stopped = bool((outs == EOS).all(1).any()) and not bool((outs[-1] == EOS).all())
        else:
            stopped = outs.size(0) < inputs[-1]
        exits.add("eos" if stopped else "max_len")
    assert exits == {"eos", "max_len"}


def test_scheduled_time_loop_is_placed(compiled, tmp_path):
    """--emit scheduled shows the stacked LSTM run layer by layer: a time loop
    per layer, placed by place-control-flow, each layer's input projection
    computed for every step at once before its loop (batch-steps)."""
    model, _, _ = compiled("lstm_head")
    proc = subprocess.run([str(require_tool("cocktail-compile")), str(model), "--input", "x:f32[1,T<=12,64]",
                           "--emit", "scheduled", "--strict", "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    loops = [line for line in proc.stdout.splitlines() if " = loop(" in line]
    # A time loop per layer, each one persistent region with its weights on chip.
    assert len(loops) == 2, proc.stdout
    for loop in loops:
        assert 'placement = "persistent"' in loop and "resident = " in loop, loop
    batched = [line for line in proc.stdout.splitlines() if "= linear(" in line and "batched = " in line]
    assert len(batched) == 2, proc.stdout


def packed_lengths(max_b, max_t, sorted_lengths):
    """(T, lengths) pairs for a packed case: batches of 1, 2 and max_b rows,
    every row as long as the input, one row of length 1, a longest row
    shorter than the input (the output is cut to it), and equal lengths."""
    cases = [(1, [1]), (max_t, [max_t]), (max_t, [max_t] * max_b), (max_t, [max_t, 7, 3, 1][:max_b]),
             (max_t, [6, 5, 2, 1][:max_b]), (5, [4, 2]), (max_t, [3, 3, 1, 1][:max_b])]
    if sorted_lengths:
        return cases
    # Rotated, so that no batch of two rows or more is sorted (but the equal ones).
    return [(t, lengths[1:] + lengths[:1]) for t, lengths in cases]


@pytest.fixture(scope="module")
def compiled_packed(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            build, specs, _, _, _ = PACKED_CASES[name]
            tmp = tmp_path_factory.mktemp(name)
            model = save_module(torch.jit.script(build()), tmp, name)
            artifact = tmp / f"{name}.cocktail"
            compile_model(model, specs, artifact, strict=True)
            cache[name] = (model, artifact, tmp)
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(PACKED_CASES))
def test_packed_matches_torchscript(name, compiled_packed):
    """pack_padded_sequence -> recurrent module -> pad_packed_sequence: the
    padded output (as long as the longest row), the final states and lengths."""
    model, artifact, tmp = compiled_packed(name)
    _, _, make_inputs, sorted_lengths, max_t = PACKED_CASES[name]
    for k, (t, lengths) in enumerate(packed_lengths(4, max_t, sorted_lengths)):
        inputs = make_inputs(lengths, t, 200 + k)
        run_model(artifact, inputs, tmp, reference=model, rtol=1e-5, name=f"{name}_{k}")


# Lengths PyTorch refuses, and the message each gets (x has T=10 steps).
BAD_LENGTHS = [
    ("packed_lstm", [3, 10, 1], "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
    ("packed_lstm", [10, 3, 0], "Length of all samples has to be greater than 0"),
    ("packed_lstm", [11, 3, 1], "a length is greater than the padded input's sequence length"),
    ("packed_gru_unsorted", [3, 0, 10], "Length of all samples has to be greater than 0"),
    ("packed_gru_unsorted", [3, 11, 1], "a length is greater than the padded input's sequence length"),
]


@pytest.mark.parametrize("name,lengths,message", BAD_LENGTHS)
def test_packed_bad_lengths_fail_clearly(name, lengths, message, compiled_packed):
    model, artifact, tmp = compiled_packed(name)
    inputs = PACKED_CASES[name][2](lengths, 10, 7)
    with pytest.raises(Exception):
        torch.jit.load(str(model))(*inputs)  # PyTorch refuses them too
    proc = run_model(artifact, inputs, tmp, name=f"{name}_bad", check=False)
    assert proc.returncode != 0, proc.stdout
    assert message in proc.stderr, proc.stderr


# What the CUDA generator takes (NVRTC, no GPU needed). Not here: the
# decoders, whose `zeros(max_len, B)` buffer has no bound (max_len is an
# unbounded i64 argument). NVRTC takes ~15 s a model here, so four that
# cover stacked, bidirectional with states, the GRU tagger and the cells;
# tests/cuda_emu/test_emulated_modules.py compiles every other case too and
# runs its kernels in the emulation harness.
CUDA_CASES = ["lstm_head", "lstm_bidir_state", "gru_tagger", "rnn_cells"]


@pytest.mark.parametrize("name", CUDA_CASES)
def test_compiles_for_cuda(name, compiled, tmp_path):
    model, _, _ = compiled(name)
    proc = compile_model(model, CASES[name][1], tmp_path / f"{name}.cocktail", strict=True,
                         extra_args=["--target", "cuda"], check=False)
    if proc.returncode != 0 and "no CUDA backend" in proc.stderr:
        pytest.skip("this build has no CUDA backend")
    assert proc.returncode == 0, proc.stderr
