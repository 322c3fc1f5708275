"""Small timing tools for "naive vs vectorised" and "CPU vs GPU" comparisons.

    best = H.timing.timeit(lambda: conv_forward_naive(x, w, b, conv_param))
    with H.timing.Timer("fast conv") as t:
        conv_forward_fast(x, w, b, conv_param)
    print(t.seconds)

Best-of-N rather than the mean: noise from other processes only ever adds time, so the minimum
is the most repeatable estimate (the same reasoning as the standard library's `timeit`).
GPU work is asynchronous, so when torch with CUDA is in use we synchronise before reading the
clock; otherwise we would time only the kernel launch.
"""

from __future__ import annotations

import sys
import time

__all__ = ["timeit", "Timer", "format_seconds"]


def _sync():
    torch = sys.modules.get("torch")  # never import torch just to time numpy code
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def format_seconds(seconds: float) -> str:
    """Human units: '12.3 ms', '4.56 s'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def timeit(fn, repeat=5, warmup=1):
    """Best wall time of `repeat` calls of fn() in seconds, after `warmup` untimed calls
    (which absorb one-off costs: caches, lazy imports, CUDA/Triton compilation)."""
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    _sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - start)
    return best


class Timer:
    """Context manager measuring one block: `with Timer("name") as t: ...`, then `t.seconds`.

    Prints "name: 12.3 ms" on exit when a name is given and verbose is true.
    """

    def __init__(self, name=None, verbose=True):
        self.name = name
        self.verbose = verbose
        self.seconds = None

    def __enter__(self):
        _sync()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        _sync()
        self.seconds = time.perf_counter() - self._start
        if self.name is not None and self.verbose:
            print(f"{self.name}: {format_seconds(self.seconds)}")
        return False
