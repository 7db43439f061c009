"""The Cocktail benchmark suite: the workloads of the Cocktailer paper (OSDI 2023).

Every model module exposes

    build() -> nn.Module                       # eval mode, weights from a fixed seed
    example_inputs(batch, seed=0, **variant)   # positional forward arguments
    input_specs(batch) -> list[str]            # compiler CLI specs, NAME:DTYPE[DIMS]
    BATCHES                                    # batch sizes the suite runs

See README.md beside this file for the table of models.
"""
import importlib

SUITE = ["lstm", "nasrnn", "attention", "seq2seq", "blockdrop", "skipnet", "rae"]


def get(name):
    """Return the module of suite model `name` (e.g. get("lstm").build())."""
    if name not in SUITE:
        raise KeyError(f"unknown suite model {name!r}; known: {', '.join(SUITE)}")
    return importlib.import_module(f"{__name__}.{name}")
