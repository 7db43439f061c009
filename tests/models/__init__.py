"""Small TorchScript models the compiler has never seen: a corpus for differential tests.

Every module here (except export.py) exposes

    build() -> nn.Module                   # eval mode, weights from a fixed seed
    example_inputs(seed=0, **variant)      # positional forward arguments
    input_specs() -> list[str]             # compiler CLI specs, NAME:DTYPE[DIMS]
    VARIANTS                               # list of kwargs dicts for example_inputs,
                                           # chosen for different control-flow outcomes

`fallback_*` models use an op outside the compiler's op list on purpose, to
exercise the TorchScript-island fallback (and --strict).
"""
import importlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = sorted(f[:-3] for f in os.listdir(_HERE)
                if f.endswith(".py") and f not in ("__init__.py", "export.py"))
FALLBACK = [m for m in MODELS if m.startswith("fallback_")]


def get(name):
    if name not in MODELS:
        raise KeyError(f"unknown test model {name!r}; known: {', '.join(MODELS)}")
    return importlib.import_module(f"{__name__}.{name}")
