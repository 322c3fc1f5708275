"""Real multi-process training on one machine: torch.distributed with the gloo backend, 2 CPU
processes, for lecture 11.

    results = H.distributed.launch(H.distributed.run_all, world_size=2, timeout=120, cfg=cfg)

Worker code must live in an importable module (this one): processes started with "spawn" are
fresh Python interpreters that import the function they run by name. `launch` gives every run
its own rendezvous file in a temporary folder (so parallel runs never collide on a port), a
deadline (a stuck worker is killed, never a hung notebook) and a clear error naming the rank
that failed. Each worker returns a picklable value; `launch` returns them in rank order.

The demos write each strategy with the collectives themselves, small enough to read:
all-reduce (data parallelism), all_gather + reduce_scatter per layer (FSDP / ZeRO-3), column-
then row-sharded MLP with one all-reduce (Megatron tensor parallelism, Shoeybi et al. 2019),
ring attention with an online softmax (Liu et al. 2023) and DeepSpeed Ulysses's all-to-all
(Jacobs et al. 2023). Each is compared by the lecture
and by tests/test_distributed.py with the same computation done in a single process.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

# Sizes of the demos (small: the point is equality, not speed).
DEFAULTS = {"d_in": 16, "hidden": 64, "d_out": 4, "depth": 3, "n": 64, "steps": 5, "lr": 1e-2,
            "tp_d": 8, "tp_hidden": 32, "seq": 16, "head_dim": 8, "heads": 4, "seed": 0}


# ---------------------------------------------------------------------------- launching


def _entry(rank, fn, world_size, init_file, out_dir, kwargs):
    torch.set_num_threads(1)  # two processes on two cores: one thread each
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        result = fn(rank, world_size, **kwargs)
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
        dist.barrier()
    except BaseException as err:  # leave the story for the parent; the first one written is the cause
        import traceback

        (Path(out_dir) / f"rank{rank}.err").write_text(
            f"{time.time():.6f}\n{type(err).__name__}: {err}\n{traceback.format_exc()}")
        raise
    finally:
        dist.destroy_process_group()


def _failure_report(fn, out_dir: str, world_size: int, fallback: str) -> str:
    """Every failed rank's error, the earliest first (a rank that dies makes the others' collectives fail)."""
    reports = []
    for r in range(world_size):
        path = Path(out_dir) / f"rank{r}.err"
        if path.exists():
            stamp, text = path.read_text().split("\n", 1)
            reports.append((float(stamp), r, text))
    if not reports:
        return fallback
    reports.sort()
    first = reports[0]
    lines = [f"rank {first[1]} of {fn.__name__} failed first: {first[2]}"]
    lines += [f"(then rank {r} failed too: {text.splitlines()[0]})" for _, r, text in reports[1:]]
    return "\n".join(lines)


def launch(fn, world_size: int = 2, timeout: float = 120.0, **kwargs) -> list:
    """Run fn(rank, world_size, **kwargs) in `world_size` spawned processes joined by gloo.

    Returns the per-rank results (rank order). Raises RuntimeError naming the failed rank (with
    its traceback) if a worker raises, and TimeoutError (after killing the workers) if they do
    not all finish within `timeout` seconds.
    """
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="course-dist-") as tmp:
        init_file = os.path.join(tmp, "rendezvous")  # file:// init: no port to collide on
        ctx = mp.start_processes(_entry, args=(fn, world_size, init_file, tmp, kwargs),
                                 nprocs=world_size, join=False, start_method="spawn")
        deadline = time.monotonic() + timeout
        try:
            while not ctx.join(timeout=0.2):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{fn.__name__} on {world_size} processes did not finish in "
                                       f"{timeout:.0f} s; the workers were killed")
        except (mp.ProcessRaisedException, mp.ProcessExitedException) as err:
            for p in ctx.processes:  # give the other ranks a moment to write down their errors
                p.join(2)
            fallback = f"rank {err.error_index} of {fn.__name__} failed:\n{err}"
            raise RuntimeError(_failure_report(fn, tmp, world_size, fallback)) from None
        finally:
            for p in ctx.processes:
                if p.is_alive():
                    p.kill()
                    p.join(5)
        return [torch.load(Path(tmp) / f"rank{r}.pt", weights_only=False) for r in range(world_size)]


# ---------------------------------------------------------------------------- shared model and data


def make_mlp(d_in=16, hidden=64, d_out=4, depth=3, seed=0) -> nn.Sequential:
    """The lecture's small MLP (same weights in every process for the same seed)."""
    torch.manual_seed(seed)
    sizes = [d_in] + [hidden] * (depth - 1) + [d_out]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < depth - 1:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def make_data(n=64, d_in=16, d_out=4, seed=0):
    """A regression batch (inputs, targets), identical in every process for the same seed."""
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, d_in, generator=g)
    return x, torch.sin(x[:, :d_out] * 2) + 0.1 * torch.randn(n, d_out, generator=g)


def _mlp_args(cfg):
    return {k: cfg[k] for k in ("d_in", "hidden", "d_out", "depth", "seed")}


def train_single(cfg=None) -> dict:
    """The single-process reference: Adam on the whole batch for cfg['steps'] steps; the state dict."""
    cfg = {**DEFAULTS, **(cfg or {})}
    model = make_mlp(**_mlp_args(cfg))
    x, y = make_data(cfg["n"], cfg["d_in"], cfg["d_out"], cfg["seed"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _my_half(t, rank, world_size):
    return t.chunk(world_size)[rank]  # each rank trains on its own contiguous slice of the batch


def state_bytes(params, optimizer) -> dict:
    """Bytes this process really holds for parameters, gradients and optimizer state (sharded
    tensors count their local shard only)."""
    def nbytes(t):
        t = t.to_local() if hasattr(t, "to_local") else t
        return t.numel() * t.element_size()

    params = list(params)
    opt_bytes = sum(nbytes(v) for s in optimizer.state.values() for v in s.values()
                    if torch.is_tensor(v) and v.numel() > 1)  # Adam's m and v (not its step counter)
    return {"params": sum(nbytes(p) for p in params),
            "grads": sum(nbytes(p.grad) for p in params if p.grad is not None), "adam": opt_bytes}


# ---------------------------------------------------------------------------- 1. collectives


def collectives_demo(rank, world_size):
    """What each collective does to a small tensor on every rank."""
    x = torch.arange(4.0) + 10 * rank
    out = {"input": x.clone()}
    summed = x.clone()
    dist.all_reduce(summed)  # every rank gets the sum
    out["all_reduce"] = summed
    gathered = torch.empty(4 * world_size)
    dist.all_gather_single(gathered, x)  # every rank gets everyone's tensor, concatenated
    out["all_gather"] = gathered
    part = torch.empty(4 // world_size)
    dist.reduce_scatter_single(part, x)  # the sum, but each rank keeps only its slice
    out["reduce_scatter"] = part
    return out


# ---------------------------------------------------------------------------- 2. data parallelism


def ddp_train(rank, world_size, cfg):
    """DistributedDataParallel: a full replica per rank; gradients averaged by all-reduce."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = DDP(make_mlp(**_mlp_args(cfg)))
    x, y = make_data(cfg["n"], cfg["d_in"], cfg["d_out"], cfg["seed"])
    x, y = _my_half(x, rank, world_size), _my_half(y, rank, world_size)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()  # DDP's hooks all-reduce (average) the grads here
        opt.step()
    state = {k: v.detach().clone() for k, v in model.module.state_dict().items()}
    return {"state": state, "memory": state_bytes(model.parameters(), opt)}


# ---------------------------------------------------------------------------- 3. FSDP / ZeRO-3


class _ShardedLinearFn(torch.autograd.Function):
    """y = x W^T + b where each rank stores only its shard of flat(W, b).

    forward: all_gather the shard into the full layer, compute, drop the full layer.
    backward: all_gather it again, compute the gradients, reduce_scatter the layer's gradient so
    each rank keeps the averaged gradient of its own shard only."""

    @staticmethod
    def forward(ctx, x, shard, shape, counter):
        full = _gather(shard, counter)
        w, b = _unflatten(full, shape)
        ctx.save_for_backward(x, shard)  # not `full`: that would undo the sharding
        ctx.shape, ctx.counter = shape, counter
        return F.linear(x, w, b)

    @staticmethod
    def backward(ctx, gy):
        x, shard = ctx.saved_tensors
        w, _ = _unflatten(_gather(shard, ctx.counter), ctx.shape)
        g_full = torch.cat([(gy.T @ x).flatten(), gy.sum(0)])
        g_full = F.pad(g_full, (0, shard.numel() * dist.get_world_size() - g_full.numel()))
        g_shard = torch.empty_like(shard)
        dist.reduce_scatter_single(g_shard, g_full)  # sum over ranks, keep my slice
        ctx.counter["reduce_scatter"] += 1
        return gy @ w, g_shard / dist.get_world_size(), None, None


def _gather(shard, counter):
    full = torch.empty(shard.numel() * dist.get_world_size())
    dist.all_gather_single(full, shard)
    counter["all_gather"] += 1
    counter["peak_gathered"] = max(counter["peak_gathered"], full.numel() * full.element_size())
    return full


def _unflatten(full, shape):
    out_f, in_f = shape
    return full[:out_f * in_f].view(out_f, in_f), full[out_f * in_f:out_f * in_f + out_f]


class ShardedLinear(nn.Module):
    """A Linear layer whose flattened (weight, bias) is split evenly over the ranks."""

    def __init__(self, linear: nn.Linear, rank: int, world_size: int, counter: dict):
        super().__init__()
        flat = torch.cat([linear.weight.detach().flatten(), linear.bias.detach()])
        flat = F.pad(flat, (0, -flat.numel() % world_size))  # pad so it splits evenly
        self.shard = nn.Parameter(flat.chunk(world_size)[rank].clone())
        self.shape, self.counter = tuple(linear.weight.shape), counter

    def forward(self, x):
        return _ShardedLinearFn.apply(x, self.shard, self.shape, self.counter)

    def full(self):
        """The unsharded (weight, bias), gathered (for checking)."""
        with torch.no_grad():
            return _unflatten(_gather(self.shard, self.counter), self.shape)


def fsdp_train(rank, world_size, cfg):
    """Hand-written FSDP (ZeRO stage 3): params, grads and Adam state all sharded."""
    counter = {"all_gather": 0, "reduce_scatter": 0, "peak_gathered": 0}
    dense = make_mlp(**_mlp_args(cfg))
    model = nn.Sequential(*[ShardedLinear(m, rank, world_size, counter) if isinstance(m, nn.Linear) else m
                            for m in dense])
    del dense
    x, y = make_data(cfg["n"], cfg["d_in"], cfg["d_out"], cfg["seed"])
    x, y = _my_half(x, rank, world_size), _my_half(y, rank, world_size)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])  # Adam is elementwise: shard-local
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    memory = {**state_bytes(model.parameters(), opt), "peak_gathered": counter["peak_gathered"]}
    calls = {k: counter[k] for k in ("all_gather", "reduce_scatter")}
    state = {}
    for i, m in enumerate(model):
        if isinstance(m, ShardedLinear):
            state[f"{i}.weight"], state[f"{i}.bias"] = m.full()
    return {"state": state, "memory": memory, "calls": calls}


def fully_shard_train(rank, world_size, cfg):
    """torch's own FSDP (FSDP2, `fully_shard`) on the same model, per layer then the root."""
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (world_size,))
        model = make_mlp(**_mlp_args(cfg))
        for m in model:
            if isinstance(m, nn.Linear):
                fully_shard(m, mesh=mesh)
        fully_shard(model, mesh=mesh)
        x, y = make_data(cfg["n"], cfg["d_in"], cfg["d_out"], cfg["seed"])
        x, y = _my_half(x, rank, world_size), _my_half(y, rank, world_size)
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        for _ in range(cfg["steps"]):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
        memory = state_bytes(model.parameters(), opt)
        state = {k: v.full_tensor().detach().clone() for k, v in model.state_dict().items()}
        return {"state": state, "memory": memory, "error": None}
    except Exception as err:  # noqa: BLE001 - the lecture reports what happened on this machine
        return {"state": None, "memory": None, "error": f"{type(err).__name__}: {err}"}


# ---------------------------------------------------------------------------- 4. tensor parallelism


def tp_weights(d=8, hidden=32, seed=0):
    """Weights of the tensor-parallel demo MLP: y = gelu(x W1^T + b1) W2^T + b2, and its input."""
    g = torch.Generator().manual_seed(seed + 2)
    w1, b1 = torch.randn(hidden, d, generator=g) / math.sqrt(d), torch.randn(hidden, generator=g) * 0.1
    w2, b2 = torch.randn(d, hidden, generator=g) / math.sqrt(hidden), torch.randn(d, generator=g) * 0.1
    return w1, b1, w2, b2, torch.randn(5, d, generator=g)


def mlp_reference(w1, b1, w2, b2, x):
    return F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)


def tp_mlp(rank, world_size, cfg):
    """Megatron MLP: W1 split by rows (output features: column-parallel), W2 split by columns
    (input features: row-parallel). The GELU acts on each rank's own hidden units, so the only
    communication is one all-reduce of the partial outputs."""
    w1, b1, w2, b2, x = tp_weights(cfg["tp_d"], cfg["tp_hidden"], cfg["seed"])
    w1_r, b1_r = w1.chunk(world_size, 0)[rank], b1.chunk(world_size)[rank]
    w2_r = w2.chunk(world_size, 1)[rank]
    h_r = F.gelu(F.linear(x, w1_r, b1_r))  # (n, hidden / world_size): no communication
    y = h_r @ w2_r.T  # a partial sum of the output
    dist.all_reduce(y)  # the one all-reduce
    return {"y": y + b2, "shard_shapes": (tuple(w1_r.shape), tuple(w2_r.shape)), "all_reduces": 1}


# ---------------------------------------------------------------------------- 5. context parallelism


def qkv(seq=16, head_dim=8, seed=0):
    g = torch.Generator().manual_seed(seed + 3)
    return tuple(torch.randn(seq, head_dim, generator=g) for _ in range(3))


def attention_reference(q, k, v):
    return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v


def ring_attention(rank, world_size, cfg):
    """Each rank holds one block of the sequence's queries, keys and values. The K/V blocks travel
    around the ring; each rank folds every block into its running softmax (max m, normaliser l,
    weighted sum acc) so no rank ever holds the full (seq x seq) score matrix."""
    q, k, v = (t.chunk(world_size)[rank].contiguous() for t in qkv(cfg["seq"], cfg["head_dim"], cfg["seed"]))
    m = torch.full((q.shape[0], 1), -math.inf)
    l, acc = torch.zeros(q.shape[0], 1), torch.zeros_like(q)
    seen = []
    for step in range(world_size):
        seen.append((rank - step) % world_size)  # which rank's block we hold now
        s = q @ k.T / math.sqrt(q.shape[-1])
        m_new = torch.maximum(m, s.amax(-1, keepdim=True))
        p, rescale = torch.exp(s - m_new), torch.exp(m - m_new)
        l, acc, m = l * rescale + p.sum(-1, keepdim=True), acc * rescale + p @ v, m_new
        if step < world_size - 1:  # pass my current K/V to the next rank, get the previous one's
            k_in, v_in = torch.empty_like(k), torch.empty_like(v)
            ops = [dist.P2POp(dist.isend, t, (rank + 1) % world_size) for t in (k, v)]
            ops += [dist.P2POp(dist.irecv, t, (rank - 1) % world_size) for t in (k_in, v_in)]
            for req in dist.batch_isend_irecv(ops):
                req.wait()
            k, v = k_in, v_in
    out = acc / l
    full = torch.empty(out.numel() * world_size)
    dist.all_gather_single(full, out.flatten().contiguous())
    return {"out": full.view(-1, q.shape[-1]), "blocks_seen": seen}


def mha_reference(q, k, v):
    """Multi-head attention of (seq, heads, head_dim) tensors, head by head."""
    s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(q.shape[-1])
    return torch.einsum("hqk,khd->qhd", torch.softmax(s, -1), v)


def ulysses_attention(rank, world_size, cfg):
    """DeepSpeed Ulysses: each rank starts with a sequence block of every head; an all-to-all
    regroups the data so each rank has the whole sequence of heads / world_size heads, it runs
    ordinary attention on them, and a second all-to-all gives the sequence blocks back."""
    heads, p = cfg["heads"], world_size
    q, k, v = (t.view(cfg["seq"], heads, -1).chunk(p)[rank] for t in mh_qkv(cfg))  # (seq/p, heads, dh)
    qkv_local = torch.stack([q, k, v])  # (3, seq/p, heads, dh)
    t_p, dh = q.shape[0], q.shape[-1]
    send = qkv_local.view(3, t_p, p, heads // p, dh).permute(2, 0, 1, 3, 4).contiguous()
    recv = torch.empty_like(send)  # chunk i = sequence block i of my heads
    dist.all_to_all_single(recv.view(-1), send.view(-1))
    q_h, k_h, v_h = recv.permute(1, 0, 2, 3, 4).reshape(3, p * t_p, heads // p, dh)
    out_h = mha_reference(q_h, k_h, v_h)  # full sequence, my heads: (seq, heads/p, dh)
    back = torch.empty(p, t_p, heads // p, dh)  # chunk j = my sequence block of head block j
    dist.all_to_all_single(back.view(-1), out_h.reshape(-1).contiguous())
    out = back.permute(1, 0, 2, 3).reshape(t_p, heads, dh)  # my sequence block, all heads
    full = torch.empty(out.numel() * p)
    dist.all_gather_single(full, out.flatten().contiguous())
    return {"out": full.view(-1, heads, dh), "all_to_alls": 2}


def mh_qkv(cfg):
    """Multi-head (seq, heads * head_dim) q, k, v for the Ulysses demo."""
    return qkv(cfg["seq"], cfg["heads"] * cfg["head_dim"], cfg["seed"] + 1)


# ---------------------------------------------------------------------------- all at once


def run_all(rank, world_size, cfg=None):
    """Every demo in one launch (each launch costs seconds of process start-up and imports)."""
    cfg = {**DEFAULTS, **(cfg or {})}
    out = {}
    for name, fn in [("collectives", lambda: collectives_demo(rank, world_size)),
                     ("ddp", lambda: ddp_train(rank, world_size, cfg)),
                     ("fsdp", lambda: fsdp_train(rank, world_size, cfg)),
                     ("fully_shard", lambda: fully_shard_train(rank, world_size, cfg)),
                     ("tp", lambda: tp_mlp(rank, world_size, cfg)),
                     ("ring", lambda: ring_attention(rank, world_size, cfg)),
                     ("ulysses", lambda: ulysses_attention(rank, world_size, cfg))]:
        dist.barrier()
        start = time.perf_counter()
        out[name] = fn()
        out[name]["seconds"] = time.perf_counter() - start
    return out


def max_diff(a: dict, b: dict) -> float:
    """Largest absolute difference between two state dicts with the same keys."""
    if a.keys() != b.keys():
        raise ValueError(f"different keys: {sorted(a)} vs {sorted(b)}")
    return max((a[k] - b[k]).abs().max().item() for k in a)
