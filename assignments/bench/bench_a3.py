"""Benchmark the reference Triton kernels of Assignment 3 against PyTorch (`make bench`).

The kernels are the instructor's solution, read out of the nbgrader source notebook (helpers
never holds graded answers). On a CUDA GPU each kernel is timed with triton.testing.do_bench
next to its PyTorch counterpart (cuDNN / cuBLAS / eager ops), and the table shows the speed
ratio and the fraction of the hardware roof reached: memory bandwidth for the memory-bound
kernels (softmax, bias_relu, max_pool2d), tensor-core TFLOP/s for matmul and conv2d. The roofs
are H100 SXM constants; on another GPU the % columns are relative to an H100.

Without a GPU there is nothing meaningful to time (the kernels would run in Triton's CPU
interpreter, ~1000x slower), so the script says so in one line and exits 0.

    .venv/bin/python assignments/bench/bench_a3.py          # what `make bench` runs
    .venv/bin/python assignments/bench/bench_a3.py --quick  # fewer shapes
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assignments.bench.notebook_defs import load_solution  # noqa: E402

NOTEBOOK = REPO / "assignments" / "source" / "a3_triton" / "triton_convnet.ipynb"
NAMES = ["add", "bias_relu", "softmax", "matmul_forward", "max_pool2d", "conv2d"]

# H100 SXM5 peaks (dense): HBM3 bandwidth and tensor-core / CUDA-core throughput.
H100_BANDWIDTH = 3.35e12  # bytes/s
H100_FP16_TENSOR = 989.4e12  # FLOP/s
H100_FP32 = 66.9e12  # FLOP/s (no tensor cores: what exact fp32 "ieee" dots run on)

# Targets (printed, checked by eye): (min speed ratio vs PyTorch, min fraction of the roof).
TARGETS = {"softmax": (1.0, 0.70), "bias_relu": (1.0, 0.70), "matmul fp16": (0.8, None),
           "conv2d fp16": (0.5, None)}


def eager_bias_relu(x, bview):
    """What PyTorch code without fusion does: one kernel for +, one for relu."""
    import torch

    return torch.relu(x + bview)


class Table:
    def __init__(self):
        self.rows = []

    def add(self, name, shape, ours_ms, torch_ms, achieved, unit, roof, target_key=None):
        ratio = torch_ms / ours_ms
        frac = achieved / roof
        verdict = ""
        if target_key in TARGETS:
            min_ratio, min_frac = TARGETS[target_key]
            ok = ratio >= min_ratio and (min_frac is None or frac >= min_frac)
            want = f">= {min_ratio:.1f}x" + (f", >= {min_frac:.0%} roof" if min_frac else "")
            verdict = f"{'met' if ok else 'MISSED'} ({want})"
        self.rows.append((name, shape, ours_ms, torch_ms, ratio, achieved, unit, frac, verdict))
        print(f"{name:22s} {shape:28s} {ours_ms:9.3f} {torch_ms:9.3f} {ratio:7.2f}x "
              f"{achieved:9.1f} {unit:7s} {frac:6.1%}  {verdict}", flush=True)

    @staticmethod
    def header():
        print(f"{'kernel':22s} {'shape':28s} {'ours ms':>9s} {'torch ms':>9s} {'speedup':>8s} "
              f"{'achieved':>9s} {'unit':7s} {'% roof':>6s}  target (H100)")


def check(ours, ref, atol, rtol, what):
    """Refuse to time a kernel that computes the wrong thing."""
    import torch

    if not torch.allclose(ours.float(), ref.float(), atol=atol, rtol=rtol):
        err = (ours.float() - ref.float()).abs().max().item()
        raise AssertionError(f"{what}: reference kernel disagrees with PyTorch (max error {err:.3g})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one shape per kernel")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("bench_a3: no CUDA GPU on this machine — nothing to time (Triton would run in its CPU "
              "interpreter); skipping the A3 kernel benchmarks.")
        return 0

    import torch.nn.functional as F
    from triton.testing import do_bench

    ref = load_solution(NOTEBOOK, NAMES)
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # PyTorch's fp32 default: exact fp32
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    bench = lambda fn: do_bench(fn, warmup=25, rep=100)
    print(f"A3 reference kernels vs PyTorch on {torch.cuda.get_device_name(0)} "
          f"(roofs: H100 SXM, {H100_BANDWIDTH / 1e12:.2f} TB/s, {H100_FP16_TENSOR / 1e12:.0f} "
          f"fp16 TFLOP/s, {H100_FP32 / 1e12:.0f} fp32 TFLOP/s)")
    Table.header()
    table = Table()

    # Memory-bound kernels: the roof is bandwidth; bytes = the minimum traffic of a fused kernel.
    for dtype in (torch.float32, torch.float16):
        shapes = [(4096, 4096)] if args.quick else [(4096, 4096), (16384, 1024), (8192, 8192)]
        for M, N in shapes:
            x = torch.randn(M, N, device=dev, dtype=dtype)
            check(ref["softmax"](x), torch.softmax(x.float(), dim=1), 1e-3, 1e-3, "softmax")
            ours = bench(partial(ref["softmax"], x))
            theirs = bench(partial(torch.softmax, x, dim=1))
            gbs = 2 * x.numel() * x.element_size() / (ours * 1e-3) / 1e9
            table.add("softmax fwd", f"{M}x{N} {str(dtype)[6:]}", ours, theirs, gbs, "GB/s",
                      H100_BANDWIDTH / 1e9, "softmax")

        shapes = ([(64, 256, 56, 56)] if args.quick
                  else [(64, 256, 56, 56), (128, 512, 28, 28), (8192, 4096)])
        for shape in shapes:
            x = torch.randn(*shape, device=dev, dtype=dtype)
            b = torch.randn(shape[1], device=dev, dtype=dtype)
            bview = b.view(1, -1, *([1] * (x.dim() - 2)))
            check(ref["bias_relu"](x, b), torch.relu(x + bview), 1e-3, 1e-3, "bias_relu")
            ours = bench(partial(ref["bias_relu"], x, b))
            theirs = bench(partial(eager_bias_relu, x, bview))  # two kernels
            gbs = 2 * x.numel() * x.element_size() / (ours * 1e-3) / 1e9
            table.add("bias_relu fwd", f"{tuple(shape)} {str(dtype)[6:]}", ours, theirs, gbs,
                      "GB/s", H100_BANDWIDTH / 1e9, "bias_relu")

    # Backward passes of the memory-bound kernels (fused: read dy and y, write dx).
    x = torch.randn(4096, 4096, device=dev, requires_grad=True)
    dy = torch.randn(4096, 4096, device=dev)
    y_ours, y_torch = ref["softmax"](x), torch.softmax(x, dim=1)
    ours = bench(lambda: torch.autograd.grad(y_ours, x, dy, retain_graph=True))
    theirs = bench(lambda: torch.autograd.grad(y_torch, x, dy, retain_graph=True))
    table.add("softmax bwd", "4096x4096 float32", ours, theirs,
              3 * x.numel() * 4 / (ours * 1e-3) / 1e9, "GB/s", H100_BANDWIDTH / 1e9)
    x = torch.randn(64, 256, 56, 56, device=dev, requires_grad=True)
    b = torch.randn(256, device=dev, requires_grad=True)
    dy = torch.randn_like(x)
    y_ours, y_torch = ref["bias_relu"](x, b), torch.relu(x + b.view(1, -1, 1, 1))
    ours = bench(lambda: torch.autograd.grad(y_ours, (x, b), dy, retain_graph=True))
    theirs = bench(lambda: torch.autograd.grad(y_torch, (x, b), dy, retain_graph=True))
    table.add("bias_relu bwd (dx, db)", "(64, 256, 56, 56) float32", ours, theirs,
              3 * x.numel() * 4 / (ours * 1e-3) / 1e9, "GB/s", H100_BANDWIDTH / 1e9)

    # max pooling 2x2: read x, write y and the int32 argmax.
    x = torch.randn(64, 128, 112, 112, device=dev)
    check(ref["max_pool2d"](x), F.max_pool2d(x, 2, 2), 0, 0, "max_pool2d")
    ours, theirs = bench(lambda: ref["max_pool2d"](x)), bench(lambda: F.max_pool2d(x, 2, 2))
    gbs = (x.numel() * 4 + x.numel() // 4 * 8) / (ours * 1e-3) / 1e9
    table.add("max_pool2d fwd", "(64, 128, 112, 112) float32", ours, theirs, gbs, "GB/s",
              H100_BANDWIDTH / 1e9)

    # Matrix multiply: the roof is tensor-core throughput (fp16) or CUDA cores (exact fp32).
    sizes = [4096] if args.quick else [1024, 2048, 4096, 8192]
    for n in sizes:
        a = torch.randn(n, n, device=dev, dtype=torch.float16)
        bm = torch.randn(n, n, device=dev, dtype=torch.float16)
        check(ref["matmul_forward"](a, bm), a @ bm, 1e-1, 1e-2, "matmul fp16")
        ours = bench(partial(ref["matmul_forward"], a, bm))
        theirs = bench(partial(torch.matmul, a, bm))
        table.add("matmul fp16 (cuBLAS)", f"{n}^3", ours, theirs, 2 * n ** 3 / (ours * 1e-3) / 1e12,
                  "TFLOP/s", H100_FP16_TENSOR / 1e12, "matmul fp16" if n == 4096 else None)
    a = torch.randn(4096, 4096, device=dev)
    bm = torch.randn(4096, 4096, device=dev)
    ours, theirs = bench(lambda: ref["matmul_forward"](a, bm)), bench(lambda: a @ bm)
    table.add("matmul fp32 ieee", "4096^3", ours, theirs, 2 * 4096 ** 3 / (ours * 1e-3) / 1e12,
              "TFLOP/s", H100_FP32 / 1e12)

    # Convolution, 3x3 stride 1 pad 1, ResNet-like stages, fp16 NCHW, against cuDNN.
    shapes = [(32, 128, 28, 28, 128)] if args.quick else [
        (32, 64, 56, 56, 64), (32, 128, 28, 28, 128), (32, 256, 14, 14, 256), (32, 512, 7, 7, 512)]
    for N, C, Hh, W, Fo in shapes:
        x = torch.randn(N, C, Hh, W, device=dev, dtype=torch.float16)
        w = torch.randn(Fo, C, 3, 3, device=dev, dtype=torch.float16) * 0.05
        bias = torch.randn(Fo, device=dev, dtype=torch.float16)
        check(ref["conv2d"](x, w, bias, 1, 1), F.conv2d(x, w, bias, 1, 1), 5e-2, 1e-2, "conv2d")
        ours = bench(partial(ref["conv2d"], x, w, bias, 1, 1))
        theirs = bench(partial(F.conv2d, x, w, bias, 1, 1))
        flops = 2 * N * Fo * Hh * W * C * 9
        table.add("conv2d fp16 (cuDNN)", f"N{N} C{C} {Hh}x{W} F{Fo} 3x3", ours, theirs,
                  flops / (ours * 1e-3) / 1e12, "TFLOP/s", H100_FP16_TENSOR / 1e12, "conv2d fp16")
    x = torch.randn(32, 128, 28, 28, device=dev, requires_grad=True)
    w = torch.randn(128, 128, 3, 3, device=dev, requires_grad=True)
    dy = torch.randn(32, 128, 28, 28, device=dev)
    y_ours, y_torch = ref["conv2d"](x, w, None, 1, 1), F.conv2d(x, w, None, 1, 1)
    ours = bench(lambda: torch.autograd.grad(y_ours, (x, w), dy, retain_graph=True))
    theirs = bench(lambda: torch.autograd.grad(y_torch, (x, w), dy, retain_graph=True))
    table.add("conv2d bwd fp32 ieee", "N32 C128 28x28 F128 3x3", ours, theirs,
              2 * 2 * 32 * 128 * 28 * 28 * 128 * 9 / (ours * 1e-3) / 1e12, "TFLOP/s",
              H100_FP32 / 1e12)

    missed = [r[0] + " " + r[1] for r in table.rows if r[8].startswith("MISSED")]
    print(f"\n{len(table.rows)} measurements; H100 targets missed: {', '.join(missed) or 'none'}"
          " (targets are for an H100 and are reported, not enforced)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
