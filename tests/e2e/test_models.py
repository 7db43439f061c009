"""Differential tests of whole models: the suite (bench/models) and the unseen
corpus (tests/models), compiled with cocktail-compile and run with cocktail-run
against the TorchScript interpreter on the same inputs.

Every model is exported once per session (scripted, saved, with inputs and the
outputs Python's interpreter gave); each case then compiles it, runs it with
`--reference` (LibTorch's interpreter, in the same process) and also compares
the outputs file, read back with torch.load, with Python's outputs.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("COCKTAIL_BUILD_DIR", os.path.join(REPO, "build"))
COMPILE = os.path.join(BUILD, "tools", "cocktail-compile")
RUN = os.path.join(BUILD, "tools", "cocktail-run")
PYTHON = sys.executable

pytestmark = pytest.mark.skipif(not (os.path.exists(COMPILE) and os.path.exists(RUN)),
                                reason=f"cocktail tools not built in {BUILD}")


def _load_package(name, folder):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    return pkg


SUITE_DIR = os.path.join(REPO, "bench", "models")
CORPUS_DIR = os.path.join(REPO, "tests", "models")
suite = _load_package("cocktail_bench_models", SUITE_DIR)
corpus = _load_package("cocktail_test_models", CORPUS_DIR)

SUITE_CASES = [(m, b) for m in suite.ALL for b in suite.get(m).BATCHES]
CORPUS_CASES = [(m, k) for m in corpus.MODELS for k in range(len(corpus.get(m).VARIANTS))]


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    subprocess.run([PYTHON, os.path.join(SUITE_DIR, "export.py"), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([PYTHON, os.path.join(CORPUS_DIR, "export.py"), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def compile_model(model, specs, artifact, strict, opt=2):
    cmd = [COMPILE, str(model), "-o", str(artifact), "-q", f"-O{opt}"] + [a for s in specs for a in ("--input", s)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(cmd, capture_output=True, text=True)


def run_and_compare(artifact, model, inputs, expected, outputs):
    res = subprocess.run([RUN, str(artifact), "--inputs", str(inputs), "--reference", str(model),
                          "--outputs", str(outputs), "-q"], capture_output=True, text=True)
    assert res.returncode == 0, f"cocktail-run failed:\n{res.stdout}\n{res.stderr}"
    assert "within rtol" in res.stdout, res.stdout
    got = torch.load(outputs)
    want = torch.load(expected)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, f"output {i}: {g.dtype}{list(g.shape)} vs {w.dtype}{list(w.shape)}"
        if g.is_floating_point():
            scale = max(w.abs().max().item(), 1e-12) if w.numel() else 1.0
            err = (g - w).abs().max().item() / scale if w.numel() else 0.0
            assert err < 1e-5, f"output {i}: relative error {err:.3g}"
        else:
            assert torch.equal(g, w), f"output {i}: {(g != w).sum().item()} elements differ"


# -O0 (translation and lowering only) is the reference the scheduling passes
# of -O2 must not change the results of.
@pytest.mark.parametrize("opt", [0, 2], ids=["O0", "O2"])
@pytest.mark.parametrize("name,batch", SUITE_CASES, ids=[f"{m}-b{b}" for m, b in SUITE_CASES])
def test_suite_model_matches_torchscript(suite_dir, tmp_path, name, batch, opt):
    model = suite_dir / f"{name}.pt"
    specs = (suite_dir / f"{name}.b{batch}.spec").read_text().split()
    artifact = tmp_path / f"{name}.cocktail"
    res = compile_model(model, specs, artifact, strict=True, opt=opt)
    assert res.returncode == 0, f"--strict compile failed:\n{res.stderr}"
    assert "warning" not in res.stderr
    run_and_compare(artifact, model, suite_dir / f"{name}.b{batch}.inputs.pt",
                    suite_dir / f"{name}.b{batch}.expected.pt", tmp_path / "out.pt")


@pytest.mark.parametrize("name,variant", CORPUS_CASES, ids=[f"{m}-v{k}" for m, k in CORPUS_CASES])
def test_unseen_model_matches_torchscript(corpus_dir, tmp_path, name, variant):
    model = corpus_dir / f"{name}.pt"
    specs = (corpus_dir / f"{name}.spec").read_text().split()
    artifact = tmp_path / f"{name}.cocktail"
    fallback = name in corpus.FALLBACK
    res = compile_model(model, specs, artifact, strict=not fallback)
    assert res.returncode == 0, f"compile failed:\n{res.stderr}"
    if fallback:
        # Each island is reported with the op and the line of the model's source.
        assert "runs as a TorchScript island" in res.stderr
        assert f"{name}.py:" in res.stderr
    else:
        assert "warning" not in res.stderr
    run_and_compare(artifact, model, corpus_dir / f"{name}.v{variant}.inputs.pt",
                    corpus_dir / f"{name}.v{variant}.expected.pt", tmp_path / "out.pt")


@pytest.mark.parametrize("name", corpus.FALLBACK)
def test_strict_rejects_fallback_with_op_and_line(corpus_dir, tmp_path, name):
    specs = (corpus_dir / f"{name}.spec").read_text().split()
    res = compile_model(corpus_dir / f"{name}.pt", specs, tmp_path / "x.cocktail", strict=True)
    assert res.returncode == 3  # unsupported (tools/ExitCode.h)
    assert f"{name}.py:" in res.stderr and "error:" in res.stderr and "aten::" in res.stderr, res.stderr
    assert "is not supported by the compiler" in res.stderr
    assert not (tmp_path / "x.cocktail").exists()


@pytest.mark.parametrize("name", sorted({m for m, _ in SUITE_CASES}))
def test_emit_scheduled_shows_placement_and_partition(suite_dir, name):
    """Every loop and branch of a suite model has its placement and reason,
    every uOperator its tiles, sync and place in the memory plan, in
    `--emit scheduled`."""
    specs = (suite_dir / f"{name}.b1.spec").read_text().split()
    cmd = [COMPILE, str(suite_dir / f"{name}.pt"), "--emit", "scheduled", "--no-locations", "-q"]
    res = subprocess.run(cmd + [a for s in specs for a in ("--input", s)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    control = [l for l in lines if " = loop(" in l or " = if(" in l]
    if getattr(suite.get(name), "CONTROL_FLOW", True):
        assert control, f"{name} has a loop or a branch"
    for l in control:
        assert 'placement = "' in l and 'reason = "' in l, l
    func = next(l for l in lines if l.startswith("func "))
    assert re.search(r"attributes \{arena_align = \d+, arena_bytes = [1-9]\d*\}", func), func
    fused_body_indent = None  # inside a fused body: its ops are the uOperator's, not uOperators
    for l in lines:
        indent = len(l) - len(l.lstrip())
        if fused_body_indent is not None:  # until its closing brace
            if indent == fused_body_indent and l.lstrip().startswith("}"):
                fused_body_indent = None
            continue
        if " = fused(" in l:
            fused_body_indent = indent
        if any(f" = {op}(" in l for op in ("linear", "matmul", "conv2d", "fused")):
            assert "tiles = " in l and 'sync = "' in l, l
            # The suite's dims are all bounded: every result has an arena offset.
            assert re.search(r"mem = \[\d+(, \d+)*\]", l), l
        if " = loop(" in l and re.search(r"\) : .*f32\[", l):
            assert "mem = [" in l, l
