"""The coverage report stays true: a representative slice of the corpus
(tests/zoo/zoo.py) is run through scripts/coverage.py, and each case must get
the result that the committed docs/coverage.md gives it. A model that stops
compiling fails this test; so does one that starts compiling while the report
still says it does not (run scripts/coverage.py to rewrite the report).

The full run (every torchvision and torchaudio model, about 30 minutes) is
`scripts/coverage.py`; CI runs this slice.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build_dir, require_tool

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "coverage.py"
REPORT = REPO / "docs" / "coverage.md"

# One or two of each kind: a recurrent module, a cell decoder loop, a layer,
# an activation, a torchaudio model, torchvision models (with and without ReLU6).
SLICE = ["nn.LSTM 2 layers, batch_first", "nn.GRUCell greedy decoder", "nn.Conv1d", "nn.ReLU6", "nn.GroupNorm",
         "Wav2Letter (mfcc)", "resnet18", "mobilenet_v2", "squeezenet1_1"]


def committed_results() -> dict:
    """name -> result, from the rows of docs/coverage.md."""
    rows = {}
    for line in REPORT.read_text().splitlines():
        m = re.match(r"^\| (.+?) \| (compiled|islands|mismatch|error|skipped) \|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_the_slice_gets_the_results_the_report_gives(tmp_path):
    require_tool("cocktail-compile")
    require_tool("cocktail-run")
    committed = committed_results()
    missing = [n for n in SLICE if n not in committed]
    assert not missing, f"docs/coverage.md has no row for {missing}: run scripts/coverage.py"
    only = "^(" + "|".join(re.escape(n) for n in SLICE) + ")$"
    out = tmp_path / "coverage.md"
    js = tmp_path / "coverage.json"
    r = subprocess.run([sys.executable, SCRIPT, "--build", build_dir(), "--only", only, "--out", out, "--json", js],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {row["name"]: row for row in json.loads(js.read_text())}
    assert sorted(rows) == sorted(SLICE), r.stdout
    differ = [f"{n}: report says {committed[n]}, now {rows[n]['result']} ({rows[n]['detail']})"
              for n in SLICE if rows[n]["result"] != committed[n]]
    assert not differ, "\n".join(differ)
    # The written table counts what it lists.
    table = out.read_text()
    compiled = sum(1 for row in rows.values() if row["result"] == "compiled")
    assert re.search(rf"^\| \*\*all\*\* \| {compiled} \|", table, re.M), table


def test_a_bad_only_pattern_is_refused(tmp_path):
    r = subprocess.run([sys.executable, SCRIPT, "--build", build_dir(), "--only", "(", "--out", tmp_path / "c.md"],
                       capture_output=True, text=True, timeout=120)
    if "is not built" in r.stderr:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 2
    assert "--only: not a regular expression" in r.stderr
    assert not (tmp_path / "c.md").exists()
