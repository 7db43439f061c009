"""Reductions feeding conditions, and an `if` whose two branches compute
different things of the same shape: `if x.sum() > 0` picks relu(A x) * 2 or
sigmoid(B x) - 1; a second `if` on `y.mean() > 0.2 or x.max() > 2.5`
(short-circuit `or`) centres y."""
import torch
from torch import nn

VARIANTS = [{"sign": 1.0}, {"sign": -1.0}, {"sign": 1.0, "spike": 3.0},
            {"sign": -1.0, "spike": 3.0}]


class BranchReduce(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() > 0.0):
            y = torch.relu(self.a(x)) * 2.0
        else:
            y = torch.sigmoid(self.b(x)) - 1.0
        if bool(y.mean() > 0.2) or bool(x.max() > 2.5):
            y = y - y.mean()
        return y


def build():
    torch.manual_seed(0)
    return BranchReduce().eval()


def example_inputs(seed: int = 0, sign: float = 1.0, spike: float = 0.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, 8, generator=g) * sign * 0.5
    if spike:
        x[0, 0] = spike
    return [x]


def input_specs():
    return ["x:f32[2,8]"]
