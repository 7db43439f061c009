"""Bad input to cocktail-compile and cocktail-run: each case must exit non-zero
with a short error on stderr that names the problem, and must never crash
(no signal, no abort, no uncaught C++ exception).

The tools are taken from ``$COCKTAIL_BUILD_DIR/tools`` (default ``<repo>/build``).
Models are scripted here, into ``tmp_path``; nothing else is needed.

    /usr/bin/python3 -m pytest -q tests/e2e/test_cli_errors.py
"""
import io
import os
import re
import signal
import subprocess
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import List

import pytest
import torch
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("COCKTAIL_BUILD_DIR") or (REPO_ROOT / "build"))

SPECS = ["--input", "x:f32[T<=8,4]", "--input", "steps:i64"]

# Exit statuses that mean a crash when a shell reports them (128 + signal).
CRASH_CODES = {128 + signal.SIGABRT, 128 + signal.SIGSEGV, 128 + signal.SIGFPE, 128 + signal.SIGBUS,
               128 + signal.SIGILL}


def tool(name: str) -> Path:
    p = BUILD_DIR / "tools" / name
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.skip(f"{name} is not built: no executable {p} (set COCKTAIL_BUILD_DIR)")
    return p


def run_tool(name: str, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(tool(name)), *map(str, args)], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def describe(proc: subprocess.CompletedProcess) -> str:
    return (f"$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}")


def error_lines(proc: subprocess.CompletedProcess) -> List[str]:
    """stderr without the tools' progress lines."""
    return [l for l in proc.stderr.splitlines()
            if l.strip() and not l.startswith("cocktail-compile: translating")
            and not l.startswith("Run with --help")]


def expect_clean_failure(proc: subprocess.CompletedProcess, *substrings: str, exit_code=None, max_lines: int = 3):
    """Non-zero exit, no crash, a short stderr containing every substring."""
    why = describe(proc)
    assert proc.returncode != 0, "expected a failure\n" + why
    assert proc.returncode > 0, f"killed by signal {-proc.returncode}\n" + why
    assert proc.returncode not in CRASH_CODES, "crash exit status\n" + why
    for bad in ("terminate called", "Segmentation", "Aborted", "core dumped", "Traceback", "what():"):
        assert bad not in proc.stderr, f"stderr shows a crash ({bad!r})\n" + why
    if exit_code is not None:
        assert proc.returncode == exit_code, why
    lines = error_lines(proc)
    assert lines, "no error message on stderr\n" + why
    assert len(lines) <= max_lines, f"expected at most {max_lines} lines of error\n" + why
    for s in substrings:
        assert s in proc.stderr, f"stderr lacks {s!r}\n" + why


# ---- models ------------------------------------------------------------------------------------


class Loopy(nn.Module):
    """forward(x: Tensor, steps: int): `steps` times x = tanh(x * w)."""

    def __init__(self, scale: float):
        super().__init__()
        self.w = nn.Parameter(torch.full((4,), scale))

    def forward(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        for _ in range(steps):
            x = torch.tanh(x * self.w)
        return x


class FloorDiv(nn.Module):
    def forward(self, a: int, b: int) -> int:
        return a // b


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """Model A and B (same code, different weights) and A compiled."""
    d = tmp_path_factory.mktemp("cli_models")
    a, b = d / "a.pt", d / "b.pt"
    torch.jit.save(torch.jit.script(Loopy(0.5).eval()), str(a))
    torch.jit.save(torch.jit.script(Loopy(0.7).eval()), str(b))
    art = d / "a.cocktail"
    proc = run_tool("cocktail-compile", a, "-o", art, "-q", *SPECS)
    assert proc.returncode == 0, describe(proc)
    return {"a": a, "b": b, "artifact": art, "dir": d}


def save_inputs(path: Path, values) -> Path:
    torch.save(values, str(path))
    return path


@pytest.fixture
def good_inputs(tmp_path) -> Path:
    return save_inputs(tmp_path / "in.pt", [torch.randn(5, 4), 3])


def test_good_run_succeeds(models, good_inputs):
    """The baseline the failure cases vary from."""
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--reference", models["a"])
    assert proc.returncode == 0, describe(proc)
    assert "within" in proc.stdout


# ---- cocktail-compile --------------------------------------------------------------------------


def test_compile_missing_model(tmp_path):
    proc = run_tool("cocktail-compile", tmp_path / "nope.pt", "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "nope.pt", "no such file")
    assert not (tmp_path / "o.cocktail").exists()


def test_compile_directory_as_model(tmp_path):
    proc = run_tool("cocktail-compile", tmp_path, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, str(tmp_path), "is a directory")


def test_compile_random_bytes(tmp_path):
    p = tmp_path / "random.pt"
    p.write_bytes(os.urandom(2048))
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "random.pt", "is not a TorchScript file", "torch.jit.save")


def test_compile_text_file(tmp_path):
    p = tmp_path / "model.py"
    p.write_text("import torch\nprint('not a model')\n")
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "model.py", "is not a TorchScript file")


def test_compile_torch_save_file_is_not_torchscript(tmp_path):
    p = save_inputs(tmp_path / "weights.pt", [torch.randn(3)])
    proc = run_tool("cocktail-compile", p, "-o", tmp_path / "o.cocktail", *SPECS)
    expect_clean_failure(proc, "weights.pt", "is not a TorchScript file")


def test_compile_without_any_input(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail")
    # Names every argument the model takes, so the user knows what to write.
    expect_clean_failure(proc, "no --input", "x: Tensor", "steps: int")


def test_compile_missing_input_for_an_argument(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", "--input", "x:f32[T<=8,4]")
    # Names the argument, shows the signature and suggests a spec.
    expect_clean_failure(proc, "missing --input for argument 'steps'", "forward(x: Tensor, steps: int)",
                         "--input steps:i64")


def test_compile_missing_tensor_input_suggests_a_tensor_spec(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", "--input", "steps:i64")
    expect_clean_failure(proc, "missing --input for argument 'x'", "x:f32[")


class NotSelf(nn.Module):
    """forward's module parameter named other than `self`, as Python allows."""

    def __init__(m):
        super().__init__()
        m.lin = nn.Linear(4, 3)

    def forward(m, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.relu(m.lin(x)) + y


def test_module_parameter_need_not_be_named_self(tmp_path):
    model = tmp_path / "notself.pt"
    torch.jit.save(torch.jit.script(NotSelf().eval()), str(model))
    # The module is not an argument to give a spec for...
    proc = run_tool("cocktail-compile", model, "-o", tmp_path / "o.cocktail", "--input", "x:f32[2,4]")
    expect_clean_failure(proc, "missing --input for argument 'y'", "forward(x: Tensor, y: Tensor)")
    # ...and with one per real argument, the model compiles and matches TorchScript.
    artifact = tmp_path / "notself.cocktail"
    proc = run_tool("cocktail-compile", model, "-o", artifact, "--input", "x:f32[2,4]", "--input", "y:f32[2,3]")
    assert proc.returncode == 0, describe(proc)
    inputs = save_inputs(tmp_path / "in.pt", [torch.randn(2, 4), torch.randn(2, 3)])
    proc = run_tool("cocktail-run", artifact, "--inputs", inputs, "--reference", model, "-q")
    assert proc.returncode == 0 and "within rtol" in proc.stdout, describe(proc)


def test_compile_unknown_input_name(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--input", "y:f32[3]")
    expect_clean_failure(proc, "no argument named 'y'", "forward(x: Tensor, steps: int)")


def test_compile_bad_dtype(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:float32[T<=8,4]", "--input", "steps:i64")
    expect_clean_failure(proc, "invalid input spec 'x:float32[T<=8,4]'", "unknown dtype 'float32'", "f32")


@pytest.mark.parametrize("spec,problem", [
    ("x:f32[T<=8,4", "missing ']'"),
    ("x f32[4]", "missing ':'"),
    ("x:f32[4,,4]", "empty dimension"),
    ("x:f32[-2,4]", "negative dimension"),
    ("x:f32[T<=zero,4]", "the bound of 'T' must be a positive integer"),
    ("x:f32[T,4]", "symbol 'T' in input 'x' has no bound"),
    ("x:f32", "a scalar must be i64, f64 or i1"),
    ("9x:f32[4]", "is not a valid argument name"),
])
def test_compile_malformed_spec(models, tmp_path, spec, problem):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", "--input", spec,
                    "--input", "steps:i64")
    expect_clean_failure(proc, problem)


def test_compile_duplicate_input(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--input", "steps:i64")
    expect_clean_failure(proc, "input 'steps' is specified twice")


def test_compile_tensor_spec_for_int_argument(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:f32[T<=8,4]", "--input", "steps:i64[1]")
    expect_clean_failure(proc, "argument 'steps'", "the spec says i64[1]")


def test_compile_scalar_spec_for_tensor_argument(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail",
                    "--input", "x:f64", "--input", "steps:i64")
    expect_clean_failure(proc, "argument 'x'", "Tensor", "the spec says f64")


def test_compile_target_cuda_unknown_arch(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--target", "cuda",
                    "--arch", "sm_80,volta")
    # A build without the CUDA backend says so; one with it names the bad architecture.
    expect_clean_failure(proc, "CUDA")
    assert "'volta'" in proc.stderr or "no CUDA backend" in proc.stderr, describe(proc)
    assert not (tmp_path / "o.cocktail").exists()


def test_compile_unknown_target(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--target", "tpu")
    expect_clean_failure(proc, "--target", "tpu")


def test_compile_nothing_to_do(models):
    proc = run_tool("cocktail-compile", models["a"], *SPECS)
    expect_clean_failure(proc, "nothing to do", "-o", "--emit", exit_code=2)


def test_compile_unknown_method(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", *SPECS, "--method", "decode")
    expect_clean_failure(proc, "has no method 'decode'")


def test_compile_output_in_missing_directory(models, tmp_path):
    out = tmp_path / "no" / "such" / "o.cocktail"
    proc = run_tool("cocktail-compile", models["a"], "-o", out, *SPECS)
    expect_clean_failure(proc, "cannot write", str(out))


# ---- cocktail-run ------------------------------------------------------------------------------


def test_run_missing_artifact(tmp_path, good_inputs):
    proc = run_tool("cocktail-run", tmp_path / "nope.cocktail", "--inputs", good_inputs)
    expect_clean_failure(proc, "nope.cocktail", "No such file")


def test_run_truncated_artifact(models, tmp_path, good_inputs):
    data = models["artifact"].read_bytes()
    half = tmp_path / "half.cocktail"
    half.write_bytes(data[:len(data) // 2])
    proc = run_tool("cocktail-run", half, "--inputs", good_inputs)
    expect_clean_failure(proc, "half.cocktail", "truncated")


def test_run_header_only_artifact(models, tmp_path, good_inputs):
    head = tmp_path / "head.cocktail"
    head.write_bytes(models["artifact"].read_bytes()[:10])
    proc = run_tool("cocktail-run", head, "--inputs", good_inputs)
    expect_clean_failure(proc, "head.cocktail", "not a Cocktail artifact")


def test_run_torchscript_file_as_artifact(models, good_inputs):
    proc = run_tool("cocktail-run", models["a"], "--inputs", good_inputs)
    expect_clean_failure(proc, "a.pt", "not a Cocktail artifact", "cocktail-compile")


def test_run_random_bytes_as_artifact(tmp_path, good_inputs):
    p = tmp_path / "junk.cocktail"
    p.write_bytes(os.urandom(4096))
    proc = run_tool("cocktail-run", p, "--inputs", good_inputs)
    expect_clean_failure(proc, "junk.cocktail", "not a Cocktail artifact")


def test_run_artifact_of_newer_format(models, tmp_path, good_inputs):
    data = bytearray(models["artifact"].read_bytes())
    data[8:12] = (99).to_bytes(4, "little")
    p = tmp_path / "v99.cocktail"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", p, "--inputs", good_inputs)
    expect_clean_failure(proc, "v99.cocktail", "format version 99", "compiled by a newer cocktail-compile")


def test_run_artifact_of_older_format(models, tmp_path, good_inputs):
    # Format 2: before CUDA code carried its host plan.
    data = bytearray(models["artifact"].read_bytes())
    data[8:12] = (2).to_bytes(4, "little")
    p = tmp_path / "v2.cocktail"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", p, "--inputs", good_inputs)
    expect_clean_failure(proc, "v2.cocktail", "compiled by an older cocktail-compile", "format version 2",
                         "recompile it", exit_code=1)


# ---- hand-edited memory plans and schedules: refused at load, never a crash ---------------------
#
# The artifact is a header (magic, format version, payload size, CRC-32) and a
# protobuf payload whose field 6 is the scheduled program as IR text
# (proto/artifact.proto). These edit that text as a tool that also rewrites
# the checksum would (a hex editor alone is stopped by the checksum), and
# expect cocktail-run to name the op and the attribute.


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _read_varint(b: bytes, i: int):
    v = shift = 0
    while True:
        byte = b[i]
        i += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return v, i


def edit_program(data: bytes, edit) -> bytes:
    """The artifact `data` with its program text replaced by edit(text)."""
    payload, out, i = data[24:], bytearray(), 0
    while i < len(payload):
        start = i
        key, i = _read_varint(payload, i)
        wire = key & 7
        if wire == 0:
            _, i = _read_varint(payload, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            n, j = _read_varint(payload, i)
            i = j + n
            if key >> 3 == 6:
                text = edit(payload[j:i].decode()).encode()
                out += _varint(key) + _varint(len(text)) + text
                continue
        out += payload[start:i]
    # The header: magic, version, payload size, the payload's CRC-32 (a tool
    # that edits the payload must rewrite it, or the loader refuses the file).
    return data[:12] + len(out).to_bytes(8, "little") + zlib.crc32(bytes(out)).to_bytes(4, "little") + bytes(out)


def program_text(data: bytes) -> str:
    seen = []
    edit_program(data, lambda t: seen.append(t) or t)
    return seen[0]


def _first(pattern: str, text: str) -> re.Match:
    m = re.search(pattern, text, re.M)
    assert m, f"no line matches {pattern!r} in\n{text}"
    return m


def _arena(text: str) -> int:
    return int(_first(r"arena_bytes = (\d+)", text).group(1))


def _planned_op(text: str) -> re.Match:
    """The first op with one planned offset: groups (op, offset)."""
    return _first(r"= (\w+)\(.*\bmem = \[(\d+)\]", text)


def _set_first_offset(text: str, offset) -> str:
    m = _planned_op(text)
    return text[:m.start(2)] + str(offset) + text[m.end(2):]


def _overlap_carried(text: str) -> str:
    """A body op placed over the loop's carried buffer, which lives all loop long."""
    loop = _first(r"= loop\(.*\bmem = \[(\d+)\].*\{$", text)
    body = text[loop.end():]
    m = _first(r"= (\w+)\(.*\bmem = \[(\d+)\]", body)
    at = loop.end() + m.start(2)
    return text[:at] + loop.group(1) + text[loop.end() + m.end(2):]


def _op_of_first(pattern: str):
    return lambda text: _first(r"= (\w+)\(.*" + pattern, text).group(1)


EDITS = {
    # name: (edit, the attribute named, the op named (from the unedited text))
    "offset_past_the_arena": (lambda t: _set_first_offset(t, _arena(t)), "attribute 'mem'",
                              lambda t: _planned_op(t).group(1)),
    "offset_far_outside": (lambda t: _set_first_offset(t, 4000000000000), "attribute 'mem'",
                           lambda t: _planned_op(t).group(1)),
    "negative_offset": (lambda t: _set_first_offset(t, -5), "has offset -5, which is negative",
                        lambda t: _planned_op(t).group(1)),
    "arena_smaller_than_needed": (lambda t: re.sub(r"arena_bytes = \d+", "arena_bytes = 64", t),
                                  "outside the 64-byte arena (arena_bytes)", lambda t: None),
    "arena_int64_max": (lambda t: re.sub(r"arena_bytes = \d+", "arena_bytes = 9223372036854775807", t),
                        "'arena_bytes' = 9223372036854775807", lambda t: None),
    "two_live_tensors_overlapping": (_overlap_carried, "while both are live",
                                     lambda t: _first(r"= (\w+)\(.*\bmem = \[\d+\]",
                                                      t[_first(r"= loop\(.*\{$", t).end():]).group(1)),
    "placement_zzz": (lambda t: re.sub(r'placement = "\w+"', 'placement = "zzz"', t, count=1),
                      "attribute 'placement' = \"zzz\"", _op_of_first(r'placement = "')),
    "sync_bogus": (lambda t: re.sub(r'sync = "\w+"', 'sync = "bogus"', t, count=1),
                   "attribute 'sync' = \"bogus\"", _op_of_first(r'sync = "')),
    "tiles_zero": (lambda t: re.sub(r"tiles = \d+", "tiles = 0", t, count=1),
                   "attribute 'tiles' = 0 must be positive", _op_of_first(r"tiles = ")),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_run_hand_edited_schedule_is_refused(models, tmp_path, good_inputs, name):
    edit, attribute, op_of = EDITS[name]
    data = models["artifact"].read_bytes()
    text = program_text(data)
    edited = edit(text)
    assert edited != text, f"the edit {name} changed nothing in\n{text}"
    p = tmp_path / f"{name}.cocktail"
    p.write_bytes(edit_program(data, lambda _: edited))
    proc = run_tool("cocktail-run", p, "--inputs", good_inputs)
    op = op_of(text)
    expect_clean_failure(proc, f"{name}.cocktail", "its program is invalid", attribute,
                         *([f"'{op}' op"] if op else []), max_lines=12)


def test_run_unedited_program_round_trips_through_the_editor(models, tmp_path, good_inputs):
    """The editor itself changes nothing: the artifact it rewrites still runs."""
    data = models["artifact"].read_bytes()
    p = tmp_path / "same.cocktail"
    p.write_bytes(edit_program(data, lambda t: t))
    assert p.read_bytes() == data
    proc = run_tool("cocktail-run", p, "--inputs", good_inputs, "--reference", models["a"])
    assert proc.returncode == 0, describe(proc)


def test_run_directory_as_artifact(tmp_path, good_inputs):
    proc = run_tool("cocktail-run", tmp_path, "--inputs", good_inputs)
    expect_clean_failure(proc, "is a directory")


def test_run_missing_inputs_file(models, tmp_path):
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", tmp_path / "nope.pt")
    expect_clean_failure(proc, "nope.pt", "No such file")


def test_run_inputs_not_a_torch_save_file(models, tmp_path):
    p = tmp_path / "inputs.txt"
    p.write_text("1 2 3\n")
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "inputs.txt", "is not a file written by torch.save")


def test_run_inputs_random_bytes(models, tmp_path):
    p = tmp_path / "inputs.pt"
    p.write_bytes(os.urandom(1000))
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "inputs.pt", "is not a file written by torch.save")


def test_run_inputs_truncated(models, tmp_path, good_inputs):
    data = good_inputs.read_bytes()
    p = tmp_path / "cut.pt"
    p.write_bytes(data[:len(data) // 2])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "cut.pt", "torch.save")


def test_run_inputs_not_a_list(models, tmp_path):
    p = save_inputs(tmp_path / "tensor.pt", torch.randn(5, 4))
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "tensor.pt", "must hold a list of inputs")


def test_run_inputs_dict_of_two(models, tmp_path):
    p = save_inputs(tmp_path / "dict.pt", {"x": torch.randn(5, 4), "steps": 3})
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "dict.pt", "must hold a list of inputs")


def test_run_inputs_dict_of_one(models, tmp_path):
    p = save_inputs(tmp_path / "dict1.pt", {"x": torch.randn(5, 4)})
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "dict1.pt", "must hold a list of inputs")


def test_run_inputs_unsupported_element(models, tmp_path):
    p = save_inputs(tmp_path / "str.pt", ["hello", 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "str.pt", "element 0", "String", "not supported")


def test_run_inputs_unsupported_element_message_has_one_error_prefix(models, tmp_path):
    p = save_inputs(tmp_path / "str.pt", ["hello", 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "element 0")
    assert proc.stderr.count("error:") == 1, describe(proc)


def test_run_inputs_unsupported_dtype(models, tmp_path):
    p = save_inputs(tmp_path / "cplx.pt", [torch.randn(5, 4, dtype=torch.complex64), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "cplx.pt", "element 0", "ComplexFloat")


def test_run_directory_as_inputs(models, tmp_path):
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", tmp_path)
    expect_clean_failure(proc, str(tmp_path))


def test_run_wrong_input_count(models, tmp_path):
    p = save_inputs(tmp_path / "one.pt", [torch.randn(5, 4)])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "expected 2 inputs", "got 1", "forward(x: f32[T<=8,4], steps: i64)")


def test_run_too_many_inputs(models, tmp_path):
    p = save_inputs(tmp_path / "three.pt", [torch.randn(5, 4), 3, 4])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "expected 2 inputs", "got 3")


class ForgedTensor:
    """Pickles, through torch.save, as a tensor of the given geometry over a real
    storage, the way a corrupted or hand-made inputs file can say it: torch.save's
    pickle gives offset, sizes and strides apart from the storage, and nothing on
    the writing side checks them against each other."""

    def __init__(self, storage_elems: int, offset: int, size, stride):
        self.storage = torch.arange(storage_elems, dtype=torch.float32).storage()
        self.geometry = (offset, tuple(size), tuple(stride))

    def __reduce__(self):
        offset, size, stride = self.geometry
        return (torch._utils._rebuild_tensor_v2, (self.storage, offset, size, stride, False, OrderedDict()))


@pytest.mark.parametrize("offset,size,stride,why", [
    (20, (5, 4), (4, 1), "offset past the end"),
    (0, (5, 8), (8, 1), "more elements than the storage"),
    # LibTorch replaces a negative stride by the contiguous one as it loads; with
    # that stride this offset reaches past the storage.
    (1, (5, 4), (-1, 1), "negative stride"),
    (-3, (5, 4), (4, 1), "negative offset"),
    (0, (5, 4), (2**62, 1), "stride overflowing int64"),
])
def test_run_inputs_tensor_outside_its_storage(models, tmp_path, offset, size, stride, why):
    p = save_inputs(tmp_path / "forged.pt", [ForgedTensor(20, offset, size, stride), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "forged.pt", "element 0")
    assert "storage" in proc.stderr or "negative" in proc.stderr, describe(proc)
    assert not re.search(r"\b\d{12,}\b", proc.stderr.replace(str(2**62), "")), "a pointer-like number in\n" + describe(proc)


def test_run_inputs_tensor_sharing_a_storage_is_read_as_its_view(models, tmp_path):
    """The check refuses only what reaches outside the storage: a view with an
    offset and strides inside it is read as the view it is."""
    p = save_inputs(tmp_path / "view.pt", [ForgedTensor(40, 3, (5, 4), (8, 1)), 2])
    out = tmp_path / "out.pt"
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p, "--outputs", out, "-q")
    assert proc.returncode == 0, describe(proc)
    x = torch.arange(40, dtype=torch.float32).as_strided((5, 4), (8, 1), 3)
    want = torch.tanh(torch.tanh(x * 0.5) * 0.5)
    torch.testing.assert_close(torch.load(str(out))[0], want, rtol=1e-5, atol=1e-6)


def test_run_inputs_storage_shorter_than_its_pickle_says(models, tmp_path):
    """A file whose storage record holds fewer bytes than its pickle gives the
    storage: LibTorch 1.13 sizes the storage from the pickle, so it would be
    read past the record's end (found while writing tests/fuzz/inputs_file_fuzzer)."""
    whole = save_inputs(tmp_path / "whole.pt", [torch.randn(5, 4), 3])
    short = tmp_path / "short.pt"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(short, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data[:16] if info.filename.endswith("/data/0") else data)
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", short)
    expect_clean_failure(proc, "short.pt", "storage 'data/0' claims 80 bytes, but the file holds 16")


def rewrite_record(src: Path, dst: Path, suffix: str, edit) -> Path:
    """A copy of the torch.save file `src` with the record ending in `suffix`
    replaced by edit(its bytes), CRCs and sizes written right by zipfile."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename.endswith(suffix) else data)
    return dst


def test_run_inputs_expanded_tensor_larger_than_any_input(models, tmp_path):
    """A stride-0 tensor of 2^34 elements over a one-element storage: made
    dense, it would take 64 GiB; it is refused against the signature first."""
    p = save_inputs(tmp_path / "expanded.pt", [ForgedTensor(1, 0, (2**17, 2**17), (0, 0)), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "expanded.pt", "element 0: a Float tensor of shape [131072, 131072] takes 68719476736 "
                         "bytes, more than the limit of 128 bytes (the largest input of forward(x: f32[T<=8,4], "
                         "steps: i64) at its bounds)")


def test_run_inputs_string_longer_than_the_pickle(models, tmp_path, good_inputs):
    """A BINUNICODE whose length says 2 GiB: LibTorch 1.13 reserves the string
    before reading it (the inputs_file fuzzer's out-of-memory input)."""
    def lengthen(pickle: bytes) -> bytes:
        at = pickle.index(b"X\x07\x00\x00\x00storage")
        return pickle[:at + 1] + b"\xff\xff\xff\x7f" + pickle[at + 5:]
    p = rewrite_record(good_inputs, tmp_path / "long_string.pt", "/data.pkl", lengthen)
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "long_string.pt", "is not a file written by torch.save",
                         "the pickle's opcode 0x58 at byte", "reaches past the pickle's end")


def test_run_inputs_memo_index_skipping_ahead(models, tmp_path, good_inputs):
    """LONG_BINPUT 2^32-1 where Python numbers memo entries 0, 1, 2, ...:
    LibTorch 1.13 would grow its memo table to 4 billion entries."""
    def skip_ahead(pickle: bytes) -> bytes:
        at = pickle.index(b"q\x01")
        return pickle[:at] + b"r\xff\xff\xff\xff" + pickle[at + 2:]
    p = rewrite_record(good_inputs, tmp_path / "memo.pt", "/data.pkl", skip_ahead)
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "memo.pt", "stores memo entry 4294967295, but only 1 are defined before it")


def record_offsets(data: bytes, suffix: str):
    """(central directory header, first data byte) of the record ending in `suffix`."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(suffix))
    name = info.filename.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    local = info.header_offset
    first = local + 30 + int.from_bytes(data[local + 26:local + 28], "little") + \
        int.from_bytes(data[local + 28:local + 30], "little")
    return central, first


def test_run_inputs_record_claiming_more_than_the_file(models, tmp_path, good_inputs):
    """A central directory that gives data/0 2 GiB: LibTorch's zip reader
    allocates a record at its declared size before reading it."""
    data = bytearray(good_inputs.read_bytes())
    central, _ = record_offsets(bytes(data), "/data/0")
    data[central + 20:central + 28] = (0x7fffffff).to_bytes(4, "little") * 2
    p = tmp_path / "huge_record.pt"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "huge_record.pt", "record 'in/data/0' claims 2147483647 bytes", "past the file's end")


def test_run_inputs_corrupt_record_fails_its_crc(models, tmp_path, good_inputs):
    data = bytearray(good_inputs.read_bytes())
    _, first = record_offsets(bytes(data), "/data/0")
    data[first + 5] ^= 0x10
    p = tmp_path / "flipped.pt"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "flipped.pt", "record 'in/data/0' is corrupt: its CRC-32 is")


def test_run_timeout_stops_a_long_loop(models, tmp_path):
    p = save_inputs(tmp_path / "long.pt", [torch.randn(5, 4), 2**31])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p, "--timeout", "0.3")
    expect_clean_failure(proc, "stopped at step", "the deadline passed")


def test_run_refuses_a_trip_count_over_the_limit(models, tmp_path):
    p = save_inputs(tmp_path / "huge.pt", [torch.randn(5, 4), 2**62])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "would run 4611686018427387904 steps, over the limit of 4294967296")
    p3 = save_inputs(tmp_path / "three.pt", [torch.randn(5, 4), 3])
    expect_clean_failure(run_tool("cocktail-run", models["artifact"], "--inputs", p3, "--max-loop-trips", "2"),
                         "would run 3 steps, over the limit of 2")
    assert run_tool("cocktail-run", models["artifact"], "--inputs", p3, "--max-loop-trips", "3").returncode == 0


def test_run_wrong_dtype(models, tmp_path):
    p = save_inputs(tmp_path / "f64.pt", [torch.randn(5, 4, dtype=torch.float64), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dtype f32", "f64")


def test_run_float_for_int_argument(models, tmp_path):
    p = save_inputs(tmp_path / "float.pt", [torch.randn(5, 4), 2.5])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'steps'", "i64", "2.5")


def test_run_rank_mismatch(models, tmp_path):
    p = save_inputs(tmp_path / "rank.pt", [torch.randn(5, 4, 1), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "rank 2", "f32[5, 4, 1]")


def test_run_constant_dim_mismatch(models, tmp_path):
    p = save_inputs(tmp_path / "dim.pt", [torch.randn(5, 3), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dim 1 must be 4, got 3")


def test_run_dim_above_symbolic_bound(models, tmp_path):
    p = save_inputs(tmp_path / "big.pt", [torch.randn(9, 4), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "input 'x'", "dim 0 is 9", "T<=8")


def test_run_dim_at_symbolic_bound_is_fine(models, tmp_path):
    p = save_inputs(tmp_path / "edge.pt", [torch.randn(8, 4), 3])
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", p, "--reference", models["a"])
    assert proc.returncode == 0, describe(proc)


def test_run_reference_missing(models, good_inputs, tmp_path):
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--reference", tmp_path / "gone.pt")
    expect_clean_failure(proc, "cannot load reference model", "gone.pt")


def test_run_reference_not_torchscript(models, good_inputs, tmp_path):
    p = tmp_path / "ref.txt"
    p.write_text("nope\n")
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--reference", p)
    expect_clean_failure(proc, "cannot load reference model", "ref.txt")


def test_run_reference_differs(models, good_inputs):
    """Compiled from A, compared with B (other weights): exit 1 and say so."""
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--reference", models["b"])
    assert proc.returncode == 5, describe(proc)
    assert "EXCEEDS" in proc.stdout, describe(proc)
    assert "terminate called" not in proc.stderr


def test_run_device_cuda_not_available(models, good_inputs):
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--device", "cuda")
    expect_clean_failure(proc, "--device cuda", "--device cpu")


def test_run_without_inputs_option(models):
    proc = run_tool("cocktail-run", models["artifact"])
    expect_clean_failure(proc, "--inputs", "required")


def test_run_outputs_into_missing_directory(models, good_inputs, tmp_path):
    out = tmp_path / "no" / "o.pt"
    proc = run_tool("cocktail-run", models["artifact"], "--inputs", good_inputs, "--outputs", out, "-q")
    expect_clean_failure(proc, "cannot write", str(out))


@pytest.fixture(scope="module")
def floordiv_artifact(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("floordiv")
    m = d / "fd.pt"
    torch.jit.save(torch.jit.script(FloorDiv()), str(m))
    art = d / "fd.cocktail"
    proc = run_tool("cocktail-compile", m, "-o", art, "-q", "--input", "a:i64", "--input", "b:i64")
    assert proc.returncode == 0, describe(proc)
    return art


def test_run_integer_division_by_zero(floordiv_artifact, tmp_path):
    p = save_inputs(tmp_path / "zero.pt", [7, 0])
    proc = run_tool("cocktail-run", floordiv_artifact, "--inputs", p)
    expect_clean_failure(proc, "floordiv", "division by zero", "test_cli_errors.py", max_lines=4)
    # Python raises ZeroDivisionError: the input's fault, not the compiler's.
    assert proc.returncode == 1, describe(proc)


def test_run_integer_floordiv_overflow_does_not_crash(floordiv_artifact, tmp_path):
    p = save_inputs(tmp_path / "min.pt", [-2 ** 63, -1])
    proc = run_tool("cocktail-run", floordiv_artifact, "--inputs", p)
    # TorchScript's int wraps here; the CPU executor refuses the overflow as the input's (exit 1).
    assert proc.returncode == 1 and "overflow in floor division" in proc.stderr, describe(proc)
    assert "terminate called" not in proc.stderr, describe(proc)


class RaisesOnNegativeSum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() < 0):
            raise ValueError("the input sums to a negative number")
        return x * 2.0


def test_run_model_raise_reports_its_message(tmp_path):
    # TorchScript's `raise` becomes the IR's raise op: a taken one fails the
    # run with the model's message and the line it is on; an untaken one is free.
    pt = tmp_path / "raises.pt"
    torch.jit.save(torch.jit.script(RaisesOnNegativeSum()), str(pt))
    art = tmp_path / "raises.cocktail"
    proc = run_tool("cocktail-compile", pt, "-o", art, "--input", "x:f32[3]", "--strict")
    assert proc.returncode == 0, describe(proc)
    ok = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "pos.pt", [torch.ones(3)]))
    assert ok.returncode == 0, describe(ok)
    proc = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "neg.pt", [-torch.ones(3)]))
    expect_clean_failure(proc, "negative number", "test_cli_errors.py:", exit_code=1)


class StacksWhatTheLoopAppends(nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
        outs: List[torch.Tensor] = []
        for i in range(n):
            outs.append(x * float(i))
        return torch.stack(outs)


def test_run_stack_of_a_list_no_step_appended_to_fails_like_pytorch(tmp_path):
    # A list appended to in a loop that ran zero times is empty: torch.stack
    # raises in PyTorch, and the compiled model fails the run with its message.
    module = torch.jit.script(StacksWhatTheLoopAppends())
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        module(torch.ones(3), 0)
    pt = tmp_path / "stacks.pt"
    torch.jit.save(module, str(pt))
    art = tmp_path / "stacks.cocktail"
    proc = run_tool("cocktail-compile", pt, "-o", art, "--input", "x:f32[3]", "--input", "n:i64", "--strict")
    assert proc.returncode == 0, describe(proc)
    ok = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "two.pt", [torch.ones(3), 2]), "--reference", pt)
    assert ok.returncode == 0, describe(ok)
    proc = run_tool("cocktail-run", art, "--inputs", save_inputs(tmp_path / "zero.pt", [torch.ones(3), 0]))
    expect_clean_failure(proc, "stack expects a non-empty TensorList", "test_cli_errors.py:")


# ---- exit statuses by kind (tools/ExitCode.h) ---------------------------------------------------
#
# 1 user error, 2 a bad command line, 3 an unsupported construct, 4 an internal
# error (tests/tools: no command line reaches one on purpose), 5 a --reference
# mismatch (test_run_reference_differs); every --help says so.

@pytest.mark.parametrize("name, args", [("cocktail-compile", ["--no-such-flag"]), ("cocktail-run", []),
                                        ("opt/cocktail-opt", ["--no-such-flag"])])
def test_a_bad_command_line_exits_2(name, args):
    proc = run_tool(name, *args)
    assert proc.returncode == 2, describe(proc)
    assert "terminate called" not in proc.stderr


def test_a_user_error_exits_1(models, tmp_path):
    proc = run_tool("cocktail-compile", models["a"], "-o", tmp_path / "o.cocktail", "--input", "x:f33[T<=8,4]",
                    "--input", "steps:i64")
    expect_clean_failure(proc, "f33", exit_code=1)
    bad_ir = tmp_path / "bad.ir"
    bad_ir.write_text("func @forward(%x: f32[4]) -> (f32[4]) {\n  return(%y)\n}\n")
    expect_clean_failure(run_tool("opt/cocktail-opt", bad_ir), "%y", exit_code=1)


class UsesCumprod(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(x, 0) + 1.0


def test_an_unsupported_construct_exits_3(tmp_path):
    pt = tmp_path / "cumprod.pt"
    torch.jit.save(torch.jit.script(UsesCumprod()), str(pt))
    proc = run_tool("cocktail-compile", pt, "-o", tmp_path / "o.cocktail", "--input", "x:f32[4]", "--strict")
    expect_clean_failure(proc, "aten::cumprod", "is not supported by the compiler", exit_code=3)
    # The CUDA generator's refusal is of the same kind (where this build has it).
    cuda_case = REPO_ROOT / "tests" / "cuda" / "unsupported-op.ir"
    proc = run_tool("opt/cocktail-opt", cuda_case, "--split-input-file", "--emit-cuda")
    if "--emit-cuda" not in run_tool("opt/cocktail-opt", "--help").stdout:
        return
    assert proc.returncode == 3, describe(proc)
    assert "not supported by the CUDA generator yet" in proc.stderr, describe(proc)


@pytest.mark.parametrize("name", ["cocktail-compile", "cocktail-run", "opt/cocktail-opt"])
def test_help_lists_the_exit_statuses(name):
    proc = run_tool(name, "--help")
    assert proc.returncode == 0, describe(proc)
    assert "Exit status:" in proc.stdout, describe(proc)
    for line in ["0  success", "1  user error", "2  a bad command line", "3  unsupported", "4  internal error"]:
        assert line in proc.stdout, f"--help lacks {line!r}\n" + describe(proc)
    assert ("5  the outputs differ" in proc.stdout) == (name == "cocktail-run"), describe(proc)
