"""Every suite model's generated CUDA compiles with NVRTC, without a GPU.

For each model of bench/models (batch 1): cocktail-compile --target cuda
--arch sm_80,sm_90 writes a CUDA artifact (source, cubins, PTX) and ptxas's
resource report. The reports are kept in $COCKTAIL_BUILD_DIR/cuda-resources/
(one file per model, and all.txt) and printed; a spill in a persistent
kernel fails the test: such a kernel keeps its blocks for the whole loop and
would pay the spill on every iteration. The artifact must load and, with no
GPU here, run on the CPU path against TorchScript.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("COCKTAIL_BUILD_DIR") or REPO / "build")
COMPILE = BUILD / "tools" / "cocktail-compile"
RUN = BUILD / "tools" / "cocktail-run"
SUITE = ["lstm", "nasrnn", "attention", "seq2seq", "blockdrop", "skipnet", "rae"]
REPORTS = BUILD / "cuda-resources"

pytestmark = pytest.mark.skipif(not COMPILE.exists(), reason=f"cocktail-compile is not built in {BUILD}")


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "all.txt").unlink(missing_ok=True)
    subprocess.run([sys.executable, str(REPO / "bench" / "models" / "export.py"), "--out", str(out),
                    "--batch", "1", "--models", ",".join(SUITE)], check=True, stdout=subprocess.DEVNULL)
    return out


def specs_of(suite_dir, name):
    return (suite_dir / f"{name}.b1.spec").read_text().split()


def persistent_spills(report: str):
    rows = [line.split() for line in report.splitlines()[1:] if line.strip()]
    return [" ".join(r[:3]) for r in rows if len(r) > 1 and r[1] == "persistent" and r[-1] == "SPILLS"]


@pytest.mark.parametrize("name", SUITE)
def test_suite_model_compiles_with_nvrtc(suite_dir, tmp_path, name):
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"{name}.txt"
    artifact = tmp_path / f"{name}.cocktail"
    cmd = [str(COMPILE), str(suite_dir / f"{name}.pt"), "-o", str(artifact), "-q", "--target", "cuda",
           "--arch", "sm_80,sm_90", "--resource-report", str(report)]
    for s in specs_of(suite_dir, name):
        cmd += ["--input", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stderr}"
    text = report.read_text()
    print(f"\n{name}:\n{text}")
    with open(REPORTS / "all.txt", "a") as all_reports:
        all_reports.write(f"== {name}\n{text}")
    assert "k" in text and "sm_80" in text and "sm_90" in text, text
    spills = persistent_spills(text)
    assert not spills, f"persistent kernels of {name} spill registers: {spills}\n{text}"


def test_cuda_artifact_runs_on_the_cpu_without_a_gpu(suite_dir, tmp_path):
    artifact = tmp_path / "lstm.cocktail"
    cmd = [str(COMPILE), str(suite_dir / "lstm.pt"), "-o", str(artifact), "-q", "--target", "cuda", "--arch", "sm_90"]
    for s in specs_of(suite_dir, "lstm"):
        cmd += ["--input", s]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    proc = subprocess.run([str(RUN), str(artifact), "--inputs", str(suite_dir / "lstm.b1.inputs.pt"),
                           "--reference", str(suite_dir / "lstm.pt")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "compiled for CUDA" in proc.stderr and "on the CPU" in proc.stderr, proc.stderr
    assert "within" in proc.stdout, proc.stdout


def test_persistent_spill_is_found_in_a_report():
    report = ("kernel kind arch regs smem stack st ld\n"
              "k3_loop persistent sm_90 255 0 64 128 128  SPILLS\n"
              "k1_add operator sm_90 32 0 0 8 8  SPILLS\n")
    assert persistent_spills(report) == ["k3_loop persistent sm_90"]
