"""Writes the model repository the server tests serve.

    /usr/bin/python3 make_repository.py OUT_DIR

Small scripted models with loops and branches, each with a Triton-style
config.pbtxt; `loop_ts` and `addmul_ts` are `loop` and `addmul` served by the
TorchScript interpreter (cocktail.backend "torchscript") instead of compiled.
Two models are deliberately broken (they must show as UNAVAILABLE in the
index, with their reasons, while the others serve).
"""
import os
import sys

import torch


class Loop(torch.nn.Module):
    """forward(xs: f32[T,4], steps: int): a recurrence run `steps` times."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(4, 4) * 0.1)

    def forward(self, xs: torch.Tensor, steps: int):
        h = torch.zeros(4)
        for _ in range(steps):
            for t in range(xs.size(0)):
                h = torch.tanh(xs[t] + torch.matmul(self.w, h))
        return h * 2.0


class AddMul(torch.nn.Module):
    """forward(x: f32[B,4], y: f32[B,4]) -> (x + y, x * y), with a branch."""

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        s = x + y
        if bool(s.sum() > 1e9):
            s = s * 0.0
        return s, x * y


class Raising(torch.nn.Module):
    """forward(x: f32[4]) -> x * 2, raising when x sums below zero."""

    def forward(self, x: torch.Tensor):
        if bool(x.sum() < 0):
            raise ValueError("x must not sum below zero")
        return x * 2.0


class ByteMask(torch.nn.Module):
    """forward(x: f32[B,T], mask: u8[B,T]) -> (x where mask is set, else 0; mask * 200, which wraps at 256)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        return x.masked_fill(mask == 0, 0.0), mask * 200


GRU_HIDDEN = 8  # the state's width


class GruChunk(torch.nn.Module):
    """One chunk of a GRU over x [B, T, 4] from state_in [B, 8]: returns the last
    hidden state, the state to keep, the controls it saw (start*100 + end*10 +
    ready) and the correlation ID."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.wz = torch.nn.Parameter(torch.randn(4, GRU_HIDDEN) * 0.4)
        self.uz = torch.nn.Parameter(torch.randn(GRU_HIDDEN, GRU_HIDDEN) * 0.3)
        self.wn = torch.nn.Parameter(torch.randn(4, GRU_HIDDEN) * 0.4)
        self.un = torch.nn.Parameter(torch.randn(GRU_HIDDEN, GRU_HIDDEN) * 0.3)

    def forward(self, x: torch.Tensor, state_in: torch.Tensor, start: torch.Tensor, end: torch.Tensor,
                ready: torch.Tensor, corrid: torch.Tensor):
        h = state_in
        for t in range(x.size(1)):
            xt = x[:, t]
            z = torch.sigmoid(torch.matmul(xt, self.wz) + torch.matmul(h, self.uz))
            n = torch.tanh(torch.matmul(xt, self.wn) + torch.matmul(h, self.un))
            h = (1.0 - z) * n + z * h
        info = start.to(torch.float32) * 100.0 + end * 10.0 + ready.to(torch.float32)
        return h, h * 1.0, info, corrid + 0


GRU_CONTROLS = """  control_input [
    { name: "start" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
    { name: "end" control [ { kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0, 1 ] } ] },
    { name: "ready" control [ { kind: CONTROL_SEQUENCE_READY bool_false_true: [ false, true ] } ] },
    { name: "corrid" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT64 } ] }
  ]
"""
GRU_CORRID = """,
    { name: "corrid" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT64 } ] }
"""


def gru_config(name, batch, strategy, idle_us, initial, corrid=True, specs_parameter=True):
    """A config.pbtxt with sequence_batching for GruChunk (test_sequences.py, test_perf_analyzer.py):
    max_batch_size 4 with `batch`, else 0 with a leading 1 in every shape; `strategy` is "direct { }" or
    "oldest { ... }"; `initial`: the state starts from initial_state/h0.bin; without `corrid` the client
    sends corrid as an input; without `specs_parameter` the specs come from the config, as Triton's."""
    b, lead = ("B<=4", "") if batch else ("1", "1, ")
    rows = "B" if batch else "1"
    specs = (f"x:f32[{b},T<=32,4] state_in:f32[{rows},{GRU_HIDDEN}] start:i32[{rows},1] end:f32[{rows},1] "
             f"ready:i1[{rows},1] corrid:i64[{rows},1]")
    extra_input = f', {{ name: "corrid" data_type: TYPE_INT64 dims: [ {lead}1 ] }}'  # sent by the client
    init = (' initial_state: [ { name: "h0" data_type: TYPE_FP32 dims: [ 1, 8 ] data_file: "h0.bin" } ]'
            if initial else "")
    return f"""name: "{name}"
backend: "pytorch"
max_batch_size: {4 if batch else 0}
input [ {{ name: "x" data_type: TYPE_FP32 dims: [ {lead}-1, 4 ] }}{"" if corrid else extra_input} ]
output [
  {{ name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ {lead}{GRU_HIDDEN} ] }},
  {{ name: "OUTPUT__2" data_type: TYPE_FP32 dims: [ {lead}1 ] }},
  {{ name: "OUTPUT__3" data_type: TYPE_INT64 dims: [ {lead}1 ] }}
]
instance_group [ {{ count: {1 if batch else 2} kind: KIND_CPU }} ]
sequence_batching {{
  {strategy}
  max_sequence_idle_microseconds: {idle_us}
{GRU_CONTROLS if corrid else GRU_CONTROLS.replace(GRU_CORRID, chr(10))}  state [ {{ input_name: "state_in" output_name: "OUTPUT__1" data_type: TYPE_FP32 dims: [ {lead}{GRU_HIDDEN} ]{init} }} ]
}}
""" + (f'parameters {{ key: "cocktail.inputs" value {{ string_value: "{specs}" }} }}\n' if specs_parameter else "")


def write(repo, name, module, config, version="1"):
    d = os.path.join(repo, name, version)
    os.makedirs(d, exist_ok=True)
    if module is not None:
        torch.jit.save(torch.jit.script(module.eval()), os.path.join(d, "model.pt"))
    with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
        f.write(config)


LOOP_CONFIG = """
name: "{name}"
backend: "pytorch"
max_batch_size: 0
input [
  {{ name: "xs" data_type: TYPE_FP32 dims: [ -1, 4 ] }},
  {{ name: "steps" data_type: TYPE_INT64 dims: [ 1 ] }}
]
output [ {{ name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] }} ]
instance_group [ {{ count: 2 kind: KIND_CPU }} ]
parameters {{ key: "cocktail.inputs" value {{ string_value: "xs:f32[T<=16,4] steps:i64" }} }}
"""

# Batchable: the first dim is the batch; names in the INPUT__n style; dims,
# dtypes and outputs come from the spec strings and the model's signature.
ADDMUL_CONFIG = """
platform: "pytorch_libtorch"
max_batch_size: 8
dynamic_batching { max_queue_delay_microseconds: 2000 }
parameters { key: "cocktail.inputs" value { string_value: "x:f32[B<=8,4] y:f32[B,4]" } }
"""


def backend(value):
    return f'parameters {{ key: "cocktail.backend" value {{ string_value: "{value}" }} }}\n'


def main(out):
    os.makedirs(out, exist_ok=True)
    write(out, "loop", Loop(), LOOP_CONFIG.format(name="loop"))
    write(out, "addmul", AddMul(), ADDMUL_CONFIG)
    # The same two on the TorchScript interpreter.
    write(out, "loop_ts", Loop(), LOOP_CONFIG.format(name="loop_ts") + backend("torchscript"))
    write(out, "addmul_ts", AddMul(), ADDMUL_CONFIG + backend("torchscript"))
    # A backend that does not exist: UNAVAILABLE, with a reason naming the parameter.
    write(out, "badbackend", Loop(), LOOP_CONFIG.format(name="badbackend") + backend("tvm"))
    # One instance and a queue of one: the back-pressure test fills it.
    write(out, "slow", Loop(), """
backend: "pytorch"
instance_group [ { count: 1 } ]
dynamic_batching { default_queue_policy { max_queue_size: 1 } }
parameters { key: "cocktail.inputs" value { string_value: "xs:f32[T<=16,4] steps:i64" } }
""")
    # Not TorchScript: must be UNAVAILABLE with a reason, not stop the server.
    write(out, "broken", None, 'backend: "pytorch"\nparameters { key: "cocktail.inputs" value { string_value: "x:f32[4]" } }\n')
    with open(os.path.join(out, "broken", "1", "model.pt"), "wb") as f:
        f.write(b"this is not a TorchScript archive")
    # Raises on a negative sum: the client gets INVALID_ARGUMENT with the message.
    write(out, "raising", Raising(), 'backend: "pytorch"\nparameters { key: "cocktail.inputs" value { string_value: "x:f32[4]" } }\n')
    # UINT8 in and out.
    write(out, "bytemask", ByteMask(),
          'backend: "pytorch"\nparameters { key: "cocktail.inputs" value { string_value: "x:f32[B<=4,T<=6] mask:u8[B,T]" } }\n')
    write_expected(out)


def write_expected(out):
    """expected.txt: cases for `loop`, one per three lines: "T steps", xs (T*4 floats), the output (4 floats)."""
    loop = torch.jit.script(Loop().eval())
    with open(os.path.join(out, "expected.txt"), "w") as f:
        for t, steps in [(3, 2), (16, 1), (1, 0), (5, 7)]:
            xs = torch.arange(t * 4, dtype=torch.float32).reshape(t, 4) / 10.0 - 0.5
            y = loop(xs, steps)
            f.write(f"{t} {steps}\n")
            f.write(" ".join(repr(float(v)) for v in xs.flatten()) + "\n")
            f.write(" ".join(repr(float(v)) for v in y.flatten()) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
