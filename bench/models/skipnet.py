"""SkipNet (Wang et al., ECCV 2018) on ResNet-101 for ImageNet, 224x224, batch 1.

ResNet-101: 7x7/2 stem + batch_norm + 3x3/2 max_pool, bottleneck stages of
3/4/23/3 blocks (64/128/256/512 planes, x4 expansion), global average pool and
a 1000-way linear. Every block except the first of each stage (which changes
the shape) has a small feed-forward gate on its input, global average pool (mean over
H, W; F.adaptive_avg_pool2d would add shape-check branches) +
linear(C -> 1) + sigmoid: the block runs iff the gate says > 0.5, otherwise the
input passes through unchanged (`if bool(p[0, 0] > 0.5)`, a prim::If; 29 gated
blocks). Gating "the next block" from the features after a block is the same
as gating each block on its own input. The blocks are unrolled at Python
level (a ModuleList), as in Cocktailer; each gate stays a prim::If.

Batch 1 only: the gate decides for the one image.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

LAYERS = (3, 4, 23, 3)
BATCHES = [1]
GATE_SCALE = 20.0
GATE_BIAS = 0.0


class Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(cout))
        else:
            self.downsample = nn.Sequential()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + self.downsample(x))


class GatedBottleneck(nn.Module):
    """A bottleneck block behind a feed-forward gate on its input."""

    def __init__(self, cin: int, planes: int):
        super().__init__()
        self.block = Bottleneck(cin, planes, 1)
        self.gate = nn.Linear(cin, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = x.mean([2, 3])  # global average pool, [B, C]
        p = torch.sigmoid(self.gate(feat))
        if bool(p[0, 0] > 0.5):
            x = self.block(x)
        return x


class SkipNetResNet101(nn.Module):
    def __init__(self, layers=LAYERS, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks = []
        cin = 64
        for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if stage == 0 else 2
            blocks.append(Bottleneck(cin, planes, stride))
            cin = planes * 4
            for _ in range(1, n):
                blocks.append(GatedBottleneck(cin, planes))
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        for blk in self.blocks:
            x = blk(x)
        x = x.mean([2, 3])
        return self.fc(x)


def init_weights(model: nn.Module, gen: torch.Generator) -> None:
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.normal_(0.0, math.sqrt(2.0 / n), generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                # the last BN of a block starts small (as zero-init-residual does,
                # but not zero) so that 33 residual additions stay in range
                scale = 0.2 if name.endswith("bn3") else 1.0
                m.weight.copy_((torch.rand(c, generator=gen) * 0.5 + 0.5) * scale)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.05)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            elif isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 1.0 / math.sqrt(m.in_features), generator=gen)
                m.bias.zero_()
        for m in model.modules():
            if isinstance(m, GatedBottleneck):
                # sharp gates: logits of a few units, so that decisions are far from 0.5
                m.gate.weight.mul_(GATE_SCALE)
                m.gate.bias.fill_(GATE_BIAS)


def calibrate_gates(model: nn.Module, margin: float = 1.0) -> None:
    """Move gate biases so that on a reference image every gate logit is at
    least `margin` away from 0 (keeping its sign): decisions then do not hinge
    on rounding. Done in one pass, gate by gate, before each gate runs."""
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1234))

    def pre_hook(mod, inp):
        xx = inp[0]
        z = float(mod.gate(xx.mean([2, 3]))[0, 0])
        if abs(z) < margin:
            mod.gate.bias.add_((margin if z >= 0 else -margin) - z)

    with torch.no_grad():
        hooks = [b.register_forward_pre_hook(pre_hook)
                 for b in model.blocks if isinstance(b, GatedBottleneck)]
        model(x)
        for h in hooks:
            h.remove()


def build() -> nn.Module:
    torch.manual_seed(0)
    m = SkipNetResNet101().eval()
    init_weights(m, torch.Generator().manual_seed(0))
    calibrate_gates(m)
    return m


def example_inputs(batch: int = 1, seed: int = 0) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, 224, 224, generator=g)]


def input_specs(batch: int = 1) -> list:
    return [f"x:f32[{batch},3,224,224]"]
