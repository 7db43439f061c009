"""Bad inputs files given to cocktail-run (torch.save archives, trusted no more
than any outside input): forged tensors, truncated or corrupt records,
pickles that lie about sizes. Each gets a clear error, never a crash or an
out-of-bounds read.

    /usr/bin/python3 -m pytest -q tests/e2e/test_inputs_file_errors.py
"""
import io
import os
import re
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from cli_harness import run_tool, describe, expect_clean_failure, save_inputs


def test_run_missing_inputs_file(cli_models, tmp_path):
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", tmp_path / "nope.pt")
    expect_clean_failure(proc, "nope.pt", "No such file")


def test_run_inputs_not_a_torch_save_file(cli_models, tmp_path):
    p = tmp_path / "inputs.txt"
    p.write_text("1 2 3\n")
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "inputs.txt", "is not a file written by torch.save")


def test_run_inputs_random_bytes(cli_models, tmp_path):
    p = tmp_path / "inputs.pt"
    p.write_bytes(os.urandom(1000))
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "inputs.pt", "is not a file written by torch.save")


def test_run_inputs_truncated(cli_models, tmp_path, cli_inputs):
    data = cli_inputs.read_bytes()
    p = tmp_path / "cut.pt"
    p.write_bytes(data[:len(data) // 2])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "cut.pt", "torch.save")


def test_run_inputs_not_a_list(cli_models, tmp_path):
    p = save_inputs(tmp_path / "tensor.pt", torch.randn(5, 4))
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "tensor.pt", "must hold a list of inputs")


def test_run_inputs_dict_of_two(cli_models, tmp_path):
    p = save_inputs(tmp_path / "dict.pt", {"x": torch.randn(5, 4), "steps": 3})
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "dict.pt", "must hold a list of inputs")


def test_run_inputs_dict_of_one(cli_models, tmp_path):
    p = save_inputs(tmp_path / "dict1.pt", {"x": torch.randn(5, 4)})
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "dict1.pt", "must hold a list of inputs")


def test_run_inputs_unsupported_element(cli_models, tmp_path):
    p = save_inputs(tmp_path / "str.pt", ["hello", 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "str.pt", "element 0", "String", "not supported")


def test_run_inputs_unsupported_element_message_has_one_error_prefix(cli_models, tmp_path):
    p = save_inputs(tmp_path / "str.pt", ["hello", 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "element 0")
    assert proc.stderr.count("error:") == 1, describe(proc)


def test_run_inputs_unsupported_dtype(cli_models, tmp_path):
    p = save_inputs(tmp_path / "cplx.pt", [torch.randn(5, 4, dtype=torch.complex64), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "cplx.pt", "element 0", "ComplexFloat")


def test_run_directory_as_inputs(cli_models, tmp_path):
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", tmp_path)
    expect_clean_failure(proc, str(tmp_path))


def test_run_wrong_input_count(cli_models, tmp_path):
    p = save_inputs(tmp_path / "one.pt", [torch.randn(5, 4)])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "expected 2 inputs", "got 1", "forward(x: f32[T<=8,4], steps: i64)")


def test_run_too_many_inputs(cli_models, tmp_path):
    p = save_inputs(tmp_path / "three.pt", [torch.randn(5, 4), 3, 4])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
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
def test_run_inputs_tensor_outside_its_storage(cli_models, tmp_path, offset, size, stride, why):
    p = save_inputs(tmp_path / "forged.pt", [ForgedTensor(20, offset, size, stride), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "forged.pt", "element 0")
    assert "storage" in proc.stderr or "negative" in proc.stderr, describe(proc)
    assert not re.search(r"\b\d{12,}\b", proc.stderr.replace(str(2**62), "")), "a pointer-like number in\n" + describe(proc)


def test_run_inputs_tensor_sharing_a_storage_is_read_as_its_view(cli_models, tmp_path):
    """The check refuses only what reaches outside the storage: a view with an
    offset and strides inside it is read as the view it is."""
    p = save_inputs(tmp_path / "view.pt", [ForgedTensor(40, 3, (5, 4), (8, 1)), 2])
    out = tmp_path / "out.pt"
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p, "--outputs", out, "-q")
    assert proc.returncode == 0, describe(proc)
    x = torch.arange(40, dtype=torch.float32).as_strided((5, 4), (8, 1), 3)
    want = torch.tanh(torch.tanh(x * 0.5) * 0.5)
    torch.testing.assert_close(torch.load(str(out))[0], want, rtol=1e-5, atol=1e-6)


def test_run_inputs_storage_shorter_than_its_pickle_says(cli_models, tmp_path):
    """A file whose storage record holds fewer bytes than its pickle gives the
    storage: LibTorch 1.13 sizes the storage from the pickle, so it would be
    read past the record's end (found while writing tests/fuzz/inputs_file_fuzzer)."""
    whole = save_inputs(tmp_path / "whole.pt", [torch.randn(5, 4), 3])
    short = tmp_path / "short.pt"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(short, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data[:16] if info.filename.endswith("/data/0") else data)
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", short)
    expect_clean_failure(proc, "short.pt", "storage 'data/0' claims 80 bytes, but the file holds 16")


def rewrite_record(src: Path, dst: Path, suffix: str, edit) -> Path:
    """A copy of the torch.save file `src` with the record ending in `suffix`
    replaced by edit(its bytes), CRCs and sizes written right by zipfile."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename.endswith(suffix) else data)
    return dst


def test_run_inputs_expanded_tensor_larger_than_any_input(cli_models, tmp_path):
    """A stride-0 tensor of 2^34 elements over a one-element storage: made
    dense, it would take 64 GiB; it is refused against the signature first."""
    p = save_inputs(tmp_path / "expanded.pt", [ForgedTensor(1, 0, (2**17, 2**17), (0, 0)), 3])
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "expanded.pt", "element 0: a Float tensor of shape [131072, 131072] takes 68719476736 "
                         "bytes, more than the limit of 128 bytes (the largest input of forward(x: f32[T<=8,4], "
                         "steps: i64) at its bounds)")


def test_run_inputs_string_longer_than_the_pickle(cli_models, tmp_path, cli_inputs):
    """A BINUNICODE whose length says 2 GiB: LibTorch 1.13 reserves the string
    before reading it (the inputs_file fuzzer's out-of-memory input)."""
    def lengthen(pickle: bytes) -> bytes:
        at = pickle.index(b"X\x07\x00\x00\x00storage")
        return pickle[:at + 1] + b"\xff\xff\xff\x7f" + pickle[at + 5:]
    p = rewrite_record(cli_inputs, tmp_path / "long_string.pt", "/data.pkl", lengthen)
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "long_string.pt", "is not a file written by torch.save",
                         "the pickle's opcode 0x58 at byte", "reaches past the pickle's end")


def test_run_inputs_memo_index_skipping_ahead(cli_models, tmp_path, cli_inputs):
    """LONG_BINPUT 2^32-1 where Python numbers memo entries 0, 1, 2, ...:
    LibTorch 1.13 would grow its memo table to 4 billion entries."""
    def skip_ahead(pickle: bytes) -> bytes:
        at = pickle.index(b"q\x01")
        return pickle[:at] + b"r\xff\xff\xff\xff" + pickle[at + 2:]
    p = rewrite_record(cli_inputs, tmp_path / "memo.pt", "/data.pkl", skip_ahead)
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
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


def test_run_inputs_record_claiming_more_than_the_file(cli_models, tmp_path, cli_inputs):
    """A central directory that gives data/0 2 GiB: LibTorch's zip reader
    allocates a record at its declared size before reading it."""
    data = bytearray(cli_inputs.read_bytes())
    central, _ = record_offsets(bytes(data), "/data/0")
    data[central + 20:central + 28] = (0x7fffffff).to_bytes(4, "little") * 2
    p = tmp_path / "huge_record.pt"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "huge_record.pt", "record 'in/data/0' claims 2147483647 bytes", "past the file's end")


def test_run_inputs_corrupt_record_fails_its_crc(cli_models, tmp_path, cli_inputs):
    data = bytearray(cli_inputs.read_bytes())
    _, first = record_offsets(bytes(data), "/data/0")
    data[first + 5] ^= 0x10
    p = tmp_path / "flipped.pt"
    p.write_bytes(bytes(data))
    proc = run_tool("cocktail-run", cli_models["artifact"], "--inputs", p)
    expect_clean_failure(proc, "flipped.pt", "record 'in/data/0' is corrupt: its CRC-32 is")
