"""Back-of-the-envelope hardware arithmetic for lecture 11: measured FLOP/s and bandwidth of this
machine, the roofline, training-memory and MFU calculators, and a GPipe schedule simulator.

    peak = H.hardware.matmul_flops(1024)            # FLOP/s of a float32 matmul, measured
    bw = H.hardware.copy_bandwidth(256)             # bytes/s of a large copy, measured
    H.hardware.memory_per_gpu(405e9, layers=126, hidden=16384, seq=8192, tp=8, pp=16, dp=64)

Sources of the formulas: roofline (Williams, Waterman and Patterson 2009); bytes per parameter
of mixed-precision Adam, 2 + 2 + 12 (Rajbhandari et al. 2020, ZeRO); activation bytes per layer
(Korthikanti et al. 2022); model FLOPs per token 6N + 12 L d T and MFU (Chowdhery et al. 2022,
PaLM); GPipe schedule and bubble (Huang et al. 2019).
"""

from __future__ import annotations

import time

import numpy as np

# ---------------------------------------------------------------------------- measuring this machine


def _best(fn, repeat):
    fn()  # warm-up: caches, thread pool, lazy initialisation
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_flops(n: int = 1024, repeat: int = 5, dtype=None) -> float:
    """Measured FLOP/s of an (n x n) @ (n x n) matmul in torch (2 n^3 FLOPs), best of `repeat`."""
    import torch

    dtype = dtype or torch.float32
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    out = torch.empty(n, n, dtype=dtype)
    return 2 * n**3 / _best(lambda: torch.mm(a, b, out=out), repeat)


def copy_bandwidth(megabytes: float = 256, repeat: int = 5) -> float:
    """Measured memory bandwidth (bytes/s) of copying a float32 array much larger than the
    caches: every byte is read once and written once, so 2 x size bytes move."""
    import torch

    n = int(megabytes * 2**20 / 4)
    src, dst = torch.randn(n), torch.empty(n)
    return 2 * src.numel() * 4 / _best(lambda: dst.copy_(src), repeat)


def attainable(intensity, peak_flops: float, bandwidth: float):
    """The roofline: FLOP/s reachable at `intensity` FLOP per byte moved from memory."""
    return np.minimum(peak_flops, bandwidth * np.asarray(intensity, dtype=float))


def plot_roofline(ax, name, peak_flops, bandwidth, colour, intensities=None):
    """Draw one machine's roofline on a log-log axis; returns its ridge point (FLOP per byte)."""
    x = np.logspace(-2, 4, 200) if intensities is None else intensities
    ax.loglog(x, attainable(x, peak_flops, bandwidth), color=colour, lw=2,
              label=f"{name}: {peak_flops / 1e9:,.0f} GFLOP/s, {bandwidth / 1e9:,.0f} GB/s")
    ridge = peak_flops / bandwidth
    ax.axvline(ridge, color=colour, ls=":", lw=1)
    return ridge


# ---------------------------------------------------------------------------- memory calculator

BYTES = {"params": 2, "grads": 2, "optimizer": 12}  # bf16 weights and grads; fp32 master + Adam m, v


def memory_per_gpu(n_params, *, layers, hidden, seq, micro_batch=1, tp=1, pp=1, cp=1, dp=1,
                   sharding="none", node=8, checkpoint="full") -> dict:
    """Bytes per GPU of a transformer's training state under a parallel layout.

    Model parallelism (tp x pp) splits everything by tp * pp. Data-parallel sharding then:
    "none" (DDP: every replica holds all of it), "zero1" (optimizer sharded over dp), "zero2"
    (optimizer and grads), "fsdp" (ZeRO-3: also the params), "hsdp" (FSDP inside groups of `node`
    GPUs, replicas across groups). Activations: bytes per token per layer are 2 * hidden with full
    checkpointing (the bf16 layer input) or 34 * hidden without (Korthikanti et al. 2022, with
    FlashAttention so no seq^2 term), split by tp (sequence parallel) and cp; with a 1F1B pipeline
    the first stage holds pp micro-batches of its layers / pp, i.e. all layers' worth.
    """
    if sharding not in ("none", "zero1", "zero2", "fsdp", "hsdp"):
        raise ValueError(f"unknown sharding {sharding!r}")
    mp = tp * pp
    ways = {"none": 1, "zero1": dp, "zero2": dp, "fsdp": dp, "hsdp": min(node, dp)}[sharding]
    sharded = {"none": (), "zero1": ("optimizer",), "zero2": ("optimizer", "grads"),
               "fsdp": tuple(BYTES), "hsdp": tuple(BYTES)}[sharding]
    out = {kind: n_params * b / (mp * (ways if kind in sharded else 1)) for kind, b in BYTES.items()}
    per_token_layer = (2 if checkpoint == "full" else 34) * hidden / tp
    in_flight = pp if pp > 1 else 1
    out["activations"] = seq * micro_batch / cp * (layers / pp) * in_flight * per_token_layer
    return out


# ---------------------------------------------------------------------------- FLOPs and utilisation


def flops_per_token(n_params, layers=0, hidden=0, seq=0) -> float:
    """Training FLOPs per token: 6N for the weights (2N forward, 4N backward) plus 12 L d T for
    attention scores (Chowdhery et al. 2022, appendix B)."""
    return 6 * n_params + 12 * layers * hidden * seq


def mfu(tokens_per_s, peak_flops, n_params, layers=0, hidden=0, seq=0) -> float:
    """Model FLOPs utilisation: the FLOPs the model needs per second / the hardware's peak."""
    return tokens_per_s * flops_per_token(n_params, layers, hidden, seq) / peak_flops


def hfu(tokens_per_s, peak_flops, n_params, recompute=1.0, layers=0, hidden=0, seq=0) -> float:
    """Hardware FLOPs utilisation: also counts recomputed forward FLOPs (2N per token for full
    activation checkpointing, times `recompute` in [0, 1] for partial)."""
    extra = recompute * (2 * n_params + 4 * layers * hidden * seq)
    return tokens_per_s * (flops_per_token(n_params, layers, hidden, seq) + extra) / peak_flops


# ---------------------------------------------------------------------------- pipeline schedule


def gpipe_schedule(stages: int, micro: int, t_fwd: float = 1.0, t_bwd: float = 2.0) -> list:
    """Simulate GPipe: all micro-batches' forwards flow down the stages, then all backwards flow
    back up. Each task starts when its input is ready and its stage is free.

    Returns (stage, kind, micro_batch, start, end) tuples, kind "F" or "B".
    """
    if stages < 1 or micro < 1:
        raise ValueError("need at least one stage and one micro-batch")
    free = [0.0] * stages
    done_f = {}
    tasks = []
    for j in range(micro):
        for s in range(stages):
            start = max(free[s], done_f.get((s - 1, j), 0.0))
            done_f[(s, j)] = free[s] = start + t_fwd
            tasks.append((s, "F", j, start, start + t_fwd))
    done_b = {}
    for j in reversed(range(micro)):
        for s in reversed(range(stages)):
            ready = done_b.get((s + 1, j), done_f[(stages - 1, micro - 1)] if s == stages - 1 else 0.0)
            start = max(free[s], ready)
            done_b[(s, j)] = free[s] = start + t_bwd
            tasks.append((s, "B", j, start, start + t_bwd))
    return tasks


def bubble_fraction(tasks, stages: int) -> float:
    """Idle share of the stages' time in a simulated schedule."""
    makespan = max(t[4] for t in tasks)
    busy = sum(t[4] - t[3] for t in tasks)
    return 1 - busy / (stages * makespan)


def plot_gantt(ax, tasks, stages, colours=("tab:blue", "tab:orange")):
    """One row per stage; forwards and backwards as coloured bars labelled by micro-batch."""
    for s, kind, j, start, end in tasks:
        ax.barh(s, end - start, left=start, color=colours[kind == "B"], edgecolor="white")
        if end - start >= 0.6:
            ax.text((start + end) / 2, s, str(j), ha="center", va="center", fontsize=7, color="white")
    ax.set_yticks(range(stages), [f"stage {s}" for s in range(stages)])
    ax.invert_yaxis()
    ax.set_xlabel("time (units of one micro-batch forward)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colours[0], label="forward"), Patch(color=colours[1], label="backward")],
              loc="lower right", fontsize=8)


# ---------------------------------------------------------------------------- measuring memory


def peak_memory(fn) -> tuple[int, int]:
    """Run fn() and return (peak, final) bytes of tensor storage it allocated and kept alive.

    Every tensor created by a torch operation inside fn is counted from its creation until its
    storage is freed (a weakref finalizer), so the peak is the real high-water mark of live
    activations, gradients and temporaries on the CPU — what torch.cuda.max_memory_allocated
    reports on a GPU. Tensors that existed before (the weights, the input) are not counted.
    """
    import weakref

    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    state = {"live": 0, "peak": 0}
    seen = set()

    def free(key, n):
        state["live"] -= n
        seen.discard(key)

    class _Track(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and t.untyped_storage().nbytes() > 0:
                    st = t.untyped_storage()
                    key = st.data_ptr()
                    if key not in seen:  # a view shares its base's storage: count it once
                        seen.add(key)
                        state["live"] += st.nbytes()
                        state["peak"] = max(state["peak"], state["live"])
                        weakref.finalize(st, free, key, st.nbytes())
            return out

    with _Track():
        fn()
    return state["peak"], state["live"]
