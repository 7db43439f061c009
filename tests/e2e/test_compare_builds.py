"""bench/compare-builds: two builds timed side by side on the same models.
Both sides here are this build (the tool cannot tell), on a small model made
in the test; the checks are what the tool promises: every round of both
sides runs and is checked against the interpreter's outputs, the table and
the JSON say so, and a wrong expected output fails the run.

    /usr/bin/python3 -m pytest -q tests/e2e/test_compare_builds.py
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import build_dir

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "compare-builds"


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(8, 8)

    def forward(self, x):
        for _ in range(3):
            x = torch.tanh(self.lin(x))
        return x


def make_models(d: Path, wrong: bool = False) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    module = torch.jit.script(Tiny().eval())
    module.save(str(d / "tiny.pt"))
    (d / "tiny.b1.spec").write_text("x:f32[2,8]\n")
    x = torch.randn(2, 8)
    expected = module(x)
    torch.save([x], str(d / "tiny.b1.inputs.pt"))
    torch.save([expected + 1.0 if wrong else expected], str(d / "tiny.b1.expected.pt"))
    return d


@pytest.fixture
def root_with_build():
    """This checkout, when its build has both tools compare-builds needs."""
    build = build_dir()
    for exe in (build / "tools" / "cocktail-compile", build / "bench" / "cocktail-bench"):
        if not exe.exists():
            pytest.skip(f"{exe} is not built")
    if build.resolve() != (REPO / "build").resolve():
        pytest.skip("compare-builds reads a checkout's build/; COCKTAIL_BUILD_DIR points elsewhere")
    return REPO


def compare(root, models_dir, out, rounds=2):
    return subprocess.run([sys.executable, str(SCRIPT), "--before", str(root), "--after", str(root), "--models-dir",
                           str(models_dir), "--models", "tiny", "--rounds", str(rounds), "--budget", "0.05", "--out",
                           str(out)], capture_output=True, text=True, timeout=600)


def test_both_builds_run_every_round_and_the_table_says_so(root_with_build, tmp_path):
    p = compare(root_with_build, make_models(tmp_path / "models"), tmp_path / "out", rounds=3)
    assert p.returncode == 0, p.stdout + p.stderr
    md = next((tmp_path / "out").glob("compare-*.md")).read_text()
    js = json.loads(next((tmp_path / "out").glob("compare-*.json")).read_text())
    (row,) = js["rows"]
    assert row["model"] == "tiny"
    for side in ("before", "after"):
        assert len(row[side]["runs"]) == 3 and all(r["ok"] for r in row[side]["runs"])
        assert row[side]["min_ms"] <= row[side]["median_ms"]
    assert row["ratio"] == pytest.approx(row["before"]["median_ms"] / row["after"]["median_ms"])
    assert "| tiny |" in md and "**Machine:**" in md and "3 interleaved rounds" in md
    assert "failed" not in md


def test_a_run_that_fails_its_check_is_left_out_and_fails_the_comparison(root_with_build, tmp_path):
    p = compare(root_with_build, make_models(tmp_path / "models", wrong=True), tmp_path / "out", rounds=1)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAILED" in p.stdout
    md = next((tmp_path / "out").glob("compare-*.md")).read_text()
    assert "Some runs failed their check" in md


def test_a_missing_model_is_named(root_with_build, tmp_path):
    p = compare(root_with_build, tmp_path, tmp_path / "out")
    assert p.returncode != 0
    assert "has no tiny" in p.stderr
