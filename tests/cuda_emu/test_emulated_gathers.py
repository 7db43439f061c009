"""Gathers and run-time failures of generated CUDA, run on the CPU by the
emulation harness (tests/cuda_emu/cuda_emu.h).

The tree corpus model (tests/models/tree_gather.py: `h[left]`,
`index_select`, `gather`, the first two in a persistent loop) on random
data with negative indices, against TorchScript and against the CPU
executor. Then what only the data decides: an index out of range, a
model's `raise` inside a persistent loop, a narrow whose start and a glu
whose size are symbolic values. Each must fail the run on the host with the
CPU executor's message at the op's source line, and end the loop at once:
the runs ask for 10**9 steps, which the harness could not emulate in the
test's time. (A glu's check has no source line: the message says none.)
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("COCKTAIL_BUILD_DIR") or REPO / "build")
COMPILE = BUILD / "tools" / "cocktail-compile"
RUN = BUILD / "tools" / "cocktail-run"
EMU_RUN = BUILD / "tests" / "cuda_emu" / "cuda-emu-run"

pytestmark = pytest.mark.skipif(not (COMPILE.exists() and RUN.exists() and EMU_RUN.exists()),
                                reason=f"cocktail-compile, cocktail-run or cuda-emu-run is not built in {BUILD}")

HUGE = 10**9  # loop steps no emulation could finish: a run that ends did leave the loop


def load_tree_model():
    spec = importlib.util.spec_from_file_location("tree_gather", REPO / "tests" / "models" / "tree_gather.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TREE = load_tree_model()


class LoopRaise(nn.Module):
    def forward(self, x: Tensor, steps: int, limit: float):
        h = x
        for _ in range(steps):
            h = torch.tanh(h * 1.5) + 0.5
            if float(h.sum()) > limit:
                raise ValueError("the state grew past the limit")
        return h


class LoopNarrow(nn.Module):
    def forward(self, xs: Tensor, steps: int, start: int):
        h = xs[0]
        for i in range(steps):
            h = h + xs.narrow(0, start + i, 1)[0]
        return h


class LoopGlu(nn.Module):
    def forward(self, x: Tensor, h: Tensor, steps: int):
        for _ in range(steps):
            h = torch.tanh(h + F.glu(x, 0).sum(0))  # glu raises on an odd symbolic size
        return h


class IndexForms(nn.Module):
    """Every integer-index form the generator renders: index_select on two
    dims, gather, x[i], x[:, j], x[i, j] (two index tensors), x[i2] (a 2-d index),
    x[i - 4] (negative), and an i32 index (index_select: ATen 1.13 takes
    no i32 in x[...])."""

    def forward(self, x: Tensor, i: Tensor, j: Tensor, gi: Tensor, i2: Tensor):
        return (x.index_select(0, i), torch.index_select(x, 1, j), torch.gather(x, 1, gi), x[i], x[:, j],
                x[i, j], x[i2], x[i - 4], x.index_select(1, j.int()))


def compile_cuda(tmp_path, module, specs):
    model = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(module.eval()), str(model))
    artifact = tmp_path / "model.cocktail"
    cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--strict", "--target", "cuda", "--arch", "sm_80"]
    for s in specs:
        cmd += ["--input", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return model, artifact


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return compile_cuda(tmp_path_factory.mktemp("tree"), TREE.build(), TREE.input_specs())


def emulate(tmp_path, artifact, inputs, reference=None, outputs=None):
    path = tmp_path / "inputs.pt"
    torch.save(inputs, str(path))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(path), "--blocks", "4", "--threads", "64"]
    if reference:
        cmd += ["--reference", str(reference), "--rtol", "1e-5"]
    if outputs:
        cmd += ["--outputs", str(outputs)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def run_on_cpu(tmp_path, artifact, inputs, outputs=None):
    """The same artifact's scheduled program on the CPU executor."""
    path = tmp_path / "cpu-inputs.pt"
    torch.save(inputs, str(path))
    cmd = [str(RUN), str(artifact), "--inputs", str(path), "--device", "cpu"]
    if outputs:
        cmd += ["--outputs", str(outputs)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def error_line(stderr):
    """The diagnostic: `file:line: error: ...`, or `error: ...` for an op without a location."""
    lines = [l for l in stderr.splitlines() if ": error: " in l or l.startswith("error: ")]
    assert lines, stderr
    return lines[-1]


@pytest.mark.parametrize("seed, depth, n", [(0, 3, 7), (1, 4, 16), (2, 0, 5), (3, 2, 1)])
def test_tree_gathers_match_torchscript_and_the_cpu_executor(tmp_path, tree, seed, depth, n):
    model, artifact = tree
    inputs = TREE.example_inputs(seed=seed, depth=depth, n=n)
    assert n == 1 or bool((inputs[1] < 0).any()), "the inputs must hold negative indices for `index`"
    emu = emulate(tmp_path, artifact, inputs, reference=model, outputs=tmp_path / "emu.pt")
    assert emu.returncode == 0, f"{emu.stdout}\n{emu.stderr}"
    assert "within" in emu.stdout
    cpu = run_on_cpu(tmp_path, artifact, inputs, outputs=tmp_path / "cpu.pt")
    assert cpu.returncode == 0, cpu.stderr
    for e, c in zip(torch.load(str(tmp_path / "emu.pt")), torch.load(str(tmp_path / "cpu.pt"))):
        assert e.shape == c.shape
        torch.testing.assert_close(e, c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_index_form_matches_torchscript(tmp_path, seed):
    model, artifact = compile_cuda(tmp_path, IndexForms(),
                                   ["x:f32[5,4]", "i:i64[3]", "j:i64[3]", "gi:i64[5,2]", "i2:i64[2,2]"])
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(5, 4, generator=g), torch.randint(0, 4, (3,), generator=g),
              torch.randint(0, 4, (3,), generator=g), torch.randint(0, 4, (5, 2), generator=g),
              torch.randint(-5, 5, (2, 2), generator=g)]
    emu = emulate(tmp_path, artifact, inputs, reference=model)
    assert emu.returncode == 0, f"{emu.stdout}\n{emu.stderr}"
    assert "within" in emu.stdout


# (input, its op, the dim it indexes, its size): in the loop, and the gather after it.
BAD_INDEX = {"left": (1, "index", 0, 7), "right": (2, "index_select", 0, 7), "slot": (3, "gather", 1, 8)}


@pytest.mark.parametrize("which, value", [("left", -8), ("left", 7), ("right", 7), ("slot", 8), ("slot", -1)])
def test_an_index_out_of_range_fails_the_run_with_the_cpu_executors_message(tmp_path, tree, which, value):
    _, artifact = tree
    position, op, dim, size = BAD_INDEX[which]
    inputs = TREE.example_inputs(seed=4, depth=3 if which == "slot" else HUGE, n=7)
    inputs[position][5] = value
    emu = emulate(tmp_path, artifact, inputs)
    assert emu.returncode == 1, f"{emu.stdout}\n{emu.stderr}"
    line = error_line(emu.stderr)
    assert f"in '{op}': {op}: index {value} is out of bounds for dimension {dim} with size {size}" in line, line
    assert line.startswith(f"{TREE.__file__}:"), line
    # The CPU executor runs few steps of the loop before failing; same words, same place.
    inputs[4] = 3
    cpu = run_on_cpu(tmp_path, artifact, inputs)
    assert cpu.returncode != 0
    assert error_line(cpu.stderr) == line


def test_a_negative_index_select_index_is_out_of_range_as_in_aten(tmp_path, tree):
    _, artifact = tree
    inputs = TREE.example_inputs(seed=5, depth=2, n=7)
    inputs[2][0] = -1
    emu = emulate(tmp_path, artifact, inputs)
    assert emu.returncode == 1
    assert "in 'index_select': index_select: index -1 is out of bounds for dimension 0 with size 7" in emu.stderr


def test_a_raise_inside_a_persistent_loop_fails_the_run(tmp_path):
    model, artifact = compile_cuda(tmp_path, LoopRaise(), ["x:f32[4,8]", "steps:i64", "limit:f64"])
    source = subprocess.run([str(COMPILE), str(model), "--input", "x:f32[4,8]", "--input", "steps:i64", "--input",
                             "limit:f64", "--target", "cuda", "--emit", "cuda", "-q"],
                            capture_output=True, text=True, timeout=600).stdout
    assert 'placement = "persistent"' in source and "cocktail_failed_before(E, barrier)" in source
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 8, generator=g)
    ok = emulate(tmp_path, artifact, [x, 5, 1000.0], reference=model)
    assert ok.returncode == 0, f"{ok.stdout}\n{ok.stderr}"
    bad = emulate(tmp_path, artifact, [x, HUGE, 20.0])
    assert bad.returncode == 1, f"{bad.stdout}\n{bad.stderr}"
    line = error_line(bad.stderr)
    assert line.endswith("error: in 'raise': the state grew past the limit"), line
    cpu = run_on_cpu(tmp_path, artifact, [x, HUGE, 20.0])
    assert error_line(cpu.stderr) == line


def test_a_narrow_out_of_range_inside_a_loop_fails_the_run(tmp_path):
    model, artifact = compile_cuda(tmp_path, LoopNarrow(), ["xs:f32[T<=16,4]", "steps:i64", "start:i64"])
    xs = torch.randn(10, 4, generator=torch.Generator().manual_seed(1))
    ok = emulate(tmp_path, artifact, [xs, 3, 2], reference=model)
    assert ok.returncode == 0, f"{ok.stdout}\n{ok.stderr}"
    bad = emulate(tmp_path, artifact, [xs, HUGE, 2])
    assert bad.returncode == 1, f"{bad.stdout}\n{bad.stderr}"
    line = error_line(bad.stderr)
    assert "in 'raise': narrow(): start must be in [-size, size]" in line, line
    assert error_line(run_on_cpu(tmp_path, artifact, [xs, HUGE, 2]).stderr) == line


def test_a_glu_of_an_odd_symbolic_size_inside_a_loop_fails_the_run(tmp_path):
    model, artifact = compile_cuda(tmp_path, LoopGlu(), ["x:f32[N<=16,4]", "h:f32[4]", "steps:i64"])
    g = torch.Generator().manual_seed(2)
    ok = emulate(tmp_path, artifact, [torch.randn(6, 4, generator=g), torch.randn(4, generator=g), 3], reference=model)
    assert ok.returncode == 0, f"{ok.stdout}\n{ok.stderr}"
    bad_inputs = [torch.randn(5, 4, generator=g), torch.randn(4, generator=g), HUGE]
    bad = emulate(tmp_path, artifact, bad_inputs)
    assert bad.returncode == 1, f"{bad.stdout}\n{bad.stderr}"
    line = error_line(bad.stderr)
    assert "in 'raise': glu: halving dimension 0 must have an even size" in line, line
    assert error_line(run_on_cpu(tmp_path, artifact, bad_inputs).stderr) == line
