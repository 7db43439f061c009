"""NAS-RNN cell (Zoph & Le 2017), as in Cocktailer: hidden 256, input 256, 1000 steps.

Control flow: one `for t in range(T)` over time. Each step projects the input
and the hidden state with stacked `[8, in, H]` weights (one matmul each, 8
gates), then combines the gates with sigmoid/tanh/relu/+/* into the new
(c, m) state. Returns the final c + m, `[B, H]`.
"""
import torch
from torch import nn

HIDDEN = 256
INPUT = 256
STEPS = 1000
BATCHES = [1, 64]


class NasRNN(nn.Module):
    def __init__(self, input_size: int = INPUT, hidden: int = HIDDEN):
        super().__init__()
        self.hidden = hidden
        self.weight_ih = nn.Parameter(torch.empty(8, input_size, hidden))
        self.weight_hh = nn.Parameter(torch.empty(8, hidden, hidden))
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.xavier_uniform_(self.weight_hh)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        batch = xs.size(1)
        state_c = torch.zeros(batch, self.hidden, device=xs.device)
        state_m = torch.zeros(batch, self.hidden, device=xs.device)
        for t in range(xs.size(0)):
            ih = torch.matmul(xs[t], self.weight_ih)   # [8, B, H]
            hh = torch.matmul(state_m, self.weight_hh)  # [8, B, H]
            l1_0 = torch.sigmoid(ih[0] + hh[0])
            l1_1 = torch.relu(ih[1] + hh[1])
            l1_2 = torch.sigmoid(ih[2] + hh[2])
            l1_3 = torch.relu(ih[3] + hh[3])
            l1_4 = torch.tanh(ih[4] + hh[4])
            l1_5 = torch.sigmoid(ih[5] + hh[5])
            l1_6 = torch.tanh(ih[6] + hh[6])
            l1_7 = torch.sigmoid(ih[7] + hh[7])
            l2_0 = torch.tanh(l1_0 * l1_1)
            l2_1 = torch.tanh(l1_2 + l1_3)
            l2_2 = torch.tanh(l1_4 * l1_5)
            l2_3 = torch.sigmoid(l1_6 + l1_7)
            l2_0 = torch.tanh(l2_0 + state_c)  # inject the cell
            state_c = l2_0 * l2_1
            l3_1 = torch.tanh(l2_2 + l2_3)
            state_m = torch.tanh(state_c * l3_1)
        return state_c + state_m


def build() -> nn.Module:
    torch.manual_seed(0)
    return NasRNN().eval()


def example_inputs(batch: int, seed: int = 0, steps: int = STEPS) -> list:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(steps, batch, INPUT, generator=g)]


def input_specs(batch: int) -> list:
    return [f"xs:f32[T<=1024,{batch},{INPUT}]"]
