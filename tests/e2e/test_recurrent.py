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
from recurrent_models import CASES, EOS

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


# What the CUDA generator takes (NVRTC, no GPU needed). Not here: the
# decoders, whose `zeros(max_len, B)` buffer has no bound (max_len is an
# unbounded i64 argument), and the Optional state (the generator refuses the
# `undef` the loop starts from). NVRTC takes ~15 s a model here, so four that
# cover stacked, bidirectional with states, the GRU tagger and the cells (the
# others compile too).
CUDA_CASES = ["lstm_head", "lstm_bidir_state", "gru_tagger", "rnn_cells"]


@pytest.mark.parametrize("name", CUDA_CASES)
def test_compiles_for_cuda(name, compiled, tmp_path):
    model, _, _ = compiled(name)
    proc = compile_model(model, CASES[name][1], tmp_path / f"{name}.cocktail", strict=True,
                         extra_args=["--target", "cuda"], check=False)
    if proc.returncode != 0 and "no CUDA backend" in proc.stderr:
        pytest.skip("this build has no CUDA backend")
    assert proc.returncode == 0, proc.stderr
