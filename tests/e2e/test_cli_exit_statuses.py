"""The tools' exit statuses by kind of error (tools/ExitCode.h), and every
--help saying what they mean.

    /usr/bin/python3 -m pytest -q tests/e2e/test_cli_exit_statuses.py
"""


import pytest
import torch
from torch import nn

from cli_harness import run_tool, describe, expect_clean_failure, REPO_ROOT


# ---- exit statuses by kind (tools/ExitCode.h) ---------------------------------------------------
#
# 1 user error, 2 a bad command line, 3 an unsupported construct, 4 an internal
# error (tests/tools: no command line reaches one on purpose), 5 a --reference
# mismatch (test_run_reference_differs); every --help says so.

@pytest.mark.parametrize("name, args", [("cocktail-compile", ["--no-such-flag"]), ("cocktail-run", []),
                                        ("opt/cocktail-opt", ["--no-such-flag"])])
def test_a_bad_command_line_exits_2(name, args):
    proc = run_tool(name, *args)
    assert proc.returncode == 2, describe(proc)
    assert "terminate called" not in proc.stderr


def test_a_user_error_exits_1(cli_models, tmp_path):
    proc = run_tool("cocktail-compile", cli_models["a"], "-o", tmp_path / "o.cocktail", "--input", "x:f33[T<=8,4]",
                    "--input", "steps:i64")
    expect_clean_failure(proc, "f33", exit_code=1)
    bad_ir = tmp_path / "bad.ir"
    bad_ir.write_text("func @forward(%x: f32[4]) -> (f32[4]) {\n  return(%y)\n}\n")
    expect_clean_failure(run_tool("opt/cocktail-opt", bad_ir), "%y", exit_code=1)


class UsesCumprod(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(x, 0) + 1.0


def test_an_unsupported_construct_exits_3(tmp_path):
    pt = tmp_path / "cumprod.pt"
    torch.jit.save(torch.jit.script(UsesCumprod()), str(pt))
    proc = run_tool("cocktail-compile", pt, "-o", tmp_path / "o.cocktail", "--input", "x:f32[4]", "--strict")
    expect_clean_failure(proc, "aten::cumprod", "is not supported by the compiler", exit_code=3)
    # The CUDA generator's refusal is of the same kind (where this build has it).
    cuda_case = REPO_ROOT / "tests" / "cuda" / "unsupported-op.ir"
    proc = run_tool("opt/cocktail-opt", cuda_case, "--split-input-file", "--emit-cuda")
    if "--emit-cuda" not in run_tool("opt/cocktail-opt", "--help").stdout:
        return
    assert proc.returncode == 3, describe(proc)
    assert "not supported by the CUDA generator yet" in proc.stderr, describe(proc)


@pytest.mark.parametrize("name", ["cocktail-compile", "cocktail-run", "opt/cocktail-opt"])
def test_help_lists_the_exit_statuses(name):
    proc = run_tool(name, "--help")
    assert proc.returncode == 0, describe(proc)
    assert "Exit status:" in proc.stdout, describe(proc)
    for line in ["0  success", "1  user error", "2  a bad command line", "3  unsupported", "4  internal error"]:
        assert line in proc.stdout, f"--help lacks {line!r}\n" + describe(proc)
    assert ("5  the outputs differ" in proc.stdout) == (name == "cocktail-run"), describe(proc)
