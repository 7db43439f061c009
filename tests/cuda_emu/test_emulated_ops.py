"""The CUDA generated for the op families of issue 19, run on the CPU by the
emulation harness (tests/cuda_emu/cuda_emu.h) against TorchScript: the
activations (hardtanh/ReLU6 as clamp, hardswish, hardsigmoid, leaky_relu,
elu, softplus, silu, mish), alone and fused in a loop body, and conv1d (as
a conv2d of height 1) with groups, depthwise and a pointwise layer. Ops the
generator does not support (topk, cumsum) fail --target cuda with an error
that names them. The zoo's layers (conv_transpose2d, adaptive max and
average pooling) run in the harness too.
"""
import os
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("COCKTAIL_BUILD_DIR") or REPO / "build")
COMPILE = BUILD / "tools" / "cocktail-compile"
EMU_RUN = BUILD / "tests" / "cuda_emu" / "cuda-emu-run"

pytestmark = pytest.mark.skipif(not (COMPILE.exists() and EMU_RUN.exists()),
                                reason=f"cocktail-compile or cuda-emu-run is not built in {BUILD}")


class Activations(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.dw = nn.Conv1d(4, 4, 3, padding=1, groups=4)
        self.gc = nn.Conv1d(4, 6, 3, stride=2, dilation=2, padding=2, groups=2)
        self.pw = nn.Conv1d(6, 5, 1)

    def forward(self, x: Tensor, s: Tensor, steps: int):
        h = x
        for _ in range(steps):
            h = F.hardswish(h) + F.hardsigmoid(h) - F.relu6(h * 3.0) + F.hardtanh(h, -0.5, 0.5)
            h = F.leaky_relu(h, 0.2) + F.elu(h, 0.7) + F.softplus(h, 2.0, 3.0) * 0.1 + F.silu(h) - F.mish(h) * 0.5
        y = self.pw(F.hardswish(self.gc(torch.relu(self.dw(s)))))
        return h, F.elu(y), F.leaky_relu(x), F.softplus(x), F.mish(x)


class TopkCumsum(nn.Module):
    def forward(self, x: Tensor):
        return torch.topk(x, 2)[0], torch.cumsum(x, 1)


class ZooLayers(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
        self.dw = nn.ConvTranspose2d(6, 6, (2, 3), stride=(1, 2), dilation=(2, 1), groups=3, bias=False)

    def forward(self, x: Tensor):
        y = self.dw(F.mish(self.up(x)))
        v, i = torch._C._nn.adaptive_max_pool2d(y, [3, 4])
        return y, v, i, torch._C._nn.adaptive_avg_pool2d(y, [5, 3])


def compile_cuda(tmp_path, module, specs):
    model = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(module.eval()), str(model))
    artifact = tmp_path / "model.cocktail"
    cmd = [str(COMPILE), str(model), "-o", str(artifact), "-q", "--strict", "--target", "cuda", "--arch", "sm_80"]
    for s in specs:
        cmd += ["--input", s]
    return model, artifact, subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("steps", [3, 0])
def test_activations_and_conv1d_in_the_harness(tmp_path, steps):
    model, artifact, proc = compile_cuda(tmp_path, Activations(), ["x:f32[2,8]", "s:f32[1,4,11]", "steps:i64"])
    assert proc.returncode == 0, proc.stderr
    g = torch.Generator().manual_seed(0)
    inputs = tmp_path / "inputs.pt"
    torch.save([torch.randn(2, 8, generator=g) * 3, torch.randn(1, 4, 11, generator=g), steps], str(inputs))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model), "--rtol", "1e-5",
           "--blocks", "4", "--threads", "64", "--work-dir", str(tmp_path / "module")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "within" in run.stdout
    source = (tmp_path / "module" / "module.cu").read_text()
    for fn in ("cocktail::math::hardswish<float>", "cocktail::math::elu<float>", "cocktail::math::softplus<float>",
               "cocktail::math::mish<float>"):
        assert fn in source, f"the generated CUDA has no {fn}"


def test_topk_cumsum_are_refused_by_name(tmp_path):
    _, artifact, proc = compile_cuda(tmp_path, TopkCumsum(), ["x:f32[3,5]"])
    assert proc.returncode == 3  # unsupported (tools/ExitCode.h)
    assert "not supported by the CUDA generator" in proc.stderr and "'topk'" in proc.stderr, proc.stderr
    assert not artifact.exists()



def test_zoo_layers_in_the_harness(tmp_path):
    """conv_transpose2d (groups, dilation, output padding), adaptive max and
    average pooling (uneven windows, i64 indices) as generated CUDA."""
    model, artifact, proc = compile_cuda(tmp_path, ZooLayers(), ["x:f32[2,4,5,6]"])
    assert proc.returncode == 0, proc.stderr
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 5, 6, generator=g)
    x[0, 1, 2, 3] = float("nan")
    inputs = tmp_path / "inputs.pt"
    torch.save([x], str(inputs))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model), "--rtol", "1e-5",
           "--blocks", "4", "--threads", "64", "--work-dir", str(tmp_path / "module")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "within" in run.stdout
