"""The PyTorch integration: cocktail.compile from Python, compiled modules
inside TorchScript, pickling through torch.jit.save/load (in a fresh process
and from C++), and clear errors for wrong use."""
import importlib.util
import os
import subprocess
import sys
import textwrap
from typing import Tuple

import pytest
import torch

import cocktail

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("COCKTAIL_BUILD_DIR", os.path.join(REPO, "build"))
LOAD_FROM_CPP = os.path.join(BUILD, "tests", "python", "load_from_cpp")


def _load_suite():
    folder = os.path.join(REPO, "bench", "models")
    spec = importlib.util.spec_from_file_location(
        "cocktail_bench_models", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["cocktail_bench_models"] = pkg
    spec.loader.exec_module(pkg)
    return pkg


suite = _load_suite()


def flat(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in flat(o)]


def assert_close(got, want):
    got, want = flat(got), flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if g.is_floating_point():
            scale = max(w.abs().max().item(), 1e-12) if w.numel() else 1.0
            assert ((g - w).abs().max().item() / scale if w.numel() else 0.0) < 1e-5
        else:
            assert torch.equal(g, w)


class Stepper(torch.nn.Module):
    """A small loop model used by the pickling tests."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(8, 8)

    def forward(self, xs: torch.Tensor, steps: int) -> Tuple[torch.Tensor, torch.Tensor]:
        h = torch.zeros(xs.size(1), 8)
        for t in range(steps):
            h = torch.tanh(self.lin(xs[t]) + h)
            if bool(h.sum() > 100.0):
                break
        return h, h.sum()


class Parent(torch.nn.Module):
    def __init__(self, child):
        super().__init__()
        self.child = child

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        h, s = self.child(xs, 5)
        return h * s


SPECS = [cocktail.Input("xs", torch.float32, ("T<=16", 2, 8)), cocktail.Input("steps", int)]


@pytest.mark.parametrize("name", suite.SUITE)
def test_suite_model_from_python_matches_eager(name):
    mod = suite.get(name)
    model = mod.build()
    inputs = mod.example_inputs(1, seed=3)
    compiled = cocktail.compile(model, inputs=mod.input_specs(1), strict=True)
    import copy
    want = model(*copy.deepcopy(inputs))
    got = compiled(*copy.deepcopy(inputs))
    assert_close(got, want)


def test_input_objects_and_spec_strings_agree():
    assert SPECS[0].spec == "xs:f32[T<=16,2,8]"
    assert SPECS[1].spec == "steps:i64"
    a = cocktail.compile(Stepper(), inputs=SPECS)
    b = cocktail.compile(torch.jit.script(Stepper()), inputs=[s.spec for s in SPECS])
    xs = torch.randn(9, 2, 8)
    assert_close(a(xs, 9), b(xs, 9))
    assert "xs:f32[T<=16,2,8]" in repr(a) and "target=cpu" in repr(a)


def test_compile_from_path_save_and_load(tmp_path):
    path = tmp_path / "stepper.pt"
    torch.jit.save(torch.jit.script(Stepper()), str(path))
    compiled = cocktail.compile(str(path), inputs=SPECS)
    compiled.save(tmp_path / "stepper.cocktail")
    again = cocktail.load(tmp_path / "stepper.cocktail")
    xs = torch.randn(4, 2, 8)
    assert_close(again(xs, 4), Stepper()(xs, 4))


def test_compiled_child_inside_torchscript_saves_and_reloads_in_a_fresh_process(tmp_path):
    compiled = cocktail.compile(Stepper(), inputs=SPECS)
    parent = torch.jit.script(Parent(compiled))
    xs = torch.randn(6, 2, 8)
    want = Parent(Stepper())(xs)
    assert_close(parent(xs), want)
    torch.jit.save(parent, str(tmp_path / "parent.pt"))
    torch.save([xs], str(tmp_path / "in.pt"))
    torch.save([want], str(tmp_path / "want.pt"))
    script = textwrap.dedent(f"""
        import torch, cocktail
        m = torch.jit.load({str(tmp_path / 'parent.pt')!r})
        xs, = torch.load({str(tmp_path / 'in.pt')!r})
        want, = torch.load({str(tmp_path / 'want.pt')!r})
        got = m(xs)
        assert (got - want).abs().max().item() <= 1e-5 * want.abs().max().item(), (got, want)
        print("ok")
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


@pytest.mark.skipif(not os.path.exists(LOAD_FROM_CPP), reason="load_from_cpp not built")
def test_saved_parent_loads_from_cpp(tmp_path):
    compiled = cocktail.compile(Stepper(), inputs=SPECS)
    parent = torch.jit.script(Parent(compiled))
    torch.jit.save(parent, str(tmp_path / "parent.pt"))
    xs = torch.randn(7, 2, 8)
    torch.save([xs], str(tmp_path / "in.pt"))
    res = subprocess.run([LOAD_FROM_CPP, str(tmp_path / "parent.pt"), str(tmp_path / "in.pt"),
                          str(tmp_path / "out.pt")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    got = torch.load(str(tmp_path / "out.pt"))
    assert_close(got[0], Parent(Stepper())(xs))


def test_compile_error_names_the_problem():
    with pytest.raises(cocktail.CompileError, match="steps"):
        cocktail.compile(Stepper(), inputs=["xs:f32[T<=16,2,8]"])
    with pytest.raises(cocktail.CompileError, match="unknown dtype"):
        cocktail.compile(Stepper(), inputs=["xs:q8[4]", "steps:i64"])


def test_strict_names_op_and_line():
    class Cumsum(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cumprod(x, 0) * 2

    with pytest.warns(cocktail.CompileWarning, match="aten::cumprod"):
        loose = cocktail.compile(Cumsum(), inputs=["x:f32[5]"])
    x = torch.randn(5)
    assert_close(loose(x), Cumsum()(x))
    with pytest.raises(cocktail.CompileError, match=r"aten::cumprod.*|test_integration.py:\d+"):
        cocktail.compile(Cumsum(), inputs=["x:f32[5]"], strict=True)


def test_wrong_inputs_raise_clear_errors():
    compiled = cocktail.compile(Stepper(), inputs=SPECS)
    with pytest.raises(RuntimeError, match="dim 0 is 17, above the bound T<=16"):
        compiled(torch.randn(17, 2, 8), 3)
    with pytest.raises(RuntimeError, match="must have dtype f32"):
        compiled(torch.randn(4, 2, 8).double(), 3)
    with pytest.raises(RuntimeError, match="rank 3"):
        compiled(torch.randn(4, 2), 3)
    with pytest.raises(TypeError):
        cocktail.Input("xs", torch.complex64, (4,))
    with pytest.raises(TypeError, match="spec string"):
        cocktail.compile(Stepper(), inputs=[42])


def test_load_rejects_a_foreign_file(tmp_path):
    bad = tmp_path / "bad.cocktail"
    bad.write_bytes(b"not an artifact")
    with pytest.raises(cocktail.CompileError, match="not a Cocktail artifact"):
        cocktail.load(bad)
