"""Bad artifacts, arguments and references given to cocktail-run, and cli_models
that fail at run time (a raise, a division by zero, a timeout): each case must
exit non-zero with a short error that names the problem, never crash.

    /usr/bin/python3 -m pytest -q tests/e2e/test_run_errors.py
"""
import os
from pathlib import Path
from typing import List

import pytest
import torch
from torch import nn

from cli_harness import run_tool, describe, expect_clean_failure, FloorDiv, save_inputs


def test_good_run_succeeds(cli_models, cli_inputs):
    """The baseline the failure cases vary from."""
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--reference", cli_models["a"])
    assert proc.returncode == 0, describe(proc)
    assert "within" in proc.stdout


# ---- cocktail-run ------------------------------------------------------------------------------


def test_run_missing_artifact(tmp_path, cli_inputs):
    proc = run_tool("cocktail-run", tmp_path / "nope.cocktail", "--inputs", cli_inputs)
    expect_clean_failure(proc, "nope.cocktail", "No such file")


def test_run_truncated_artifact(cli_models, tmp_path, cli_inputs):
    data = cli_models["artifact"].read_bytes()
    half = tmp_path / "half.cocktail"
    half.write_bytes(data[:len(data) // 2])
    proc = run_tool("cocktail-run", half, "--inputs", cli_inputs)
    expect_clean_failure(proc, "half.cocktail", "truncated")


def test_run_header_only_artifact(cli_models, tmp_path, cli_inputs):
    head = tmp_path / "head.cocktail"
    head.write_bytes(cli_models["artifact"].read_bytes()[:10])
    proc = run_tool("cocktail-run", head, "--inputs", cli_inputs)
    expect_clean_failure(proc, "head.cocktail", "not a Cocktail artifact")


def test_run_torchscript_file_as_artifact(cli_models, cli_inputs):
    proc = run_tool("cocktail-run", cli_models["a"], "--inputs", cli_inputs)
    expect_clean_failure(proc, "a.pt", "not a Cocktail artifact", "cocktail-compile")


def test_run_random_bytes_as_artifact(tmp_path, cli_inputs):
    p = tmp_path / "junk.cocktail"
    p.write_bytes(os.urandom(4096))
    proc = run_tool("cocktail-run", p, "--inputs", cli_inputs)
    expect_clean_failure(proc, "junk.cocktail", "not a Cocktail artifact")


def test_run_artifact_of_newer_format(cli_models, tmp_path, cli_inputs):
    data = bytearray(cli_models["artifact"].read_bytes())
    data[8:12] = (99).to_bytes(4, "little")
    p = tmp_path / "v99.cocktail"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", p, "--inputs", cli_inputs)
    expect_clean_failure(proc, "v99.cocktail", "format version 99", "compiled by a newer cocktail-compile")


def test_run_artifact_of_older_format(cli_models, tmp_path, cli_inputs):
    # Format 2: before CUDA code carried its host plan.
    data = bytearray(cli_models["artifact"].read_bytes())
    data[8:12] = (2).to_bytes(4, "little")
    p = tmp_path / "v2.cocktail"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", p, "--inputs", cli_inputs)
    expect_clean_failure(proc, "v2.cocktail", "compiled by an older cocktail-compile", "format version 2",
                         "recompile it", exit_code=1)


def test_run_directory_as_artifact(tmp_path, cli_inputs):
    proc = run_tool("cocktail-run", tmp_path, "--inputs", cli_inputs)
    expect_clean_failure(proc, "is a directory")


def test_run_timeout_stops_a_long_loop(cli_models, tmp_path):
    p = save_inputs(tmp_path / "long.pt", [torch.randn(5, 4), 2**31])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p, "--timeout", "0.3")
    expect_clean_failure(proc, "stopped at step", "the deadline passed")


def test_run_refuses_a_trip_count_over_the_limit(cli_models, tmp_path):
    p = save_inputs(tmp_path / "huge.pt", [torch.randn(5, 4), 2**62])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "would run 4611686018427387904 steps, over the limit of 4294967296")
    p3 = save_inputs(tmp_path / "three.pt", [torch.randn(5, 4), 3])
    expect_clean_failure(run_tool("cocktail-run", cli_models["artifact"], "--inputs", p3, "--max-loop-trips", "2"),
                         "would run 3 steps, over the limit of 2")
    assert run_tool("cocktail-run", cli_models["artifact"], "--inputs", p3, "--max-loop-trips", "3").returncode == 0


def test_run_wrong_dtype(cli_models, tmp_path):
    p = save_inputs(tmp_path / "f64.pt", [torch.randn(5, 4, dtype=torch.float64), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dtype f32", "f64")


def test_run_float_for_int_argument(cli_models, tmp_path):
    p = save_inputs(tmp_path / "float.pt", [torch.randn(5, 4), 2.5])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'steps'", "i64", "2.5")


def test_run_rank_mismatch(cli_models, tmp_path):
    p = save_inputs(tmp_path / "rank.pt", [torch.randn(5, 4, 1), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "rank 2", "f32[5, 4, 1]")


def test_run_constant_dim_mismatch(cli_models, tmp_path):
    p = save_inputs(tmp_path / "dim.pt", [torch.randn(5, 3), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dim 1 must be 4, got 3")


def test_run_dim_above_symbolic_bound(cli_models, tmp_path):
    p = save_inputs(tmp_path / "big.pt", [torch.randn(9, 4), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dim 0 is 9", "T<=8")


def test_run_dim_at_symbolic_bound_is_fine(cli_models, tmp_path):
    p = save_inputs(tmp_path / "edge.pt", [torch.randn(8, 4), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p, "--reference", cli_models["a"])
    assert proc.returncode == 0, describe(proc)


def test_run_reference_missing(cli_models, cli_inputs, tmp_path):
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--reference", tmp_path / "gone.pt")
    expect_clean_failure(proc, "cannot load reference model", "gone.pt")


def test_run_reference_not_torchscript(cli_models, cli_inputs, tmp_path):
    p = tmp_path / "ref.txt"
    p.write_text("nope\n")
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--reference", p)
    expect_clean_failure(proc, "cannot load reference model", "ref.txt")


def test_run_reference_differs(cli_models, cli_inputs):
    """Compiled from A, compared with B (other weights): exit 1 and say so."""
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--reference", cli_models["b"])
    assert proc.returncode == 5, describe(proc)
    assert "EXCEEDS" in proc.stdout, describe(proc)
    assert "terminate called" not in proc.stderr


def test_run_device_cuda_not_available(cli_models, cli_inputs):
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--device", "cuda")
    expect_clean_failure(proc, "--device cuda", "--device cpu")


def test_run_without_inputs_option(cli_models):
    proc = run_tool("cocktail-run", cli_models["artifact"])
    expect_clean_failure(proc, "--inputs", "required")


def test_run_outputs_into_missing_directory(cli_models, cli_inputs, tmp_path):
    out = tmp_path / "no" / "o.pt"
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", cli_inputs, "--outputs", out, "-q")
    expect_clean_failure(proc, "cannot write", str(out))


@pytest.fixture(scope="module")
def floordiv_artifact(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("floordiv")
    m = d / "fd.pt"
    torch.jit.save(torch.jit.script(FloorDiv()), str(m))
    art = d / "fd.cocktail"
    proc = run_tool("cocktail-compile", m, "-o", art, "-q", "--input", "a:i64", "--input", "b:i64")
    assert proc.returncode == 0, describe(proc)
    return art


def test_run_integer_division_by_zero(floordiv_artifact, tmp_path):
    p = save_inputs(tmp_path / "zero.pt", [7, 0])
    proc = run_tool("cocktail-run", floordiv_artifact, "--inputs", p)
    expect_clean_failure(proc, "floordiv", "division by zero", "cli_harness.py", max_lines=4)
    # Python raises ZeroDivisionError: the input's fault, not the compiler's.
    assert proc.returncode == 1, describe(proc)


def test_run_integer_floordiv_overflow_does_not_crash(floordiv_artifact, tmp_path):
    p = save_inputs(tmp_path / "min.pt", [-2 ** 63, -1])
    proc = run_tool("cocktail-run", floordiv_artifact, "--inputs", p)
    # TorchScript's int wraps here; the CPU executor refuses the overflow as the input's (exit 1).
    assert proc.returncode == 1 and "overflow in floor division" in proc.stderr, describe(proc)
    assert "terminate called" not in proc.stderr, describe(proc)


class RaisesOnNegativeSum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() < 0):
            raise ValueError("the input sums to a negative number")
        return x * 2.0


def test_run_model_raise_reports_its_message(tmp_path):
    # TorchScript's `raise` becomes the IR's raise op: a taken one fails the
    # run with the model's message and the line it is on; an untaken one is free.
    pt = tmp_path / "raises.pt"
    torch.jit.save(torch.jit.script(RaisesOnNegativeSum()), str(pt))
    art = tmp_path / "raises.cocktail"
    proc = run_tool("cocktail-compile", pt, "-o", art, "--input", "x:f32[3]", "--strict")
    assert proc.returncode == 0, describe(proc)
    ok = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "pos.pt", [torch.ones(3)]))
    assert ok.returncode == 0, describe(ok)
    proc = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "neg.pt", [-torch.ones(3)]))
    expect_clean_failure(proc, "negative number", "test_run_errors.py:", exit_code=1)


class StacksWhatTheLoopAppends(nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
        outs: List[torch.Tensor] = []
        for i in range(n):
            outs.append(x * float(i))
        return torch.stack(outs)


def test_run_stack_of_a_list_no_step_appended_to_fails_like_pytorch(tmp_path):
    # A list appended to in a loop that ran zero times is empty: torch.stack
    # raises in PyTorch, and the compiled model fails the run with its message.
    module = torch.jit.script(StacksWhatTheLoopAppends())
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        module(torch.ones(3), 0)
    pt = tmp_path / "stacks.pt"
    torch.jit.save(module, str(pt))
    art = tmp_path / "stacks.cocktail"
    proc = run_tool("cocktail-compile", pt, "-o", art, "--input", "x:f32[3]", "--input", "n:i64", "--strict")
    assert proc.returncode == 0, describe(proc)
    ok = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "two.pt", [torch.ones(3), 2]), "--reference", pt)
    assert ok.returncode == 0, describe(ok)
    proc = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "zero.pt", [torch.ones(3), 0]))
    expect_clean_failure(proc, "stack expects a non-empty TensorList", "test_run_errors.py:")


class CausalMask(nn.Module):
    """An attention mask as an output: -inf above the diagonal, 0 below."""

    def forward(self, x):
        return torch.triu(torch.full((x.size(0), x.size(0)), float("-inf")), diagonal=1) + x.sum() * 0.0


def test_reference_agrees_on_equal_infinities(tmp_path):
    """--reference counts the same infinity on both sides as agreement (their
    difference is NaN; it used to report an infinite error and exit 1), and
    NaN against NaN."""
    model = tmp_path / "mask.pt"
    torch.jit.script(CausalMask()).save(str(model))
    artifact = tmp_path / "mask.cocktail"
    proc = run_tool("cocktail-compile", model, "--input", "x:f32[4]", "-o", artifact)
    assert proc.returncode == 0, describe(proc)
    inputs = save_inputs(tmp_path / "in.pt", [torch.randn(4)])
    proc = run_tool("cocktail-run", artifact, "--inputs", inputs, "--reference", model)
    assert proc.returncode == 0, describe(proc)
    assert "max abs error 0," in proc.stdout
    nan_inputs = save_inputs(tmp_path / "nan.pt", [torch.tensor([float("nan"), 1.0, 2.0, 3.0])])
    proc = run_tool("cocktail-run", artifact, "--inputs", nan_inputs, "--reference", model)
    assert proc.returncode == 0, describe(proc)  # NaN against NaN: agreement
