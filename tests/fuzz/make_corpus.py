"""Writes the seed corpora of the fuzz targets (corpus/<target>/), from files
the other tests use. Run once by hand when a format changes; the output is
committed, so CI and a fuzzing run need none of this.

    /usr/bin/python3 tests/fuzz/make_corpus.py BUILD_DIR   # BUILD_DIR has tools/cocktail-compile

Needs torch (Debian's python3-torch) and protoc. Artifact and inputs-file
seeds start with the mode byte their targets read (see *_fuzzer.cpp):
0 for a whole file, 1 for the payload / pickle alone.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
import make_repository  # noqa: E402  (the server tests' configs)


def put(target, data, name=None):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ir_seeds():
    """Every case of tests/ir/*.ir (split at `// -----`), comments dropped."""
    for path in sorted(os.listdir(os.path.join(ROOT, "tests", "ir"))):
        if not path.endswith(".ir"):
            continue
        text = open(os.path.join(ROOT, "tests", "ir", path)).read()
        for i, case in enumerate(re.split(r"^// -----.*$", text, flags=re.M)):
            lines = [l for l in case.splitlines() if not l.strip().startswith("//") and l.strip()]
            if lines:
                put("ir_parser", "\n".join(lines) + "\n", f"{path[:-3]}-{i}")


def input_spec_seeds():
    for i, specs in enumerate([
        "xs:f32[T<=128,4,64]\nsteps:i64",
        "x:f32[B<=8,4]\ny:f32[B,4]",
        "tokens:i64[B<=4,T<=32]\nlengths:none\nflag:i1\nscale:f64",
        "h:bf16[2,3]\nc:f16[*]",
    ]):
        put("input_spec", specs + "\n", f"specs-{i}")


def model_config_seeds():
    put("model_config", make_repository.LOOP_CONFIG.format(name="model"), "loop")
    put("model_config", make_repository.ADDMUL_CONFIG, "addmul")
    put("model_config", make_repository.LOOP_CONFIG.format(name="model") + make_repository.backend("torchscript"),
        "loop-torchscript")
    # Fits the fuzzer's own model (xs: f32[B,T,3], steps: i64).
    put("model_config", """name: "model"
max_batch_size: 4
input [
  { name: "xs" data_type: TYPE_FP32 dims: [ -1, 3 ] },
  { name: "INPUT__1" data_type: TYPE_INT64 dims: [ 1 ] reshape: { shape: [ ] } }
]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ -1, 3 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
parameters { key: "cocktail.inputs" value { string_value: "xs:f32[B<=4,T<=8,3] steps:i64" } }
""", "fits-model")
    # sequence_batching: a CORRID control and an implicit state, both of the fuzz target's program.
    put("model_config", """name: "model"
sequence_batching {
  oldest { max_queue_delay_microseconds: 100 }
  max_sequence_idle_microseconds: 1000
  control_input [ { name: "steps" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT64 } ] } ]
  state [ { input_name: "xs" output_name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 1, -1, 3 ]
            initial_state: [ { data_type: TYPE_FP32 dims: [ 1, 2, 3 ] zero_data: true } ] } ]
}
parameters { key: "cocktail.inputs" value { string_value: "xs:f32[B<=4,T<=8,3] steps:i64" } }
""", "sequence")


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(3, 3))

    def forward(self, x: torch.Tensor, steps: int):
        for _ in range(steps):
            x = torch.tanh(torch.matmul(x, self.w))
        return x


def artifact_seeds(build):
    compile_ = os.path.join(build, "tools", "cocktail-compile")
    specs = ["--input", "x:f32[B<=2,3]", "--input", "steps:i64"]
    with tempfile.TemporaryDirectory() as tmp:
        pt, out, cuda = (os.path.join(tmp, n) for n in ("small.pt", "small.cocktail", "small-cuda.cocktail"))
        torch.jit.save(torch.jit.script(Small().eval()), pt)
        subprocess.run([compile_, pt, "-o", out, "--target", "cpu", *specs], check=True)
        data = open(out, "rb").read()
        # A CUDA artifact's host plan, for the plan's checks (a build with the CUDA backend only).
        one_arch = ["--target", "cuda", "--arch", "sm_80"]
        cuda_data = open(cuda, "rb").read() if subprocess.run([compile_, pt, "-o", cuda, *one_arch, *specs]).returncode == 0 else None
    put("artifact", b"\x00" + data, "small-file")
    put("artifact", b"\x01" + data[24:], "small-payload")  # the header is 24 bytes
    if cuda_data:
        put("artifact", b"\x01" + cuda_data[24:], "small-cuda-payload")


def inputs_file_seeds():
    cases = {
        "tensor-int": [torch.arange(6, dtype=torch.float32).reshape(2, 3), 3],
        "one-tensor": [torch.ones(4)],
        "mixed": [torch.zeros(2, 2, dtype=torch.int64), 1.5, True, None],
        "strided": [torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, 1:3]],
        "tuple": (torch.tensor([1, 0], dtype=torch.bool), torch.tensor(2.0, dtype=torch.float64)),
    }
    for name, value in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "in.pt")
            torch.save(value, path)
            data = open(path, "rb").read()
            with zipfile.ZipFile(path) as z:
                pickle = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
        put("inputs_file", b"\x00" + data, name + "-file")
        put("inputs_file", b"\x01" + pickle, name + "-pickle")


REQUESTS = {
    # The fuzzer's model: xs f32[B<=4,T<=8,3], mask i64[B,T], steps i64.
    "raw": """model_name: "model"
inputs { name: "xs" datatype: "FP32" shape: [1, 2, 3] }
inputs { name: "mask" datatype: "INT64" shape: [1, 2] }
inputs { name: "steps" datatype: "INT64" shape: [1] }
outputs { name: "OUTPUT__0" }
raw_input_contents: "\\000\\000\\200?\\000\\000\\000@\\000\\000@@\\000\\000\\200@\\000\\000\\240@\\000\\000\\300@"
raw_input_contents: "\\001\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
raw_input_contents: "\\002\\000\\000\\000\\000\\000\\000\\000"
""",
    "typed": """model_name: "model"
id: "7"
parameters { key: "timeout" value { int64_param: 1000000 } }
inputs { name: "INPUT__0" datatype: "FP32" shape: [2, 1, 3] contents { fp32_contents: [1, 2, 3, 4, 5, 6] } }
inputs { name: "INPUT__1" datatype: "INT64" shape: [2, 1] contents { int64_contents: [1, 0] } }
inputs { name: "INPUT__2" datatype: "INT64" shape: [1] contents { int64_contents: [4] } }
outputs { name: "OUTPUT__1" }
outputs { name: "OUTPUT__0" }
""",
}


def request_seeds():
    proto = os.path.join(ROOT, "proto")
    for name, text in REQUESTS.items():
        data = subprocess.run(["protoc", f"-I{proto}", "--encode=inference.ModelInferRequest",
                               os.path.join(proto, "grpc_service.proto")],
                              input=text.encode(), capture_output=True, check=True).stdout
        put("infer_request", data, name)


if __name__ == "__main__":
    ir_seeds()
    input_spec_seeds()
    model_config_seeds()
    artifact_seeds(sys.argv[1])
    inputs_file_seeds()
    request_seeds()
