"""Conformance: an unchanged tritonclient[grpc] against cocktail-serve.

Run by run_tritonclient_test.sh (CTest server/tritonclient) with the binary in
$COCKTAIL_SERVE; the repository and the server are conftest.py's.
"""
import os
import queue

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException


@pytest.fixture
def client(server):
    return grpcclient.InferenceServerClient(server.grpc)


def loop_inputs(xs, steps, steps_name="steps"):
    a = grpcclient.InferInput("xs", list(xs.shape), "FP32")
    a.set_data_from_numpy(xs)
    b = grpcclient.InferInput(steps_name, [1], "INT64")
    b.set_data_from_numpy(np.array([steps], np.int64))
    return [a, b]


def test_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata()
    assert meta.name == "cocktail"
    assert "model_repository" in meta.extensions
    assert client.is_model_ready("loop")
    assert not client.is_model_ready("broken")
    md = client.get_model_metadata("loop", as_json=True)
    assert [i["name"] for i in md["inputs"]] == ["xs", "steps"]
    assert md["inputs"][0]["datatype"] == "FP32" and md["inputs"][0]["shape"] == ["-1", "4"]
    assert md["outputs"][0]["name"] == "OUTPUT__0"


def test_config_and_index(client):
    config = client.get_model_config("addmul", as_json=True)["config"]
    assert config["max_batch_size"] == 8
    assert [i["name"] for i in config["input"]] == ["x", "y"]
    assert config["instance_group"][0]["count"] == 1
    index = {m["name"]: m for m in client.get_model_repository_index(as_json=True)["models"]}
    assert index["loop"]["state"] == "READY"
    assert index["broken"]["state"] == "UNAVAILABLE"
    assert "not a TorchScript file" in index["broken"]["reason"]


def test_infer_raw(client, repo):
    for xs, steps, out in repo[1]:
        result = client.infer("loop", loop_inputs(xs, steps), request_id="r1")
        np.testing.assert_allclose(result.as_numpy("OUTPUT__0"), out, rtol=1e-5, atol=1e-6)
        assert result.get_response().id == "r1"
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    a = grpcclient.InferInput("INPUT__0", [2, 4], "FP32")
    a.set_data_from_numpy(x)
    b = grpcclient.InferInput("y", [2, 4], "FP32")
    b.set_data_from_numpy(x)
    result = client.infer("addmul", [a, b], outputs=[grpcclient.InferRequestedOutput("OUTPUT__1")])
    np.testing.assert_array_equal(result.as_numpy("OUTPUT__1"), x * x)
    assert result.as_numpy("OUTPUT__0") is None


def test_stream_infer(client, repo):
    responses = queue.Queue()
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    for i, (xs, steps, _) in enumerate(repo[1]):
        client.async_stream_infer("loop", loop_inputs(xs, steps), request_id=str(i))
    client.async_stream_infer("loop", loop_inputs(repo[1][0][0], 1, steps_name="nope"), request_id="bad")
    got = {}
    for _ in range(len(repo[1]) + 1):
        result, error = responses.get(timeout=30)
        if error is not None:
            got["bad"] = error
        else:
            got[result.get_response().id] = result
    client.stop_stream()
    for i, (_, _, out) in enumerate(repo[1]):
        np.testing.assert_allclose(got[str(i)].as_numpy("OUTPUT__0"), out, rtol=1e-5, atol=1e-6)
    assert "unknown input 'nope'" in str(got["bad"])


def test_statistics(client, repo):
    xs, steps, _ = repo[1][0]
    client.infer("loop", loop_inputs(xs, steps))
    stats = client.get_inference_statistics("loop", as_json=True)["model_stats"][0]
    assert stats["name"] == "loop"
    assert int(stats["inference_count"]) >= 1
    assert int(stats["inference_stats"]["success"]["count"]) >= 1


def test_load_unload(client, repo):
    client.unload_model("addmul")
    assert not client.is_model_ready("addmul")
    client.load_model("addmul")
    assert client.is_model_ready("addmul")
    with pytest.raises(InferenceServerException, match="no model 'nope'"):
        client.load_model("nope")


def bad(client, model, inputs, message, **kw):
    with pytest.raises(InferenceServerException) as e:
        client.infer(model, inputs, **kw)
    assert message in str(e.value), str(e.value)


def test_bad_requests(client, repo):
    xs, steps, out = repo[1][0]
    bad(client, "nope", loop_inputs(xs, steps), "unknown model 'nope'")
    bad(client, "broken", loop_inputs(xs, steps), "not ready")
    bad(client, "loop", loop_inputs(xs, steps), "no version 9", model_version="9")
    bad(client, "loop", loop_inputs(xs, steps)[:1], "missing input 'steps'")
    bad(client, "loop", loop_inputs(xs, steps, steps_name="stepz"), "unknown input 'stepz'")
    twice = loop_inputs(xs, steps)
    bad(client, "loop", [twice[0], twice[0], twice[1]], "given twice")
    wrong = loop_inputs(xs, steps)
    wrong[1] = grpcclient.InferInput("steps", [1], "INT32")
    wrong[1].set_data_from_numpy(np.array([1], np.int32))
    bad(client, "loop", wrong, "datatype 'INT32' does not match the model's INT64")
    big = np.zeros((17, 4), np.float32)
    bad(client, "loop", loop_inputs(big, 1), "above the bound T<=16")
    rank = loop_inputs(xs.reshape(1, *xs.shape), 1)
    bad(client, "loop", rank, "has rank 3")
    fixed = loop_inputs(np.zeros((2, 6), np.float32), 1)
    bad(client, "loop", fixed, "dim 1 is 6")
    short = loop_inputs(xs, steps)
    short[0].set_shape([xs.shape[0] + 1, 4])  # the bytes are for the old shape
    bad(client, "loop", short, "bytes, but shape")
    bad(client, "loop", loop_inputs(xs, steps), "unknown output 'OUT'", outputs=[grpcclient.InferRequestedOutput("OUT")])
    # ... and it still serves.
    result = client.infer("loop", loop_inputs(xs, steps))
    np.testing.assert_allclose(result.as_numpy("OUTPUT__0"), out, rtol=1e-5, atol=1e-6)


def test_torchscript_backend(client, repo):
    """loop_ts is loop's model.pt on the TorchScript interpreter (cocktail.backend): same answers, honest config."""
    import torch

    for model, backend in [("loop", "cocktail"), ("loop_ts", "torchscript")]:
        config = client.get_model_config(model, as_json=True)["config"]
        assert config["parameters"]["cocktail.backend"]["string_value"] == backend
        assert client.get_model_metadata(model, as_json=True)["platform"] == "pytorch_libtorch"
    reference = torch.jit.load(os.path.join(repo[0], "repo", "loop", "1", "model.pt"))
    rng = np.random.default_rng(7)
    for _ in range(4):
        xs = rng.uniform(-1, 1, (int(rng.integers(1, 17)), 4)).astype(np.float32)
        steps = int(rng.integers(0, 6))
        with torch.no_grad():
            want = reference(torch.from_numpy(xs), steps).numpy()
        for model in ("loop", "loop_ts"):
            got = client.infer(model, loop_inputs(xs, steps)).as_numpy("OUTPUT__0")
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=model)
    bad(client, "loop_ts", loop_inputs(np.zeros((17, 4), np.float32), 1), "above the bound T<=16")
    index = {m["name"]: m for m in client.get_model_repository_index(as_json=True)["models"]}
    assert index["loop_ts"]["state"] == "READY"
    assert index["badbackend"]["state"] == "UNAVAILABLE"
    assert 'cocktail.backend is "tvm"' in index["badbackend"]["reason"]
    bad(client, "badbackend", loop_inputs(*repo[1][0][:2]), "not ready")


def test_unimplemented(client):
    with pytest.raises(InferenceServerException, match="does not implement"):
        client.get_system_shared_memory_status()


def test_uint8_raw_and_typed_contents(client, server):
    """UINT8 tensors: raw bytes through tritonclient, and contents.uint_contents
    (uint32 on the wire, as Triton takes them) narrowed with a range check."""
    x = np.array([[0.5, -1.0, 2.0], [3.0, 4.0, -5.0]], np.float32)
    mask = np.array([[1, 0, 255], [0, 2, 1]], np.uint8)
    a = grpcclient.InferInput("x", [2, 3], "FP32")
    a.set_data_from_numpy(x)
    b = grpcclient.InferInput("mask", [2, 3], "UINT8")
    b.set_data_from_numpy(mask)
    result = client.infer("bytemask", [a, b])
    np.testing.assert_array_equal(result.as_numpy("OUTPUT__0"), np.where(mask == 0, 0.0, x))
    assert result.as_numpy("OUTPUT__1").dtype == np.uint8
    np.testing.assert_array_equal(result.as_numpy("OUTPUT__1"), (mask.astype(np.int64) * 200 % 256).astype(np.uint8))

    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc
    stub = service_pb2_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(server.grpc))

    def typed(values):
        request = service_pb2.ModelInferRequest(model_name="bytemask")
        xs = request.inputs.add(name="x", datatype="FP32", shape=[1, 3])
        xs.contents.fp32_contents.extend([1.0, 2.0, 3.0])
        m = request.inputs.add(name="mask", datatype="UINT8", shape=[1, 3])
        m.contents.uint_contents.extend(values)
        return request

    response = stub.ModelInfer(typed([0, 7, 255]))
    assert np.frombuffer(response.raw_output_contents[0], np.float32).tolist() == [0.0, 2.0, 3.0]
    assert np.frombuffer(response.raw_output_contents[1], np.uint8).tolist() == [0, 7 * 200 % 256, 255 * 200 % 256]
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(typed([0, 256, 1]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "contents.uint_contents[1] is 256, outside UINT8's range 0..255" in e.value.details()
