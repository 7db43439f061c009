"""The structural forms of issue 19's corpus models, written as small user
models, compiled with --strict and compared with the TorchScript interpreter
(cocktail-run --reference and an output-by-output comparison):

* outputs that are always None (googlenet's aux logits in eval mode) are
  dropped by the compiler and by the reference runners alike;
* a method other than forward (`--method infer`, Tacotron2.infer) survives
  freezing, and cocktail-run --reference runs that method.

    /usr/bin/python3 -m pytest -q tests/e2e/test_structure.py
"""
from typing import NamedTuple, Optional

import torch
from torch import Tensor, nn

from conftest import check_strict_at_sizes as check
from conftest import compare_outputs, compile_model, load_outputs, run_model, save_module


class HeadOutputs(NamedTuple):
    logits: Tensor
    aux: Optional[Tensor]


class AuxNoneInEval(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 4)
        self.aux_head: Optional[nn.Module] = None

    def forward(self, x: Tensor) -> HeadOutputs:
        aux: Optional[Tensor] = None
        if self.aux_head is not None and self.training:
            aux = self.aux_head(x)
        if torch.jit.is_scripting():
            return HeadOutputs(self.body(x), aux)
        return HeadOutputs(self.body(x), None)


def test_always_none_outputs_are_dropped(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    outs = check(AuxNoneInEval(), ["x:f32[B<=3,6]"],
                 [[torch.randn(3, 6, generator=g)], [torch.randn(1, 6, generator=g)]], tmp_path, "aux_none")
    assert [list(o.shape) for o in outs[1]] == [[1, 4]]


class Synthesizer(nn.Module):
    """forward and an exported `infer` that computes something else."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(5, 5)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)

    @torch.jit.export
    def infer(self, x: Tensor, steps: int) -> Tensor:
        h = x
        for _ in range(steps):
            h = torch.tanh(self.proj(h))
        return h


def test_exported_method(tmp_path):
    torch.manual_seed(0)
    scripted = torch.jit.script(Synthesizer().eval())
    model = save_module(scripted, tmp_path, "synth")
    artifact = tmp_path / "synth.cocktail"
    compile_model(model, ["x:f32[2,5]", "steps:i64"], artifact, extra_args=["--method", "infer"])
    inputs = [torch.randn(2, 5), 3]
    out = tmp_path / "synth.out.pt"
    # --reference runs infer too: forward would differ (and take one argument).
    run_model(artifact, inputs, tmp_path, reference=model, outputs_path=out, name="synth")
    want = [scripted.infer(inputs[0].clone(), 3)]
    errors = compare_outputs(load_outputs(out), want)
    assert not errors, "\n".join(errors)
