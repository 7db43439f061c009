"""cocktail-run's profile (COCKTAIL_PROFILE) on a compiled model: the table
per kind of op, and by shape, where a fused convolution is one row per input
and weight; and --help, which names the environment variables.

    /usr/bin/python3 -m pytest -q tests/e2e/test_profile.py
"""
import os
import subprocess

import torch
from torch import nn

from conftest import compile_model, require_tool, save_module


class ConvBlock(nn.Module):
    """Two conv + batch_norm + relu blocks of different shapes."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1, stride=2, bias=False), nn.BatchNorm2d(32), nn.ReLU())

    def forward(self, x):
        return self.b(self.a(x))


def _run_profiled(tmp_path, profile: str) -> str:
    torch.manual_seed(0)
    model = save_module(ConvBlock(), tmp_path)
    artifact = tmp_path / "model.cocktail"
    compile_model(model, ["x:f32[1,8,12,12]"], artifact)
    inputs = tmp_path / "in.pt"
    torch.save([torch.randn(1, 8, 12, 12)], str(inputs))
    env = dict(os.environ, COCKTAIL_PROFILE=profile)
    proc = subprocess.run([str(require_tool("cocktail-run")), str(artifact), "--inputs", str(inputs), "-q",
                           "--repeat", "2", "--device", "cpu"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def _row(table: str, label: str) -> list:
    """The numbers after `label` on its row of the profile table."""
    for line in table.splitlines():
        if line.startswith(label + " "):
            return line[len(label):].split()
    raise AssertionError(f"no row {label!r} in\n{table}")


def test_profile_by_kind(tmp_path):
    table = _run_profiled(tmp_path, "1")
    assert "time per op (COCKTAIL_PROFILE)" in table
    # Both blocks fuse into their convolution; three runs of two ops each.
    assert _row(table, "fused")[0] == "6", table
    assert "f32[" not in table, table


def test_profile_by_shape(tmp_path):
    table = _run_profiled(tmp_path, "shapes")
    # One row per convolution: the head's kind, its input and its weight.
    assert _row(table, "fused(conv2d) f32[1,8,12,12] f32[16,8,3,3]")[0] == "3", table
    assert _row(table, "fused(conv2d) f32[1,16,12,12] f32[32,16,3,3]")[0] == "3", table


def test_help_names_the_environment():
    out = subprocess.run([str(require_tool("cocktail-run")), "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    for name in ("COCKTAIL_NUM_THREADS", "COCKTAIL_PROFILE=1", "COCKTAIL_PROFILE=shapes"):
        assert name in out, out
