"""What the CLI error tests share (test_compile_errors.py, test_run_errors.py,
test_inputs_file_errors.py, test_artifact_edits.py, test_cli_exit_statuses.py):
running a tool, the checks that a failure is clean (a short error that names
the problem; never a signal, an abort or an uncaught C++ exception), and the
models they vary from (their fixtures, cli_models and cli_inputs, are in
conftest.py).

The tools are taken from ``$COCKTAIL_BUILD_DIR/tools`` (default ``<repo>/build``).
"""
import os
import signal
import subprocess
from pathlib import Path
from typing import List

import pytest
import torch
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("COCKTAIL_BUILD_DIR") or (REPO_ROOT / "build"))

SPECS = ["--input", "x:f32[T<=8,4]", "--input", "steps:i64"]

# Exit statuses that mean a crash when a shell reports them (128 + signal).
CRASH_CODES = {128 + signal.SIGABRT, 128 + signal.SIGSEGV, 128 + signal.SIGFPE, 128 + signal.SIGBUS,
               128 + signal.SIGILL}


def tool(name: str) -> Path:
    p = BUILD_DIR / "tools" / name
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.skip(f"{name} is not built: no executable {p} (set COCKTAIL_BUILD_DIR)")
    return p


def run_tool(name: str, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(tool(name)), *map(str, args)], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def describe(proc: subprocess.CompletedProcess) -> str:
    return (f"$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}")


def error_lines(proc: subprocess.CompletedProcess) -> List[str]:
    """stderr without the tools' progress lines."""
    return [l for l in proc.stderr.splitlines()
            if l.strip() and not l.startswith("cocktail-compile: translating")
            and not l.startswith("Run with --help")]


def expect_clean_failure(proc: subprocess.CompletedProcess, *substrings: str, exit_code=None, max_lines: int = 3):
    """Non-zero exit, no crash, a short stderr containing every substring."""
    why = describe(proc)
    assert proc.returncode != 0, "expected a failure\n" + why
    assert proc.returncode > 0, f"killed by signal {-proc.returncode}\n" + why
    assert proc.returncode not in CRASH_CODES, "crash exit status\n" + why
    for bad in ("terminate called", "Segmentation", "Aborted", "core dumped", "Traceback", "what():"):
        assert bad not in proc.stderr, f"stderr shows a crash ({bad!r})\n" + why
    if exit_code is not None:
        assert proc.returncode == exit_code, why
    lines = error_lines(proc)
    assert lines, "no error message on stderr\n" + why
    assert len(lines) <= max_lines, f"expected at most {max_lines} lines of error\n" + why
    for s in substrings:
        assert s in proc.stderr, f"stderr lacks {s!r}\n" + why


# ---- models ------------------------------------------------------------------------------------


class Loopy(nn.Module):
    """forward(x: Tensor, steps: int): `steps` times x = tanh(x * w)."""

    def __init__(self, scale: float):
        super().__init__()
        self.w = nn.Parameter(torch.full((4,), scale))

    def forward(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        for _ in range(steps):
            x = torch.tanh(x * self.w)
        return x


class FloorDiv(nn.Module):
    def forward(self, a: int, b: int) -> int:
        return a // b


def save_inputs(path: Path, values) -> Path:
    torch.save(values, str(path))
    return path
