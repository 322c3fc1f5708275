"""A2 benchmark: the reference solution's convolution and max pooling — naive loops vs the
vectorized numpy versions vs PyTorch on the CPU — forward + backward, float32 and float64.

    .venv/bin/python assignments/bench/bench_a2.py               # 1 thread for numpy and torch
    .venv/bin/python assignments/bench/bench_a2.py --threads 2   # BLAS and torch on 2 threads

The layers are taken from the nbgrader source notebook (their only home; helpers never holds
graded answers) with `notebook_defs.load_solution`. Every number is measured in this one process
on the same inputs; fast and torch are timed interleaved, best of several rounds, because noise
from other processes only ever adds time. The naive layers are loops in the interpreter, so they
are timed on a few images and scaled linearly to the full batch (their cost is exactly linear in N).

Fairness: numpy's elementwise operations always run on one thread; only its BLAS calls (the
matrix multiplies of im2col) use more. We therefore set the BLAS thread count (through the
environment, before numpy is imported) and torch.set_num_threads to the same number, default 1.

Targets: fast >= 100x faster than naive; fast within 2x of torch's CPU time in float32.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--threads", type=int, default=1, help="threads for numpy's BLAS and torch")
_parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds")
ARGS = _parser.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)  # must happen before numpy is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from assignments.bench.notebook_defs import load_solution  # noqa: E402

NOTEBOOK = REPO / "assignments/source/a2_convnets/ConvolutionalNetworks.ipynb"
NAMES = ["conv_forward_naive", "conv_backward_naive", "conv_forward_fast", "conv_backward_fast",
         "max_pool_forward_naive", "max_pool_backward_naive", "max_pool_forward_fast",
         "max_pool_backward_fast"]
NAIVE_IMAGES = 2  # the naive layers are timed on this many images, then scaled to N

CONV_CASES = [  # (N, C, H=W, F, kernel, stride, pad)
    (50, 3, 32, 32, 3, 1, 1),
    (100, 3, 31, 25, 3, 2, 1),
]
POOL_CASES = [  # (N, C, H=W, pool, stride): the first conv case's output; an odd, overlapping one
    (50, 32, 32, 2, 2),
    (100, 25, 15, 3, 2),
]
SPEEDUP_TARGET = 100.0  # fast vs naive
TORCH_TARGET = 2.0      # fast float32 time / torch float32 time


def once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_best(fns, rounds):
    """Best time of each fn, measured in alternation so that slow spells hit all of them."""
    for fn in fns:
        fn()  # warm up (allocator, caches, lazy init)
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], once(fn))
    return best


def rel_error(a, b):
    """max |a - b| / max |b|: relative to the array's scale, so float32 rounding of entries
    that happen to be near zero does not dominate (elementwise relative errors would)."""
    a = np.asarray(a.detach() if hasattr(a, "detach") else a, np.float64)
    b = np.asarray(b.detach() if hasattr(b, "detach") else b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def bench_conv(L, case, dtype, rounds):
    N, C, H, F_, K, stride, pad = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, H)).astype(dtype)
    w = rng.standard_normal((F_, C, K, K)).astype(dtype)
    b = rng.standard_normal(F_).astype(dtype)
    param = {"stride": stride, "pad": pad}
    out, cache = L["conv_forward_fast"](x, w, b, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dout_t = torch.tensor(dout)

    def fast():
        L["conv_backward_fast"](dout, L["conv_forward_fast"](x, w, b, param)[1])

    def reference():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, stride=stride, padding=pad).backward(dout_t)

    def naive():
        n = NAIVE_IMAGES
        L["conv_backward_naive"](dout[:n], L["conv_forward_naive"](x[:n], w, b, param)[1])

    reference()
    grads = L["conv_backward_fast"](dout, cache)
    err = max(rel_error(out, F.conv2d(xt, wt, bt, stride=stride, padding=pad).detach()),
              *(rel_error(g, t.grad) for g, t in zip(grads, (xt, wt, bt))))
    t_fast, t_torch = interleaved_best([fast, reference], rounds)
    t_naive = min(once(naive) for _ in range(2)) * N / NAIVE_IMAGES
    return t_naive, t_fast, t_torch, err


def bench_pool(L, case, dtype, rounds):
    N, C, H, P, stride = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, H, H)).astype(dtype)
    param = {"pool_height": P, "pool_width": P, "stride": stride}
    out, cache = L["max_pool_forward_fast"](x, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    xt, dout_t = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def fast():
        L["max_pool_backward_fast"](dout, L["max_pool_forward_fast"](x, param)[1])

    def reference():
        xt.grad = None
        F.max_pool2d(xt, P, stride).backward(dout_t)

    def naive():
        n = NAIVE_IMAGES
        L["max_pool_backward_naive"](dout[:n], L["max_pool_forward_naive"](x[:n], param)[1])

    reference()
    err = max(rel_error(out, F.max_pool2d(xt, P, stride).detach()),
              rel_error(L["max_pool_backward_fast"](dout, cache), xt.grad))
    t_fast, t_torch = interleaved_best([fast, reference], rounds)
    t_naive = min(once(naive) for _ in range(2)) * N / NAIVE_IMAGES
    return t_naive, t_fast, t_torch, err


def ms(seconds):
    return f"{seconds * 1e3:10.2f}"


def main():
    torch.set_num_threads(ARGS.threads)
    L = load_solution(NOTEBOOK, NAMES)
    print(f"A2 reference layers from {NOTEBOOK.relative_to(REPO)}")
    print(f"threads: numpy BLAS = torch = {ARGS.threads} (numpy elementwise ops are single-threaded); "
          f"torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs visible")
    print(f"forward + backward, best of {ARGS.rounds} interleaved rounds; naive timed on "
          f"{NAIVE_IMAGES} images and scaled linearly to N (marked *); max err = largest "
          f"difference from torch (output and every gradient) / largest torch value\n")
    header = (f"{'layer / shape':46s} {'dtype':7s} {'naive* ms':>10s} {'fast ms':>10s} "
              f"{'torch ms':>10s} {'naive/fast':>10s} {'fast/torch':>10s} {'max err':>11s}")
    results = []
    start = time.perf_counter()
    print(header)
    print("-" * len(header))
    rows = [("conv", c, bench_conv) for c in CONV_CASES] + [("pool", c, bench_pool) for c in POOL_CASES]
    for kind, case, fn in rows:
        if kind == "conv":
            N, C, H, F_, K, s, p = case
            name = f"conv x({N},{C},{H},{H}) w({F_},{C},{K},{K}) s{s} p{p}"
        else:
            N, C, H, P, s = case
            name = f"maxpool x({N},{C},{H},{H}) {P}x{P} s{s}"
        for dtype in (np.float32, np.float64):
            t_naive, t_fast, t_torch, err = fn(L, case, dtype, ARGS.rounds)
            results.append((kind, name, dtype, t_naive, t_fast, t_torch))
            print(f"{name:46s} {np.dtype(dtype).name:7s} {ms(t_naive)} {ms(t_fast)} {ms(t_torch)} "
                  f"{t_naive / t_fast:9.0f}x {t_fast / t_torch:9.2f}x {err:11.1e}", flush=True)
    print(f"\n(benchmark took {time.perf_counter() - start:.0f} s)")
    print("\nTargets:")
    all_met = True
    for _kind, name, dtype, t_naive, t_fast, t_torch in results:
        speedup_ok = t_naive / t_fast >= SPEEDUP_TARGET
        line = f"  {name:46s} {np.dtype(dtype).name:7s} fast >= {SPEEDUP_TARGET:.0f}x naive: " \
               f"{'met' if speedup_ok else 'NOT met'}"
        all_met &= speedup_ok
        if dtype == np.float32:
            torch_ok = t_fast / t_torch <= TORCH_TARGET
            all_met &= torch_ok
            line += f"; fast within {TORCH_TARGET:.0f}x of torch: {'met' if torch_ok else 'NOT met'}"
        print(line)
    print(f"\nall targets {'met' if all_met else 'NOT all met'} "
          f"(the within-2x-of-torch target is for float32; float64 ratios are for information)")


if __name__ == "__main__":
    main()
