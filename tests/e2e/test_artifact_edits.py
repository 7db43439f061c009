"""Hand-edited memory plans and schedules in an artifact are refused at load,
naming the op and the attribute; never a crash.

    /usr/bin/python3 -m pytest -q tests/e2e/test_artifact_edits.py
"""
import re
import zlib

import pytest

from cli_harness import run_tool, describe, expect_clean_failure


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
def test_run_hand_edited_schedule_is_refused(cli_models, tmp_path, cli_inputs, name):
    edit, attribute, op_of = EDITS[name]
    data = cli_models["artifact"].read_bytes()
    text = program_text(data)
    edited = edit(text)
    assert edited != text, f"the edit {name} changed nothing in\n{text}"
    p = tmp_path / f"{name}.cocktail"
    p.write_bytes(edit_program(data, lambda _: edited))
    proc = run_tool("cocktail-run", p, "--inputs", cli_inputs)
    op = op_of(text)
    expect_clean_failure(proc, f"{name}.cocktail", "its program is invalid", attribute,
                         *([f"'{op}' op"] if op else []), max_lines=12)


def test_run_unedited_program_round_trips_through_the_editor(cli_models, tmp_path, cli_inputs):
    """The editor itself changes nothing: the artifact it rewrites still runs."""
    data = cli_models["artifact"].read_bytes()
    p = tmp_path / "same.cocktail"
    p.write_bytes(edit_program(data, lambda t: t))
    assert p.read_bytes() == data
    proc = run_tool("cocktail-run", p, "--inputs", cli_inputs, "--reference", cli_models["a"])
    assert proc.returncode == 0, describe(proc)
