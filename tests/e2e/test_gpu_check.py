"""The parts of the GPU check (scripts/gpu-check.sh, scripts/gpu_check.py) that
run without a GPU: its options and errors, its dry run, its differential step
on the CPU executor, and the chart it draws from a results file.

On a GPU machine the same script builds, compares on CUDA, times the GPU peers
and runs compute-sanitizer (bench/results/nvidia-h200-2026-11-30.md).

    /usr/bin/python3 -m pytest -q tests/e2e/test_gpu_check.py
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build_dir, require_cuda_backend, tool_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "gpu-check.sh"
PY_HALF = REPO_ROOT / "scripts" / "gpu_check.py"


def run(*cmd, env=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def test_help_says_how_to_use_it():
    r = run("bash", SCRIPT, "--help")
    assert r.returncode == 0, r.stderr
    for option in ("--fetch-deps", "--prebuild TORCH_DIR", "--dry-run", "COCKTAIL_BENCH=0", "Exit status"):
        assert option in r.stdout, option


def test_unknown_option_is_refused_by_name():
    r = run("bash", SCRIPT, "--gpu")
    assert r.returncode == 2
    assert "unknown option '--gpu'" in r.stderr


def test_prebuild_refuses_a_folder_that_is_not_a_wheel(tmp_path):
    r = run("bash", SCRIPT, "--prebuild", tmp_path)
    assert r.returncode == 1
    assert "not the torch folder of an unpacked wheel" in r.stderr


def test_dry_run_writes_its_log_where_asked(tmp_path):
    r = run("bash", SCRIPT, "--dry-run", env={"OUT": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "scripts/gpu_check.py compiles" in (tmp_path / "gpu-check.log").read_text()
    assert (tmp_path / "logs.tar.gz").is_file()


def test_a_step_without_its_build_is_an_error(tmp_path):
    r = run(sys.executable, PY_HALF, "--out", tmp_path, "diff")
    assert r.returncode != 0
    assert "diff needs --build" in r.stderr


def test_diff_on_the_cpu_matches_torchscript(tmp_path):
    if not tool_path("cocktail-compile").is_file():
        pytest.skip(f"cocktail-compile is not built in {build_dir()}")
    require_cuda_backend()   # the diff step compiles with --target cuda, then runs on the CPU
    r = run(sys.executable, PY_HALF, "--build", build_dir(), "--out", tmp_path, "--models", "rae",
            "--device", "cpu", "diff")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rae: compiled in" in r.stdout and "(ok 0.0001)" in r.stdout


def test_checks_on_the_cpu_report_bad_indices_and_raises(tmp_path):
    """The checks step as the GPU runs it, on the CPU executor: the tree
    model's gathers match TorchScript; an index out of range and a raise in
    a loop asked for 10**9 steps fail the run (exit 1) with the op's error."""
    if not tool_path("cocktail-compile").is_file():
        pytest.skip(f"cocktail-compile is not built in {build_dir()}")
    require_cuda_backend()   # the step compiles with --target cuda
    r = run(sys.executable, PY_HALF, "--build", build_dir(), "--out", tmp_path, "--arch", "sm_80", "--device", "cpu",
            "checks")
    assert r.returncode == 0, r.stdout + r.stderr
    for case in ("tree_gather, gathers: ok (exit 0)", "tree_gather, index out of range: ok (exit 1)",
                 "tree_gather, index_select out of range: ok (exit 1)", "loop_raise, raise in the loop: ok (exit 1)"):
        assert case in r.stdout, r.stdout


def test_chart_is_drawn_from_a_results_file(tmp_path):
    pytest.importorskip("matplotlib")
    results = REPO_ROOT / "bench" / "results" / "nvidia-h200-2026-11-30.json"
    (tmp_path / "results.json").write_bytes(results.read_bytes())
    r = run(sys.executable, PY_HALF, "--out", tmp_path, "chart")
    assert r.returncode == 0, r.stderr
    png = (tmp_path / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
