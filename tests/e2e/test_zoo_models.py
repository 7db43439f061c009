"""Models of the public zoos that use the op families of issue 19, compiled
with --strict (no TorchScript island) and compared with the TorchScript
interpreter on random inputs (rel. error < 1e-5):

* torchvision mobilenet_v2 (every ReLU6 is aten::hardtanh, inverted
  residuals with depthwise convolutions), random weights, 1x3x64x64;
* torchaudio Wav2Letter on waveforms and on MFCC features (every layer an
  aten::conv1d, then log_softmax);
* torchaudio Conformer (aten::glu in every convolution module, depthwise
  conv1d, attention with a padding mask from lengths), a symbolic batch and
  sequence length run at two sizes.
* torchvision googlenet and inception_v3, whose scripted forward returns a
  NamedTuple with aux logits that are None in eval mode (outputs that are
  always None are dropped, by the compiler and the reference alike).

Skipped where torchvision or torchaudio cannot be imported.

    /usr/bin/python3 -m pytest -q tests/e2e/test_zoo_models.py
"""
import pytest
import torch

from conftest import check_strict_at_sizes as check


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


def test_conformer(tmp_path):
    torchaudio = pytest.importorskip("torchaudio")
    torch.manual_seed(0)
    model = torchaudio.models.Conformer(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2,
                                        depthwise_conv_kernel_size=7)
    g = torch.Generator().manual_seed(3)
    inputs = [[torch.randn(2, 20, 32, generator=g), torch.tensor([20, 13])],
              [torch.randn(1, 9, 32, generator=g), torch.tensor([9])]]
    check(model, ["input:f32[B<=2,T<=20,32]", "lengths:i64[B]"], inputs, tmp_path, "conformer")
@pytest.mark.parametrize("name,size", [("googlenet", 64), ("inception_v3", 96)])
def test_aux_logits_none_in_eval(tmp_path, name, size):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(aux_logits=False, init_weights=False)
    g = torch.Generator().manual_seed(3)
    outs = check(model, [f"x:f32[1,3,{size},{size}]"], [[torch.randn(1, 3, size, size, generator=g)]], tmp_path, name)
    assert [o.shape for o in outs[0]] == [torch.Size([1, 1000])]
