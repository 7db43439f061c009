"""Stateful sequences (config.pbtxt `sequence_batching`): a GRU fed chunk by
chunk, its state kept by the server between requests, gives after every
chunk what the TorchScript model gives over the whole prefix in one call;
under 8 interleaved sequences, over unary gRPC, streaming gRPC and HTTP,
with the `direct` and `oldest` strategies (sequences that end while the
others go on), the START/END/READY/CORRID controls, an initial state from a
file, the idle release, and the errors Triton reports.

Run by run_tritonclient_test.sh (CTest server/tritonclient).
"""
import http.client
import json
import os
import queue
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import torch
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import HERE, start_server

sys.path.insert(0, HERE)
import make_repository as mr  # noqa: E402

H = mr.GRU_HIDDEN
CHUNK = 3  # steps per chunk in the batched (oldest) test, so that chunks batch
config = mr.gru_config
H0 = np.linspace(-0.5, 0.5, H, dtype=np.float32).reshape(1, H)  # gru_direct's initial_state


# Configs that must leave the model UNAVAILABLE, and the reason: (what to replace in a good config, by what).
BROKEN = {
    "bad_control_name": (('{ name: "ready"', '{ name: "readyy"'),
                         "sequence_batching control_input 'readyy' is not an input of the model"),
    "bad_control_type": (("bool_false_true: [ false, true ]", "int32_false_true: [ 0, 1 ]"),
                         "control_input 'ready' (CONTROL_SEQUENCE_READY): the control is INT32, but the model takes "
                         "input 'ready' as BOOL"),
    "bad_control_pair": (("fp32_false_true: [ 0, 1 ]", "fp32_false_true: [ 1 ]"), "fp32_false_true needs [false, true]"),
    "bad_corrid_type": (("data_type: TYPE_INT64 } ] }", "data_type: TYPE_UINT64 } ] }"),
                        "data_type is TYPE_UINT64; cocktail-serve takes TYPE_INT64 or TYPE_INT32"),
    "bad_state_output": (('output_name: "OUTPUT__1"', 'output_name: "OUTPUT__9"'),
                         "output_name 'OUTPUT__9' is not an output of the model"),
    "bad_state_type": (('output_name: "OUTPUT__1" data_type: TYPE_FP32', 'output_name: "OUTPUT__1" data_type: TYPE_INT32'),
                       "state 'state_in': data_type TYPE_INT32, but the model takes input 'state_in' as FP32"),
    "bad_idle": (("max_sequence_idle_microseconds: 1000000", "max_sequence_idle_microseconds: 18446744073709551615"),
                 "sequence_batching max_sequence_idle_microseconds is 18446744073709551615; at most 86400000000 (a day)"),
    "bad_iterative": (("max_sequence_idle_microseconds", "iterative_sequence: true max_sequence_idle_microseconds"),
                      "iterative_sequence is not supported"),
}


@pytest.fixture(scope="module")
def seq_server():
    with tempfile.TemporaryDirectory(prefix="cocktail-sequences-") as d:
        repo = os.path.join(d, "repo")
        module = torch.jit.script(mr.GruChunk().eval())
        models = {
            "gru_direct": config("gru_direct", False, "direct { }", 5000000, initial=True),
            "gru_oldest": config("gru_oldest", True, "oldest { max_candidate_sequences: 8 preferred_batch_size: [ 4, 8 ] "
                                 "max_queue_delay_microseconds: 20000 }",
                                 5000000, initial=False),
            "gru_idle": config("gru_idle", False, "direct { }", 300000, initial=False),
            # Triton's spelling: no cocktail.inputs; the controls and the state get their specs from the config.
            "gru_triton": config("gru_triton", True, "direct { max_queue_delay_microseconds: 100 }", 5000000,
                                 initial=False, specs_parameter=False),
            # No CORRID control: string sequence ids (the model's corrid is an input the client sends).
            "gru_named": config("gru_named", False, "direct { }", 5000000, initial=True, corrid=False),
        }
        # A warm-up sample runs as a sequence of one request (START and END, the initial state).
        models["gru_direct"] += ('model_warmup [ { name: "one" inputs { key: "x" value { data_type: TYPE_FP32 '
                                 'dims: [ 1, 3, 4 ] zero_data: true } } } ]\n')
        good = config("bad", False, "direct { }", 1000000, initial=False)
        for name, ((old, new), _) in BROKEN.items():
            assert old in good, old
            models[name] = good.replace(old, new).replace('name: "bad"', f'name: "{name}"')
        for name, text in models.items():
            os.makedirs(os.path.join(repo, name, "1"))
            module.save(os.path.join(repo, name, "1", "model.pt"))
            with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
                f.write(text)
        for name in ("gru_direct", "gru_named"):
            os.makedirs(os.path.join(repo, name, "initial_state"))
            H0.tofile(os.path.join(repo, name, "initial_state", "h0.bin"))
        mr.write(repo, "addmul", mr.AddMul(), mr.ADDMUL_CONFIG)  # no sequence_batching
        s = start_server(repo, "--model-control-mode", "explicit", "--load-model", "*", cache=os.path.join(d, "cache"))
        s.reference = module
        yield s
        s.proc.terminate()
        assert s.proc.wait(timeout=60) == 0


def reference_states(module, xs, h0):
    """The GRU's last hidden state after each prefix xs[:n], each from one call over the whole prefix."""
    out = {}
    with torch.no_grad():
        for n in range(1, xs.shape[0] + 1):
            x = torch.from_numpy(xs[None, :n])
            one = torch.ones(1, 1)
            h, _, _, _ = module(x, torch.from_numpy(h0), one.to(torch.int32), one, one.to(torch.bool),
                                torch.ones(1, 1, dtype=torch.int64))
            out[n] = h.numpy()
    return out


def chunks_of(rng, total, fixed=None):
    """Chunk lengths adding up to total (all `fixed` when given)."""
    sizes, left = [], total
    while left > 0:
        n = min(left, fixed or int(rng.integers(1, 6)))
        sizes.append(n)
        left -= n
    return sizes


def make_sequences(seq_server, count, h0, fixed=None, seed=0):
    rng = np.random.default_rng(seed)
    seqs = []
    for i in range(count):
        total = (fixed or 1) * int(rng.integers(2, 7)) if fixed else int(rng.integers(4, 16))
        xs = rng.uniform(-1, 1, (total, 4)).astype(np.float32)
        seqs.append({"id": 1000 + i, "xs": xs, "sizes": chunks_of(rng, total, fixed),
                     "want": reference_states(seq_server.reference, xs, h0)})
    return seqs


def check_step(seq, k, outs):
    """Step k of seq answered with outs (h, info, corrid as numpy arrays)."""
    h, info, corrid = outs
    upto = sum(seq["sizes"][:k + 1])
    np.testing.assert_allclose(h.reshape(1, H), seq["want"][upto], rtol=1e-5, atol=1e-6)
    start, end = k == 0, k == len(seq["sizes"]) - 1
    assert float(info.reshape(-1)[0]) == 100 * start + 10 * end + 1, (seq["id"], k, info)
    assert int(corrid.reshape(-1)[0]) == seq["id"]


def step_input(lib, seq, k):
    upto = sum(seq["sizes"][:k])
    x = seq["xs"][upto:upto + seq["sizes"][k]][None]
    i = lib.InferInput("x", list(x.shape), "FP32")
    i.set_data_from_numpy(x)
    return [i]


def flags(seq, k):
    return dict(sequence_id=seq["id"], sequence_start=k == 0, sequence_end=k == len(seq["sizes"]) - 1)


def outputs_of(result):
    return result.as_numpy("OUTPUT__0"), result.as_numpy("OUTPUT__2"), result.as_numpy("OUTPUT__3")


@pytest.mark.parametrize("protocol,model", [("grpc", "gru_direct"), ("http", "gru_direct"), ("grpc", "gru_triton")])
def test_interleaved_sequences_match_the_whole_sequence(seq_server, protocol, model):
    lib = grpcclient if protocol == "grpc" else httpclient
    client = lib.InferenceServerClient(seq_server.grpc if protocol == "grpc" else seq_server.http)
    h0 = H0 if model == "gru_direct" else np.zeros((1, H), np.float32)
    seqs = make_sequences(seq_server, 8, h0, seed=1 if protocol == "grpc" else 2)
    # Round robin over the 8 sequences, one chunk each: they end at different times.
    for k in range(max(len(s["sizes"]) for s in seqs)):
        for seq in seqs:
            if k < len(seq["sizes"]):
                check_step(seq, k, outputs_of(client.infer(model, step_input(lib, seq, k), **flags(seq, k))))


def test_string_sequence_ids_over_http(seq_server):
    client = httpclient.InferenceServerClient(seq_server.http)
    seqs = make_sequences(seq_server, 3, H0, seed=8)
    for seq, name in zip(seqs, ["alpha", "beta", "1002"]):  # "1002" is not the number 1002
        seq["id"], seq["name"] = int(name) if name.isdigit() else 0, name
    for k in range(max(len(s["sizes"]) for s in seqs)):
        for seq in seqs:
            if k < len(seq["sizes"]):
                corrid = httpclient.InferInput("corrid", [1, 1], "INT64")
                corrid.set_data_from_numpy(np.array([[seq["id"]]], np.int64))
                f = flags(seq, k)
                f["sequence_id"] = seq["name"]
                check_step(seq, k, outputs_of(client.infer("gru_named", step_input(httpclient, seq, k) + [corrid], **f)))


def test_streaming_grpc_interleaved(seq_server):
    client = grpcclient.InferenceServerClient(seq_server.grpc)
    seqs = make_sequences(seq_server, 8, H0, seed=3)
    answers = queue.Queue()
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    sent = 0
    for k in range(max(len(s["sizes"]) for s in seqs)):
        for i, seq in enumerate(seqs):
            if k < len(seq["sizes"]):
                client.async_stream_infer("gru_direct", step_input(grpcclient, seq, k), request_id=f"{i}:{k}",
                                          **flags(seq, k))
                sent += 1
    for _ in range(sent):
        result, error = answers.get(timeout=60)
        assert error is None, error
        i, k = map(int, result.get_response().id.split(":"))
        check_step(seqs[i], k, outputs_of(result))
    client.stop_stream()


def test_oldest_batches_sequences_and_one_ending_mid_batch_leaves_the_others(seq_server):
    client = httpclient.InferenceServerClient(seq_server.http, concurrency=8)
    before = client.get_inference_statistics("gru_oldest")["model_stats"][0]
    seqs = make_sequences(seq_server, 8, np.zeros((1, H), np.float32), fixed=CHUNK, seed=4)
    errors = []

    def run(seq):
        try:
            c = httpclient.InferenceServerClient(seq_server.http)
            for k in range(len(seq["sizes"])):
                check_step(seq, k, outputs_of(c.infer("gru_oldest", step_input(httpclient, seq, k), **flags(seq, k))))
        except Exception as e:  # noqa: BLE001 - reported below with the sequence
            errors.append((seq["id"], e))

    threads = [threading.Thread(target=run, args=(s,)) for s in seqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    after = client.get_inference_statistics("gru_oldest")["model_stats"][0]
    requests = sum(len(s["sizes"]) for s in seqs)
    assert after["inference_count"] - before.get("inference_count", 0) == requests
    # Steps of different sequences ran as one batch.
    assert after["execution_count"] - before.get("execution_count", 0) < requests
    assert any(int(b["batch_size"]) > 1 for b in after["batch_stats"])


def test_an_idle_sequence_is_released_and_a_later_request_says_so(seq_server):
    client = grpcclient.InferenceServerClient(seq_server.grpc)
    seq = make_sequences(seq_server, 1, np.zeros((1, H), np.float32), seed=5)[0]
    x = step_input(grpcclient, seq, 0)
    # A string id cannot be fed to an INT64 CORRID control.
    with pytest.raises(InferenceServerException, match="is a string, but model 'gru_idle' takes its correlation ID"):
        client.infer("gru_idle", x, sequence_id="late-one", sequence_start=True)
    client.infer("gru_idle", x, sequence_id=77, sequence_start=True)
    client.infer("gru_idle", x, sequence_id=77)  # within the idle time
    time.sleep(1.0)
    with pytest.raises(InferenceServerException) as e:
        client.infer("gru_idle", x, sequence_id=77)
    assert e.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert ("inference request for sequence 77 to model 'gru_idle' must specify the START flag on the first request "
            "of the sequence: sequence 77 was released after 300000 us without a request "
            "(max_sequence_idle_microseconds)") in e.value.message()
    client.infer("gru_idle", x, sequence_id=77, sequence_start=True, sequence_end=True)  # it may start again


def test_sequence_errors_are_invalid_argument_with_tritons_words(seq_server):
    client = grpcclient.InferenceServerClient(seq_server.grpc)
    seq = make_sequences(seq_server, 1, H0, seed=6)[0]
    x = step_input(grpcclient, seq, 0)

    def refused(match, model="gru_direct", inputs=None, **kw):
        with pytest.raises(InferenceServerException, match=match) as e:
            client.infer(model, inputs or x, **kw)
        assert e.value.status() == "StatusCode.INVALID_ARGUMENT"

    refused("inference request for sequence 4242 to model 'gru_direct' must specify the START flag on the first "
            "request of the sequence", sequence_id=4242)
    refused("inference request to model 'gru_direct' must specify a non-zero or non-empty correlation ID")
    start = grpcclient.InferInput("start", [1, 1], "INT32")
    start.set_data_from_numpy(np.ones((1, 1), np.int32))
    refused("inputs\\[1\\] \\('start'\\): is a sequence_batching control_input of model 'gru_direct', filled by the "
            "server", inputs=x + [start], sequence_id=5, sequence_start=True)
    refused("outputs\\[0\\]: output 'OUTPUT__1' of model 'gru_direct' is an implicit state",
            sequence_id=5, sequence_start=True, outputs=[grpcclient.InferRequestedOutput("OUTPUT__1")])
    # A sequence to a model without sequence_batching.
    a = grpcclient.InferInput("x", [1, 4], "FP32")
    a.set_data_from_numpy(np.ones((1, 4), np.float32))
    b = grpcclient.InferInput("y", [1, 4], "FP32")
    b.set_data_from_numpy(np.ones((1, 4), np.float32))
    refused("parameters\\['sequence_id'\\]: model 'addmul' has no sequence_batching in its config.pbtxt, so its "
            "requests are independent", model="addmul", inputs=[a, b], sequence_id=9, sequence_start=True)
    # A sequence model's -1 dims do not grow past their bound (a recompile would end its live sequences).
    long = grpcclient.InferInput("x", [1, 129, 4], "FP32")
    long.set_data_from_numpy(np.zeros((1, 129, 4), np.float32))
    refused("inputs\\[0\\] \\('x'\\): dim 1 is 129, above the bound x_d1<=128", model="gru_triton", inputs=[long],
            sequence_id=5, sequence_start=True)
    # The model's metadata shows what the client sends and gets, not the controls and the state.
    meta = client.get_model_metadata("gru_direct", as_json=True)
    assert [i["name"] for i in meta["inputs"]] == ["x"]
    assert [o["name"] for o in meta["outputs"]] == ["OUTPUT__0", "OUTPUT__2", "OUTPUT__3"]
    config = client.get_model_config("gru_direct", as_json=True)["config"]
    assert [c["name"] for c in config["sequence_batching"]["control_input"]] == ["start", "end", "ready", "corrid"]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_bad_sequence_batching_config_leaves_the_model_unavailable_with_the_reason(seq_server, name):
    client = httpclient.InferenceServerClient(seq_server.http)
    index = {m["name"]: m for m in client.get_model_repository_index()}
    assert index[name]["state"] == "UNAVAILABLE"
    assert BROKEN[name][1] in index[name]["reason"], index[name]["reason"]
    assert client.is_model_ready("gru_direct")


@pytest.mark.parametrize("parameters,message", [
    ({"sequence_id": True}, "parameters['sequence_id'] must be an integer (uint64) or a string"),
    ({"sequence_id": -3}, "parameters['sequence_id'] is -3; a sequence_id is a uint64 or a string"),
    ({"sequence_id": 5, "sequence_start": "yes"}, "parameters['sequence_start'] must be a bool"),
    ({"sequence_id": "x" * 1025, "sequence_start": True}, "parameters['sequence_id'] is a string of 1025 bytes; at most 1024"),
    # Above INT64_MAX: a uint64, which a 64-bit id fits; no START for it yet.
    ({"sequence_id": 18446744073709551615}, "inference request for sequence 18446744073709551615 to model 'gru_idle' must "
                                            "specify the START flag"),
])
def test_bad_sequence_parameters_over_rest(seq_server, parameters, message):
    body = json.dumps({"inputs": [{"name": "x", "shape": [1, 1, 4], "datatype": "FP32", "data": [0, 0, 0, 0]}],
                       "parameters": parameters})
    host, port = seq_server.http.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", "/v2/models/gru_idle/infer", body)
    r = conn.getresponse()
    assert r.status == 400
    assert message in json.loads(r.read())["error"]


def test_a_new_start_for_a_live_sequence_starts_it_again(seq_server):
    client = grpcclient.InferenceServerClient(seq_server.grpc)
    seq = make_sequences(seq_server, 1, H0, seed=7)[0]
    seq["id"] = 31337
    x0 = step_input(grpcclient, seq, 0)
    client.infer("gru_direct", x0, sequence_id=31337, sequence_start=True)
    client.infer("gru_direct", step_input(grpcclient, seq, 1), sequence_id=31337)
    # START again, as Triton: the earlier sequence is dropped, the new one begins from the initial state.
    again = client.infer("gru_direct", x0, sequence_id=31337, sequence_start=True)
    np.testing.assert_allclose(again.as_numpy("OUTPUT__0"), seq["want"][seq["sizes"][0]], rtol=1e-5, atol=1e-6)
    assert seq_server.logged("sequence 31337 for model 'gru_direct' has a conflict")
    client.infer("gru_direct", x0, sequence_id=31337, sequence_end=True)


def test_a_warmup_sample_runs_as_a_sequence_of_one(seq_server):
    assert "model 'gru_direct' version 1: model_warmup 'one' ran 1 time(s) on each of 2 instance(s)" in seq_server.log


def test_tritons_fields_that_change_nothing_here_are_logged_once_with_the_reason(seq_server):
    """A config written for Triton loads unchanged; what a field did not do is said at load, once per model."""
    said = {
        "gru_oldest": ["sequence_batching oldest.max_candidate_sequences 8 has no effect: the states live in the server",
                       "sequence_batching oldest.preferred_batch_size [4, 8] has no effect: a batch runs once"],
        "gru_triton": ["sequence_batching direct.max_queue_delay_microseconds 100 has no effect: direct runs each"],
    }
    lines = seq_server.log.splitlines()
    for model, expected in said.items():
        for text in expected:
            hits = [line for line in lines if text in line and f"'{model}'" in line]
            assert len(hits) == 1, (model, text, hits)
    # Fields left at their defaults say nothing.
    assert not [line for line in lines if "has no effect" in line and "'gru_direct'" in line]
