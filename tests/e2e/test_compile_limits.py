"""What cocktail-compile refuses before anything runs: input specs that
contradict a weight's shape (caught by shape inference, at the op's source
line) and inputs or memory plans past the arena limit (--max-arena-bytes,
16 GiB by default). Each is one clear error line, exit status 1, never a
crash or a LibTorch backtrace.

    /usr/bin/python3 -m pytest -q tests/e2e/test_compile_limits.py
"""
import torch
from torch import nn

from cli_harness import expect_clean_failure, run_tool


class Projection(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(512, 256)

    def forward(self, x):
        return self.proj(x)


class Product(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(512, 4))

    def forward(self, x):
        return torch.matmul(x, self.w)


class Convolution(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x)


class Outer(nn.Module):
    """Its memory plan is far larger than its input: [N, 64] -> [N, 64, 64]."""

    def forward(self, x):
        return x.unsqueeze(2) * x.unsqueeze(1)


def save(module: nn.Module, tmp_path) -> str:
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(module.eval()), str(path))
    return str(path)


def compile_spec(tmp_path, module, *args):
    return run_tool("cocktail-compile", save(module, tmp_path), "-o", tmp_path / "out.cocktail", *args)


def no_backtrace(proc):
    assert "Exception raised from" not in proc.stderr and "frame #" not in proc.stderr, proc.stderr


def test_linear_input_wider_than_its_weight_is_a_compile_error_at_the_op(tmp_path):
    proc = compile_spec(tmp_path, Projection(), "--input", "x:f32[1,513]")
    expect_clean_failure(proc, "'linear' op", "513 features", "f32[256,512] takes 512", "test_compile_limits.py:",
                         exit_code=1, max_lines=1)
    no_backtrace(proc)
    assert not (tmp_path / "out.cocktail").exists()
    # The spec that fits compiles.
    ok = compile_spec(tmp_path, Projection(), "--input", "x:f32[B<=4,512]")
    assert ok.returncode == 0, ok.stderr


def test_matmul_inner_dims_that_differ_are_a_compile_error(tmp_path):
    proc = compile_spec(tmp_path, Product(), "--input", "x:f32[2,513]")
    expect_clean_failure(proc, "'matmul' op", "f32[2,513] by f32[512,4]", "inner dims 513 and 512",
                         "test_compile_limits.py:", exit_code=1, max_lines=1)


def test_conv2d_channels_that_differ_are_a_compile_error(tmp_path):
    proc = compile_spec(tmp_path, Convolution(), "--input", "x:f32[1,4,16,16]")
    expect_clean_failure(proc, "'conv2d' op", "4 channels", "takes 3", "test_compile_limits.py:", exit_code=1,
                         max_lines=1)


def test_a_symbolic_dim_is_not_a_contradiction(tmp_path):
    # F <= 1024 may be 512 at run time: only dims known on both sides are judged.
    proc = compile_spec(tmp_path, Projection(), "--input", "x:f32[2,F<=1024]")
    assert proc.returncode == 0, proc.stderr


def test_a_huge_fixed_dim_is_refused_with_its_size(tmp_path):
    proc = compile_spec(tmp_path, Projection(), "--input", "x:f32[1099511627776,512]")
    expect_clean_failure(proc, "input 'x:f32[1099511627776,512]'", "2.0 PiB (2251799813685248 bytes)",
                         "16.0 GiB", "--max-arena-bytes", exit_code=1, max_lines=1)
    no_backtrace(proc)


def test_a_dim_of_int64_max_is_refused_not_wrapped(tmp_path):
    proc = compile_spec(tmp_path, Projection(), "--input", "x:f32[9223372036854775807,512]")
    expect_clean_failure(proc, "input 'x:f32[9223372036854775807,512]'", "more than 8 EiB", exit_code=1,
                         max_lines=1)
    no_backtrace(proc)


def test_a_bound_past_the_limit_is_refused_and_the_limit_can_be_raised(tmp_path):
    spec = "x:f32[B<=16777216,512]"  # 32 GiB at its bound
    proc = compile_spec(tmp_path, Projection(), "--input", spec)
    expect_clean_failure(proc, f"input '{spec}'", "32.0 GiB (34359738368 bytes)", exit_code=1, max_lines=1)
    # Planning for it allocates nothing: with a higher limit it compiles.
    ok = compile_spec(tmp_path, Projection(), "--input", spec, "--max-arena-bytes", str(64 << 30))
    assert ok.returncode == 0, ok.stderr


def test_a_memory_plan_past_the_limit_names_the_inputs_and_the_arena(tmp_path):
    # The input is 256 KiB, the product it makes 16 MiB.
    proc = compile_spec(tmp_path, Outer(), "--input", "x:f32[N<=1024,64]", "--max-arena-bytes", str(4 << 20))
    expect_clean_failure(proc, "the memory plan needs an arena of", "x:f32[N<=1024,64]", "over the limit of 4.0 MiB",
                         exit_code=1, max_lines=1)
    # -O0 plans no arena: only the inputs are checked.
    ok = compile_spec(tmp_path, Outer(), "--input", "x:f32[N<=1024,64]", "--max-arena-bytes", str(4 << 20), "-O0")
    assert ok.returncode == 0, ok.stderr


def test_a_limit_that_is_not_positive_is_a_usage_error(tmp_path):
    proc = compile_spec(tmp_path, Projection(), "--input", "x:f32[1,512]", "--max-arena-bytes", "0")
    expect_clean_failure(proc, "--max-arena-bytes", exit_code=2)
