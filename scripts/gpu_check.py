"""The Python half of scripts/gpu-check.sh: differential tests and latency on a GPU.

    gpu_check.py --build BUILD --out OUT [--models lstm,rae] [--arch sm_90] [--device cuda] diff
    gpu_check.py --build BUILD --out OUT [--models ...] [--arch sm_90] [--device cuda] [--deadline T] bench
    gpu_check.py --build BUILD --out OUT [--arch sm_90] [--device cuda] checks
    gpu_check.py --build BUILD --out OUT --serve COCKTAIL_SERVE [--models attention] [--device cuda] serve

`diff` exports the suite at batch 1 into OUT/work, compiles each model with
cocktail-compile --target cuda, runs it with cocktail-run --device DEVICE and
compares its outputs with the TorchScript interpreter's on the CPU, written
by export.py (max |a-b| / max |b| < 1e-4). A model that fails is reported and the others
still run.

`checks` runs what the suite does not: the gathers of the tree corpus model
(tests/models/tree_gather.py: index, index_select, gather) against the
TorchScript interpreter, then the device error word: an index out of range
and a model's `raise` inside a persistent loop, each asked for 10**9 loop
steps, must fail the run with the op's message (exit 1) within a minute.

`serve` serves the first of --models (its artifact from `diff`, in OUT/work)
with cocktail-serve twice in one repository, on `instance_group { kind:
KIND_GPU }` and on KIND_CPU, sends each one request over HTTP/REST (JSON)
with the model's batch-1 inputs, and compares the GPU's answer with the
CPU's and with the TorchScript interpreter's (rel error < 1e-4); on a GPU,
/metrics must then give the GPU's nv_gpu_memory_total_bytes. With
--device cpu both run on the CPU: a rehearsal of the step on a machine
without a GPU.

`bench` times, per model in a child process with a time limit (a peer that
hangs or compiles for minutes costs its own row, not the run):
  - Cocktail: cocktail-run --repeat (host wall time around a whole call);
  - TorchScript on DEVICE, PyTorch eager on DEVICE (CUDA events);
  - JAX on the GPU (jax.jit of bench/jax_models, wall time to block_until_ready);
  - torch.compile, mode reduce-overhead (CUDA graphs) where it compiles, else
    the default mode (CUDA events), last, since it may compile for minutes.
Every peer's output is checked against the TorchScript interpreter's on the
CPU (rel error <= 1e-3)
before its time counts; a failed check or an error is the row's entry.
Peers run in full fp32 (no TF32 in cuBLAS, cuDNN or XLA), as Cocktail does.
Writes OUT/results.{json,md,png}; `chart` redraws the PNG from OUT/results.json.

Not like for like: cocktail-run's time includes copying the inputs in from
host memory and the outputs back; the peers' inputs already live on the
device. Cocktail is disadvantaged by that, not favoured.
"""
import argparse
import copy
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTOL = 1e-4        # Cocktail against PyTorch, both fp32
PEER_RTOL = 1e-3   # a peer against TorchScript: other kernels, other summation orders
SYSTEMS = ["cocktail", "torchscript", "eager", "jax", "torch.compile"]
LABELS = {"cocktail": "Cocktail (CUDA)", "torchscript": "TorchScript (CUDA)", "eager": "PyTorch eager (CUDA)",
          "jax": "JAX (GPU)", "torch.compile": "torch.compile (CUDA)"}

# JAX must not take 75% of the GPU's memory up front: PyTorch shares the process.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

# The suite's own helpers: the package by path, and outputs as a flat list of tensors.
sys.path.insert(0, str(REPO / "bench" / "models"))
from export import flatten, load_suite  # noqa: E402


def full_fp32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True


def load(path):
    """A torch.save / cocktail-run file: lists with type tags, which torch >= 2.6 loads only with weights_only=False."""
    return torch.load(str(path), weights_only=False)


def to_device(x, device):
    return x.to(device) if isinstance(x, torch.Tensor) else x


def rel_error(got, want):
    if len(got) != len(want):
        return float("inf")
    worst = 0.0
    for g, w in zip(got, want):
        g = torch.as_tensor(g).detach().double().cpu()
        w = w.detach().double().cpu()
        if tuple(g.shape) != tuple(w.shape):
            return float("inf")
        if w.numel():
            scale = max(w.abs().max().item(), 1e-30)
            worst = max(worst, (g - w).abs().max().item() / scale)
    return worst


def export(args):
    work = args.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(REPO / "bench" / "models" / "export.py"), "--out", str(work), "--batch", "1",
                    "--models", args.models], check=True, stdout=subprocess.DEVNULL)
    return work


def compile_model(args, work, name):
    artifact = work / f"{name}.cocktail"
    cmd = [str(args.build / "tools" / "cocktail-compile"), str(work / f"{name}.pt"), "-o", str(artifact), "-q",
           "--target", "cuda", "--arch", args.arch, "--resource-report", str(work / f"{name}.resources.txt")]
    for spec in (work / f"{name}.b1.spec").read_text().split():
        cmd += ["--input", spec]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return artifact, proc, time.perf_counter() - t0


def diff(args):
    """Each model's Cocktail outputs on DEVICE against the TorchScript interpreter's on the CPU (export.py's)."""
    work = export(args)
    failures = []
    for name in args.models.split(","):
        try:
            artifact, proc, secs = compile_model(args, work, name)
            if proc.returncode != 0:
                failures.append(name)
                print(f"{name}: cocktail-compile failed ({secs:.1f} s)\n{proc.stderr}", flush=True)
                continue
            inputs = work / f"{name}.b1.inputs.pt"
            outputs = work / f"{name}.{args.device}.out.pt"
            proc = subprocess.run([str(args.build / "tools" / "cocktail-run"), str(artifact), "--inputs", str(inputs),
                                   "--outputs", str(outputs), "--device", args.device, "-q"],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                failures.append(name)
                print(f"{name}: cocktail-run failed\n{proc.stderr}", flush=True)
                continue
            err = rel_error(load(outputs), load(work / f"{name}.b1.expected.pt"))
        except Exception as e:  # one model's failure is its line, the others still run
            failures.append(name)
            print(f"{name}: failed: {first_line(e)}", flush=True)
            continue
        ok = err < RTOL
        print(f"{name}: compiled in {secs:.1f} s; max rel error {err:.2e} against TorchScript on the CPU "
              f"({'ok' if ok else 'EXCEEDS'} {RTOL})", flush=True)
        if not ok:
            failures.append(name)
    if failures:
        sys.exit(f"differential tests failed: {', '.join(failures)}")


class LoopRaise(torch.nn.Module):
    """A `raise` inside a loop the compiler keeps on the device."""

    def forward(self, x: torch.Tensor, steps: int, limit: float):
        h = x
        for _ in range(steps):
            h = torch.tanh(h * 1.5) + 0.5
            if float(h.sum()) > limit:
                raise ValueError("the state grew past the limit")
        return h


def checks(args):
    """Gathers and failures the kernels report through the device error word, on DEVICE."""
    import importlib.util
    work = args.out / "work" / "checks"
    work.mkdir(parents=True, exist_ok=True)
    spec = importlib.util.spec_from_file_location("tree_gather", REPO / "tests" / "models" / "tree_gather.py")
    tree = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tree)
    huge = 10**9  # loop steps: only a run that leaves the loop at the failure ends in time
    bad_left = tree.example_inputs(seed=4, depth=huge, n=7)
    bad_left[1][5] = -8
    bad_right = tree.example_inputs(seed=4, depth=huge, n=7)
    bad_right[2][2] = 7
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    models = {"tree_gather": (tree.build(), tree.input_specs()),
              "loop_raise": (LoopRaise(), ["x:f32[4,8]", "steps:i64", "limit:f64"])}
    cases = [("tree_gather", "gathers", tree.example_inputs(seed=1, depth=4, n=16), None),
             ("tree_gather", "index out of range", bad_left,
              "in 'index': index: index -8 is out of bounds for dimension 0 with size 7"),
             ("tree_gather", "index_select out of range", bad_right,
              "in 'index_select': index_select: index 7 is out of bounds for dimension 0 with size 7"),
             ("loop_raise", "no raise", [x, 5, 1000.0], None),
             ("loop_raise", "raise in the loop", [x, huge, 20.0], "in 'raise': the state grew past the limit")]
    artifacts, failures = {}, []
    for name, (module, specs) in models.items():
        model = work / f"{name}.pt"
        torch.jit.save(torch.jit.script(module.eval()), str(model))
        cmd = [str(args.build / "tools" / "cocktail-compile"), str(model), "-o", str(work / f"{name}.cocktail"), "-q",
               "--strict", "--target", "cuda", "--arch", args.arch]
        for s in specs:
            cmd += ["--input", s]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            failures.append(name)
            print(f"{name}: cocktail-compile failed\n{proc.stderr}", flush=True)
            continue
        artifacts[name] = model
    for k, (name, what, inputs, error) in enumerate(cases):
        if name not in artifacts:
            continue
        path = work / f"{name}.{k}.inputs.pt"
        torch.save(inputs, str(path))
        cmd = [str(args.build / "tools" / "cocktail-run"), str(work / f"{name}.cocktail"), "--inputs", str(path),
               "--device", args.device, "-q"]
        if error is None:
            cmd += ["--reference", str(artifacts[name]), "--rtol", str(RTOL)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            failures.append(f"{name} ({what})")
            print(f"{name}, {what}: no answer within 60 s", flush=True)
            continue
        ok = proc.returncode == 0 if error is None else (proc.returncode == 1 and error in proc.stderr)
        print(f"{name}, {what}: {'ok' if ok else 'FAILED'} (exit {proc.returncode})", flush=True)
        if not ok:
            failures.append(f"{name} ({what})")
            print(proc.stderr, flush=True)
    if failures:
        sys.exit(f"checks failed: {', '.join(failures)}")


def time_ms(fn, device, warmup=10, runs=50, events=True):
    """Median ms of fn after warm-up: CUDA events on a GPU, else (or events=False) wall time."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        if device == "cuda" and events:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def emit(system, **fields):
    """One measurement as a JSON line on stdout: the parent keeps what arrived before a time-out."""
    print("RESULT " + json.dumps({"system": system, **fields}), flush=True)


def first_line(e):
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


def bench_cocktail(args, artifact, inputs):
    proc = subprocess.run([str(args.build / "tools" / "cocktail-run"), str(artifact), "--inputs", str(inputs),
                           "--device", args.device, "--repeat", "50", "-q"],
                          capture_output=True, text=True, timeout=300)
    m = re.search(r"median ([0-9.]+) ms", proc.stdout)
    if m:
        emit("cocktail", ms=float(m.group(1)), method="cocktail-run --repeat 50, host wall time incl. copies")
    else:
        emit("cocktail", error=first_line(proc.stderr or proc.stdout or f"exit {proc.returncode}"))


def bench_torch(args, system, fn, want, inputs):
    """Check fn's output against TorchScript's, then time it (CUDA events)."""
    try:
        with torch.no_grad():
            err = rel_error(flatten(fn(*copy.deepcopy(inputs))), want)
            if not err <= PEER_RTOL:
                emit(system, error=f"output differs from TorchScript's: max rel error {err:.3g}")
                return
            emit(system, ms=time_ms(lambda: fn(*inputs), args.device), max_rel=err,
                 method="CUDA events" if args.device == "cuda" else "wall time")
    except Exception as e:  # a peer that cannot run a model is a row entry, not a stop
        emit(system, error=first_line(e))


def bench_jax(args, name, work, inputs, want):
    try:
        import jax
        sys.path.insert(0, str(REPO / "bench"))
        import jax_models
        jax.config.update("jax_default_matmul_precision", "highest")  # fp32, as the others
        mod = jax_models.get(name)
        sd = {k: v.cpu().numpy() for k, v in torch.jit.load(str(work / f"{name}.pt")).state_dict().items()}
        params, apply = mod.build(sd)
        params = jax.device_put(params)
        fn = jax.jit(apply)
        cpu_inputs = [x.cpu() if isinstance(x, torch.Tensor) else x for x in inputs]
        jargs = tuple(jax.device_put(a) for a in mod.inputs(cpu_inputs))
        t0 = time.perf_counter()
        outs = jax.block_until_ready(fn(params, *jargs))
        compile_s = time.perf_counter() - t0
        err = rel_error([torch.from_numpy(np.asarray(o)) for o in outs], want)
        if not err <= PEER_RTOL:
            emit("jax", error=f"output differs from TorchScript's: max rel error {err:.3g}")
            return
        ms = time_ms(lambda: jax.block_until_ready(fn(params, *jargs)), args.device, events=False)
        emit("jax", ms=ms, max_rel=err, compile_s=compile_s, version=jax.__version__,
             backend=jax.default_backend(), method="wall time to block_until_ready")
    except Exception as e:
        emit("jax", error=first_line(e))


def bench_one(args):
    """One model, the systems in args.systems, each result a RESULT line as soon as it is known."""
    full_fp32()
    name, work = args.model, args.out / "work"
    artifact, inputs_file = work / f"{name}.cocktail", work / f"{name}.b1.inputs.pt"
    inputs = [to_device(x, args.device) for x in load(inputs_file)]
    scripted = torch.jit.load(str(work / f"{name}.pt"), map_location=args.device).eval()
    want = load(work / f"{name}.b1.expected.pt")  # the TorchScript interpreter's on the CPU
    systems = args.systems.split(",")
    if "cocktail" in systems:
        bench_cocktail(args, artifact, inputs_file)
    if "torchscript" in systems:
        bench_torch(args, "torchscript", scripted, want, inputs)
    eager = load_suite().get(name).build()
    eager.load_state_dict(scripted.state_dict())  # the very weights the other systems use
    eager = eager.eval().to(args.device)
    if "eager" in systems:
        bench_torch(args, "eager", eager, want, inputs)
    if "jax" in systems:
        bench_jax(args, name, work, inputs, want)
    if "torch.compile" in systems:
        for mode in ("reduce-overhead", "default"):
            try:
                compiled = torch.compile(eager, mode=mode)
                t0 = time.perf_counter()
                with torch.no_grad():
                    compiled(*copy.deepcopy(inputs))
                compile_s = time.perf_counter() - t0
            except Exception as e:
                emit("torch.compile", error=f"mode {mode}: {first_line(e)}")
                if hasattr(torch, "_dynamo"):
                    torch._dynamo.reset()
                continue
            bench_torch(args, "torch.compile", compiled, want, inputs)
            emit("torch.compile", mode=mode, compile_s=compile_s)
            break


def machine(args):
    info = {"python": platform.python_version(), "torch": torch.__version__, "arch": args.arch,
            "device": args.device, "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    if args.device == "cuda":
        try:
            info["gpu"] = torch.cuda.get_device_name()
        except RuntimeError as e:
            info["gpu"] = f"? ({first_line(e)})"
        info["cuda"] = torch.version.cuda
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        info["driver"] = smi.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def run_child(args, name, systems, timeout):
    """bench-one in a child process; returns {system: result} of what it printed before exiting or timing out."""
    cmd = [sys.executable, __file__, "--build", str(args.build), "--out", str(args.out), "--models", name,
           "--arch", args.arch, "--device", args.device, "--model", name, "--systems", ",".join(systems), "bench-one"]
    results, tail = {}, []
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out, tail = proc.stdout, (proc.stderr or "").strip().splitlines()[-1:]
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        tail = [f"timed out after {timeout:.0f} s"]
    for line in out.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            results.setdefault(r.pop("system"), {}).update(r)
    for s in systems:
        if "ms" not in results.get(s, {}) and "error" not in results.get(s, {}):
            results.setdefault(s, {})["error"] = tail[0] if tail else "no result"
    return results


def bench(args):
    models = args.models.split(",")
    deadline = args.deadline or (time.time() + 3600)
    rows = {m: {} for m in models}
    # Everything but torch.compile first, for every model; then torch.compile with the time left.
    fast = [s for s in SYSTEMS if s != "torch.compile"]
    for phase, systems, cap in (("fast", fast, 120), ("torch.compile", ["torch.compile"], 150)):
        for i, name in enumerate(models):
            left = deadline - time.time()
            share = left / (len(models) - i)
            if share < 15:
                for s in systems:
                    rows[name][s] = {"error": "not run: the check's time ran out"}
                continue
            t0 = time.perf_counter()
            rows[name].update(run_child(args, name, systems, min(cap, share if phase != "fast" else left)))
            print(f"[bench] {name} {phase}: {time.perf_counter() - t0:.0f} s "
                  + json.dumps({s: rows[name].get(s) for s in systems}), flush=True)
    write_results(args, rows)


def cell(r, base):
    if r is None:
        return "-"
    if "ms" not in r:
        return "n/a: " + r.get("error", "?").replace("|", "/")
    ratio = f" (x{r['ms'] / base:.2f})" if base else ""
    return f"{r['ms']:.3f}{ratio}"


def write_results(args, rows):
    info = machine(args)
    (args.out / "results.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    lines = [f"Batch-1 median latency, ms; in brackets the ratio to Cocktail (above 1: Cocktail faster). "
             f"{info.get('gpu', args.device)}, {args.arch}, driver {info.get('driver', '?')}, torch {info['torch']}, "
             f"{info['cores']} CPU cores.", "",
             "| model | " + " | ".join(SYSTEMS) + " |", "|---|" + "---|" * len(SYSTEMS)]
    ratios = {s: [] for s in SYSTEMS}
    for name, r in rows.items():
        base = r.get("cocktail", {}).get("ms")
        lines.append(f"| {name} | " + " | ".join(cell(r.get(s), base) for s in SYSTEMS) + " |")
        for s in SYSTEMS:
            if base and "ms" in r.get(s, {}):
                ratios[s].append(r[s]["ms"] / base)
    geo = [f"x{statistics.geometric_mean(v):.2f} ({len(v)})" if v else "-" for v in ratios.values()]
    lines.append("| geomean ratio (models) | " + " | ".join(geo) + " |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    write_chart(rows, info, args.out / "results.png")
    print("\n".join(lines))


def write_chart(rows, info, path):
    """A bar chart of the latency table (log scale; a missing entry is marked n/a, not dropped)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"no chart: matplotlib is missing ({e})")
        return False
    models = list(rows)
    width = 0.8 / len(SYSTEMS)
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(models) + 2), 5.5))
    colors = ["#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#2ca02c"]
    times = [r[s]["ms"] for r in rows.values() for s in SYSTEMS if "ms" in r.get(s, {})]
    lo = min(times, default=1)
    for i, system in enumerate(SYSTEMS):
        xs, ys = [], []
        for j, name in enumerate(models):
            x = j - 0.4 + width * (i + 0.5)
            r = rows[name].get(system, {})
            if "ms" in r:
                xs.append(x)
                ys.append(r["ms"])
            else:
                ax.text(x, lo * 0.6, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color=colors[i])
        ax.bar(xs, ys, width, label=LABELS[system], color=colors[i])
    ax.set_yscale("log")
    ax.set_ylim(bottom=lo * 0.5)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, fontsize=8)
    ax.set_ylabel("median latency, ms (log scale; lower is better)")
    ax.set_title(f"Cocktail suite at batch 1 on {info.get('gpu', info.get('device'))}, torch {info.get('torch')} "
                 "(n/a: see the table)", fontsize=10)
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def chart(args):
    """Redraws OUT/results.png from OUT/results.json (a committed run's, say)."""
    data = json.loads((args.out / "results.json").read_text())
    write_chart(data["rows"], data["machine"], args.out / "results.png")


def http_json(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def serve(args):
    """One suite model on KIND_GPU and on KIND_CPU in cocktail-serve; one request each, compared."""
    if args.device == "cuda" and not torch.cuda.is_available():
        print("serve: skipped: PyTorch sees no CUDA device")
        return
    name, work = args.models.split(",")[0], args.out / "work"
    artifact = work / f"{name}.cocktail"
    if not artifact.exists():
        sys.exit(f"serve: no {artifact} (the diff step compiles it)")
    repo = work / "serve-repository"
    kinds = {f"{name}_gpu": "KIND_GPU" if args.device == "cuda" else "KIND_CPU", f"{name}_cpu": "KIND_CPU"}
    for model, kind in kinds.items():
        (repo / model / "1").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifact, repo / model / "1" / "model.cocktail")
        (repo / model / "config.pbtxt").write_text(
            f'name: "{model}"\nbackend: "pytorch"\ninstance_group [ {{ count: 1 kind: {kind} }} ]\n')
    log = open(args.out / "serve.log", "w")
    server = subprocess.Popen([str(args.serve), "--model-repository", str(repo), "--http-port", "0", "--grpc-port", "0",
                               "--metrics-port", "0", "--http-address", "127.0.0.1", "--grpc-address", "127.0.0.1",
                               "--metrics-address", "127.0.0.1", "--cache-dir", ""],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        port = metrics_port = None
        for line in server.stdout:
            log.write(line)
            m = re.search(r"listening:.* http 127\.0\.0\.1:(\d+).* metrics 127\.0\.0\.1:(\d+)", line)
            if m:
                port, metrics_port = int(m.group(1)), int(m.group(2))
                break
        if port is None:
            sys.exit(f"serve: cocktail-serve did not start; see {args.out / 'serve.log'}")
        threading.Thread(target=lambda: [log.write(line) for line in server.stdout], daemon=True).start()
        index = {m["name"]: m for m in http_json(port, "/v2/repository/index", {})}
        for model in kinds:
            if index.get(model, {}).get("state") != "READY":
                sys.exit(f"serve: {model} is not READY: {index.get(model)}")
        inputs = load(work / f"{name}.b1.inputs.pt")
        want = load(work / f"{name}.b1.expected.pt")
        answers = {}
        for model in kinds:
            meta = http_json(port, f"/v2/models/{model}")
            body = {"inputs": []}
            for spec, value in zip(meta["inputs"], inputs):
                t = torch.as_tensor(value)
                body["inputs"].append({"name": spec["name"], "datatype": spec["datatype"],
                                       "shape": list(t.shape) or [1], "data": t.flatten().tolist()})
            out = http_json(port, f"/v2/models/{model}/infer", body)["outputs"]
            answers[model] = [torch.tensor(o["data"]).reshape(o["shape"]) for o in out]
        gpu, cpu = answers[f"{name}_gpu"], answers[f"{name}_cpu"]
        vs_cpu, vs_ts = rel_error(gpu, cpu), rel_error(gpu, want)
        ok = vs_cpu < 1e-4 and vs_ts < 1e-4
        print(f"serve {name} on {kinds[f'{name}_gpu']}: max rel error {vs_cpu:.3g} against KIND_CPU, "
              f"{vs_ts:.3g} against TorchScript: {'ok' if ok else 'FAILED'}")
        if args.device == "cuda":  # the GPU the instance runs on, read with cudaMemGetInfo
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=60) as r:
                text = r.read().decode()
            total = re.findall(r'^nv_gpu_memory_total_bytes\{gpu_uuid="(GPU-[0-9a-f-]+)"\} (\S+)', text, re.M)
            metrics_ok = bool(total) and all(float(v) > 0 for _, v in total)
            print(f"serve metrics: nv_gpu_memory_total_bytes {total}: {'ok' if metrics_ok else 'FAILED'}")
            ok = ok and metrics_ok
        if not ok:
            sys.exit(1)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", type=Path, help="the build folder with tools/ (every step but chart)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--models", default="lstm,nasrnn,attention,seq2seq,blockdrop,skipnet,rae")
    p.add_argument("--arch", default="sm_90")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--deadline", type=float, default=0, help="bench: epoch seconds by which to finish")
    p.add_argument("--model", help="bench-one: the model")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="bench-one: which systems")
    p.add_argument("--serve", type=Path, help="serve: the cocktail-serve to run")
    p.add_argument("step", choices=["diff", "checks", "bench", "bench-one", "chart", "serve"])
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step != "chart" and args.build is None:
        p.error(f"{args.step} needs --build")
    if args.step == "serve" and args.serve is None:
        p.error("serve needs --serve")
    {"diff": diff, "checks": checks, "bench": bench, "bench-one": bench_one, "chart": chart,
     "serve": serve}[args.step](args)


if __name__ == "__main__":
    main()
