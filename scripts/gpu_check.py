"""The Python half of scripts/gpu-check.sh: differential tests and latency on a GPU.

    gpu_check.py --build BUILD --out OUT [--models lstm,rae] [--arch sm_90] [--device cuda] diff
    gpu_check.py --build BUILD --out OUT [--models ...] [--arch sm_90] [--device cuda] bench

`diff` exports the suite at batch 1 into OUT/work, compiles each model with
cocktail-compile --target cuda, runs it with cocktail-run --device DEVICE and
compares its outputs with the TorchScript model run by PyTorch on DEVICE
(max |a-b| / max |b| < 1e-4). `bench` times cocktail-run --repeat against
PyTorch eager, TorchScript and torch.compile on DEVICE (CUDA events after a
warm-up, median) and writes OUT/results.{json,md}.

Not like for like yet: cocktail-run's time is host wall time around a whole
call, with the inputs copied in from host memory and the outputs copied
back; the peers' inputs already live on the device and CUDA events time
only the forward. Cocktail is disadvantaged by that, not favoured.

NOT YET RUN ON A GPU: checked only with --device cpu (see gpu-check.sh).
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
RTOL = 1e-4

# The suite's own helpers: the package by path, and outputs as a flat list of tensors.
sys.path.insert(0, str(REPO / "bench" / "models"))
from export import flatten, load_suite  # noqa: E402


def to_device(x, device):
    return x.to(device) if isinstance(x, torch.Tensor) else x


def rel_error(got, want):
    worst = 0.0
    for g, w in zip(got, want):
        g, w = g.detach().double().cpu(), w.detach().double().cpu()
        scale = max(w.abs().max().item() if w.numel() else 0.0, 1e-30)
        worst = max(worst, (g - w).abs().max().item() / scale if w.numel() else 0.0)
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
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900)
    return artifact


def diff(args):
    work = export(args)
    failures = []
    for name in args.models.split(","):
        artifact = compile_model(args, work, name)
        inputs = work / f"{name}.b1.inputs.pt"
        outputs = work / f"{name}.{args.device}.out.pt"
        proc = subprocess.run([str(args.build / "tools" / "cocktail-run"), str(artifact), "--inputs", str(inputs),
                               "--outputs", str(outputs), "--device", args.device, "-q"],
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            failures.append(name)
            print(f"{name}: cocktail-run failed\n{proc.stderr}")
            continue
        model = torch.jit.load(str(work / f"{name}.pt"), map_location=args.device).eval()
        args_in = [to_device(x, args.device) for x in torch.load(str(inputs))]
        with torch.no_grad():
            want = flatten(model(*args_in))
        err = rel_error(torch.load(str(outputs)), want)
        ok = err < RTOL
        print(f"{name}: max rel error {err:.2e} against PyTorch on {args.device} ({'ok' if ok else 'EXCEEDS'} {RTOL})")
        if not ok:
            failures.append(name)
    if failures:
        sys.exit(f"differential tests failed: {', '.join(failures)}")


def time_ms(fn, device, warmup=10, runs=50):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            import time
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench(args):
    work = args.out / "work"
    rows = []
    for name in args.models.split(","):
        artifact = work / f"{name}.cocktail"
        inputs = work / f"{name}.b1.inputs.pt"
        row = {"model": name}
        proc = subprocess.run([str(args.build / "tools" / "cocktail-run"), str(artifact), "--inputs", str(inputs),
                               "--device", args.device, "--repeat", "50", "-q"],
                              capture_output=True, text=True, timeout=900)
        m = re.search(r"median ([0-9.]+) ms", proc.stdout)
        row["cocktail"] = float(m.group(1)) if m else None
        args_in = [to_device(x, args.device) for x in torch.load(str(inputs))]
        scripted = torch.jit.load(str(work / f"{name}.pt"), map_location=args.device).eval()
        eager = load_suite().get(name).build().eval().to(args.device)
        with torch.no_grad():
            row["torchscript"] = time_ms(lambda: scripted(*args_in), args.device)
            row["eager"] = time_ms(lambda: eager(*args_in), args.device)
            try:
                compiled = torch.compile(eager)
                row["torch.compile"] = time_ms(lambda: compiled(*args_in), args.device)
            except Exception as e:  # a model torch.compile cannot take is a row entry, not a stop
                row["torch.compile"] = None
                row["torch.compile error"] = str(e).splitlines()[0][:200]
        rows.append(row)
        print(json.dumps(row))
    (args.out / "results.json").write_text(json.dumps({"device": args.device, "arch": args.arch, "rows": rows}, indent=1))
    cols = ["cocktail", "eager", "torchscript", "torch.compile"]
    lines = [f"batch-1 median latency, ms ({args.device}, {args.arch})", "",
             "| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for r in rows:
        lines.append(f"| {r['model']} | " + " | ".join("-" if r.get(c) is None else f"{r[c]:.3f}" for c in cols) + " |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--models", default="lstm,nasrnn,attention,seq2seq,blockdrop,skipnet,rae")
    p.add_argument("--arch", default="sm_90")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("step", choices=["diff", "bench"])
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    diff(args) if args.step == "diff" else bench(args)


if __name__ == "__main__":
    main()
