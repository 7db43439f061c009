#!/usr/bin/python3
"""One Python peer on one suite model: PyTorch eager, ONNX Runtime or JAX.

    python pypeer.py --system eager|onnx|jax --model NAME --batch B --models-dir DIR
                     [--threads 1,2] [--budget 5] [--min-repeat 5] [--max-repeat 50]
                     [--warmup 3] [--warmup-sec 0.5] [--json OUT]

Reads DIR/NAME.pt (the scripted module: its weights), DIR/NAME.bB.inputs.pt and
DIR/NAME.bB.expected.pt (the TorchScript interpreter's outputs, written by
bench/models/export.py). Checks the system's first output against the
expected one (max |a - e| / max |e| <= rtol for floats, exact for integers)
before timing; times after warm-up with the same protocol as
bench/cpp/cocktail-bench.cpp; prints one JSON object. Run by bench/run in the
bench virtual environment (onnxruntime, jax from PyPI; torch is Debian's).

eager and onnx try every --threads value in this process; jax takes one value
(XLA's thread pools are fixed when jax starts), so bench/run starts one
process per thread count.
"""
import argparse
import copy
import ctypes
import importlib.util
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", required=True, choices=["eager", "onnx", "jax"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--onnx-dir", default=None, help="where to write/reuse NAME.bB.onnx (default: models dir)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--budget", type=float, default=5.0)
    ap.add_argument("--min-repeat", type=int, default=5)
    ap.add_argument("--max-repeat", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--warmup-sec", type=float, default=0.5)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--best-ms", type=float, default=0.0,
                    help="best median of this system so far (from another process): abandon settings far slower")
    ap.add_argument("--json", default=None)
    return ap.parse_args(argv)


ARGS = parse_args()
THREADS = [int(t) for t in ARGS.threads.split(",") if t]

if ARGS.system == "jax":
    # Must be set before jax is imported: XLA's CPU thread pools are created once.
    if len(THREADS) != 1:
        sys.exit("pypeer: --system jax takes one --threads value")
    if THREADS[0] == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import torch  # noqa: E402


class Unsupported(Exception):
    """The peer cannot run this model; the message is the reason shown in the table."""


# ---- timing (the protocol of cocktail-bench.cpp) -------------------------------------------

BEST = {"ms": ARGS.best_ms}  # best median of this system's settings so far


def measure(once, args):
    """As cocktail-bench's measure(): a setting whose warm-up run takes over 5x the best median so
    far (the first two runs: over 20x, or over 5x and over a second), or whose last untimed run over 3x,
    is abandoned (not timed further)."""
    best = BEST["ms"]

    def abandon(ms, factor):
        return {"abandoned": f"an untimed run took {ms:.0f} ms, over {factor}x the best setting's median "
                             f"({best:.1f} ms); not timed further", "first_ms": first * 1e3, "abandoned_ms": ms}

    w0 = time.perf_counter()
    warm, first = 0, 0.0
    while warm < args.warmup or (time.perf_counter() - w0 < args.warmup_sec and warm < 20):
        t0 = time.perf_counter()
        once()
        dt = time.perf_counter() - t0
        if warm == 0:
            first = dt
        warm += 1
        ms = dt * 1e3
        # The first two runs may carry one-time costs (thread pools, XLA/ORT start-up): they must be
        # over 20x, or over 5x and longer than a second.
        if best > 0 and warm <= 2 and (ms > 20 * best or (ms > 5 * best and ms > 1000)):
            return abandon(ms, 5)
        if best > 0 and warm > 2 and ms > 5 * best:
            return abandon(ms, 5)
    t0 = time.perf_counter()
    once()
    one = max(time.perf_counter() - t0, 1e-6)
    if best > 0 and one * 1e3 > 3 * best:
        return abandon(one * 1e3, 3)
    reps = min(max(int(args.budget / one), args.min_repeat), args.max_repeat)
    ms = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(reps):
        s = time.perf_counter()
        once()
        ms.append((time.perf_counter() - s) * 1e3)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    srt = sorted(ms)

    def pct(q):
        k = int(np.ceil(q * len(srt)))
        return srt[min(len(srt) - 1, max(k, 1) - 1)]

    BEST["ms"] = min(BEST["ms"], pct(0.5)) if BEST["ms"] > 0 else pct(0.5)
    return {"median_ms": pct(0.5), "p90_ms": pct(0.9), "min_ms": srt[0], "reps": reps,
            "warmup": warm + 1, "first_ms": first * 1e3, "cpu_util": cpu / wall, "samples_ms": ms}


def check(outputs, expected, rtol):
    """outputs: list of numpy arrays / tensors; expected: list of torch tensors."""
    if len(outputs) != len(expected):
        return {"ok": False, "error": f"{len(outputs)} outputs, TorchScript has {len(expected)}"}
    max_abs = max_rel = 0.0
    for i, (o, e) in enumerate(zip(outputs, expected)):
        o = o.detach().numpy() if isinstance(o, torch.Tensor) else np.asarray(o)
        e = e.numpy()
        if tuple(o.shape) != tuple(e.shape):
            return {"ok": False, "error": f"output {i} has shape {list(o.shape)}, TorchScript's {list(e.shape)}"}
        if e.dtype.kind in "iub":
            bad = int((o.astype(e.dtype) != e).sum())
            if bad:
                return {"ok": False, "error": f"output {i}: {bad} of {e.size} integer elements differ"}
            continue
        if e.size == 0:
            continue
        d = float(np.abs(o.astype(np.float64) - e.astype(np.float64)).max())
        ref = max(float(np.abs(e).max()), 1e-12)
        max_abs, max_rel = max(max_abs, d), max(max_rel, d / ref)
    ok = max_rel <= rtol
    out = {"ok": ok, "max_abs": max_abs, "max_rel": max_rel, "rtol": rtol}
    if not ok:
        out["error"] = f"max rel error {max_rel:.3g} exceeds {rtol:g}"
    return out


def flatten(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    return [out]


def set_openblas_threads(n):
    """OpenBLAS is what LibTorch's generic BLAS resolves to (Debian's libblas.so.3 alternative)."""
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            ctypes.CDLL(name).openblas_set_num_threads(n)
            return True
        except (OSError, AttributeError):
            continue
    return False


# ---- the peers ---------------------------------------------------------------------------------

def load_suite():
    spec = importlib.util.spec_from_file_location("cocktail_bench_export", os.path.join(BENCH, "models", "export.py"))
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    return export.load_suite()


def run_eager(args, inputs, expected, result):
    suite = load_suite()
    model = suite.get(args.model).build()
    scripted = torch.jit.load(os.path.join(args.models_dir, f"{args.model}.pt"))
    model.load_state_dict(scripted.state_dict())  # the very weights the other systems use
    model.eval()
    result["settings"] = "torch.inference_mode, the Python nn.Module from bench/models"
    with torch.inference_mode():
        result["check"] = check(flatten(model(*copy.deepcopy(inputs))), expected, args.rtol)
        if not result["check"]["ok"]:
            return
        # Every run gets the same tensors: attention rewrites the same cache slots with the same values.
        for n in THREADS:
            torch.set_num_threads(n)
            set_openblas_threads(n)
            m = measure(lambda: model(*inputs), args)
            m.update(threads=n, variant="eager")
            result["runs"].append(m)
            emit(result)


def onnx_export(args, path):
    """torch.onnx.export of the scripted module, highest opset first; returns (opset, log)."""
    import onnxruntime as ort
    scripted = torch.jit.load(os.path.join(args.models_dir, f"{args.model}.pt")).eval()
    inputs = torch.load(os.path.join(args.models_dir, f"{args.model}.b{args.batch}.inputs.pt"))
    errors = []
    for opset in (17, 16, 15, 14, 13):
        try:
            torch.onnx.export(scripted, tuple(copy.deepcopy(inputs)), path, opset_version=opset)
        except Exception as e:  # noqa: BLE001
            errors.append(f"opset {opset}: torch.onnx.export failed: {type(e).__name__}: {first_line(e)}")
            continue
        try:  # the exporter can write a model ORT refuses; try the next opset then
            ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            return opset, errors
        except Exception as e:  # noqa: BLE001
            errors.append(f"opset {opset}: exported, but ONNX Runtime cannot load it: {first_line(e)}")
    if os.path.exists(path):
        os.remove(path)
    # The most informative reason: the highest opset's.
    raise Unsupported(errors[0] + (f" (opsets 13-17 all fail)" if len(errors) > 1 else ""))


def first_line(e):
    s = str(e).strip().splitlines()
    s = s[0] if s else type(e).__name__
    return s[:400]


def onnx_ops(path):
    try:
        import collections
        import onnx
        m = onnx.load(path)
        c = collections.Counter()

        def walk(g):
            for nd in g.node:
                c[nd.op_type] += 1
                for a in nd.attribute:
                    if a.g is not None and len(a.g.node):
                        walk(a.g)
        walk(m.graph)
        return {"nodes": sum(c.values()), "Loop": c["Loop"], "If": c["If"]}
    except Exception:  # noqa: BLE001
        return None


def run_onnx(args, inputs, expected, result):
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise Unsupported(f"onnxruntime is not installed in the bench venv ({e})")
    result["version"] = ort.__version__
    out_dir = args.onnx_dir or args.models_dir
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{args.model}.b{args.batch}.onnx")
    t0 = time.perf_counter()
    opset, errors = onnx_export(args, path)
    result["export_s"] = time.perf_counter() - t0
    result["opset"] = opset
    if errors:
        result["export_notes"] = errors
    result["onnx_ops"] = onnx_ops(path)
    sessions = {}
    for n in THREADS:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = n
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sessions[n] = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    sess = sessions[THREADS[0]]
    names = [i.name for i in sess.get_inputs()]
    if len(names) != len(inputs):
        raise Unsupported(f"the ONNX model has {len(names)} inputs, forward has {len(inputs)}"
                          " (torch.onnx.export folded a scalar argument into a constant)")
    feed = {}
    for i, v in zip(sess.get_inputs(), inputs):
        feed[i.name] = v.numpy() if isinstance(v, torch.Tensor) else np.array(v, dtype=np.int64 if isinstance(v, int) else np.float32)
    result["settings"] = ("ORT_ENABLE_ALL, ORT_SEQUENTIAL, inter_op 1, CPUExecutionProvider, "
                          f"opset {opset}")
    try:
        outs = sess.run(None, copy.deepcopy(feed))
    except Exception as e:  # noqa: BLE001
        raise Unsupported(f"ONNX Runtime failed to run the exported model: {first_line(e)}")
    result["check"] = check(outs, expected, args.rtol)
    if not result["check"]["ok"]:
        return
    for n in THREADS:
        s = sessions[n]
        m = measure(lambda: s.run(None, feed), args)
        m.update(threads=n, variant=f"intra_op {n}")
        result["runs"].append(m)
        emit(result)


def run_jax(args, inputs, expected, result):
    sys.path.insert(0, BENCH)
    try:
        import jax
    except ImportError as e:
        raise Unsupported(f"jax is not installed in the bench venv ({e})")
    import jax_models
    result["version"] = jax.__version__
    if args.model not in jax_models.PORTS:
        raise Unsupported("no JAX port of this model")
    mod = jax_models.get(args.model)
    sd = {k: v.numpy() for k, v in torch.jit.load(os.path.join(args.models_dir, f"{args.model}.pt")).state_dict().items()}
    params, apply = mod.build(sd)
    params = jax.device_put(params)
    fn = jax.jit(apply)
    jargs = tuple(jax.device_put(a) for a in mod.inputs(inputs))
    n = THREADS[0]
    result["settings"] = ("jax.jit, XLA CPU; " + (os.environ.get("XLA_FLAGS", "") if n == 1 else "default thread pools (2 cores)"))
    t0 = time.perf_counter()
    outs = jax.block_until_ready(fn(params, *jargs))
    result["compile_s"] = time.perf_counter() - t0
    result["check"] = check([np.asarray(o) for o in outs], expected, args.rtol)
    if not result["check"]["ok"]:
        return
    m = measure(lambda: jax.block_until_ready(fn(params, *jargs)), args)
    m.update(threads=n, variant="jit")
    result["runs"].append(m)
    emit(result)


def emit(result):
    """Writes the result so far (--json): a run stopped by a timeout keeps its finished settings."""
    if not ARGS.json:
        return
    tmp = ARGS.json + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(result))
    os.replace(tmp, ARGS.json)


def main():
    args = ARGS
    result = {"system": args.system, "model": args.model, "batch": args.batch, "runs": []}
    try:
        inputs = torch.load(os.path.join(args.models_dir, f"{args.model}.b{args.batch}.inputs.pt"))
        expected = torch.load(os.path.join(args.models_dir, f"{args.model}.b{args.batch}.expected.pt"))
        torch.set_num_interop_threads(1)
        {"eager": run_eager, "onnx": run_onnx, "jax": run_jax}[args.system](args, inputs, expected, result)
    except Unsupported as e:
        result["error"] = str(e)
    except Exception as e:  # noqa: BLE001
        result["error"] = f"{type(e).__name__}: {first_line(e)}"
        result["traceback"] = traceback.format_exc()[-2000:]
    if args.json:
        emit(result)
    else:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
