"""BlockDrop (Wu et al., CVPR 2018) on ResNet-32 for CIFAR, as in Cocktailer.

3 stages x 5 basic blocks = 15 blocks, 16/32/64 channels, batch_norm; the first
block of stages 2 and 3 downsamples (stride 2; shortcut = avg_pool2d + zero
channels, BlockDrop's DownsampleB). The policy `[B, 15]` (0/1 floats, what the
BlockDrop agent would emit) says which blocks run.

Control flow: the 15 blocks are unrolled at Python level (a ModuleList), and
each block is an `if bool(policy[:, i].sum() > 0)` (prim::If): when no row of
the batch wants block i it is skipped entirely (x = shortcut(x)); otherwise,
as in BlockDrop, x = relu(shortcut(x) + block(x)) * mask + shortcut(x) * (1 - mask)
with mask = policy[:, i] per row. For batch 1 this is exactly "run block i iff
policy[0, i] > 0.5".
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

NUM_BLOCKS = 15
BATCHES = [1, 64]


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class DownsampleB(nn.Module):
    """Shortcut of a downsampling block: 2x2 average pool, then zero-pad the channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(x, 2)
        return torch.cat((x, torch.zeros_like(x)), 1)


class DropBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = BasicBlock(cin, cout, stride)
        self.shortcut = DownsampleB() if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        residual = self.shortcut(x)
        if bool(action.sum() > 0.0):
            mask = action.view(-1, 1, 1, 1)
            fx = torch.relu(residual + self.body(x))
            x = fx * mask + residual * (1.0 - mask)
        else:
            x = residual
        return x


class BlockDropResNet32(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        blocks = []
        cin = 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(5):
                blocks.append(DropBlock(cin, cout, stride if b == 0 else 1))
                cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor, policy: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        for i, blk in enumerate(self.blocks):
            x = blk(x, policy[:, i])
        x = F.avg_pool2d(x, 8)
        x = x.view(x.size(0), 64)
        return self.fc(x)


def init_weights(model: nn.Module, gen: torch.Generator) -> None:
    """He-normal convs and random (but tame) batch-norm statistics."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.normal_(0.0, math.sqrt(2.0 / n), generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)


def build() -> nn.Module:
    torch.manual_seed(0)
    m = BlockDropResNet32()
    init_weights(m, torch.Generator().manual_seed(0))
    return m.eval()


def example_inputs(batch: int, seed: int = 0, policy: str = "random") -> list:
    """policy: "random" (per-block keep rates, with a few blocks dropped for the
    whole batch so both branch outcomes occur at any batch), "all" or "none"."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, 32, 32, generator=g)
    if policy == "all":
        pol = torch.ones(batch, NUM_BLOCKS)
    elif policy == "none":
        pol = torch.zeros(batch, NUM_BLOCKS)
    elif policy == "random":
        rate = torch.rand(NUM_BLOCKS, generator=g)
        rate[torch.randperm(NUM_BLOCKS, generator=g)[:4]] = 0.0
        pol = (torch.rand(batch, NUM_BLOCKS, generator=g) < rate).float()
    else:
        raise ValueError(f"unknown policy {policy!r}")
    return [x, pol]


def input_specs(batch: int) -> list:
    return [f"x:f32[{batch},3,32,32]", f"policy:f32[{batch},{NUM_BLOCKS}]"]
