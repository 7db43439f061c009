"""Models of the public zoos that use the op families of issue 19, compiled
with --strict (no TorchScript island) and compared with the TorchScript
interpreter on random inputs (rel. error < 1e-5):

* torchvision mobilenet_v2 (every ReLU6 is aten::hardtanh, inverted
  residuals with depthwise convolutions), random weights, 1x3x64x64;
* torchaudio Wav2Letter on waveforms and on MFCC features (every layer an
  aten::conv1d, then log_softmax).

Skipped where torchvision or torchaudio cannot be imported.

    /usr/bin/python3 -m pytest -q tests/e2e/test_zoo_models.py
"""
import pytest
import torch

from conftest import compare_outputs, compile_model, load_outputs, run_model, run_reference, save_module


def check(module, specs, input_sets, tmp_path, name):
    scripted = torch.jit.script(module.eval())
    model = save_module(scripted, tmp_path, name)
    artifact = tmp_path / f"{name}.cocktail"
    proc = compile_model(model, specs, artifact, strict=True)
    assert "warning" not in proc.stderr, proc.stderr
    for k, inputs in enumerate(input_sets):
        out = tmp_path / f"{name}.{k}.out.pt"
        run_model(artifact, inputs, tmp_path, reference=model, outputs_path=out, name=f"{name}.{k}")
        errors = compare_outputs(load_outputs(out), run_reference(scripted, inputs))
        assert not errors, "\n".join(errors)


def test_mobilenet_v2(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2()
    g = torch.Generator().manual_seed(1)
    check(model, ["x:f32[1,3,64,64]"], [[torch.randn(1, 3, 64, 64, generator=g)]], tmp_path, "mobilenet_v2")


@pytest.mark.parametrize("input_type,channels", [("waveform", 1), ("mfcc", 13)])
def test_wav2letter(tmp_path, input_type, channels):
    torchaudio = pytest.importorskip("torchaudio")
    torch.manual_seed(0)
    model = torchaudio.models.Wav2Letter(num_classes=12, input_type=input_type, num_features=channels)
    g = torch.Generator().manual_seed(2)
    # Waveforms: stride 160 and kernel 250 need a few thousand samples; MFCC frames are fewer.
    length = 2000 if input_type == "waveform" else 60
    inputs = [[torch.randn(1, channels, length, generator=g)], [torch.randn(1, channels, length, generator=g) * 3]]
    check(model, [f"x:f32[1,{channels},{length}]"], inputs, tmp_path, f"wav2letter_{input_type}")
