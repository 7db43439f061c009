"""Shared fixtures and helpers of the end-to-end (differential) tests.

The tools are found in ``$COCKTAIL_BUILD_DIR/tools`` (default: ``<repo>/build``),
i.e. ``$COCKTAIL_BUILD_DIR/tools/cocktail-compile`` and ``.../cocktail-run``.
Tests that need them are skipped, with a message saying where they were
looked for, when they are not built.

Helpers (import them with ``from conftest import compile_and_check``):

* ``compile_and_check(module_or_path, inputs, specs, tmp_path, strict=True, rtol=1e-5)``
  saves the module (a scripted module, or an ``nn.Module`` that is scripted
  here, or the path of a saved TorchScript file) and its inputs under
  ``tmp_path``, compiles it, runs it with ``--reference`` on the inputs and
  returns the run's stdout. It fails the test (with both tools' output) if
  either tool exits non-zero.
* ``compile_model`` / ``run_model``: the two steps on their own, to compile
  once and run several input sets.
* ``load_outputs`` / ``flatten_outputs`` / ``compare_outputs``: an exact
  (integers, bools) or rtol (floats) comparison of real outputs, naming the
  output that differs.
"""
import copy
import os
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    return Path(os.environ.get("COCKTAIL_BUILD_DIR") or (REPO_ROOT / "build"))


def tool_path(name: str) -> Path:
    return build_dir() / "tools" / name


def require_tool(name: str) -> Path:
    p = tool_path(name)
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.skip(f"{name} is not built: no executable {p} "
                    f"(build it, or set COCKTAIL_BUILD_DIR to the build directory)")
    return p


def require_cuda_backend() -> None:
    """Skips the test unless this build has the CUDA code generator.

    The backend is built where CMake found the CUDA toolkit (COCKTAIL_ENABLE_CUDA,
    recorded in the build's CMakeCache.txt); most Debian 12 machines have none,
    and there `cocktail-compile --target cuda` says "this build has no CUDA backend".
    """
    cache = build_dir() / "CMakeCache.txt"
    if not cache.is_file():
        pytest.skip(f"no CMakeCache.txt in {build_dir()}: cannot tell whether the CUDA backend is built")
    if "COCKTAIL_ENABLE_CUDA:BOOL=ON" not in cache.read_text(errors="replace"):
        pytest.skip("this build has no CUDA backend (CMake found no CUDA toolkit; see README, "
                    "'Without the CUDA toolkit')")


@pytest.fixture(scope="session")
def cocktail_compile() -> Path:
    """Path of cocktail-compile; skips the test when it is not built."""
    return require_tool("cocktail-compile")


@pytest.fixture(scope="session")
def cocktail_run() -> Path:
    """Path of cocktail-run; skips the test when it is not built."""
    return require_tool("cocktail-run")


def _report(what: str, proc: subprocess.CompletedProcess) -> str:
    return (f"{what} exited {proc.returncode}\n$ {' '.join(map(str, proc.args))}\n"
            f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}")


def save_module(module_or_path, tmp_path: Path, name: str = "model") -> Path:
    """A TorchScript file for a scripted module, an nn.Module or a path."""
    if isinstance(module_or_path, (str, os.PathLike)):
        return Path(module_or_path)
    m = module_or_path
    if not isinstance(m, torch.jit.ScriptModule):
        m = torch.jit.script(m.eval())
    path = Path(tmp_path) / f"{name}.pt"
    torch.jit.save(m, str(path))
    return path


def compile_model(model_path, specs: Sequence[str], out_path, strict: bool = True,
                  extra_args: Sequence[str] = (), check: bool = True) -> subprocess.CompletedProcess:
    """Runs cocktail-compile -q; with check, fails the test if it exits non-zero."""
    cmd = [str(require_tool("cocktail-compile")), str(model_path), "-o", str(out_path), "-q"]
    for s in specs:
        cmd += ["--input", s]
    if strict:
        cmd.append("--strict")
    cmd += list(extra_args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(_report("cocktail-compile", proc), pytrace=False)
    return proc


def run_model(artifact_path, inputs: list, tmp_path: Path, reference=None, rtol: float = 1e-5,
              outputs_path=None, name: str = "model", check: bool = True) -> subprocess.CompletedProcess:
    """Saves inputs, runs cocktail-run (with --reference when given); with check,
    fails the test if it exits non-zero."""
    inputs_path = Path(tmp_path) / f"{name}.inputs.pt"
    torch.save(list(inputs), str(inputs_path))
    cmd = [str(require_tool("cocktail-run")), str(artifact_path), "--inputs", str(inputs_path), "-q"]
    if reference is not None:
        cmd += ["--reference", str(reference), "--rtol", repr(rtol)]
    if outputs_path is not None:
        cmd += ["--outputs", str(outputs_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(_report("cocktail-run", proc), pytrace=False)
    return proc


def compile_and_check(module_or_path, inputs: list, specs: Sequence[str], tmp_path, strict: bool = True,
                      rtol: float = 1e-5, name: str = "model") -> str:
    """Compile (--strict by default), run on `inputs` with --reference, return stdout.

    The run's outputs are also written to ``tmp_path/<name>.out.pt``
    (read them with ``load_outputs``)."""
    tmp_path = Path(tmp_path)
    model = save_module(module_or_path, tmp_path, name)
    artifact = tmp_path / f"{name}.cocktail"
    compile_model(model, specs, artifact, strict=strict)
    proc = run_model(artifact, inputs, tmp_path, reference=model, rtol=rtol,
                     outputs_path=tmp_path / f"{name}.out.pt", name=name)
    return proc.stdout


def load_outputs(path) -> list:
    return list(torch.load(str(path)))


def flatten_outputs(out) -> list:
    """Forward's result as the flat list cocktail-run writes (tuples and lists
    flattened, None dropped: the compiler drops an output that is always None)."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten_outputs(o)]
    return [out]


def run_reference(module, inputs: list) -> list:
    """The TorchScript interpreter's outputs, on copies of the inputs."""
    with torch.no_grad():
        return flatten_outputs(module(*copy.deepcopy(list(inputs))))


def _describe(v) -> str:
    if isinstance(v, torch.Tensor):
        return f"{str(v.dtype).replace('torch.', '')}{list(v.shape)}"
    return f"{type(v).__name__} {v!r}"


def compare_outputs(got: list, want: list, names: Optional[List[str]] = None, rtol: float = 1e-5) -> List[str]:
    """Differences between outputs, one message per differing output (empty: equal).

    Tensors must agree in dtype and shape; floating tensors within
    max|a-b| <= rtol * max|b| (NaN where the reference has NaN agrees),
    integer and bool tensors exactly. Python scalars: ints and bools exactly,
    floats within rtol."""
    if names is None:
        names = [f"output {i}" for i in range(len(want))]
    if len(got) != len(want):
        return [f"{len(got)} outputs, the reference has {len(want)} ({', '.join(names)})"]
    errors = []
    for name, a, b in zip(names, got, want):
        if isinstance(b, torch.Tensor):
            if not isinstance(a, torch.Tensor) or a.dtype != b.dtype or a.shape != b.shape:
                errors.append(f"{name}: got {_describe(a)}, expected {_describe(b)}")
                continue
            if a.numel() == 0:
                continue
            if b.is_floating_point():
                da, db = a.double(), b.double()
                both_nan = da.isnan() & db.isnan()
                diff = (da - db).abs().masked_fill(both_nan, 0.0).nan_to_num(float("inf"), float("inf"), float("inf"))
                scale = max(db.abs().nan_to_num(0.0, 0.0, 0.0).max().item(), 1e-12)
                if diff.max().item() > rtol * scale:
                    errors.append(f"{name}: max abs error {diff.max().item():.3g} > rtol {rtol:g} * max|ref| {scale:.3g}"
                                  f"\n  got {a}\n  expected {b}")
            elif not torch.equal(a, b):
                errors.append(f"{name}: {(a != b).sum().item()} of {b.numel()} elements differ"
                              f"\n  got {a}\n  expected {b}")
        else:
            if type(a) is not type(b):
                errors.append(f"{name}: got {_describe(a)}, expected {_describe(b)}")
            elif isinstance(b, float):
                if not (abs(a - b) <= rtol * max(abs(b), 1e-12) or (a != a and b != b)):
                    errors.append(f"{name}: got {a!r}, expected {b!r}")
            elif a != b:
                errors.append(f"{name}: got {a!r}, expected {b!r}")
    return errors


def check_strict_at_sizes(module, specs: Sequence[str], input_sets: list, tmp_path: Path, name: str) -> list:
    """Scripts `module` (in eval mode), compiles it with --strict (no island,
    no warning) once for `specs`, runs the artifact on every input set and
    compares each with the interpreter's outputs; returns the outputs."""
    scripted = torch.jit.script(module.eval())
    model = save_module(scripted, tmp_path, name)
    artifact = tmp_path / f"{name}.cocktail"
    proc = compile_model(model, specs, artifact, strict=True)
    assert "warning" not in proc.stderr, proc.stderr
    results = []
    for k, inputs in enumerate(input_sets):
        out = tmp_path / f"{name}.{k}.out.pt"
        run_model(artifact, inputs, tmp_path, reference=model, outputs_path=out, name=f"{name}.{k}")
        got = load_outputs(out)
        errors = compare_outputs(got, run_reference(scripted, inputs))
        assert not errors, "\n".join(errors)
        results.append(got)
    return results


# ---- the CLI error tests' models (test_*_errors.py, test_artifact_edits.py, ...) -------------


@pytest.fixture(scope="module")
def cli_models(tmp_path_factory) -> dict:
    """cli_harness.Loopy as models A and B (same code, different weights), and A compiled."""
    from cli_harness import SPECS, Loopy, describe, run_tool
    d = tmp_path_factory.mktemp("cli_models")
    a, b = d / "a.pt", d / "b.pt"
    torch.jit.save(torch.jit.script(Loopy(0.5).eval()), str(a))
    torch.jit.save(torch.jit.script(Loopy(0.7).eval()), str(b))
    art = d / "a.cocktail"
    proc = run_tool("cocktail-compile", a, "-o", art, "-q", *SPECS)
    assert proc.returncode == 0, describe(proc)
    return {"a": a, "b": b, "artifact": art, "dir": d}


@pytest.fixture
def cli_inputs(tmp_path) -> Path:
    """Inputs that cli_models' artifact runs on: x f32[5,4] and 3 steps."""
    from cli_harness import save_inputs
    return save_inputs(tmp_path / "in.pt", [torch.randn(5, 4), 3])
