"""Differential test of every op the frontend lowers (frontend/AtenLowering.cpp).

Each case of op_models.py is scripted, compiled with --strict (an op that is
not lowered fails the test, naming the op and the line), and run by
cocktail-run on each of its input variants with --reference (the TorchScript
interpreter on the same inputs, rtol 1e-5). The outputs are then compared
here once more, one by one and by name: floats within rtol of the largest
reference magnitude, integers and bools exactly, dtypes and shapes equal.

test_every_lowered_op_is_covered checks that the cases put every op of
loweringTable() (and the in-place variants) in front of the compiler.

    /usr/bin/python3 -m pytest -q tests/e2e/test_ops.py [-k conv2d]
"""
import re

import pytest
import torch

from conftest import (REPO_ROOT, compare_outputs, compile_model, load_outputs, run_model, run_reference,
                      save_module)
from op_models import CASES, FROZEN_AWAY

_scripted = {}


def scripted(case):
    if case.name not in _scripted:
        _scripted[case.name] = torch.jit.script(case.make().eval())
    return _scripted[case.name]


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_op(case, tmp_path, cocktail_compile, cocktail_run):
    module = scripted(case)
    model = save_module(module, tmp_path, case.name)
    artifact = tmp_path / f"{case.name}.cocktail"
    compile_model(model, case.specs, artifact, strict=case.strict)
    failures = []
    for variant, make_inputs in case.variants.items():
        inputs = make_inputs(case.generator())
        expected = run_reference(module, inputs)
        assert len(expected) == len(case.outputs), \
            f"op_models.py: {case.name} names {len(case.outputs)} outputs, forward returns {len(expected)}"
        tag = f"{case.name}[{variant}]" if variant else case.name
        out_path = tmp_path / f"{case.name}.{variant or 'v'}.out.pt"
        proc = run_model(artifact, inputs, tmp_path, reference=model, rtol=case.rtol, outputs_path=out_path,
                         name=f"{case.name}.{variant or 'v'}", check=False)
        if proc.returncode != 0:
            # Still name the outputs that differ when the run got that far.
            detail = ""
            if out_path.exists():
                detail = "\n".join(compare_outputs(load_outputs(out_path), expected, case.outputs, case.rtol))
            failures.append(f"{tag}: cocktail-run exited {proc.returncode}\n{proc.stdout}{proc.stderr}{detail}")
            continue
        for e in compare_outputs(load_outputs(out_path), expected, case.outputs, case.rtol):
            failures.append(f"{tag}: {e}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


# ---- coverage of the op table ---------------------------------------------------------------

IN_PLACE_VARIANTS = ["aten::add_", "aten::sub_", "aten::mul_", "aten::div_", "aten::relu_", "aten::clamp_",
                     "aten::masked_fill_", "aten::sigmoid_", "aten::tanh_", "aten::copy_", "aten::index_put_",
                     "aten::fill_", "aten::zero_"]


# The frontend's tables whose every op an op case must reach: loweringTable()
# and the families that register through add*Lowerings. (The recurrent,
# attention, pad, roll and upsample lowerings have their own differential
# tests: test_recurrent.py, test_transformers.py, test_structure.py.)
TABLE_FILES = ["ContainerLowering.cpp", "ScalarLowering.cpp", "NormLowering.cpp", "RepeatInterleaveLowering.cpp",
               "SortLowering.cpp"]


def lowering_table_ops():
    src = (REPO_ROOT / "frontend" / "AtenLowering.cpp").read_text()
    body = src[src.index("loweringTable() {"):]
    body = body[:body.index("return *table;")]
    ops = set(re.findall(r'\{"((?:aten|prim)::\w+)"', body))
    for name in TABLE_FILES:
        src = (REPO_ROOT / "frontend" / name).read_text()
        adder = re.search(r"^void add\w+Lowerings\(.*?^\}", src, re.S | re.M)
        assert adder, f"frontend/{name} has no add...Lowerings function"
        found = set(re.findall(r'"((?:aten|prim)::\w+)"', adder.group(0)))
        assert found, f"frontend/{name}: no op names in its add...Lowerings"
        ops |= found
    return ops


def compiler_graph_kinds(module):
    """Node kinds of the graph the compiler translates (frontend/Frontend.cpp:
    freeze, inline, RemoveTensorMutation, dead code elimination)."""
    frozen = torch.jit.freeze(module.eval(), optimize_numerics=True)
    g = frozen.forward.graph.copy()
    torch._C._jit_pass_inline(g)
    torch._C._jit_pass_remove_mutation(g)
    torch._C._jit_pass_dce(g)
    kinds = set()

    def walk(block):
        for n in block.nodes():
            kinds.add(n.kind())
            for b in n.blocks():
                walk(b)
    walk(g)
    return kinds


def test_every_lowered_op_is_covered():
    table = lowering_table_ops()
    assert len(table) > 100, "could not read loweringTable() from frontend/AtenLowering.cpp"
    seen = set()
    for case in CASES:
        seen |= compiler_graph_kinds(scripted(case))
    missing = sorted(table - seen - set(FROZEN_AWAY))
    assert not missing, f"ops of loweringTable() no case of op_models.py puts in front of the compiler: {missing}"
    missing_in_place = sorted(set(IN_PLACE_VARIANTS) - seen)
    assert not missing_in_place, f"in-place variants not covered: {missing_in_place}"
    stale = sorted(set(FROZEN_AWAY) - table)
    assert not stale, f"FROZEN_AWAY names ops that are not in loweringTable(): {stale}"


class BaddbmmBetaZero(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor):
        return torch.baddbmm(a * float("nan"), b, c, beta=0.0), torch.addmm(a[0] * float("inf"), b[0], c[0], beta=0.0)


def test_beta_zero_does_not_read_the_input(tmp_path):
    """With beta = 0, baddbmm and addmm ignore their input: its NaNs and infs do
    not reach the result (ATen's documented semantics). Checked against bmm/mm,
    not against the interpreter: Debian's PyTorch 1.13 intermittently lets the
    NaN through in baddbmm's small-matrix kernel (about one call in ten)."""
    g = torch.Generator().manual_seed(7)
    a, b, c = torch.randn(3, 2, 4, generator=g), torch.randn(3, 2, 5, generator=g), torch.randn(3, 5, 4, generator=g)
    model = save_module(torch.jit.script(BaddbmmBetaZero()), tmp_path, "beta0")
    artifact = tmp_path / "beta0.cocktail"
    compile_model(model, ["a:f32[3,2,4]", "b:f32[3,2,5]", "c:f32[3,5,4]"], artifact, strict=True)
    out_path = tmp_path / "beta0.out.pt"
    run_model(artifact, [a, b, c], tmp_path, outputs_path=out_path, name="beta0")
    expected = [torch.bmm(b, c), torch.mm(b[0], c[0])]
    assert not compare_outputs(load_outputs(out_path), expected, ["baddbmm_beta0", "addmm_beta0"])


class GluOverDim0(torch.nn.Module):
    def forward(self, x: torch.Tensor):
        return torch.nn.functional.glu(x, 0)


def test_glu_of_an_odd_size_is_an_error(tmp_path):
    """An odd halving dim fails as PyTorch does: at compile time when the size
    is static, at run time when it is a symbol, instead of slicing halves of
    unequal sizes that broadcast into a wrong answer."""
    model = save_module(torch.jit.script(GluOverDim0()), tmp_path, "glu")
    proc = compile_model(model, ["x:f32[3,4]"], tmp_path / "static.cocktail", check=False)
    assert proc.returncode == 1 and "glu: halving dimension 0 must have an even size, got 3" in proc.stderr, \
        proc.stderr
    artifact = tmp_path / "glu.cocktail"
    compile_model(model, ["x:f32[N<=8,4]"], artifact)
    x = torch.randn(4, 4)
    out_path = tmp_path / "glu.out.pt"
    run_model(artifact, [x], tmp_path, outputs_path=out_path, name="even")
    assert not compare_outputs(load_outputs(out_path), [torch.nn.functional.glu(x, 0)], ["glu"])
    proc = run_model(artifact, [torch.randn(5, 4)], tmp_path, name="odd", check=False)
    assert proc.returncode == 1 and "glu: halving dimension 0 must have an even size" in proc.stderr, proc.stderr


class EinsumOf(torch.nn.Module):
    def __init__(self, equation: str):
        super().__init__()
        self.equation = equation

    def forward(self, a: torch.Tensor, b: torch.Tensor):
        return torch.einsum(self.equation, a, b)


@pytest.mark.parametrize("equation,why", [
    ("...ij,...jk->...ik", "ellipses ('...') are not supported"),
    ("ii,ij->j", "letter 'i' repeats in one operand (a diagonal), which is not supported")])
def test_einsum_refuses_what_it_does_not_lower_by_the_equation(tmp_path, equation, why):
    model = save_module(torch.jit.script(EinsumOf(equation)), tmp_path, "einsum")
    proc = compile_model(model, ["a:f32[3,3]", "b:f32[3,3]"], tmp_path / "einsum.cocktail", check=False)
    assert proc.returncode == 3, proc.stderr  # unsupported (tools/ExitCode.h)
    assert f'einsum "{equation}": {why}' in proc.stderr, proc.stderr


class NarrowAt(torch.nn.Module):
    def forward(self, x: torch.Tensor, start: int, length: int):
        y = x.clone()
        y.narrow(1, start, length).fill_(0.0)
        return x.narrow(1, start, length), y


@pytest.mark.parametrize("start,length", [(2, 3), (-2, 2), (-6, 6), (6, 0), (0, 0), (-1, 1)])
def test_narrow_counts_a_negative_start_from_the_end(tmp_path, start, length):
    """narrow with run-time start and length, read and written through,
    against the interpreter (a negative start once gave an empty slice)."""
    model = save_module(torch.jit.script(NarrowAt()), tmp_path, "narrow")
    artifact = tmp_path / "narrow.cocktail"
    compile_model(model, ["x:f32[3,6]", "start:i64", "length:i64"], artifact)
    x = torch.randn(3, 6)
    out_path = tmp_path / "narrow.out.pt"
    run_model(artifact, [x, start, length], tmp_path, outputs_path=out_path, name="narrow")
    expected = list(torch.jit.script(NarrowAt())(x, start, length))
    assert not compare_outputs(load_outputs(out_path), expected, ["narrowed", "written"])


@pytest.mark.parametrize("start,length", [(7, 0), (-7, 1), (5, 2), (0, -1), (2**63 - 1, 1), (-(2**63), 1)])
def test_narrow_out_of_range_raises(tmp_path, start, length):
    """Where PyTorch raises, so does the compiled model: never a silently
    empty or clamped result."""
    model = save_module(torch.jit.script(NarrowAt()), tmp_path, "narrow")
    with pytest.raises((RuntimeError, IndexError)):
        NarrowAt()(torch.randn(3, 6), start, length)
    artifact = tmp_path / "narrow.cocktail"
    compile_model(model, ["x:f32[3,6]", "start:i64", "length:i64"], artifact)
    proc = run_model(artifact, [torch.randn(3, 6), start, length], tmp_path, name="bad", check=False)
    assert proc.returncode == 1 and "narrow(): start must be in [-size, size] of dimension 1" in proc.stderr, \
        proc.stderr
