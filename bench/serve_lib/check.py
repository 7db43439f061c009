"""bench/serve's client helper (runs in bench/.venv-serve, with tritonclient[grpc,http]).

    python check.py [--protocol grpc|http] --url 127.0.0.1:PORT --model lstm --case CASE.npz [--runs 3]

Sends the model's example inputs (CASE.npz: "in:NAME" arrays) once per run, compares the outputs,
in the order the model's metadata lists them, with the TorchScript interpreter's ("out:I"
arrays): max |a - e| / max |e| <= 1e-4 for floats, integers exactly (as bench/run does). Prints
one JSON line: ok, error, max_rel_err, latency_ms (per run, client wall clock). Over HTTP the
tensors go as Triton's binary data, tritonclient.http's default and what perf_analyzer -i http sends.
"""
import argparse
import json
import sys
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    res = {"ok": False, "error": None, "max_rel_err": None, "latency_ms": []}
    try:
        case = np.load(a.case)
        inputs = {k[3:]: case[k] for k in case.files if k.startswith("in:")}
        expected = [case[f"out:{i}"] for i in range(sum(k.startswith("out:") for k in case.files))]
        lib = httpclient if a.protocol == "http" else grpcclient
        client = lib.InferenceServerClient(a.url)
        # The gRPC client answers protobuf messages unless asked for JSON; the HTTP one, JSON.
        as_json = {"as_json": True} if a.protocol == "grpc" else {}
        if not client.is_model_ready(a.model):
            raise RuntimeError(f"model '{a.model}' is not ready: "
                               + json.dumps(client.get_model_repository_index(**as_json)))
        meta = client.get_model_metadata(a.model, **as_json)
        out_names = [o["name"] for o in meta["outputs"]]
        if len(out_names) != len(expected):
            raise RuntimeError(f"{len(out_names)} outputs {out_names}, expected {len(expected)}")
        for _ in range(a.runs):
            reqs = []
            for name, arr in inputs.items():
                r = lib.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
                r.set_data_from_numpy(arr)
                reqs.append(r)
            t0 = time.perf_counter()
            result = client.infer(a.model, reqs)
            res["latency_ms"].append((time.perf_counter() - t0) * 1e3)
            worst = 0.0
            for name, want in zip(out_names, expected):
                got = result.as_numpy(name)
                if got.shape != want.shape or got.dtype != want.dtype:
                    raise RuntimeError(f"{name}: {got.dtype}{list(got.shape)}, expected {want.dtype}{list(want.shape)}")
                if np.issubdtype(want.dtype, np.floating):
                    scale = float(np.abs(want).max()) if want.size else 0.0
                    err = float(np.abs(got.astype(np.float64) - want).max()) if want.size else 0.0
                    rel = err / scale if scale > 0 else err
                    worst = max(worst, rel)
                    if rel > a.rtol:
                        raise RuntimeError(f"{name}: max rel error {rel:.3g} > {a.rtol}")
                elif not np.array_equal(got, want):
                    raise RuntimeError(f"{name}: {int((got != want).sum())} elements differ")
            res["max_rel_err"] = max(res["max_rel_err"] or 0.0, worst)
        res["ok"] = True
    except (InferenceServerException, RuntimeError, OSError, KeyError, ValueError) as e:
        res["error"] = str(e).strip().splitlines()[0][:400] if str(e).strip() else type(e).__name__
    print(json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
