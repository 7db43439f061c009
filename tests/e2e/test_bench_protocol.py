"""bench/run's timing protocol: Cocktail and TorchScript are timed in rounds that
alternate them, and the best round of each counts. The drivers are replaced by
stubs that record the order of the calls and return given timings.

    /usr/bin/python3 -m pytest -q tests/e2e/test_bench_protocol.py
"""
import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    loader = importlib.machinery.SourceFileLoader("bench_run", str(REPO / "bench" / "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def run(threads, variant, ms):
    return {"threads": threads, "variant": variant, "median_ms": ms, "p90_ms": ms * 1.1, "reps": 10}


def test_rounds_alternate_and_share_the_budget(bench, monkeypatch, tmp_path):
    calls = []
    times = {"cocktail": iter([12.0, 10.0, 11.0]), "torchscript": iter([20.0, 30.0, 25.0])}

    def fake_run_json(cmd, timeout, what, env=None):
        if "--systems" in cmd:
            system = cmd[cmd.index("--systems") + 1]
            calls.append((system, cmd[cmd.index("--budget") + 1]))
            ms = next(times[system])
            variant = "cpu-executor" if system == "cocktail" else "frozen"
            return {"systems": {system: {"check": {"ok": True}, "runs": [run(2, variant, ms), run(1, variant, ms * 2)]}},
                    "wall_s": 1.0}
        return {"error": "peer not run in this test"}

    monkeypatch.setattr(bench, "run_json", fake_run_json)
    monkeypatch.setattr(bench, "compile_model", lambda *a: (str(tmp_path / "m.cocktail"), None))
    proto = dict(bench.PROTOCOLS["full"], rounds=3, budget=4.5)
    res = bench.bench_model("lstm", 1, str(tmp_path), "driver", "compiler", proto)

    # The order flips each round, and each round gets a third of the budget.
    assert [c[0] for c in calls] == ["cocktail", "torchscript", "torchscript", "cocktail", "cocktail", "torchscript"]
    assert {c[1] for c in calls} == {"1.5"}
    assert res["cocktail"]["rounds"] == 3
    assert [r["round"] for r in res["cocktail"]["runs"]] == [0, 0, 1, 1, 2, 2]

    # The best round counts, per system and per setting.
    ck, ts = bench.summarize(res["cocktail"]), bench.summarize(res["torchscript"])
    assert ck["ok"] and ck["median_ms"] == 10.0 and ck["threads"] == 2
    assert ts["ok"] and ts["median_ms"] == 20.0
    assert ck["all_settings_ms"] == {"2t cpu-executor": 10.0, "1t cpu-executor": 20.0}


def test_a_failed_later_round_is_noted(bench):
    first = {"check": {"ok": True}, "runs": [run(1, "frozen", 5.0)]}
    merged = bench.merge_rounds([first, {"error": "cocktail-bench (TorchScript) timed out after 900 s"}])
    assert merged["runs"] == [dict(run(1, "frozen", 5.0), round=0)]
    assert "round 2: cocktail-bench (TorchScript) timed out" in merged["timeout_note"]
    assert bench.summarize(merged)["median_ms"] == 5.0


def test_a_failed_first_round_leaves_the_others(bench):
    later = {"check": {"ok": True}, "runs": [run(2, "cpu-executor", 7.0)]}
    merged = bench.merge_rounds([{"error": "cocktail-bench (Cocktail) exited 1: killed"}, later])
    assert merged["check"] == {"ok": True}
    assert "round 1: cocktail-bench (Cocktail) exited 1" in merged["timeout_note"]
    assert bench.summarize(merged)["median_ms"] == 7.0


def test_an_abandoned_setting_counts_once_it_ran(bench):
    abandoned = {"threads": 2, "variant": "frozen", "abandoned_ms": 900.0}
    merged = bench.merge_rounds([{"check": {"ok": True}, "runs": [run(1, "frozen", 5.0), abandoned]},
                                 {"check": {"ok": True}, "runs": [run(1, "frozen", 6.0), run(2, "frozen", 8.0)]}])
    assert bench.summarize(merged)["all_settings_ms"] == {"1t frozen": 5.0, "2t frozen": 8.0}


def test_quick_mode_is_one_round_of_the_whole_budget(bench):
    quick = bench.PROTOCOLS["quick"]
    assert quick["rounds"] == 1
    args = bench.protocol_args(quick, quick["rounds"])
    assert args[args.index("--budget") + 1] == str(quick["budget"])
