"""Indices and sizes at the edge of int64 through cocktail-compile and
cocktail-run: an index of 2^63-1 is reported as itself by select, index,
gather and embedding (issue 22 saw -9223372036854775808), and a shape
whose element count wraps int64 is refused instead of sizing a buffer too
small (expand to [2^62 + 1, 4] segfaulted cocktail-run).

    /usr/bin/python3 -m pytest -q tests/e2e/test_index_limits.py
"""
import pytest
import torch
from torch import nn

from cli_harness import expect_clean_failure, run_tool, save_inputs

INT64_MAX = 2**63 - 1


class Select(nn.Module):
    def forward(self, x: torch.Tensor, i: int):
        return x.select(0, i)


class Index(nn.Module):
    def forward(self, x: torch.Tensor, i: torch.Tensor):
        return x[i]


class Gather(nn.Module):
    def forward(self, x: torch.Tensor, i: torch.Tensor):
        return torch.gather(x, 1, i)


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(10, 4)

    def forward(self, i: torch.Tensor):
        return self.table(i)


class Expand(nn.Module):
    def forward(self, x: torch.Tensor, n: int):
        return x.expand(n, 4).sum()


def compile_and_run(tmp_path, module, specs, inputs):
    model = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(module.eval()), str(model))
    artifact = tmp_path / "model.cocktail"
    args = [a for s in specs for a in ("--input", s)]
    proc = run_tool("cocktail-compile", model, "-o", artifact, *args)
    assert proc.returncode == 0, proc.stderr
    return run_tool("cocktail-run", artifact, "--inputs", save_inputs(tmp_path / "in.pt", inputs))


@pytest.mark.parametrize("op,module,specs,inputs", [
    ("select", Select(), ["x:f32[5,4]", "i:i64"], [torch.randn(5, 4), INT64_MAX]),
    ("index", Index(), ["x:f32[5,4]", "i:i64[1]"], [torch.randn(5, 4), torch.tensor([INT64_MAX])]),
    ("gather", Gather(), ["x:f32[5,4]", "i:i64[5,1]"], [torch.randn(5, 4), torch.full((5, 1), INT64_MAX)]),
    ("embedding", Embedding(), ["i:i64[2]"], [torch.tensor([1, INT64_MAX])]),
])
def test_int64_max_index_is_reported_exactly(tmp_path, op, module, specs, inputs):
    proc = compile_and_run(tmp_path, module, specs, inputs)
    expect_clean_failure(proc, f"{op}: index 9223372036854775807 ")
    assert "-9223372036854775808" not in proc.stderr, proc.stderr


def test_element_count_past_int64_is_refused(tmp_path):
    proc = compile_and_run(tmp_path, Expand(), ["x:f32[1,4]", "n:i64"], [torch.randn(1, 4), 2**62 + 1])
    expect_clean_failure(proc, "shape [4611686018427387905, 4] has more elements than an int64 can count")
