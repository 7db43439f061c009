"""perf_analyzer, unchanged, against cocktail-serve: HTTP (binary tensor data,
its default) and gRPC, on a looping model with given inputs, on a batched
one with perf_analyzer's random data, and on stateful models with
sequence_batching (perf_analyzer sends the sequence ids, START and END). Zero errors on both sides, and an HTTP
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
import sys

import pytest
import torch

from conftest import HERE, start_server

sys.path.insert(0, HERE)
import make_repository as mr  # noqa: E402

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


@pytest.fixture(scope="module")
def sequence_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("sequences")
    module = torch.jit.script(mr.GruChunk().eval())
    for name, batch, strategy in (("gru_direct", False, "direct { }"),
                                  ("gru_oldest", True, "oldest { max_queue_delay_microseconds: 1000 }")):
        mr.write(str(d / "repo"), name, None, mr.gru_config(name, batch, strategy, 5000000, initial=False))
        module.save(str(d / "repo" / name / "1" / "model.pt"))
    s = start_server(str(d / "repo"), cache=str(d / "cache"))
    yield s
    s.proc.terminate()
    assert s.proc.wait(timeout=60) == 0


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("model,shape", [("gru_direct", "x:1,3,4"), ("gru_oldest", "x:3,4")])
def test_perf_analyzer_drives_sequences_without_errors(sequence_server, protocol, model, shape):
    before = failures(sequence_server)
    assert len(run_pa(sequence_server, protocol, "-m", model, "--shape", shape)) == 2
    assert failures(sequence_server) == before
