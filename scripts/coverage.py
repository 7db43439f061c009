#!/usr/bin/python3
"""What compiles of the models users write: every case of the coverage corpus
(tests/zoo/zoo.py: torchvision's classification models, torchaudio's models,
torch.nn's layer families and the loops users write around them) is scripted,
compiled with `cocktail-compile --strict`, run with `cocktail-run` on each of
its input sets, and compared with the TorchScript interpreter (rel. error
< 1e-5). The table goes to docs/coverage.md (or --out).

    scripts/coverage.py                       # everything (about 30 minutes on 2 cores)
    scripts/coverage.py --only 'LSTM|resnet18' --out /tmp/c.md
    scripts/coverage.py --json results.json   # also the rows as JSON

Each row is one of:
  compiled      --strict compiled it and every input set matched the interpreter
  islands       it compiles only with ops left to the interpreter (they are named)
  mismatch      it compiled but an output differs (the largest error is given)
  error         the compiler or the run refused it (the first line of its message)
  skipped       not a compiler result: the model is over the size limit, or
                PyTorch itself cannot script it (torch.jit.script fails)
Exit status: 0 when the table was written (whatever it says), 2 on bad usage.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "zoo"))
import zoo  # noqa: E402

SIZE_LIMIT_MB = 200
RTOL = 1e-5
STEP_TIMEOUT_S = 600


def first_error_line(text: str) -> str:
    for line in text.splitlines():
        if "error:" in line:
            return line[line.index("error:") + len("error:"):].strip()
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "(no message)"


def island_ops(stderr: str) -> list:
    return sorted(set(re.findall(r"warning: (\S+) runs as a TorchScript island", stderr)))


def flatten(v) -> list:
    """The outputs as cocktail-run writes them: tuples, lists and dicts
    flattened, None dropped (the compiler drops an output that is always None)."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [x for e in v for x in flatten(e)]
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in flatten(v[k])]
    return [v]


def rel_error(got, want) -> float:
    """max |a-b| / max |b| over one output; inf when they cannot be compared."""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor) or got.shape != want.shape or got.dtype != want.dtype:
            return float("inf")
        if want.numel() == 0:
            return 0.0
        if not want.is_floating_point():
            return 0.0 if torch.equal(got, want) else float("inf")
        scale = want.abs().max().item()
        diff = (got.double() - want.double()).abs().max().item()
        return diff / scale if scale > 0 else diff
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(want, float) or isinstance(got, float):
        return abs(float(got) - float(want)) / max(abs(float(want)), 1e-30)
    return 0.0 if got == want else float("inf")


def run(cmd, timeout=STEP_TIMEOUT_S):
    try:
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"error: timed out after {timeout} s")


def check_case(case: zoo.Case, build: Path, work: Path) -> dict:
    row = {"name": case.name, "family": case.family, "note": case.note}
    try:
        built = case.build()
    except Exception as e:  # the corpus's own bug: say so, never hide it
        return {**row, "result": "error", "detail": f"cannot build the case: {type(e).__name__}: {e}"}
    size = zoo.weight_megabytes(built.module)
    row["weights_mb"] = round(size, 1)
    if size > SIZE_LIMIT_MB:
        return {**row, "result": "skipped", "detail": f"{size:.0f} MB of weights (limit {SIZE_LIMIT_MB} MB)"}
    try:
        scripted = torch.jit.script(built.module)
    except Exception as e:
        first = next((l.strip() for l in str(e).splitlines() if l.strip()), type(e).__name__)
        return {**row, "result": "skipped", "detail": f"torch.jit.script fails: {first[:160]}"}
    method = getattr(scripted, built.method)
    wants = []
    with torch.no_grad():
        for inputs in built.inputs:
            wants.append(flatten(method(*[x.clone() if isinstance(x, torch.Tensor) else x for x in inputs])))
    model = work / "model.pt"
    torch.jit.save(scripted, str(model))
    artifact = work / "model.cocktail"
    specs = [a for s in built.specs for a in ("--input", s)]
    cmd = [build / "tools" / "cocktail-compile", model, "-o", artifact, "-q", "--method", built.method, *specs]
    t0 = time.monotonic()
    proc = run([*cmd, "--strict"])
    row["compile_s"] = round(time.monotonic() - t0, 1)
    if proc.returncode != 0:
        islands = island_ops(proc.stderr)
        if islands or "TorchScript island" in proc.stderr:
            loose = run(cmd)
            islands = island_ops(loose.stderr) or islands
            if loose.returncode == 0:
                return {**row, "result": "islands", "detail": ", ".join(islands)}
        return {**row, "result": "error", "detail": first_error_line(proc.stderr)}
    worst = 0.0
    for k, (inputs, want) in enumerate(zip(built.inputs, wants)):
        ins, outs = work / f"in{k}.pt", work / f"out{k}.pt"
        torch.save(inputs, str(ins))
        r = run([build / "tools" / "cocktail-run", artifact, "--inputs", ins, "--outputs", outs, "-q"])
        if r.returncode != 0:
            return {**row, "result": "error", "detail": f"input set {k}: {first_error_line(r.stderr)}"}
        got = flatten(torch.load(str(outs)))
        if len(got) != len(want):
            return {**row, "result": "mismatch", "detail": f"input set {k}: {len(got)} outputs, expected {len(want)}"}
        worst = max([worst] + [rel_error(g, w) for g, w in zip(got, want)])
    if worst > RTOL:
        return {**row, "result": "mismatch", "detail": f"max rel error {worst:.2e} (rtol {RTOL:g})"}
    return {**row, "result": "compiled", "detail": f"{len(built.inputs)} input set(s), max rel error {worst:.1e}"}


RESULTS = ("compiled", "islands", "mismatch", "error", "skipped")


def markdown(rows: list, machine: str, elapsed_s: float, subset: bool) -> str:
    out = ["# Coverage: what compiles of the models users write", "",
           "Written by `scripts/coverage.py` (do not edit by hand): every case of the corpus in "
           "`tests/zoo/zoo.py`, scripted, compiled with `cocktail-compile --strict`, run on each of its input "
           f"sets and compared with the TorchScript interpreter (rel. error < {RTOL:g}). Random weights from a "
           "fixed seed, small inputs; symbolic dims are run at several sizes.", "",
           f"Run on {machine}, {time.strftime('%Y-%m-%d')}, in {elapsed_s / 60:.0f} min"
           + (" (a subset of the corpus: --only)." if subset else "."), "",
           "| family | compiled | islands | mismatch | error | skipped | compiled of scriptable |",
           "|---|---|---|---|---|---|---|"]
    families = sorted({r["family"] for r in rows}, key=lambda f: ["torch.nn", "user loops", "torchaudio",
                                                                   "torchvision"].index(f) if f in
                      ["torch.nn", "user loops", "torchaudio", "torchvision"] else 9)
    for fam in families + ["**all**"]:
        rs = rows if fam == "**all**" else [r for r in rows if r["family"] == fam]
        n = {k: sum(1 for r in rs if r["result"] == k) for k in RESULTS}
        considered = len(rs) - n["skipped"]
        pct = f"{100 * n['compiled'] / considered:.0f}% ({n['compiled']}/{considered})" if considered else "-"
        out.append(f"| {fam} | {n['compiled']} | {n['islands']} | {n['mismatch']} | {n['error']} | {n['skipped']} "
                   f"| {pct} |")
    out += ["", "Results: **compiled** (strict, every input set matched), **islands** (compiles only with those "
            "ops left to the interpreter), **mismatch**, **error** (the first line of the message), **skipped** "
            f"(over {SIZE_LIMIT_MB} MB of weights, or PyTorch cannot script it: not counted).", ""]
    for fam in families:
        out += [f"## {fam}", "", "| model | result | detail | what it exercises |", "|---|---|---|---|"]
        for r in (r for r in rows if r["family"] == fam):
            detail = r["detail"].replace("|", "\\|").replace("\n", " ")
            out.append(f"| {r['name']} | {r['result']} | {detail} | {r.get('note', '')} |")
        out.append("")
    return "\n".join(out)


def machine_name() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {cpu}, torch {torch.__version__}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--build", type=Path, default=Path(os.environ.get("COCKTAIL_BUILD_DIR", REPO / "build")),
                    help="the build folder with tools/cocktail-compile and tools/cocktail-run (default: build/)")
    ap.add_argument("--only", help="a regular expression: only the cases whose name it finds")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "coverage.md", help="the Markdown table")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args()
    for tool in ("cocktail-compile", "cocktail-run"):
        if not (args.build / "tools" / tool).is_file():
            print(f"coverage: {args.build / 'tools' / tool} is not built (scripts/setup.sh builds it)", file=sys.stderr)
            return 2
    cases = zoo.all_cases()
    if args.only:
        try:
            pattern = re.compile(args.only)
        except re.error as e:
            print(f"coverage: --only: not a regular expression: {e}", file=sys.stderr)
            return 2
        cases = [c for c in cases if pattern.search(c.name)]
    torch.set_num_threads(1)
    rows, start = [], time.monotonic()
    for i, case in enumerate(cases, 1):
        with tempfile.TemporaryDirectory(prefix="cocktail-coverage-") as d:
            try:
                row = check_case(case, args.build, Path(d))
            except Exception as e:
                row = {"name": case.name, "family": case.family, "note": case.note, "result": "error",
                       "detail": f"the coverage script failed on it: {type(e).__name__}: {e}"}
                traceback.print_exc()
        rows.append(row)
        print(f"[{i}/{len(cases)}] {case.name}: {row['result']}: {row['detail'][:150]}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, machine_name(), time.monotonic() - start, bool(args.only)) + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"coverage: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
