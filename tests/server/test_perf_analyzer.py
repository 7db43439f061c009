"""perf_analyzer, unchanged, against cocktail-serve: HTTP (binary tensor data,
its default) and gRPC, on a looping model with given inputs and on a batched
one with perf_analyzer's random data. Zero errors on both sides, and an HTTP
latency in line with gRPC's (a server that let Nagle's algorithm hold each
response measured ~45 ms per request here).

Run by run_perf_analyzer_test.sh (CTest server/perf_analyzer).
"""
import glob
import http.client
import json
import os
import re
import subprocess

import pytest

PA = os.environ.get("PERF_ANALYZER", "perf_analyzer")


def pa_env():
    """libcudart.so.12 from the venv's nvidia-cuda-runtime-cu12: loaded by perf_analyzer, no GPU used."""
    env = dict(os.environ)
    venv = os.path.dirname(os.path.dirname(PA))
    libs = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "nvidia", "cuda_runtime", "lib"))
    env["LD_LIBRARY_PATH"] = ":".join(libs + [p for p in [env.get("LD_LIBRARY_PATH")] if p])
    return env


def failures(server):
    host, port = server.metrics.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    return sum(float(v) for v in re.findall(r"^nv_inference_request_failure\{[^}]*\} (\S+)$", text, re.M))


def run_pa(server, protocol, *args):
    """perf_analyzer's client latency per concurrency. The stability bound is
    loose on purpose: this checks the protocol, not the timing of a shared machine."""
    url = server.http if protocol == "http" else server.grpc
    cmd = [PA, "-i", protocol, "-u", url, "--concurrency-range", "1:2", "--measurement-mode", "count_windows",
           "--measurement-request-count", "50", "--stability-percentage", "1000", "--max-trials", "10", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=pa_env())
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    assert "error" not in (r.stdout + r.stderr).lower(), r.stdout[-2000:]
    return [float(x) for x in re.findall(r"Concurrency: \d+, throughput: \S+ infer/sec, latency (\d+) usec", r.stdout)]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_perf_analyzer_runs_without_errors(server, tmp_path, protocol):
    before = failures(server)
    data = tmp_path / "loop.json"
    data.write_text(json.dumps({"data": [{"xs": {"content": [0.1 * i for i in range(12)], "shape": [3, 4]},
                                          "steps": {"content": [2], "shape": [1]}}]}))
    latencies = run_pa(server, protocol, "-m", "loop", "--input-data", str(data))
    assert len(latencies) == 2
    latencies += run_pa(server, protocol, "-m", "addmul", "-b", "4")
    assert failures(server) == before
    # The model runs in well under a millisecond; 20 ms leaves room for a
    # loaded 2-core machine and still catches a response held for an ACK.
    assert max(latencies) < 20000, latencies
