#!/usr/bin/python3
"""A floor per model: the least time this machine could take for a forward.

    bench/floor.py --machine                      # this machine's GEMM rate and memory bandwidth
    bench/floor.py --work DIR/NAME.pt DIR/NAME.bB.inputs.pt   # one forward's FLOPs and weight bytes

The floor of a model at a batch is the larger of
  - its FLOPs (matrix products and convolutions, counted by PyTorch's profiler
    on the TorchScript interpreter's run of the same inputs, so a loop's
    trip count and a branch taken are the data's) at the machine's warm GEMM
    rate (float32, 1024 x 1024 x 1024 through NumPy's BLAS on every core),
  - its weight bytes (every parameter read once) at the machine's memory
    bandwidth (a 256 MiB float32 copy: bytes read plus bytes written).
bench/run measures the machine at its start and prints each model's floor and
Cocktail's time as a multiple of it. A floor is what no system can beat on
this machine (for products computed directly: Winograd's 3x3 convolutions
need fewer multiplications), not a target every model can reach:
elementwise work, dependences between steps and launch costs come on top.

Prints JSON on stdout.
"""
import argparse
import json
import os
import time
import warnings


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_machine():
    import numpy as np
    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b  # warm: BLAS threads started, caches filled
    gemm_s = best_of(lambda: a @ b, 10)
    src = np.ones(64 << 20, dtype=np.float32)  # 256 MiB, far past any cache
    dst = np.empty_like(src)
    np.copyto(dst, src)
    copy_s = best_of(lambda: np.copyto(dst, src), 5)
    return {"gemm_gflops": 2 * n ** 3 / gemm_s / 1e9, "bandwidth_gbs": 2 * src.nbytes / copy_s / 1e9,
            "gemm": f"float32 {n}x{n}x{n} through NumPy's BLAS, best of 10",
            "bandwidth": f"float32 copy of {src.nbytes >> 20} MiB (read + write), best of 5"}


def measure_work(model_path, inputs_path):
    import torch
    module = torch.jit.load(model_path)
    inputs = torch.load(inputs_path)
    with torch.no_grad(), warnings.catch_warnings():
        # The profiler warns about the scalar operands of elementwise ops,
        # whose FLOPs it does not count (nor do we).
        warnings.simplefilter("ignore")
        module(*[x.clone() if isinstance(x, torch.Tensor) else x for x in inputs])
        with torch.profiler.profile(with_flops=True, record_shapes=True) as prof:
            module(*[x.clone() if isinstance(x, torch.Tensor) else x for x in inputs])
    flops = sum(e.flops or 0 for e in prof.key_averages())
    weight_bytes = sum(t.numel() * t.element_size() for t in module.parameters())
    weight_bytes += sum(t.numel() * t.element_size() for t in module.buffers())
    return {"flops": flops, "weight_bytes": weight_bytes}


def floor_ms(work, machine):
    """The floor and what binds it."""
    compute = work["flops"] / (machine["gemm_gflops"] * 1e9) * 1e3
    memory = work["weight_bytes"] / (machine["bandwidth_gbs"] * 1e9) * 1e3
    return (compute, "compute") if compute >= memory else (memory, "memory")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--machine", action="store_true", help="measure this machine's GEMM rate and bandwidth")
    ap.add_argument("--work", nargs=2, metavar=("MODEL_PT", "INPUTS_PT"),
                    help="count one forward's FLOPs and weight bytes")
    args = ap.parse_args()
    if args.machine:
        print(json.dumps(measure_machine()))
    elif args.work:
        if not all(os.path.exists(p) for p in args.work):
            ap.error(f"no such file: {[p for p in args.work if not os.path.exists(p)]}")
        print(json.dumps(measure_work(*args.work)))
    else:
        ap.error("give --machine or --work MODEL_PT INPUTS_PT")


if __name__ == "__main__":
    main()
