"""Bad input to cocktail-compile: each case must exit non-zero with a short
error on stderr that names the problem, and must never crash.

    /usr/bin/python3 -m pytest -q tests/e2e/test_compile_errors.py
"""
import os

import pytest
import torch
from torch import nn

from cli_harness import run_tool, describe, expect_clean_failure, save_inputs, SPECS


# ---- cocktail-compile --------------------------------------------------------------------------


def test_compile_missing_model(tmp_path):
    proc = run_tool("cocktail-compile", tmp_path / "nope.pt", "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "nope.pt", "no such file")
    assert not (tmp_path / "o.cocktail").exists()


def test_compile_directory_as_model(tmp_path):
    proc = run_tool("cocktail-compile", tmp_path, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, str(tmp_path), "is a directory")


def test_compile_random_bytes(tmp_path):
    p = tmp_path / "random.pt"
    p.write_bytes(os.urandom(2048))
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "random.pt", "is not a TorchScript file", "torch.jit.save")


def test_compile_text_file(tmp_path):
    p = tmp_path / "model.py"
    p.write_text("import torch\nprint('not a model')\n")
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "model.py", "is not a TorchScript file")


def test_compile_torch_save_file_is_not_torchscript(tmp_path):
    p = save_inputs(tmp_path / "weights.pt", [torch.randn(3)])
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "weights.pt", "is not a TorchScript file")


def test_compile_without_any_input(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail")
    # Names every argument the model takes, so the user knows what to write.
    expect_clean_failure(proc, "no --input", "x: Tensor", "steps: int")


def test_compile_missing_input_for_an_argument(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", "--input", "x:f32[T<=8,4]")
    # Names the argument, shows the signature and suggests a spec.
    expect_clean_failure(proc, "missing --input for argument 'steps'", "forward(x: Tensor, steps: int)",
                         "--input steps:i64")


def test_compile_missing_tensor_input_suggests_a_tensor_spec(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", "--input", "steps:i64")
    expect_clean_failure(proc, "missing --input for argument 'x'", "x:f32[")


class NotSelf(nn.Module):
    """forward's module parameter named other than `self`, as Python allows."""

    def __init__(m):
        super().__init__()
        m.lin = nn.Linear(4, 3)

    def forward(m, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.relu(m.lin(x)) + y


def test_module_parameter_need_not_be_named_self(tmp_path):
    model = tmp_path / "notself.pt"
    torch.jit.save(torch.jit.script(NotSelf().eval()), str(model))
    # The module is not an argument to give a spec for...
    proc = run_tool("cocktail-compile", model, "-o", tmp_path / "o.cocktail", "--input", "x:f32[2,4]")
    expect_clean_failure(proc, "missing --input for argument 'y'", "forward(x: Tensor, y: Tensor)")
    # ...and with one per real argument, the model compiles and matches TorchScript.
    artifact = tmp_path / "notself.cocktail"
    proc = run_tool("cocktail-compile", model, "-o", artifact, "--input", "x:f32[2,4]", "--input", "y:f32[2,3]")
    assert proc.returncode == 0, describe(proc)
    inputs = save_inputs(tmp_path / "in.pt", [torch.randn(2, 4), torch.randn(2, 3)])
    proc = run_tool("cocktail-run", artifact, "--inputs", inputs, "--reference", model, "-q")
    assert proc.returncode == 0 and "within rtol" in proc.stdout, describe(proc)


def test_compile_unknown_input_name(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--input", "y:f32[3]")
    expect_clean_failure(proc, "no argument named 'y'", "forward(x: Tensor, steps: int)")


def test_compile_bad_dtype(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:float32[T<=8,4]", "--input", "steps:i64")
    expect_clean_failure(proc, "invalid input spec 'x:float32[T<=8,4]'", "unknown dtype 'float32'", "f32")


@pytest.mark.parametrize("spec,problem", [
    ("x:f32[T<=8,4", "missing ']'"),
    ("x f32[4]", "missing ':'"),
    ("x:f32[4,,4]", "empty dimension"),
    ("x:f32[-2,4]", "negative dimension"),
    ("x:f32[T<=zero,4]", "the bound of 'T' must be a positive integer"),
    ("x:f32[T,4]", "symbol 'T' in input 'x' has no bound"),
    ("x:f32", "a scalar must be i64, f64 or i1"),
    ("9x:f32[4]", "is not a valid argument name"),
])
def test_compile_malformed_spec(cli_models, tmp_path, spec, problem):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", "--input", spec,
                    "--input", "steps:i64")
    expect_clean_failure(proc, problem)


def test_compile_duplicate_input(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--input", "steps:i64")
    expect_clean_failure(proc, "input 'steps' is specified twice")


def test_compile_tensor_spec_for_int_argument(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:f32[T<=8,4]", "--input", "steps:i64[1]")
    expect_clean_failure(proc, "argument 'steps'", "the spec says i64[1]")


def test_compile_scalar_spec_for_tensor_argument(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:f64", "--input", "steps:i64")
    expect_clean_failure(proc, "argument 'x'", "Tensor", "the spec says f64")


def test_compile_target_cuda_unknown_arch(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--target", "cuda",
                    "--arch", "sm_80,volta")
    # A build without the CUDA backend says so; one with it names the bad architecture.
    expect_clean_failure(proc, "CUDA")
    assert "'volta'" in proc.stderr or "no CUDA backend" in proc.stderr, describe(proc)
    assert not (tmp_path / "o.cocktail").exists()


def test_compile_unknown_target(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--target", "tpu")
    expect_clean_failure(proc, "--target", "tpu")


def test_compile_nothing_to_do(cli_models):
    proc = run_tool("cocktail-compile", cli_models["a"], *SPECS)
    expect_clean_failure(proc, "nothing to do", "-o", "--emit", exit_code=2)


def test_compile_unknown_method(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--method", "decode")
    expect_clean_failure(proc, "has no method 'decode'")


def test_compile_output_in_missing_directory(cli_models, tmp_path):
    out = tmp_path / "no" / "such" / "o.cocktail"
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", out, *SPECS)
    expect_clean_failure(proc, "cannot write", str(out))
