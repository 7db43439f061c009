"""Recursive autoencoder (Socher et al. 2011) over a binary tree, as in Cocktailer:
hidden 512, trees of up to 64 leaves (127 nodes).

TorchScript has no recursion, so the tree is given in post-order: internal node
i (i = 0..M-1) has children `left[i]` and `right[i]`, indices into a node-state
buffer `[N + M, B, H]` whose first N rows are the leaves and whose row N + i is
internal node i (children always come before their parent). Control flow: one
`for i in range(M)` loop with data-dependent gathers `states[int(left[i])]`
and an in-place write `states[N + i] = tanh(W [h_l; h_r] + b)`. Returns the
root, row N + M - 1 (the single leaf when M == 0).
"""
import torch
from torch import nn

HIDDEN = 512
MAX_LEAVES = 64
BATCHES = [1]


class RAE(nn.Module):
    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.encoder = nn.Linear(2 * hidden, hidden)

    def forward(self, leaves: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        n_leaves = leaves.size(0)
        n_internal = left.size(0)
        states = torch.zeros(n_leaves + n_internal, leaves.size(1), leaves.size(2), device=leaves.device)
        states[0:n_leaves] = leaves
        for i in range(n_internal):
            h_l = states[int(left[i])]
            h_r = states[int(right[i])]
            h = torch.tanh(self.encoder(torch.cat([h_l, h_r], 1)))
            states[n_leaves + i] = h
        return states[n_leaves + n_internal - 1]


def build() -> nn.Module:
    torch.manual_seed(0)
    return RAE().eval()


def random_tree(n_leaves: int, g: torch.Generator):
    """A random binary parse tree over n_leaves leaves: repeatedly merge a random
    adjacent pair. Returns (left, right) as int64 tensors in post-order."""
    nodes = list(range(n_leaves))
    left, right = [], []
    next_id = n_leaves
    while len(nodes) > 1:
        k = int(torch.randint(len(nodes) - 1, (1,), generator=g))
        left.append(nodes[k])
        right.append(nodes[k + 1])
        nodes[k:k + 2] = [next_id]
        next_id += 1
    return torch.tensor(left, dtype=torch.long), torch.tensor(right, dtype=torch.long)


def example_inputs(batch: int, seed: int = 0, n_leaves: int = MAX_LEAVES) -> list:
    g = torch.Generator().manual_seed(seed)
    leaves = torch.randn(n_leaves, batch, HIDDEN, generator=g)
    left, right = random_tree(n_leaves, g)
    return [leaves, left, right]


def input_specs(batch: int) -> list:
    return [
        f"leaves:f32[N<={MAX_LEAVES},{batch},{HIDDEN}]",
        f"left:i64[M<={MAX_LEAVES - 1}]",
        f"right:i64[M<={MAX_LEAVES - 1}]",
    ]
