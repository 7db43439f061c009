"""Conformance of the HTTP/REST front end: an unchanged tritonclient[http]
against cocktail-serve, every error status over a raw socket, the same
validation messages as gRPC, Triton's command-line flags, and the curl
examples of docs/serving.md run against a live server.

Run by run_tritonclient_test.sh (CTest server/tritonclient); the repository
and the server are conftest.py's.
"""
import gzip
import http.client
import json
import os
import re
import struct
import subprocess

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import MAX_INPUT, start_server

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "docs", "serving.md")


@pytest.fixture
def client(server):
    return httpclient.InferenceServerClient(server.http)


def loop_inputs(mod, xs, steps, steps_name="steps", binary=True):
    a = mod.InferInput("xs", list(xs.shape), "FP32")
    b = mod.InferInput(steps_name, [1], "INT64")
    if mod is httpclient:
        a.set_data_from_numpy(xs, binary_data=binary)
        b.set_data_from_numpy(np.array([steps], np.int64), binary_data=binary)
    else:
        a.set_data_from_numpy(xs)
        b.set_data_from_numpy(np.array([steps], np.int64))
    return [a, b]


def request(server, method, path, body=None, headers=None):
    """A raw HTTP request: (status, headers, body bytes)."""
    host, port = server.http.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = headers or {}
    conn.request(method, path, body=body, headers=headers, encode_chunked="Transfer-Encoding" in headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def error_of(status_headers_body):
    status, headers, body = status_headers_body
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    return status, json.loads(body)["error"]


def test_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata()
    assert meta["name"] == "cocktail" and "binary_tensor_data" in meta["extensions"]
    assert client.is_model_ready("loop")
    assert not client.is_model_ready("broken")
    assert not client.is_model_ready("nope")
    md = client.get_model_metadata("loop")
    assert [i["name"] for i in md["inputs"]] == ["xs", "steps"]
    assert md["inputs"][0] == {"name": "xs", "datatype": "FP32", "shape": [-1, 4]}
    assert md["outputs"][0]["name"] == "OUTPUT__0" and md["versions"] == ["1"]
    assert client.get_model_metadata("loop", model_version="1")["name"] == "loop"


def test_config_index_statistics(client, repo):
    config = client.get_model_config("addmul")
    assert config["max_batch_size"] == 8
    assert [i["name"] for i in config["input"]] == ["x", "y"]
    assert config["input"][0]["dims"] == [4]  # int64 as a JSON number, as Triton writes it
    assert config["instance_group"][0]["count"] == 1
    assert config["parameters"]["cocktail.backend"]["string_value"] == "cocktail"
    index = {m["name"]: m for m in client.get_model_repository_index()}
    assert index["loop"]["state"] == "READY"
    assert index["broken"]["state"] == "UNAVAILABLE" and "not a TorchScript file" in index["broken"]["reason"]
    xs, steps, _ = repo[1][0]
    client.infer("loop", loop_inputs(httpclient, xs, steps))
    stats = client.get_inference_statistics("loop")["model_stats"][0]
    assert stats["name"] == "loop" and stats["inference_count"] >= 1
    assert stats["inference_stats"]["success"]["count"] >= 1
    assert {s["name"] for s in client.get_inference_statistics()["model_stats"]} >= {"loop", "addmul"}
    # Zero counters are written out, as Triton writes them (clients read them by name).
    idle = client.get_inference_statistics("addmul_ts")["model_stats"][0]
    assert idle["inference_count"] == 0 and idle["inference_stats"]["fail"] == {"count": 0, "ns": 0}


@pytest.mark.parametrize("binary_in", [True, False])
@pytest.mark.parametrize("binary_out", [True, False])
def test_infer_json_and_binary(client, repo, binary_in, binary_out):
    for xs, steps, out in repo[1]:
        result = client.infer("loop", loop_inputs(httpclient, xs, steps, binary=binary_in), request_id="r1",
                              outputs=[httpclient.InferRequestedOutput("OUTPUT__0", binary_data=binary_out)])
        np.testing.assert_allclose(result.as_numpy("OUTPUT__0"), out, rtol=1e-5, atol=1e-6)
        assert result.get_response()["id"] == "r1"
        params = result.get_output("OUTPUT__0").get("parameters", {})
        assert ("binary_data_size" in params) == binary_out
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    a = httpclient.InferInput("INPUT__0", [2, 4], "FP32")
    a.set_data_from_numpy(x, binary_data=binary_in)
    b = httpclient.InferInput("y", [2, 4], "FP32")
    b.set_data_from_numpy(x, binary_data=not binary_in)  # one binary, one JSON in the same request
    result = client.infer("addmul", [a, b], outputs=[httpclient.InferRequestedOutput("OUTPUT__1", binary_data=binary_out)])
    np.testing.assert_array_equal(result.as_numpy("OUTPUT__1"), x * x)
    assert result.as_numpy("OUTPUT__0") is None


def test_binary_data_output_parameter(server):
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]},
                       {"name": "y", "shape": [1, 4], "datatype": "FP32", "data": [[1, 1, 1, 1]]}],
            "parameters": {"binary_data_output": True}}
    status, headers, data = request(server, "POST", "/v2/models/addmul/infer", json.dumps(body))
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    n = int(headers["Inference-Header-Content-Length"])
    head = json.loads(data[:n])
    sizes = [o["parameters"]["binary_data_size"] for o in head["outputs"]]
    assert sizes == [16, 16] and len(data) == n + 32
    assert struct.unpack("<4f", data[n:n + 16]) == (2, 3, 4, 5)
    assert struct.unpack("<4f", data[n + 16:]) == (1, 2, 3, 4)


def test_load_unload(client):
    client.unload_model("addmul")
    assert not client.is_model_ready("addmul")
    client.load_model("addmul")
    assert client.is_model_ready("addmul")
    with pytest.raises(InferenceServerException, match="no model 'nope'"):
        client.load_model("nope")


BAD_CASES = [
    # (model, inputs from (mod, xs, steps), message, infer kwargs)
    ("nope", lambda m, xs, s: loop_inputs(m, xs, s), "unknown model 'nope'", {}),
    ("broken", lambda m, xs, s: loop_inputs(m, xs, s), "not ready", {}),
    ("loop", lambda m, xs, s: loop_inputs(m, xs, s), "no version 9", {"model_version": "9"}),
    ("loop", lambda m, xs, s: loop_inputs(m, xs, s)[:1], "missing input 'steps'", {}),
    ("loop", lambda m, xs, s: loop_inputs(m, xs, s, steps_name="stepz"), "unknown input 'stepz'", {}),
    ("loop", lambda m, xs, s: [loop_inputs(m, xs, s)[0]] + loop_inputs(m, xs, s), "given twice", {}),
    ("loop", lambda m, xs, s: loop_inputs(m, np.zeros((17, 4), np.float32), 1), "above the bound T<=16", {}),
    ("loop", lambda m, xs, s: loop_inputs(m, xs.reshape(1, *xs.shape), 1), "has rank 3", {}),
    ("loop", lambda m, xs, s: loop_inputs(m, np.zeros((2, 6), np.float32), 1), "dim 1 is 6", {}),
]


def test_bad_requests_same_message_as_grpc(server, repo):
    """Every bad request gets the same message over HTTP as over gRPC: one validation for both."""
    xs, steps, out = repo[1][0]
    hc = httpclient.InferenceServerClient(server.http)
    gc = grpcclient.InferenceServerClient(server.grpc)
    for model, inputs, message, kw in BAD_CASES:
        errors = []
        for mod, c in ((httpclient, hc), (grpcclient, gc)):
            with pytest.raises(InferenceServerException) as e:
                c.infer(model, inputs(mod, xs, steps), **kw)
            errors.append(e.value.message())
        assert message in errors[0], errors
        assert errors[0] == errors[1], errors
    result = hc.infer("loop", loop_inputs(httpclient, xs, steps))
    np.testing.assert_allclose(result.as_numpy("OUTPUT__0"), out, rtol=1e-5, atol=1e-6)


def infer_body(inputs, outputs=None):
    body = {"inputs": inputs}
    if outputs is not None:
        body["outputs"] = outputs
    return json.dumps(body)


XS = {"name": "xs", "shape": [1, 4], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4]}
STEPS = {"name": "steps", "shape": [1], "datatype": "INT64", "data": [2]}


def test_error_statuses(server):
    cases = [
        # (method, path, body, headers, status, part of the error)
        ("POST", "/v2/models/loop/infer", "{not json", {}, 400, "not valid JSON"),
        ("POST", "/v2/models/loop/infer", "[1, 2]", {}, 400, "must be a JSON object"),
        ("POST", "/v2/models/loop/infer", "{}", {}, 400, "needs \"inputs\""),
        ("POST", "/v2/models/loop/infer", infer_body([XS, dict(STEPS, data=[1.5])]), {}, 400,
         "inputs[1] ('steps'): data[0] is 1.5, not an integer in INT64's range"),
        ("POST", "/v2/models/loop/infer", infer_body([dict(XS, data=[1, 2, 3]), STEPS]), {}, 400,
         "inputs[0] ('xs'): data has 3 elements, but shape [1, 4] needs 4"),
        ("POST", "/v2/models/loop/infer", infer_body([dict(XS, data=["a", 1, 2, 3]), STEPS]), {}, 400,
         "data[0] is \"a\", not a number (FP32)"),
        ("POST", "/v2/models/loop/infer", infer_body([dict(XS, shape=[1, "4"]), STEPS]), {}, 400, "not an integer"),
        ("POST", "/v2/models/loop/infer", infer_body([{"name": "xs", "shape": [1, 4], "datatype": "FP32"}, STEPS]), {}, 400,
         "has neither \"data\" nor parameters.binary_data_size"),
        ("POST", "/v2/models/loop/infer", infer_body([dict(XS, datatype="UINT8", data=[1, 2, 3, 4]), STEPS]), {}, 400,
         "datatype 'UINT8' does not match the model's FP32"),
        ("POST", "/v2/models/loop/infer", infer_body([XS, STEPS], [{"name": "OUT"}]), {}, 400, "unknown output 'OUT'"),
        ("POST", "/v2/models/loop/infer", infer_body([XS, STEPS], [{"name": "OUTPUT__0", "parameters": {"classification": 2}}]),
         {}, 400, "classification is not supported"),
        ("POST", "/v2/models/loop/infer", json.dumps({"inputs": [XS, STEPS], "parameters": {"timeout": -1}}), {}, 400,
         "parameters['timeout']"),
        ("POST", "/v2/models/loop/infer", "[" * 100000 + "]" * 100000, {}, 400, "must be a JSON object"),
        ("POST", "/v2/models/loop/infer",
         infer_body([dict(XS, data=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]), STEPS]), {}, 400,
         "nested deeper than 32"),
        ("POST", "/v2/models/nope/infer", infer_body([XS, STEPS]), {}, 404, "unknown model 'nope'"),
        ("GET", "/v2/models/nope", None, {}, 404, "unknown model 'nope'"),
        ("GET", "/v2/models/nope/config", None, {}, 404, "unknown model 'nope'"),
        ("GET", "/v2/models/loop/versions/9/ready", None, {}, 404, "no version 9"),
        ("GET", "/v2/models/broken/ready", None, {}, 503, "not ready"),
        ("POST", "/v2/models/broken/infer", infer_body([XS, STEPS]), {}, 503, "not ready"),
        ("POST", "/v2/repository/models/../load", "", {}, 400, "model_name '..' is not a model name"),
        ("POST", "/v2/repository/models/..%2Fetc/load", "", {}, 404, "no route for POST /v2/repository/models/../etc/load"),
        ("POST", "/v2/repository/models/loop/load", "{\"parameters\": {\"config\": \"{}\"}}", {}, 400,
         "parameters['config'] is not supported"),
        ("POST", "/v2/repository/index", "{\"ready\": 3}", {}, 400, "\"ready\" must be true or false"),
        ("GET", "/v2/systemsharedmemory/status", None, {}, 501, "does not implement shared memory"),
        ("POST", "/v2/systemsharedmemory/region/r/register", "{}", {}, 501, "does not implement shared memory"),
        ("GET", "/v2/nothing/here", None, {}, 404, "no route for GET /v2/nothing/here"),
        ("GET", "/v2/models/" + "m" * 2000, None, {}, 414, "at most 1024"),
        ("POST", "/v2/models/loop/infer", b"x" * (MAX_INPUT + 1), {}, 413, "larger than --http-max-input-size"),
        ("POST", "/v2/models/loop/infer", gzip.compress(b" " * (MAX_INPUT + 1)), {"Content-Encoding": "gzip"}, 413,
         "larger than --http-max-input-size"),
        ("POST", "/v2/models/loop/infer", iter([b"{" * 1000] * (MAX_INPUT // 1000 + 1)), {"Transfer-Encoding": "chunked"},
         413, "larger than --http-max-input-size"),
        ("POST", "/v2/models/loop/infer", b"--b\r\n\r\n--b--\r\n", {"Content-Type": "multipart/form-data; boundary=b"}, 415,
         "multipart"),
    ]
    for method, path, body, headers, status, message in cases:
        got, error = error_of(request(server, method, path, body, headers))
        assert (got, message in error) == (status, True), (method, path[:60], got, error)


def binary_request(server, header_json, payload, declared=None):
    head = json.dumps(header_json).encode()
    return request(server, "POST", "/v2/models/loop/infer", head + payload,
                   {"Inference-Header-Content-Length": str(len(head) if declared is None else declared),
                    "Content-Type": "application/octet-stream"})


def test_binary_sizes_are_checked(server, repo):
    xs, steps, out = repo[1][0]
    xs_bin = dict(name="xs", shape=list(xs.shape), datatype="FP32", parameters={"binary_data_size": xs.nbytes})
    st_bin = dict(name="steps", shape=[1], datatype="INT64", parameters={"binary_data_size": 8})
    payload = xs.tobytes() + struct.pack("<q", steps)
    status, headers, data = binary_request(server, {"inputs": [xs_bin, st_bin]}, payload)
    assert status == 200, data
    np.testing.assert_allclose(json.loads(data)["outputs"][0]["data"], out, rtol=1e-5, atol=1e-6)
    cases = [
        ({"inputs": [xs_bin, st_bin]}, payload[:-1], None, "binary_data_size is 8, but only 7 bytes"),
        ({"inputs": [xs_bin, st_bin]}, payload + b"zz", None, "2 bytes of binary data after the JSON"[2:]),
        ({"inputs": [dict(xs_bin, parameters={"binary_data_size": xs.nbytes - 4}), dict(st_bin, parameters={"binary_data_size": 12})]},
         payload, None, "bytes, but shape"),
        ({"inputs": [dict(xs_bin, parameters={"binary_data_size": -1}), st_bin]}, payload, None, "not a byte count"),
        ({"inputs": [dict(xs_bin, data=[1]), st_bin]}, payload, None, "has both \"data\" and binary_data_size"),
        ({"inputs": [xs_bin, st_bin]}, payload, 10 ** 9, "Inference-Header-Content-Length is 1000000000"),
        ({"inputs": [xs_bin, st_bin]}, payload, "12x", "is not a byte count"),
    ]
    for header_json, body, declared, message in cases:
        got, error = error_of(binary_request(server, header_json, body, declared))
        assert got == 400 and message in error, (got, error)


def test_metrics_port_serves_prometheus(server):
    host, port = server.metrics.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    text = r.read().decode()
    assert r.status == 200 and 'nv_inference_request_success{model="loop",version="1"}' in text
    conn.request("GET", "/other")
    assert conn.getresponse().status == 404


# ---- the command line ---------------------------------------------------------------------


def run_serve(*args):
    binary = os.environ.get("COCKTAIL_SERVE", "cocktail-serve")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def test_unknown_flags_are_refused_by_name(repo):
    r = run_serve("--model-store", os.path.join(repo[0], "repo"), "--backend-config=pytorch,x=1")
    assert r.returncode != 0 and "--backend-config" in r.stderr
    r = run_serve("--help")
    for flag in ["--model-store", "--model-repository", "--http-port", "--grpc-port", "--metrics-port", "--allow-http",
                 "--allow-grpc", "--allow-metrics", "--model-control-mode", "--load-model", "--strict-readiness",
                 "--exit-timeout-secs", "--log-verbose", "--http-max-input-size", "--http-thread-count"]:
        assert flag in r.stdout, flag


def test_tritons_flags_start_it(repo):
    """KServe's ServingRuntime spelling: --model-store=..., --allow-*=bool, and --log-verbose 1 (Triton's level)."""
    d = os.path.join(repo[0], "repo")
    s = start_server(None, "--model-store=" + d, "--allow-grpc=false", "--allow-metrics=false", "--allow-http=true",
                     "--model-control-mode=explicit", "--load-model=loop", "--strict-readiness=true",
                     "--exit-timeout-secs=5", "--log-verbose", "1", cache=os.path.join(repo[0], "cache"))
    try:
        assert s.grpc is None and s.metrics is None and s.http
        c = httpclient.InferenceServerClient(s.http)
        assert c.is_server_ready() and c.is_model_ready("loop") and not c.is_model_ready("addmul")
        # Strict readiness: a model asked for that fails makes the server not ready.
        with pytest.raises(InferenceServerException):
            c.load_model("broken")
        assert not c.is_server_ready()
        assert error_of(request(s, "GET", "/v2/health/ready"))[0] == 503
        assert c.is_server_live()
    finally:
        s.proc.terminate()
        assert s.proc.wait(timeout=60) == 0


def test_not_strict_by_default_and_http_off(repo):
    d = os.path.join(repo[0], "repo")
    s = start_server(d, "--allow-http=false", "--model-control-mode=explicit", "--load-model=broken", "--log-verbose=2",
                     cache=os.path.join(repo[0], "cache"))
    try:
        assert s.http is None and s.grpc
        assert grpcclient.InferenceServerClient(s.grpc).is_server_ready()
    finally:
        s.proc.terminate()
        assert s.proc.wait(timeout=60) == 0


# ---- the curl examples of docs/serving.md --------------------------------------------------


def doc_examples():
    """Each ```sh block marked `# run by tests/server/test_http.py` with the ```text block after it (its output)."""
    text = open(DOC).read()
    blocks = re.findall(r"```sh\n(# run by tests/server/test_http.py\n.*?)```\n+```text\n(.*?)```", text, re.S)
    assert blocks, "docs/serving.md has no curl examples marked for this test"
    return blocks


def test_docs_curl_examples(server):
    for script, expected in doc_examples():
        script = script.replace("localhost:8000", server.http)
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (script, r.stderr)
        assert r.stdout == expected, (script, r.stdout, expected)


def test_sigterm_answers_http_requests_in_flight(repo):
    """SIGTERM drains HTTP like gRPC: a request being run is answered, then the process exits 0."""
    import threading
    import time

    import torch

    import make_repository as mr  # beside this file, on pytest's path like conftest

    d = os.path.join(repo[0], "repo")
    s = start_server(d, "--model-control-mode=explicit", "--load-model=loop", cache=os.path.join(repo[0], "cache"))
    xs = np.full((16, 4), 0.1, np.float32)
    steps = 60000  # about 4 s on one core: still running when SIGTERM comes
    body = infer_body([{"name": "xs", "shape": [16, 4], "datatype": "FP32", "data": xs.flatten().tolist()},
                       {"name": "steps", "shape": [1], "datatype": "INT64", "data": [steps]}])
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("r", request(s, "POST", "/v2/models/loop/infer", body)))
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), "the request finished before SIGTERM; make it longer"
    s.proc.terminate()
    t.join(timeout=120)
    assert s.proc.wait(timeout=60) == 0
    status, _, data = got["r"]
    assert status == 200, data
    # The recurrence is a contraction (|W| ~ 0.1) on constant rows: it reaches
    # its fixed point long before `steps`, so 50 steps give the same answer
    # without running the slow reference 60000 times.
    with torch.no_grad():
        want = torch.jit.script(mr.Loop().eval())(torch.from_numpy(xs), 50).numpy()
    np.testing.assert_allclose(json.loads(data)["outputs"][0]["data"], want, rtol=1e-5, atol=1e-6)


def test_a_post_without_a_length_has_no_body(server):
    """HTTP/1.1: no Content-Length and no Transfer-Encoding means an empty body; it is
    answered at once, not after waiting for the client to close (curl -X POST sends this)."""
    import socket
    import time

    host, port = server.http.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        start = time.monotonic()
        sock.sendall(b"POST /v2/repository/index HTTP/1.1\r\nHost: test\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        assert time.monotonic() - start < 2.0
    assert reply.startswith(b"HTTP/1.1 200")


def test_uint8_as_json(server):
    """UINT8 in JSON: integers 0..255 in, integers out; anything else is a 400 naming the element."""
    x = {"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}
    mask = {"name": "mask", "shape": [1, 3], "datatype": "UINT8", "data": [0, 3, 255]}
    status, _, body = request(server, "POST", "/v2/models/bytemask/infer", infer_body([x, mask]))
    assert status == 200, body
    outputs = {o["name"]: o for o in json.loads(body)["outputs"]}
    assert outputs["OUTPUT__0"]["data"] == [0.0, 2.0, 3.0]
    assert outputs["OUTPUT__1"]["datatype"] == "UINT8"
    assert outputs["OUTPUT__1"]["data"] == [0, 3 * 200 % 256, 255 * 200 % 256]
    for bad in (256, -1, 1.5):
        assert error_of(request(server, "POST", "/v2/models/bytemask/infer",
                                infer_body([x, dict(mask, data=[0, bad, 1])]))) == \
            (400, f"inputs[1] ('mask'): data[1] is {bad}, not an integer in 0..255 (UINT8)")
