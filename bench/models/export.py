#!/usr/bin/python3
"""Export the benchmark suite as TorchScript files plus example inputs and expected outputs.

    /usr/bin/python3 bench/models/export.py --out DIR [--models a,b] [--batch 1] [--check]

For every model NAME (and every batch B: --batch, else the model's BATCHES):

    DIR/NAME.pt               torch.jit.script(build()) saved with torch.jit.save
    DIR/NAME.bB.inputs.pt     torch.save(list of positional forward arguments)
    DIR/NAME.bB.spec          the compiler's input specs, one per line
    DIR/NAME.bB.expected.pt   torch.save(list of output tensors of the scripted module)

Inputs are saved before the run: a model that writes into an input (attention's
KV caches) runs on a copy. --check loads every file back, reruns the saved
module on the saved inputs (and its torch.jit.freeze'd form), compares with the
expected outputs and prints the interpreter's time per forward.
Works from any current directory.
"""
import argparse
import copy
import importlib.util
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def load_suite():
    """Import bench/models as a package by path (no need for the repo on sys.path)."""
    name = "cocktail_bench_models"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(HERE, "__init__.py"), submodule_search_locations=[HERE])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    return pkg


def flatten(out):
    """Outputs as a flat list of tensors (tuples/lists flattened, ints/floats/bools wrapped)."""
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
    """Returns None when equal enough, else a message."""
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


def export_model(mod, name, batches, out):
    t0 = time.perf_counter()
    scripted = torch.jit.script(mod.build())
    path = os.path.join(out, f"{name}.pt")
    torch.jit.save(scripted, path)
    for b in batches:
        inputs = mod.example_inputs(b, seed=0)
        stem = os.path.join(out, f"{name}.b{b}")
        torch.save(inputs, stem + ".inputs.pt")
        with open(stem + ".spec", "w") as f:
            f.write("\n".join(mod.input_specs(b)) + "\n")
        torch.save(run(scripted, inputs), stem + ".expected.pt")
    print(f"exported {name} batches {batches} in {time.perf_counter() - t0:.1f}s", flush=True)


def check_model(name, batches, out, show_graph=False):
    ok = True
    path = os.path.join(out, f"{name}.pt")
    loaded = torch.jit.load(path).eval()
    frozen = torch.jit.freeze(torch.jit.load(path).eval())
    if show_graph:
        print(f"---- frozen graph of {name} ----\n{frozen.graph}", flush=True)
    for b in batches:
        stem = os.path.join(out, f"{name}.b{b}")
        inputs = torch.load(stem + ".inputs.pt")
        expected = torch.load(stem + ".expected.pt")
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            got = run(loaded, inputs)
            times.append(time.perf_counter() - t0)
        err = compare(got, expected)
        ferr = compare(run(frozen, inputs), expected, rtol=1e-4, atol=1e-5)
        status = "ok" if err is None and ferr is None else "FAIL"
        ok = ok and status == "ok"
        print(f"check {name:10s} b{b:<3d} {status}  interpreter first {times[0] * 1e3:8.1f} ms,"
              f" second {times[1] * 1e3:8.1f} ms"
              + (f"  [loaded: {err}]" if err else "") + (f"  [frozen: {ferr}]" if ferr else ""),
              flush=True)
    return ok


def main(argv=None):
    suite = load_suite()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default=",".join(suite.ALL),
                    help="comma-separated subset of: " + ",".join(suite.ALL))
    ap.add_argument("--batch", type=int, default=None,
                    help="one batch size (default: each model's BATCHES)")
    ap.add_argument("--check", action="store_true",
                    help="reload everything, compare, freeze, and time")
    ap.add_argument("--graph", default="",
                    help="with --check: comma-separated models whose frozen graph to print")
    args = ap.parse_args(argv)

    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    names = [n for n in args.models.split(",") if n]
    ok = True
    for name in names:
        mod = suite.get(name)
        if args.batch is None:
            batches = list(mod.BATCHES)
        elif args.batch in mod.BATCHES:
            batches = [args.batch]
        else:
            print(f"skip {name}: batch {args.batch} not in {mod.BATCHES}")
            continue
        export_model(mod, name, batches, args.out)
        if args.check:
            ok = check_model(name, batches, args.out, name in args.graph.split(",")) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
