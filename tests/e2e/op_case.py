"""The Case record, its registry and input helpers of tests/e2e/op_models.py.

A module of a case family registers its cases with the `case` class
decorator; op_models.py imports the families in order, so CASES lists every
case once.
"""
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import torch
from torch import nn

InputsFn = Callable[[torch.Generator], list]


@dataclass
class Case:
    name: str
    make: Callable[[], nn.Module]
    specs: List[str]
    outputs: List[str]
    # variant name -> inputs; the artifact is compiled once and run on each.
    variants: Dict[str, InputsFn]
    xfail: Optional[str] = None
    rtol: float = 1e-5
    # False: compile without --strict (ops that are not lowered run as TorchScript islands).
    strict: bool = True

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(zlib.crc32(self.name.encode()))


CASES: List[Case] = []


def case(name, specs, outputs, variants, xfail=None, rtol=1e-5, strict=True):
    """Class decorator: registers the module class as a Case."""
    if callable(variants):
        variants = {"": variants}

    def register(cls):
        CASES.append(Case(name, cls, list(specs), list(outputs), dict(variants), xfail, rtol, strict))
        return cls
    return register


# ---- input helpers ------------------------------------------------------------------------


def randn(g, *shape):
    return torch.randn(shape, generator=g)


def randint(g, lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=g)


def mask(g, *shape):
    return torch.rand(*shape, generator=g) > 0.5
