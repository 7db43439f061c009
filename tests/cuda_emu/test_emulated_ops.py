"""The CUDA generated for the op families of issue 19, run on the CPU by the
emulation harness (tests/cuda_emu/cuda_emu.h) against TorchScript: the
activations (hardtanh/ReLU6 as clamp, hardswish, hardsigmoid, leaky_relu,
elu, softplus, silu, mish), alone and fused in a loop body, and conv1d (as
a conv2d of height 1) with groups, depthwise and a pointwise layer. Ops the
generator does not support (topk, cumsum) fail --target cuda with an error
that names them. The zoo's layers (conv_transpose2d, adaptive max and
average pooling) run in the harness too, and the ops the transformer and
recurrent modules add (arange, layer_norm, triu/tril, any/all, repeat).
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


class ModuleOps(nn.Module):
    """What the transformer and recurrent modules add: arange to a length
    (a padding mask), layer_norm over two dims without weight and over one
    with, triu/tril with diagonals, any/all, repeat of a symbolic dim."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(5)
        self.norm = nn.LayerNorm(8)

    def forward(self, x: Tensor, lengths: Tensor):
        t = x.size(1)
        pad = torch.arange(t).unsqueeze(0) >= lengths.unsqueeze(1)
        scores = torch.matmul(x[:, :, 0, :], x[:, :, 1, :].transpose(1, 2))
        positions = torch.arange(0, t, dtype=torch.float32) * 0.5
        return (F.layer_norm(x, [4, 8], eps=1e-3), self.norm(x), torch.triu(scores, 1), torch.tril(scores, -1),
                pad, pad.any(), pad.all(1), x[:, :, 2, :].repeat(2, 1, 3), positions)


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


@pytest.mark.parametrize("batch,steps,lengths", [(3, 6, [6, 2, 1]), (1, 2, [2])])
def test_module_ops_in_the_harness(tmp_path, batch, steps, lengths):
    model, artifact, proc = compile_cuda(tmp_path, ModuleOps(), ["x:f32[B<=3,T<=6,4,8]", "lengths:i64[B]"])
    assert proc.returncode == 0, proc.stderr
    g = torch.Generator().manual_seed(2)
    inputs = tmp_path / "inputs.pt"
    torch.save([torch.randn(batch, steps, 4, 8, generator=g) * 2 + 1, torch.tensor(lengths)], str(inputs))
    cmd = [str(EMU_RUN), str(artifact), "--inputs", str(inputs), "--reference", str(model), "--rtol", "1e-5",
           "--blocks", "4", "--threads", "64", "--work-dir", str(tmp_path / "module")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "within" in run.stdout
    source = (tmp_path / "module" / "module.cu").read_text()
    for kernel in ("_arange(", "_layer_norm(", "_triu(", "_tril(", "_any(", "_all(", "_repeat("):
        assert kernel in source, f"the generated CUDA has no {kernel} kernel"
