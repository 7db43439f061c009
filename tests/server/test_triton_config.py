"""A config.pbtxt written for Triton's PyTorch backend loads unchanged:
model_warmup (zero_data, random_data, input_data_file) runs at load before
the model is READY, and a failing warm-up leaves it UNAVAILABLE with the
reason; the backend's `parameters` are honoured or ignored with a log line,
never a load failure; `-1` dims without cocktail.inputs are compiled for
--default-dim-bound.

Run by run_tritonclient_test.sh (CTest server/tritonclient).
"""
import os
import re
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest
import torch
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import HERE, start_server

sys.path.insert(0, HERE)
import make_repository as mr  # noqa: E402

LOOP_INPUTS = 'parameters { key: "cocktail.inputs" value { string_value: "xs:f32[T<=16,4] steps:i64" } }\n'
TRITON_PARAMETERS = "".join(
    f'parameters {{ key: "{k}" value {{ string_value: "{v}" }} }}\n'
    for k, v in [("INTRA_OP_THREAD_COUNT", "2"), ("INTER_OP_THREAD_COUNT", "1"), ("DISABLE_OPTIMIZED_EXECUTION", "true"),
                 ("ENABLE_JIT_PROFILING", "false"), ("INFERENCE_MODE", "true"), ("ENABLE_NVFUSER", "false"),
                 ("ENABLE_WEIGHT_SHARING", "maybe"), ("SOME_FUTURE_KNOB", "1")])


def warmup(name, inputs, count=None, batch=None):
    fields = "".join(f" inputs {{ key: \"{k}\" value {{ {v} }} }}" for k, v in inputs.items())
    extra = (f" count: {count}" if count else "") + (f" batch_size: {batch}" if batch else "")
    return f'model_warmup [ {{ name: "{name}"{extra}{fields} }} ]\n'


XS = "data_type: TYPE_FP32 dims: [ 3, 4 ]"
STEPS = "data_type: TYPE_INT64 dims: [ 1 ]"


def loop_config(name, extra):
    return f'''name: "{name}"
backend: "pytorch"
input [
  {{ name: "INPUT__0" data_type: TYPE_FP32 dims: [ -1, 4 ] }},
  {{ name: "INPUT__1" data_type: TYPE_INT64 dims: [ 1 ] }}
]
output [ {{ name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] }} ]
instance_group [ {{ count: 2 kind: KIND_CPU }} ]
{LOOP_INPUTS}{extra}'''


@pytest.fixture(scope="module")
def triton_repo():
    with tempfile.TemporaryDirectory(prefix="cocktail-triton-config-") as d:
        repo = os.path.join(d, "repo")
        ok_warmup = (warmup("zeros", {"INPUT__0": XS + " zero_data: true", "INPUT__1": STEPS + " random_data: true"}, count=2)
                     + warmup("fromfile", {"xs": XS + ' input_data_file: "xs.bin"', "steps": STEPS + ' input_data_file: "steps.bin"'}))
        mr.write(repo, "warm", mr.Loop(), loop_config("warm", ok_warmup + TRITON_PARAMETERS))
        mr.write(repo, "warm_ts", mr.Loop(), loop_config("warm_ts", ok_warmup + TRITON_PARAMETERS + mr.backend("torchscript")))
        for name in ("warm", "warm_ts"):
            os.makedirs(os.path.join(repo, name, "warmup"))
            np.full((3, 4), 0.25, np.float32).tofile(os.path.join(repo, name, "warmup", "xs.bin"))
            np.array([3], np.int64).tofile(os.path.join(repo, name, "warmup", "steps.bin"))
        bad = {
            "bad_bound": warmup("big", {"xs": "data_type: TYPE_FP32 dims: [ 17, 4 ] zero_data: true", "steps": STEPS + " zero_data: true"}),
            "bad_dtype": warmup("dt", {"xs": "data_type: TYPE_INT32 dims: [ 3, 4 ] zero_data: true", "steps": STEPS + " zero_data: true"}),
            "bad_missing": warmup("half", {"xs": XS + " zero_data: true"}),
            "bad_nodata": warmup("none", {"xs": XS, "steps": STEPS + " zero_data: true"}),
            "bad_escape": warmup("esc", {"xs": XS + ' input_data_file: "../config.pbtxt"', "steps": STEPS + " zero_data: true"}),
            "bad_size": warmup("size", {"xs": XS + ' input_data_file: "xs.bin"', "steps": STEPS + " zero_data: true"}),
            "bad_unknown": warmup("unk", {"xs": XS + " zero_data: true", "steps": STEPS + " zero_data: true", "zz": STEPS + " zero_data: true"}),
        }
        for name, w in bad.items():
            mr.write(repo, name, mr.Loop(), loop_config(name, w))
        os.makedirs(os.path.join(repo, "bad_size", "warmup"))
        np.zeros(5, np.float32).tofile(os.path.join(repo, "bad_size", "warmup", "xs.bin"))
        # The model's own raise during warm-up (x sums below zero in the file).
        mr.write(repo, "bad_raise", mr.Raising(),
                 'backend: "pytorch"\nparameters { key: "cocktail.inputs" value { string_value: "x:f32[4]" } }\n'
                 + warmup("neg", {"x": 'data_type: TYPE_FP32 dims: [ 4 ] input_data_file: "neg.bin"'}))
        os.makedirs(os.path.join(repo, "bad_raise", "warmup"))
        np.full(4, -1.0, np.float32).tofile(os.path.join(repo, "bad_raise", "warmup", "neg.bin"))
        # Triton's own spelling: INPUT__n, -1 dims, no cocktail.inputs; a number argument is dims [1].
        mr.write(repo, "unbounded", mr.Loop(), '''backend: "pytorch"
input [
  { name: "INPUT__0" data_type: TYPE_FP32 dims: [ -1, 4 ] },
  { name: "INPUT__1" data_type: TYPE_INT64 dims: [ 1 ] }
]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
''')
        mr.write(repo, "unbounded_batch", mr.AddMul(), '''platform: "pytorch_libtorch"
max_batch_size: 8
input [
  { name: "INPUT__0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "INPUT__1" data_type: TYPE_FP32 dims: [ -1 ] }
]
''')
        s = start_server(repo, "--model-control-mode", "explicit", "--load-model", "*", "--default-dim-bound", "12",
                         "--max-dim-bound", "40", cache=os.path.join(d, "cache"))
        yield s
        s.proc.terminate()
        assert s.proc.wait(timeout=60) == 0


def test_triton_config_loads_warms_up_and_serves(triton_repo):
    c = httpclient.InferenceServerClient(triton_repo.http)
    reference = torch.jit.script(mr.Loop().eval())
    xs = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)
    with torch.no_grad():
        want = reference(torch.from_numpy(xs), 3).numpy()
    for name in ("warm", "warm_ts"):
        assert c.is_model_ready(name), name
        a = httpclient.InferInput("INPUT__0", [5, 4], "FP32")
        a.set_data_from_numpy(xs)
        b = httpclient.InferInput("INPUT__1", [1], "INT64")
        b.set_data_from_numpy(np.array([3], np.int64))
        np.testing.assert_allclose(c.infer(name, [a, b]).as_numpy("OUTPUT__0"), want, rtol=1e-5, atol=1e-6)
        config = c.get_model_config(name)
        assert [w["name"] for w in config["model_warmup"]] == ["zeros", "fromfile"]
        assert config["instance_group"][0]["count"] == 2
    log = triton_repo.log
    for name in ("warm", "warm_ts"):
        assert f"model '{name}' version 1: model_warmup 'zeros' ran 2 time(s) on each of 2 instance(s)" in log
        assert f"model '{name}' version 1: model_warmup 'fromfile' ran 1 time(s) on each of 2 instance(s)" in log


def test_backend_parameters_are_honoured_or_ignored_with_a_line(triton_repo):
    log = triton_repo.log
    # The interpreter honours what means something for it ...
    assert "model 'warm_ts': parameter INTRA_OP_THREAD_COUNT \"2\": LibTorch's intra-op threads set to 2" in log
    assert "model 'warm_ts': parameter DISABLE_OPTIMIZED_EXECUTION \"true\": the interpreter runs with graph optimization off" in log
    assert "model 'warm_ts': parameter INFERENCE_MODE \"true\": the interpreter runs with inference mode on" in log
    # ... the compiled model says why it does not need them, once each.
    assert log.count("model 'warm': parameter INTRA_OP_THREAD_COUNT \"2\" ignored: each compiled instance runs on one thread") == 1
    assert "model 'warm': parameter DISABLE_OPTIMIZED_EXECUTION \"true\" ignored: not used: the model is compiled" in log
    assert "model 'warm': parameter ENABLE_NVFUSER \"false\" ignored" in log
    assert "parameter ENABLE_WEIGHT_SHARING \"maybe\" ignored" in log
    assert "parameter SOME_FUTURE_KNOB \"1\" ignored: not a parameter cocktail-serve or Triton's PyTorch backend knows" in log


@pytest.mark.parametrize("name,reason", [
    ("bad_bound", "model_warmup 'big' does not fit the model: inputs[0] ('xs'): dim 0 is 17, above the bound T<=16"),
    ("bad_dtype", "model_warmup 'dt' does not fit the model: inputs[0] ('xs'): datatype 'INT32' does not match the model's FP32"),
    ("bad_missing", "model_warmup 'half' does not fit the model: missing input 'INPUT__1' (INT64 [1])"),
    ("bad_nodata", "model_warmup 'none' input 'xs': give zero_data, random_data or input_data_file"),
    ("bad_escape", "input_data_file '../config.pbtxt' must be a file name inside"),
    ("bad_size", "xs.bin has 20 bytes, but the sample's shape needs 48"),
    ("bad_unknown", "model_warmup 'unk': the model has no input 'zz'"),
    ("bad_raise", "model_warmup 'neg' failed on instance 0: "),
])
def test_a_failing_warmup_leaves_the_model_unavailable_with_the_reason(triton_repo, name, reason):
    c = httpclient.InferenceServerClient(triton_repo.http)
    assert not c.is_model_ready(name)
    index = {m["name"]: m for m in c.get_model_repository_index()}
    assert index[name]["state"] == "UNAVAILABLE"
    assert reason in index[name]["reason"], index[name]["reason"]
    if name == "bad_raise":
        assert "x must not sum below zero" in index[name]["reason"]
    assert c.is_model_ready("warm")  # the others serve


def test_minus_one_dims_compile_for_the_default_bound_and_grow_past_it(triton_repo):
    c = httpclient.InferenceServerClient(triton_repo.http)
    for name in ("unbounded", "unbounded_batch"):
        assert c.is_model_ready(name), name
        assert c.get_model_config(name)["parameters"]["cocktail.backend"]["string_value"] == "cocktail"
    assert ("model 'unbounded': -1 dims without cocktail.inputs bounds are compiled for 12 (--default-dim-bound): "
            "xs:f32[INPUT__0_d0<=12,4] steps:i64") in triton_repo.log
    assert c.get_model_metadata("unbounded")["inputs"][0]["shape"] == [-1, 4]
    reference = torch.jit.script(mr.Loop().eval())
    rng = np.random.default_rng(3)
    for t in (1, 7, 12):
        xs = rng.uniform(-1, 1, (t, 4)).astype(np.float32)
        a = httpclient.InferInput("INPUT__0", [t, 4], "FP32")
        a.set_data_from_numpy(xs)
        b = httpclient.InferInput("INPUT__1", [1], "INT64")
        b.set_data_from_numpy(np.array([2], np.int64))
        with torch.no_grad():
            want = reference(torch.from_numpy(xs), 2).numpy()
        np.testing.assert_allclose(c.infer("unbounded", [a, b]).as_numpy("OUTPUT__0"), want, rtol=1e-5, atol=1e-6)
    # Above the bound: recompiled for the next power of two (16), logged, and the answer is TorchScript's.
    for t, compiles in ((13, 1), (16, 1), (14, 1), (17, 2)):
        xs = rng.uniform(-1, 1, (t, 4)).astype(np.float32)
        a = httpclient.InferInput("INPUT__0", [t, 4], "FP32")
        a.set_data_from_numpy(xs)
        with torch.no_grad():
            want = reference(torch.from_numpy(xs), 2).numpy()
        np.testing.assert_allclose(c.infer("unbounded", [a, b]).as_numpy("OUTPUT__0"), want, rtol=1e-5, atol=1e-6)
        # 13 compiles for 16, which 16 and 14 reuse; 17 compiles for 32.
        assert len(triton_repo.logged("model 'unbounded': a request is above a -1 dim's compiled bound; recompiling",
                                      timeout=0)) == compiles, t
    assert triton_repo.logged("model 'unbounded': a request is above a -1 dim's compiled bound; recompiling for "
                              "INPUT__0_d0<=16")
    assert triton_repo.logged("model 'unbounded': -1 dims are compiled for the bounds requests needed: "
                              "xs:f32[INPUT__0_d0<=32,4] steps:i64")
    # Past --max-dim-bound: refused, saying so; the model still serves.
    a = httpclient.InferInput("INPUT__0", [41, 4], "FP32")
    a.set_data_from_numpy(np.zeros((41, 4), np.float32))
    with pytest.raises(InferenceServerException, match=r"dim 0 is 41, above --max-dim-bound 40, the largest bound a -1 "
                                                       r"dim is recompiled for \(the model is compiled for INPUT__0_d0<=32\)"):
        c.infer("unbounded", [a, b])
    assert c.is_model_ready("unbounded")
    # Several requests above the bound at once wait for one compile.
    x = rng.uniform(-1, 1, (2, 20)).astype(np.float32)
    ins = [httpclient.InferInput(n, [2, 20], "FP32") for n in ("INPUT__0", "INPUT__1")]
    for i in ins:
        i.set_data_from_numpy(x)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        httpclient.InferenceServerClient(triton_repo.http).infer("unbounded_batch", ins).as_numpy("OUTPUT__1")))
        for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, x * x)
    assert len(triton_repo.logged("model 'unbounded_batch': a request is above a -1 dim's compiled bound; "
                                  "recompiling for INPUT__0_d1<=32, INPUT__1_d1<=32", timeout=0)) == 1
    assert len(triton_repo.logged("model 'unbounded_batch': a request is above", timeout=0)) == 1
