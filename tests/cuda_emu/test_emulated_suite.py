"""The suite's generated CUDA, run on the CPU by the emulation harness, against TorchScript.

Each model of bench/models is compiled with --target cuda (NVRTC, sm_80);
cuda-emu-run compiles the same CUDA source for the CPU (tests/cuda_emu/
cuda_emu.h: every CUDA thread a fiber, all blocks co-resident), drives it
with the plan runner a GPU would use, on a small grid (4 blocks x 64
threads), and compares with the TorchScript interpreter: rel. error < 1e-4.
Inputs are small (few steps) so that every model runs in seconds; the
signatures keep the suite's bounds and batches, so the kernels are the suite's.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("COCKTAIL_BUILD_DIR") or REPO / "build")
COMPILE = BUILD / "tools" / "cocktail-compile"
EMU_RUN = BUILD / "tests" / "cuda_emu" / "cuda-emu-run"

pytestmark = pytest.mark.skipif(not (COMPILE.exists() and EMU_RUN.exists()),
                                reason=f"cocktail-compile or cuda-emu-run is not built in {BUILD}")


def load_suite():
    folder = REPO / "bench" / "models"
    spec = importlib.util.spec_from_file_location("cocktail_bench_models", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["cocktail_bench_models"] = pkg
    spec.loader.exec_module(pkg)
    return pkg


suite = load_suite()

# (model, batch, example_inputs keyword arguments): small runs of each model,
# the edge cases of its control flow (zero-trip loops, an early stop, both
# branch outcomes), and batch 64 where the kernels become GEMMs.
CASES = [
    ("lstm", 1, {"steps": 3}),
    ("lstm", 1, {"steps": 0}),
    ("nasrnn", 1, {"steps": 4}),
    ("nasrnn", 64, {"steps": 2}),
    ("attention", 1, {"start": 60}),
    ("attention", 1, {"start": 64}),
    ("attention", 64, {"start": 63}),
    ("seq2seq", 1, {"max_len": 4}),
    ("seq2seq", 1, {"max_len": 0}),
    ("rae", 1, {"n_leaves": 5}),
    ("rae", 1, {"n_leaves": 1}),
    ("blockdrop", 1, {"policy": "random"}),
    ("blockdrop", 1, {"policy": "none"}),
    ("skipnet", 1, {}),
]


def case_id(case):
    name, batch, kwargs = case
    return "-".join([name, f"b{batch}"] + [f"{k}{v}" for k, v in kwargs.items()])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Each model compiled once for CUDA."""
    out = tmp_path_factory.mktemp("emu")
    compiled = {}
    for name, batch in sorted({(n, b) for n, b, _ in CASES}):
        mod = suite.get(name)
        model = out / f"{name}.pt"
        if not model.exists():
            torch.jit.save(torch.jit.script(mod.build().eval()), str(model))
        artifact = out / f"{name}.b{batch}.cocktail"
        cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--target", "cuda", "--arch", "sm_80"]
        for s in mod.input_specs(batch):
            cmd += ["--input", s]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stderr}"
        compiled[(name, batch)] = (model, artifact)
    return compiled


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_emulated_kernels_match_torchscript(artifacts, tmp_path, case):
    name, batch, kwargs = case
    model, artifact = artifacts[(name, batch)]
    inputs = tmp_path / "inputs.pt"
    torch.save(suite.get(name).example_inputs(batch, seed=1, **kwargs), str(inputs))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model), "--rtol", "1e-4",
           "--blocks", "4", "--threads", "64", "--work-dir", str(tmp_path / "module")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    print(proc.stdout)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    assert "within" in proc.stdout


def expect_mismatch_without(artifacts, tmp_path, name, steps, sync, removed, what):
    """Runs `name`'s kernels as generated, then with every `sync` replaced by
    `removed`: the harness must notice (the arena starts as NaNs)."""
    model, artifact = artifacts[(name, 1)]
    work = tmp_path / "module"
    inputs = tmp_path / "inputs.pt"
    torch.save(suite.get(name).example_inputs(1, seed=1, steps=steps), str(inputs))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model), "--work-dir", str(work)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    source = (work / "module.cu").read_text()
    assert source.count(sync) > 0, f"the {name} kernel has no {what} to remove"
    broken = tmp_path / "broken.cu"
    broken.write_text(source.replace(sync, removed))
    proc = subprocess.run(cmd + ["--source", str(broken)], capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0, f"the harness ran a kernel without its {what} and matched:\n{proc.stdout}"
    assert "EXCEEDS" in proc.stdout or "differ" in proc.stderr, proc.stdout + proc.stderr


def test_harness_notices_a_missing_grid_barrier(artifacts, tmp_path):
    """The same kernels without their grid barriers must not match: blocks then
    read what other blocks have not written yet. NASRNN's cell reads every
    tile of its GEMMs. (The LSTM's one scheduled barrier now sits between two
    one-tile ops of the same block, whose threads each read only what they
    wrote: removing it changes nothing.)"""
    expect_mismatch_without(artifacts, tmp_path, "nasrnn", 4, "cocktail_grid_sync(barrier);  // sync = barrier",
                            "/* barrier removed */", "grid barriers")


def test_harness_notices_missing_tile_counter_waits(artifacts, tmp_path):
    """The LSTM's gates are summed tile by tile from two GEMVs on another
    tiling: each tile waits on the counters of the GEMV tiles it reads. Without
    those waits a block reads gates other blocks have not written yet."""
    expect_mismatch_without(artifacts, tmp_path, "lstm", 2, "if (hi > lo) cocktail_wait_tiles(",
                            "if (false) cocktail_wait_tiles(", "tile counter waits")


def perf_report(artifacts, tmp_path, name, steps):
    """cuda-emu-run --perf-report on `name` at batch 1 for `steps` steps: (stdout, the JSON report)."""
    model, artifact = artifacts[(name, 1)]
    inputs = tmp_path / f"inputs{steps}.pt"
    torch.save(suite.get(name).example_inputs(1, seed=1, steps=steps), str(inputs))
    report = tmp_path / f"perf{steps}.json"
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model),
           "--perf-report", "--perf-json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, json.loads(report.read_text())


def test_perf_report_counts_a_suite_model_step_by_step(artifacts, tmp_path):
    """The LSTM's counts in the emulator: its persistent loop's flops, traffic and
    barriers grow with the steps it runs, the time is labelled an estimate, and
    the outputs still match TorchScript with the counting build."""
    out1, one = perf_report(artifacts, tmp_path, "lstm", 1)
    out2, two = perf_report(artifacts, tmp_path, "lstm", 2)
    assert "ESTIMATES" in out1 and "est H100 ms" in out1 and "within" in out1
    loop1 = next(k for k in one["kernels"] if k["name"].endswith("_loop"))
    loop2 = next(k for k in two["kernels"] if k["name"].endswith("_loop"))
    # A step: 10 layers of two 1024x256 GEMVs (2 flops a weight) and the cell's elementwise ops.
    step_flops = loop2["flops"] - loop1["flops"]
    assert 10 * 2 * 2 * 1024 * 256 <= step_flops < 1.1 * 10 * 2 * 2 * 1024 * 256
    # Every weight is read once a step, at least (4 bytes each, whole sectors).
    assert loop2["load_sectors"] - loop1["load_sectors"] >= 10 * 2 * 1024 * 256 * 4 // 32
    assert loop2["grid_barriers"] > loop1["grid_barriers"] > 0
    assert loop1["est_ms"]["H100"] > loop1["est_ms"]["H200"] > 0
