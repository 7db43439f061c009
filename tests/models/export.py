#!/usr/bin/python3
"""Export the unseen-models test corpus as TorchScript files plus inputs and expected outputs.

    /usr/bin/python3 tests/models/export.py --out DIR [--models a,b] [--check]

For every model NAME and every entry k of its VARIANTS:

    DIR/NAME.pt                  torch.jit.script(build()) saved with torch.jit.save
    DIR/NAME.spec                the compiler's input specs, one per line
    DIR/NAME.vK.inputs.pt        torch.save(list of positional forward arguments)
    DIR/NAME.vK.expected.pt      torch.save(list of output tensors of the scripted module)

Inputs are saved before the run (a model that writes into an input runs on a
copy). --check loads everything back, reruns the saved module and its
torch.jit.freeze'd form on the saved inputs, and compares with the expected
outputs. Works from any current directory.
"""
import argparse
import copy
import importlib.util
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def load_corpus():
    """Import tests/models as a package by path (no need for the repo on sys.path)."""
    name = "cocktail_test_models"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(HERE, "__init__.py"), submodule_search_locations=[HERE])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    return pkg


def flatten(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    if isinstance(out, (bool, int, float)):
        return [torch.tensor(out)]
    raise TypeError(f"unsupported output type {type(out)}")


def run(module, inputs):
    with torch.no_grad():
        return flatten(module(*copy.deepcopy(inputs)))


def compare(got, want, rtol=1e-5, atol=1e-6):
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"output {i}: {g.dtype}{list(g.shape)} vs expected {w.dtype}{list(w.shape)}"
        if g.is_floating_point():
            if not torch.allclose(g, w, rtol=rtol, atol=atol):
                return f"output {i}: max abs diff {(g - w).abs().max().item():.3g}"
        elif not torch.equal(g, w):
            return f"output {i}: {(g != w).sum().item()} elements differ"
    return None


def variant_inputs(mod, variant):
    kw = {"seed": 0}
    kw.update(variant)
    return mod.example_inputs(**kw)


def export_model(mod, name, out):
    scripted = torch.jit.script(mod.build())
    torch.jit.save(scripted, os.path.join(out, f"{name}.pt"))
    with open(os.path.join(out, f"{name}.spec"), "w") as f:
        f.write("\n".join(mod.input_specs()) + "\n")
    for k, variant in enumerate(mod.VARIANTS):
        inputs = variant_inputs(mod, variant)
        stem = os.path.join(out, f"{name}.v{k}")
        torch.save(inputs, stem + ".inputs.pt")
        torch.save(run(scripted, inputs), stem + ".expected.pt")


def summary(ts):
    """A short printable digest of outputs, to see that variants differ."""
    parts = []
    for t in ts:
        if t.numel() <= 3:
            parts.append(str([round(v, 4) if isinstance(v, float) else v for v in t.flatten().tolist()]))
        else:
            parts.append(f"{t.dtype}{list(t.shape)}")
    return " ".join(parts)


def check_model(mod, name, out, show_graph=False):
    ok = True
    path = os.path.join(out, f"{name}.pt")
    loaded = torch.jit.load(path).eval()
    frozen = torch.jit.freeze(torch.jit.load(path).eval())
    if show_graph:
        print(f"---- frozen graph of {name} ----\n{frozen.graph}", flush=True)
    for k in range(len(mod.VARIANTS)):
        stem = os.path.join(out, f"{name}.v{k}")
        inputs = torch.load(stem + ".inputs.pt")
        expected = torch.load(stem + ".expected.pt")
        t0 = time.perf_counter()
        err = compare(run(loaded, inputs), expected)
        ms = (time.perf_counter() - t0) * 1e3
        ferr = compare(run(frozen, inputs), expected, rtol=1e-4, atol=1e-5)
        status = "ok" if err is None and ferr is None else "FAIL"
        ok = ok and status == "ok"
        print(f"check {name:18s} v{k} {status} {ms:6.1f} ms  {mod.VARIANTS[k]}  -> {summary(expected)}"
              + (f"  [loaded: {err}]" if err else "") + (f"  [frozen: {ferr}]" if ferr else ""),
              flush=True)
    return ok


def main(argv=None):
    corpus = load_corpus()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default=",".join(corpus.MODELS),
                    help="comma-separated subset of: " + ",".join(corpus.MODELS))
    ap.add_argument("--check", action="store_true", help="reload everything, compare and freeze")
    ap.add_argument("--graph", default="", help="with --check: models whose frozen graph to print")
    args = ap.parse_args(argv)

    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    ok = True
    for name in [n for n in args.models.split(",") if n]:
        mod = corpus.get(name)
        export_model(mod, name, args.out)
        if args.check:
            ok = check_model(mod, name, args.out, name in args.graph.split(",")) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
