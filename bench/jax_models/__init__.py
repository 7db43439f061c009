"""JAX ports of the suite (bench/models), written by hand with lax control flow.

Each module NAME.py has

    build(sd) -> (params, apply)     # sd: the scripted module's state_dict as numpy arrays
    inputs(args) -> tuple            # the suite's forward arguments (torch) -> apply's arguments

and `apply(params, *inputs)` is a pure function to `jax.jit`; it returns a
list of arrays in the order of the TorchScript model's flattened outputs.
Same weights (read from the exported .pt), same control flow: loops are
`lax.scan` / `lax.fori_loop` / `lax.while_loop`, branches are `lax.cond`.
Batch norms are folded into the convolutions (what torch.jit.freeze does for
TorchScript), and convolutions run in NHWC (XLA's preferred CPU layout).
"""
import importlib

PORTS = ["lstm", "nasrnn", "attention", "seq2seq", "blockdrop", "skipnet", "rae"]


def get(name):
    if name not in PORTS:
        raise KeyError(f"no JAX port of {name}")
    return importlib.import_module(f"{__name__}.{name}")
