"""A padded batch through `nn.TransformerEncoder` as users write it: 2 layers,
d_model 256, 4 heads, feed-forward 1024, batch_first, with the key padding
mask built from each row's length (rows of 32 positions; padding positions
are masked out of attention).
"""
import torch
from torch import nn

LAYERS = 2
D_MODEL = 256
HEADS = 4
FEEDFORWARD = 1024
STEPS = 32
BATCHES = [1, 64]
# No loop or branch survives specialisation (eval mode's fast-path checks
# fold): a row of plain operators beside the suite's control flow.
CONTROL_FLOW = False


class PaddedEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.size(1), device=x.device)
        padding = positions.unsqueeze(0) >= lengths.unsqueeze(1)
        return self.encoder(x, src_key_padding_mask=padding)


def build() -> nn.Module:
    torch.manual_seed(0)
    return PaddedEncoder().eval()


def example_inputs(batch: int, seed: int = 0, steps: int = STEPS) -> list:
    g = torch.Generator().manual_seed(seed)
    # Every row keeps at least one position: a fully masked row is NaN in PyTorch.
    lengths = torch.randint(1, steps + 1, (batch,), generator=g)
    lengths[0] = steps
    return [torch.randn(batch, steps, D_MODEL, generator=g), lengths]


def input_specs(batch: int) -> list:
    return [f"x:f32[{batch},T<=512,{D_MODEL}]", f"lengths:i64[{batch}]"]
