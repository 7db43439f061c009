"""The structural forms of issue 19's corpus models, written as small user
models, compiled with --strict and compared with the TorchScript interpreter
(cocktail-run --reference and an output-by-output comparison):

* outputs that are always None (googlenet's aux logits in eval mode) are
  dropped by the compiler and by the reference runners alike;
* a method other than forward (`--method infer`, Tacotron2.infer) survives
  freezing, and cocktail-run --reference runs that method;
* F.interpolate / nn.Upsample (nearest, nearest-exact, linear, bilinear,
  trilinear), whose size and scale lists are built by loops over dims;
* swin's window padding: pads computed from a conv output's sizes, a list
  copied and edited under ifs on the padded sizes, roll, new_zeros;
* wav2vec2's `mask.to(dtype=features.dtype)` after conv1d and group norm,
  and `lengths.cpu()`.

    /usr/bin/python3 -m pytest -q tests/e2e/test_structure.py
"""
import importlib.util
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
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


class Interpolate(nn.Module):
    """F.interpolate as users call it; its lists of sizes and scales are built
    by loops over the input's dims, unrolled once the specs fix the rank."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute = align_corners, recompute

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                                         self.recompute)


UPSAMPLES = {
    "nearest_x2": (nn.Upsample(scale_factor=2, mode="nearest"), [1, 3, 4, 5]),
    "nearest_x3": (nn.Upsample(scale_factor=3.0, mode="nearest"), [2, 2, 3, 4]),
    "nearest_x1.7": (nn.Upsample(scale_factor=(1.7, 2.3), mode="nearest"), [1, 2, 5, 6]),
    "nearest_size": (nn.Upsample(size=(7, 5), mode="nearest"), [1, 3, 4, 4]),
    "nearest_down": (Interpolate(scale_factor=0.5), [1, 2, 9, 8]),
    "nearest_1d": (nn.Upsample(scale_factor=1.5, mode="nearest"), [2, 3, 7]),
    "nearest_3d": (nn.Upsample(scale_factor=2, mode="nearest"), [1, 2, 3, 2, 4]),
    "nearest_exact": (Interpolate(scale_factor=1.7, mode="nearest-exact"), [1, 2, 5, 6]),
    "bilinear_x2": (nn.Upsample(scale_factor=2, mode="bilinear"), [1, 3, 4, 5]),
    "bilinear_align": (nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), [1, 3, 4, 5]),
    "bilinear_size": (nn.Upsample(size=(7, 9), mode="bilinear"), [2, 2, 4, 4]),
    "bilinear_down": (Interpolate(scale_factor=0.6, mode="bilinear", align_corners=False), [1, 2, 9, 7]),
    "bilinear_recompute": (Interpolate(scale_factor=1.3, mode="bilinear", align_corners=False, recompute=True),
                           [1, 2, 5, 6]),
    "linear_1d": (nn.Upsample(scale_factor=2.5, mode="linear"), [2, 3, 6]),
    "trilinear": (nn.Upsample(scale_factor=2, mode="trilinear"), [1, 2, 3, 2, 4]),
    "after_conv": (nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.Upsample(scale_factor=2, mode="bilinear")),
                   [1, 3, 9, 9]),
}


@pytest.mark.parametrize("name", sorted(UPSAMPLES))
def test_upsample(tmp_path, name):
    module, shape = UPSAMPLES[name]
    g = torch.Generator().manual_seed(4)
    arg = "x" if isinstance(module, Interpolate) else "input"  # nn.Upsample's forward(input)
    check(module, [f"{arg}:f32[{','.join(map(str, shape))}]"], [[torch.randn(*shape, generator=g)]], tmp_path, name)


def test_upsample_symbolic_batch(tmp_path):
    g = torch.Generator().manual_seed(5)
    # The upsample's input sizes come from the conv's shape function.
    conv = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Upsample(scale_factor=2, mode="bilinear"), nn.ReLU())
    check(conv, ["input:f32[B<=4,3,6,6]"], [[torch.randn(1, 3, 6, 6, generator=g)], [torch.randn(4, 3, 6, 6, generator=g)]],
          tmp_path, "upsample_batch")


def frontend_model(name: str):
    """The module of tests/frontend/<name>.py (the FileCheck test of the same form)."""
    path = Path(__file__).resolve().parents[1] / "frontend" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_window_pad_and_shift(tmp_path):
    window_pad = frontend_model("window_pad")
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(6)
    model = window_pad.WindowPad()
    # 10x10: padded to 8x8 and shifted; 6x6: the window covers it, no shift.
    check(model, ["x:f32[B<=2,3,10,10]"], [[torch.randn(2, 3, 10, 10, generator=g)], [torch.randn(1, 3, 10, 10, generator=g)]],
          tmp_path, "window_shift")
    check(model, ["x:f32[1,3,6,6]"], [[torch.randn(1, 3, 6, 6, generator=g)]], tmp_path, "window_noshift")


def test_dtype_through_convs(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(7)
    model = frontend_model("dtype_through_convs").FeatureMask()
    check(model, ["wave:f32[B<=2,40]", "lengths:i64[B]"],
          [[torch.randn(2, 40, generator=g), torch.tensor([18, 11])], [torch.randn(1, 40, generator=g), torch.tensor([5])]],
          tmp_path, "feature_mask")
