"""PyTorch's recurrent and transformer modules as generated CUDA, run on the
CPU by the emulation harness (tests/cuda_emu/cuda_emu.h) against TorchScript.

Every case of tests/e2e/recurrent_models.py (nn.LSTM, nn.GRU, nn.RNN with
layers, bidirectional, batch_first, proj_size and states; the four cells; an
Optional state; sorted packed sequences) and of tests/e2e/transformer_models.py (nn.MultiheadAttention
with padding and causal masks, weights and cross-attention;
nn.TransformerEncoderLayer/Encoder with the eval fast paths and
key_padding_mask; nn.TransformerDecoderLayer) is compiled once with
`--strict --target cuda --arch sm_80,sm_90` and a symbolic batch and
length; ptxas's resource report must show no spill in any kernel. Its
kernels then run in the harness (4 blocks x 64 threads) at two batch sizes
and lengths (the bounds among them) and must match the TorchScript
interpreter: rel. error < 1e-5, the e2e tests' tolerance (these modules
have no long sums).

One worker compiles the cases (NVRTC) ahead of the emulation, so that the
two cores are both busy: 6 to 7 minutes in all on two cores.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("COCKTAIL_BUILD_DIR") or REPO / "build")
COMPILE = BUILD / "tools" / "cocktail-compile"
EMU_RUN = BUILD / "tests" / "cuda_emu" / "cuda-emu-run"

pytestmark = pytest.mark.skipif(not (COMPILE.exists() and EMU_RUN.exists()),
                                reason=f"cocktail-compile or cuda-emu-run is not built in {BUILD}")

sys.path.insert(0, str(REPO / "tests" / "e2e"))
import recurrent_models  # noqa: E402
import transformer_models as tm  # noqa: E402

RTOL = 1e-5


def recurrent_case(name, sizes):
    build, specs, make_inputs = recurrent_models.CASES[name]
    return build, specs, [make_inputs(b, t, 100 + k) for k, (b, t) in enumerate(sizes)]


# (batch, steps) per recurrent case: the bounds (test_recurrent.py's) and one
# step at batch 1; the Optional state also after zero steps (it stays None).
RECURRENT = {
    "lstm_head": [(4, 12), (1, 1)],
    "lstm_state": [(3, 10), (1, 1)],
    "lstm_bidir_state": [(3, 10), (2, 4)],
    "lstm_proj": [(3, 9), (1, 1)],
    "gru_tagger": [(3, 11), (1, 2)],
    "rnn_tanh": [(3, 8), (1, 1)],
    "rnn_relu_nobias_bidir": [(3, 8), (2, 3)],
    "gru_nobias": [(3, 8), (1, 1)],
    "optional_state": [(3, 8), (1, 1), (2, 0)],
    "stacked_with_state": [(3, 8), (1, 1)],
    "rnn_cells": [(4, 1), (1, 1)],
}

# Packed sequences (pack_padded_sequence -> module -> pad_packed_sequence):
# (lengths, padded steps) per run, lengths sorted as the case needs, the
# longest shorter than the padding in one run (the output is cut to it).
PACKED = {
    "packed_lstm": [([9, 4, 2, 1], 10), ([2], 3)],
    "packed_lstm_proj": [([10, 6, 3], 10), ([1], 2)],
}

# The unsorted packed cases put their results back in order with an in-place
# scatter, which the CUDA generator does not render yet: refused by name.
UNSORTED_PACKED = {"packed_gru_unsorted", "packed_rnn_total_length"}


def packed_case(name, runs):
    build, specs, make_inputs, _, _ = recurrent_models.PACKED_CASES[name]
    return build, specs, [make_inputs(lengths, t, 200 + k) for k, (lengths, t) in enumerate(runs)]


# The decoders allocate `zeros(max_len, B)` for their tokens with max_len an
# i64 argument, which has no bound: the CUDA backend plans every buffer at
# its bound, and refuses them by name. (An input spec cannot bound a scalar.)
UNBOUNDED = {"grucell_decoder", "lstmcell_decoder"}


def transformer_inputs(kind, batch_first):
    """Inputs at two of test_transformers.py's sizes: the bounds with rows of
    every length, and rows all shorter than the input (PyTorch's nested path
    then returns a shorter output)."""
    g = torch.Generator().manual_seed(5)
    sets = []
    for b, t, lengths in tm.RUNS[:2]:
        x = torch.randn(*tm.sizes(batch_first, b, t), generator=g)
        if kind == "layer":
            sets.append([x, torch.tensor(lengths)])
        else:
            memory_steps = t + 2 if kind == "mha" else t
            sets.append([x, torch.randn(*tm.sizes(batch_first, b, memory_steps), generator=g), torch.tensor(lengths)])
    return sets


def transformer_cases():
    cases = {}
    for bf, nf, act, pad in tm.LAYERS:
        name = "-".join(["layer", "batch_first" if bf else "seq_first", "pre_norm" if nf else "post_norm", act,
                         "padding_mask" if pad else "no_mask"])
        cases[name] = (lambda bf=bf, nf=nf, act=act, pad=pad: tm.EncoderLayer(bf, nf, act, pad),
                       [tm.spec(bf), "lengths:i64[B]"], transformer_inputs("layer", bf))
    for bf, nf, tag in [(True, False, "nested_fast_path"), (False, False, "seq_first"), (True, True, "pre_norm")]:
        cases[f"encoder-{tag}"] = (lambda bf=bf, nf=nf: tm.EncoderLayer(bf, nf, "relu", True, layers=2),
                                   [tm.spec(bf), "lengths:i64[B]"], transformer_inputs("layer", bf))
    for bf in (True, False):
        memory = f"memory:f32[{'B,S<=11' if bf else 'S<=11,B'},{tm.D}]"
        for kind in ["self", "padding", "causal", "weights", "head_weights", "cross"]:
            cases[f"mha-{'batch_first' if bf else 'seq_first'}-{kind}"] = (
                lambda bf=bf, kind=kind: tm.Attention(bf, kind), [tm.spec(bf), memory, "lengths:i64[B]"],
                transformer_inputs("mha", bf))
    for bf, nf in [(True, False), (False, True)]:
        memory = f"memory:f32[{'B,S<=9' if bf else 'S<=9,B'},{tm.D}]"
        cases[f"decoder-{'batch_first' if bf else 'seq_first'}-{'pre_norm' if nf else 'post_norm'}"] = (
            lambda bf=bf, nf=nf: tm.DecoderLayer(bf, nf), [tm.spec(bf).replace("x:", "tgt:"), memory, "lengths:i64[B]"],
            transformer_inputs("decoder", bf))
    return cases


def all_cases():
    cases = {f"recurrent-{name}": recurrent_case(name, sizes) for name, sizes in RECURRENT.items()}
    cases.update({f"recurrent-{name}": packed_case(name, runs) for name, runs in PACKED.items()})
    cases.update({f"transformer-{name}": case for name, case in transformer_cases().items()})
    return cases


CASES = all_cases()


def spills(report: str):
    """Kernels of ptxas's report (tests/cuda/test_nvrtc_suite.py's format) that spill."""
    rows = [line.split() for line in report.splitlines()[1:] if line.strip()]
    return [" ".join(r[:3]) for r in rows if len(r) > 1 and r[-1] == "SPILLS"]


def compile_case(out: Path, name: str):
    build, specs, _ = CASES[name]
    torch.manual_seed(0)
    model = out / f"{name}.pt"
    torch.jit.save(torch.jit.script(build().eval()), str(model))
    artifact = out / f"{name}.cocktail"
    report = out / f"{name}.resources.txt"
    cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--strict", "--target", "cuda", "--arch",
           "sm_80,sm_90", "--resource-report", str(report)]
    for s in specs:
        cmd += ["--input", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return model, artifact, report, proc, cmd


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Every case compiled by one background worker, in the tests' order."""
    out = tmp_path_factory.mktemp("modules")
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = {name: pool.submit(compile_case, out, name) for name in CASES}
        yield lambda name: futures[name].result()
        for f in futures.values():
            f.cancel()


@pytest.mark.parametrize("name", list(CASES))
def test_module_kernels_match_torchscript(compiled, tmp_path, name):
    model, artifact, report, proc, cmd = compiled(name)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stderr}"
    assert "warning" not in proc.stderr, proc.stderr
    text = report.read_text()
    assert "sm_80" in text and "sm_90" in text, text
    assert not spills(text), f"kernels of {name} spill registers: {spills(text)}\n{text}"
    for k, inputs in enumerate(CASES[name][2]):
        path = tmp_path / f"inputs{k}.pt"
        torch.save(inputs, str(path))
        run = [str(EMU_RUN), str(artifact), "--inputs", str(path), "--reference", str(model), "--rtol", str(RTOL),
               "--blocks", "4", "--threads", "64", "--work-dir", str(tmp_path / "module")]
        proc = subprocess.run(run, capture_output=True, text=True, timeout=900)
        sizes = [tuple(x.shape) if isinstance(x, torch.Tensor) else x for x in inputs]
        assert proc.returncode == 0, f"inputs {sizes}:\n$ {' '.join(run)}\n{proc.stdout}\n{proc.stderr}"
        assert "within" in proc.stdout, proc.stdout


@pytest.mark.parametrize("name", sorted(UNBOUNDED))
def test_unbounded_decoder_buffers_are_refused(tmp_path, name):
    """The greedy decoders' token buffer has no bound on CUDA: a clear
    refusal at the model's line, not an artifact that fails later."""
    build, specs, _ = recurrent_models.CASES[name]
    model = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(build()), str(model))
    artifact = tmp_path / "model.cocktail"
    cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--strict", "--target", "cuda", "--arch", "sm_80"]
    for s in specs:
        cmd += ["--input", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr  # unsupported (tools/ExitCode.h)
    assert "recurrent_models.py:" in proc.stderr and "cannot bound dim 0" in proc.stderr, proc.stderr
    assert not artifact.exists()


@pytest.mark.parametrize("name", sorted(UNSORTED_PACKED))
def test_unsorted_packed_sequences_are_refused(tmp_path, name):
    """enforce_sorted=False restores the batch's order with an in-place
    scatter the generator does not render: a refusal naming it at the
    model's line."""
    build, specs, _, _, _ = recurrent_models.PACKED_CASES[name]
    model = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(build()), str(model))
    artifact = tmp_path / "model.cocktail"
    cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--strict", "--target", "cuda", "--arch", "sm_80"]
    for s in specs:
        cmd += ["--input", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr  # unsupported (tools/ExitCode.h)
    assert "recurrent_models.py:" in proc.stderr and "'scatter'" in proc.stderr, proc.stderr
    assert not artifact.exists()


def test_every_module_case_is_covered():
    """A case added to recurrent_models.py must be run here or listed as refused."""
    assert set(recurrent_models.CASES) == set(RECURRENT) | UNBOUNDED
    assert set(recurrent_models.PACKED_CASES) == set(PACKED) | UNSORTED_PACKED
