"""Cocktail inside PyTorch.

Compile a model whose forward has loops and branches and call it like the
original, from eager Python or from TorchScript::

    import cocktail, torch
    fast = cocktail.compile(model, inputs=["xs:f32[T<=128,1,256]"])
    out = fast(xs)

`compile` accepts an nn.Module (scripted for you), a ScriptModule or the path
of a saved TorchScript file. Inputs are described per forward argument, by
name: `cocktail.Input("xs", torch.float32, ("T<=128", 1, 256))` or the
command line's spec strings (`"xs:f32[T<=128,1,256]"`, `"steps:i64"`).

The compiled model is a `torch.classes.cocktail.Model` (from
libcocktail_torch.so) wrapped in a `CompiledModule`; it pickles with its
artifact, so a scripted module that holds one saves with torch.jit.save and
loads with torch.jit.load wherever the library is loaded.
"""
import builtins
import hashlib
import linecache
import os
import re
import tempfile
import warnings
from typing import List, Sequence, Tuple, Union

import torch

__all__ = ["compile", "load", "Input", "CompiledModule", "CompileError", "CompileWarning", "LIBRARY_PATH"]

_HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY_PATH = os.environ.get("COCKTAIL_TORCH_LIBRARY", os.path.join(_HERE, "libcocktail_torch.so"))
if not os.path.exists(LIBRARY_PATH):
    raise ImportError(f"cocktail: {LIBRARY_PATH} is missing; build it with scripts/setup.sh "
                      "(or set COCKTAIL_TORCH_LIBRARY to its path)")
torch.ops.load_library(LIBRARY_PATH)


class CompileError(RuntimeError):
    """The compiler could not compile the model; the message names the op and
    the line of the model's source where it could."""


class CompileWarning(UserWarning):
    """An op runs as a TorchScript island on the host instead of being compiled."""


_DTYPE_NAMES = {
    torch.float32: "f32", torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16",
    torch.int64: "i64", torch.int32: "i32", torch.bool: "i1",
    int: "i64", float: "f64", bool: "i1",
}


class Input:
    """One forward argument: `Input("xs", torch.float32, ("T<=128", 4, 64))` is
    a tensor whose first dim may be anything up to 128; `Input("steps", int)`
    is an int argument."""

    def __init__(self, name: str, dtype, shape: Sequence[Union[int, str]] = None):
        if dtype not in _DTYPE_NAMES:
            raise TypeError(f"cocktail.Input {name!r}: unsupported dtype {dtype!r} "
                            f"(one of {', '.join(str(d) for d in _DTYPE_NAMES)})")
        if shape is None and dtype not in (int, float, bool, torch.int64, torch.float64, torch.bool):
            raise TypeError(f"cocktail.Input {name!r}: a tensor needs a shape, e.g. ({name!r}, {dtype}, (4, 64))")
        self.name, self.dtype, self.shape = name, dtype, None if shape is None else tuple(shape)

    @property
    def spec(self) -> str:
        dtype = _DTYPE_NAMES[self.dtype]
        if self.shape is None:
            return f"{self.name}:{dtype}"
        return f"{self.name}:{dtype}[{','.join(str(d).replace(' ', '') for d in self.shape)}]"

    def __repr__(self):
        return f"cocktail.Input({self.spec!r})"


def _spec_string(i) -> str:
    if isinstance(i, Input):
        return i.spec
    if isinstance(i, str):
        return i
    raise TypeError(f"cocktail: an input must be a cocktail.Input or a spec string like 'xs:f32[T<=128,4,64]', "
                    f"got {type(i).__name__}")


def compile(module, inputs: Sequence[Union[Input, str]], target: str = "auto",
            strict: bool = False) -> "CompiledModule":
    """Compiles `module` (an nn.Module, a ScriptModule or a TorchScript file's
    path) for the given inputs. Raises CompileError when it cannot; ops that
    run as TorchScript islands are reported with a CompileWarning (or, with
    strict=True, are a CompileError)."""
    specs = [_spec_string(i) for i in inputs]
    with tempfile.TemporaryDirectory(prefix="cocktail-") as tmp:
        if isinstance(module, (str, os.PathLike)):
            path = os.fspath(module)
        else:
            if not isinstance(module, torch.jit.ScriptModule):
                if not isinstance(module, torch.nn.Module):
                    raise TypeError(f"cocktail.compile: expected an nn.Module, a ScriptModule or a path, "
                                    f"got {type(module).__name__}")
                module = torch.jit.script(module)
            path = os.path.join(tmp, "model.pt")
            torch.jit.save(module, path)
        try:
            data, notes = torch.ops.cocktail.compile(path, specs, target, strict)
        except RuntimeError as e:
            raise CompileError(str(e).strip()) from None
    for note in notes:
        warnings.warn(note, CompileWarning, stacklevel=2)
    return _wrap(torch.classes.cocktail.Model.from_bytes(data))


def load(path: Union[str, os.PathLike]) -> "CompiledModule":
    """Loads a .cocktail artifact written by cocktail-compile or CompiledModule.save."""
    try:
        model = torch.classes.cocktail.Model(os.fspath(path))
    except RuntimeError as e:
        raise CompileError(str(e).strip()) from None
    return _wrap(model)


class CompiledModule(torch.nn.Module):
    """A compiled model, called like the module it was compiled from. Its
    forward is generated per signature so that TorchScript sees the same
    argument names and types as the original's."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the artifact (a .cocktail file; cocktail.load reads it)."""
        self.model.save(os.fspath(path))

    @property
    def input_specs(self) -> List[str]:
        return list(self.model.input_specs())

    def extra_repr(self) -> str:
        fallbacks = list(self.model.fallbacks())
        return (f"forward({', '.join(self.model.input_specs())}) -> {self.model.num_outputs()} output(s), "
                f"target={self.model.target()}, device={self.model.device()}, "
                f"islands={'none' if not fallbacks else '; '.join(fallbacks)}")


_SPEC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([a-z0-9]+)(\[.*\])?$")
_SCALAR_TYPES = {"i64": "int", "f64": "float", "i1": "bool"}
_CLASSES = {}


def _forward_source(specs: List[str], num_outputs: int, class_name: str) -> str:
    params, args = [], []
    for spec in specs:
        m = _SPEC.match(spec)
        if not m:
            raise CompileError(f"cocktail: unexpected input spec {spec!r} in the artifact")
        name, dtype, dims = m.groups()
        if dims is None:
            params.append(f"{name}: {_SCALAR_TYPES[dtype]}")
            args.append(f"torch.tensor({name})")
        else:
            params.append(f"{name}: torch.Tensor")
            args.append(name)
    if num_outputs == 1:
        ret_type, ret = "torch.Tensor", "outs[0]"
    else:
        ret_type = f"Tuple[{', '.join(['torch.Tensor'] * num_outputs)}]"
        ret = "(" + ", ".join(f"outs[{i}]" for i in range(num_outputs)) + ")"
    return (f"class {class_name}(CompiledModule):\n"
            f"    def forward(self, {', '.join(params)}) -> {ret_type}:\n"
            f"        outs = self.model.forward([{', '.join(args)}])\n"
            f"        return {ret}\n")


def _wrap(model) -> CompiledModule:
    specs = list(model.input_specs())
    num_outputs = int(model.num_outputs())
    key = (tuple(specs), num_outputs)
    cls = _CLASSES.get(key)
    if cls is None:
        digest = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
        class_name = f"CompiledModule_{digest}"
        source = _forward_source(specs, num_outputs, class_name)
        # TorchScript reads a forward's source with inspect, which reads
        # linecache: register the generated source under a unique file name.
        filename = f"<cocktail-generated-{digest}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = {"CompiledModule": CompiledModule, "torch": torch, "Tuple": Tuple, "List": List}
        exec(builtins.compile(source, filename, "exec"), namespace)
        cls = namespace[class_name]
        cls.__module__ = __name__
        _CLASSES[key] = cls
    return cls(model)
