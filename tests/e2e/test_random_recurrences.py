"""Property test: random recurrences, compiled at -O0 and -O2, against PyTorch.

A loop over the steps of xs around a loop over stacked layers (or a single
cell), with random cell bodies: the loops interchange-layers reorders and
batch-steps takes work out of. -O2 must give what -O0 and PyTorch give,
for zero steps too, and its schedule must show the input projection
batched (for a stacked recurrence, only possible once it runs layer by
layer).

    /usr/bin/python3 -m pytest -q tests/e2e/test_random_recurrences.py [-k seed3]
"""
import subprocess

import pytest
import torch

from conftest import compare_outputs, compile_model, load_outputs, require_tool, run_model
from test_random_programs import ELEMENTWISE, HIDDEN, Generator, build

RECURRENCE_SEEDS = range(6)
LAYERS = 3


class RecurrenceGenerator(Generator):
    def cell(self, scope, weight):
        """Random statements over `scope`; products by this layer's weights."""
        scope = list(scope)
        for _ in range(self.rng.randint(1, 4)):
            v = self.name()
            if self.rng.random() < 0.3:
                expr = f"torch.matmul({self.rng.choice(scope)}, self.w_hh{weight})"
            else:
                a, b = self.rng.choice(scope), self.rng.choice(scope)
                expr = self.rng.choice(ELEMENTWISE).format(a=a, b=b)
            self.lines.append(f"{self.pad}{v} = {expr}")
            scope.append(v)
        return scope

    def source(self):
        self.lines = []
        stacked = self.rng.random() < 0.6
        self.pad = "            " + ("    " if stacked else "")
        if stacked:
            self.lines.append("            for l in range(hs.size(0)):")
            self.lines.append(f"{self.pad}xp = torch.matmul(y, self.w_ih[l])")
            scope = self.cell(["y", "hs[l]", "xp"], "[l]")
            self.lines.append(f"{self.pad}hs[l] = torch.tanh({self.rng.choice(scope[2:])} + hs[l])")
            self.lines.append(f"{self.pad}y = torch.tanh({self.rng.choice(scope[2:])} + xp)")
        else:
            self.lines.append(f"{self.pad}xp = torch.matmul(y, self.w_ih[0])")
            scope = self.cell(["y", "hs[0]", "xp"], "[0]")
            self.lines.append(f"{self.pad}hs[0] = torch.tanh({self.rng.choice(scope[2:])} + hs[0])")
            self.lines.append(f"{self.pad}y = torch.tanh({self.rng.choice(scope[2:])} + xp)")
        body = "\n".join(self.lines)
        layers = LAYERS if stacked else 1
        return f"""import torch
from torch import nn, Tensor
from typing import Tuple


class Random(nn.Module):
    def __init__(self):
        super().__init__()
        self.w_ih = nn.Parameter(torch.randn({layers}, {HIDDEN}, {HIDDEN}) / {HIDDEN ** 0.5})
        self.w_hh = nn.Parameter(torch.randn({layers}, {HIDDEN}, {HIDDEN}) / {HIDDEN ** 0.5})

    def forward(self, xs: Tensor) -> Tuple[Tensor, Tensor]:
        hs = torch.zeros({layers}, xs.size(1), {HIDDEN})
        out = torch.zeros(xs.size(0), xs.size(1), {HIDDEN})
        for t in range(xs.size(0)):
            y = xs[t]
{body}
            out[t] = y
        return out, hs
"""


@pytest.mark.parametrize("seed", RECURRENCE_SEEDS, ids=[f"seed{s}" for s in RECURRENCE_SEEDS])
def test_random_recurrence_same_at_O0_O2_and_pytorch(seed, tmp_path):
    src, scripted, eager = build(seed, tmp_path, RecurrenceGenerator)
    model = tmp_path / "model.pt"
    torch.jit.save(scripted, str(model))
    specs = [f"xs:f32[T<=8,B<=4,{HIDDEN}]"]

    # The input projection leaves the time loop: for a stacked recurrence
    # only once it runs layer by layer.
    scheduled = subprocess.run([str(require_tool("cocktail-compile")), str(model), "--input", specs[0],
                                "-o", str(tmp_path / "O2.cocktail"), "--emit", "scheduled", "-q"],
                               capture_output=True, text=True, timeout=300)
    assert scheduled.returncode == 0, scheduled.stderr
    assert "batched = " in scheduled.stdout, f"seed {seed}: nothing batched\n{src}\n{scheduled.stdout}"

    g = torch.Generator().manual_seed(2000 + seed)
    for steps, batch in ((5, 2), (0, 1)):
        inputs = [torch.randn(steps, batch, HIDDEN, generator=g)]
        with torch.no_grad():
            expected = list(eager(*inputs))
        for opt in (0, 2):
            artifact = tmp_path / f"O{opt}.cocktail"
            if not artifact.exists():
                compile_model(model, specs, artifact, extra_args=[f"-O{opt}"])
            out = tmp_path / f"O{opt}.t{steps}.out.pt"
            proc = run_model(artifact, inputs, tmp_path, outputs_path=out, name=f"O{opt}.t{steps}", check=False)
            assert proc.returncode == 0, f"seed {seed}, -O{opt}, T={steps}:\n{proc.stdout}{proc.stderr}\n{src}"
            errors = compare_outputs(load_outputs(out), expected, ["out", "hs"], rtol=1e-4)
            assert not errors, f"seed {seed}, -O{opt}, T={steps}: {errors}\n{src}"
