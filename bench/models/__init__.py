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
# The same kinds of work written with PyTorch's own modules, as users write
# them (nn.LSTM, a bidirectional nn.GRU, nn.TransformerEncoder with a padding
# mask, beam search over nn.GRUCell with topk): the suite must not be the
# only code the compiler is fast on.
STANDARD = ["nn_lstm", "nn_gru", "nn_transformer", "gru_beam"]
ALL = SUITE + STANDARD


def get(name):
    """Return the module of suite model `name` (e.g. get("lstm").build())."""
    if name not in ALL:
        raise KeyError(f"unknown suite model {name!r}; known: {', '.join(ALL)}")
    return importlib.import_module(f"{__name__}.{name}")
