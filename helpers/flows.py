"""Rectified flow (and the diffusion template around it) for tiny images and low-dimensional data.

Convention (as in lecture 14): t = 0 is data, t = 1 is noise,

    x_t = a(t) x + b(t) eps,        rectified flow: a = 1 - t, b = t,   velocity v = eps - x,

and sampling integrates dx/dt = v from t = 1 down to t = 0 (Liu et al. 2022; Lipman et al. 2022;
Esser et al. 2024 for the logit-normal time sampling).

    net = flows.VelocityNet((3, 16, 16), num_classes=10)         # 16x16 RGB images in [-1, 1]
    flows.train_rectified_flow(net, images, labels, steps=2000)   # condition dropout p_uncond
    x = flows.sample_euler(net, torch.randn(16, 3, 16, 16), steps=20, labels=y, guidance=3.0)

The diffusion template (lecture 14 §7) works for three schedules, `SCHEDULES` = ("rf", "vp", "ve"):
`schedule(kind, t)` gives (a, b, da/dt, db/dt); `to_x_eps` / `from_x_eps` / `convert` turn an
x-, eps- or v-prediction (v = dx_t/dt) into any other; `score` gives grad log p_t = -eps_hat / b;
`matching_time` maps a time of one schedule to the time of another with the same signal-to-noise
ratio (the noisy inputs then differ only by a scale, `a + b`-normalised). `predict(net, x_t, t,
target="eps")` wraps a trained velocity network so other lectures (18: score distillation) can
ask it for x-hat, eps-hat or the score. Used in: lectures 14 and 18.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SCHEDULES = ("rf", "vp", "ve")
TARGETS = ("x", "eps", "v")
VE_SIGMA_MIN, VE_SIGMA_MAX = 0.002, 80.0  # the range Karras et al. (2022) use


# ----------------------------------------------------------------------------- time sampling
def sample_t(n, kind="logit_normal", generator=None, mean=0.0, std=1.0):
    """n training times in (0, 1): "uniform", or "logit_normal" (sigmoid of a normal; more weight
    on the middle times, where predicting the velocity is hardest; Esser et al. 2024)."""
    if kind == "uniform":
        return torch.rand(n, generator=generator)
    if kind == "logit_normal":
        return torch.sigmoid(mean + std * torch.randn(n, generator=generator))
    raise ValueError(f"t sampling must be 'uniform' or 'logit_normal', got {kind!r}")


def _time_features(t, dim):
    """Sinusoidal features of t in [0, 1] (frequencies 1 .. 100, times pi)."""
    half = dim // 2
    freqs = torch.exp(torch.linspace(0, math.log(100.0), half, device=t.device))
    ang = t.reshape(-1, 1) * freqs * math.pi
    return torch.cat([ang.sin(), ang.cos()], dim=1)


# ----------------------------------------------------------------------------- networks
class TimeClassEmbedding(nn.Module):
    """Time (and optional class) -> one embedding vector; class index num_classes means "no class"."""

    def __init__(self, emb, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.time = nn.Sequential(nn.Linear(32, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.cls = nn.Embedding(num_classes + 1, emb) if num_classes else None

    def forward(self, t, labels):
        e = self.time(_time_features(t, 32))
        if self.cls is not None:
            if labels is None:
                labels = torch.full((len(t),), self.num_classes, dtype=torch.long, device=t.device)
            e = e + self.cls(labels)
        return e


class _Block(nn.Module):
    """Pre-norm residual MLP block; the embedding sets a scale and shift after the norm (adaLN)."""

    def __init__(self, hidden, emb):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False)
        self.mod = nn.Linear(emb, 2 * hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, h, e):
        scale, shift = self.mod(e).chunk(2, dim=1)
        return h + self.mlp(self.norm(h) * (1 + scale) + shift)


class VelocityNet(nn.Module):
    """v(x_t, t[, class]) for small images (shape (C, H, W)) or points (shape (d,)).

    A residual MLP on the flattened input: `depth` blocks of width `hidden`, with time and class
    entering every block as a scale and shift of the normalised activations (adaLN). An MLP, not a
    U-Net, because it trains about ten times faster on a CPU at 16x16 (lecture 14 measures it).
    With num_classes = K the class embedding has K + 1 rows: row K is the "null" class used for
    classifier-free guidance. A learned time-dependent scalar s(t) adds s(t) x_t to the output:
    the MLP is narrower than a 768-number image, and without this skip it could not pass the noise
    through (at t = 1 the velocity is x_t minus an image). The output layer and s start at zero,
    so the untrained net predicts v = 0.
    """

    def __init__(self, shape=(3, 16, 16), hidden=512, depth=3, num_classes=0, emb=128):
        super().__init__()
        self.shape, self.num_classes = tuple(shape), num_classes
        dim = math.prod(self.shape)
        self.cond = TimeClassEmbedding(emb, num_classes)
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(_Block(hidden, emb) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, dim))
        self.skip = nn.Linear(emb, 1)  # v = s(t) x_t + MLP: the noise passes through the skip
        for layer in (self.out[-1], self.skip):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x, t, labels=None):
        e = F.silu(self.cond(t, labels))
        flat = x.reshape(len(x), -1)
        h = self.inp(flat)
        for blk in self.blocks:
            h = blk(h, e)
        return (self.skip(e) * flat + self.out(h)).reshape(x.shape)


# ----------------------------------------------------------------------------- training and sampling
def train_rectified_flow(model, data, labels=None, *, steps=1000, batch_size=128, lr=2e-3, p_uncond=0.1,
                         t_sampling="logit_normal", seed=0, weight_decay=0.0):
    """Fit model(x_t, t, labels) to v = eps - x on x_t = (1 - t) x + t eps. Returns the loss per step.

    data: (N, ...) float tensor (images in [-1, 1], points, latents); labels: (N,) int64 or None.
    With labels, each example's class is replaced by the null class with probability p_uncond
    (condition dropout), so one network learns both v(x, t, c) and v(x, t) for guidance.
    The learning rate decays along a cosine to 10% (short runs end much better with a decay).
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 + 0.45 * (1 + math.cos(math.pi * s / steps)))
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(data), (batch_size,), generator=gen)
        x = data[idx]
        eps = torch.randn(x.shape, generator=gen)
        t = sample_t(batch_size, t_sampling, gen)
        tb = t.reshape(-1, *([1] * (x.dim() - 1)))
        y = None
        if labels is not None:
            y = labels[idx].clone()
            y[torch.rand(batch_size, generator=gen) < p_uncond] = model.num_classes  # the null class
        loss = F.mse_loss(model((1 - tb) * x + tb * eps, t, y), eps - x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    return losses


def guided_velocity(model, x, t, labels=None, guidance=1.0):
    """Classifier-free guidance: v_uncond + w (v_cond - v_uncond). w = 1: the conditional model;
    w = 0: the unconditional one; labels None: unconditional whatever w is. Costs two passes
    when w is not 0 or 1."""
    if labels is None or guidance == 0:
        return model(x, t, None)
    if guidance == 1:
        return model(x, t, labels)
    null = torch.full_like(labels, model.num_classes)
    v = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
    v_c, v_u = v.chunk(2)
    return v_u + guidance * (v_c - v_u)


@torch.no_grad()
def sample_euler(model, noise, steps=20, labels=None, guidance=1.0, t_start=1.0, return_path=False):
    """Integrate dx/dt = v from t = t_start (noise) to t = 0 (data) in `steps` equal Euler steps.

    noise: the starting x (N, ...), usually torch.randn; returns x at t = 0, or the list of all
    intermediate x (steps + 1 entries) when return_path. guidance: see `guided_velocity`.
    """
    model.eval()
    x = noise.clone()
    path = [x]
    ts = torch.linspace(t_start, 0.0, steps + 1)
    for t0, t1 in zip(ts[:-1], ts[1:]):
        v = guided_velocity(model, x, t0.expand(len(x)), labels, guidance)
        x = x + (t1 - t0) * v
        path.append(x)
    return path if return_path else x


# ----------------------------------------------------------------------------- the diffusion template
def schedule(kind, t):
    """(a, b, da/dt, db/dt) of x_t = a x + b eps for t in [0, 1] (tensor or float).

    rf: a = 1 - t, b = t.  vp (cosine, a^2 + b^2 = 1): a = cos(pi t / 2), b = sin(pi t / 2).
    ve: a = 1, b = sigma_min (sigma_max / sigma_min)^t (the noise only grows; nothing shrinks).
    """
    t = torch.as_tensor(t, dtype=torch.get_default_dtype()) if not torch.is_tensor(t) else t
    if kind == "rf":
        return 1 - t, t, -torch.ones_like(t), torch.ones_like(t)
    if kind == "vp":
        h = math.pi / 2
        return torch.cos(h * t), torch.sin(h * t), -h * torch.sin(h * t), h * torch.cos(h * t)
    if kind == "ve":
        b = VE_SIGMA_MIN * (VE_SIGMA_MAX / VE_SIGMA_MIN) ** t
        return torch.ones_like(t), b, torch.zeros_like(t), b * math.log(VE_SIGMA_MAX / VE_SIGMA_MIN)
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")


def _bcast(coef, like):
    coef = torch.as_tensor(coef, dtype=like.dtype)
    return coef.reshape(-1, *([1] * (like.dim() - 1))) if coef.dim() == 1 else coef


def to_x_eps(pred, target, x_t, t, kind="rf"):
    """(x_hat, eps_hat) from a prediction of `target` ("x", "eps" or "v" = dx_t/dt) at x_t, t."""
    a, b, da, db = (_bcast(c, x_t) for c in schedule(kind, t))
    if target == "x":
        return pred, (x_t - a * pred) / b
    if target == "eps":
        return (x_t - b * pred) / a, pred
    if target == "v":  # solve [a b; da db] [x; eps] = [x_t; v]
        det = a * db - b * da
        return (db * x_t - b * pred) / det, (a * pred - da * x_t) / det
    raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


def from_x_eps(x_hat, eps_hat, target, t, kind="rf"):
    """The prediction of `target` that (x_hat, eps_hat) imply at time t of schedule `kind`."""
    a, b, da, db = (_bcast(c, x_hat) for c in schedule(kind, t))
    if target == "x":
        return x_hat
    if target == "eps":
        return eps_hat
    if target == "v":
        return da * x_hat + db * eps_hat
    raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


def convert(pred, x_t, t, src, dst, kind="rf"):
    """Turn a `src` prediction into a `dst` prediction ("x", "eps", "v") for the same x_t, t, schedule."""
    return from_x_eps(*to_x_eps(pred, src, x_t, t, kind), dst, t, kind)


def score(pred, target, x_t, t, kind="rf"):
    """grad_x log p_t(x_t) implied by a prediction: -eps_hat / b(t) (Tweedie / denoising score matching)."""
    _, eps_hat = to_x_eps(pred, target, x_t, t, kind)
    return -eps_hat / _bcast(schedule(kind, t)[1], x_t)


def matching_time(t, src, dst):
    """The time of schedule `dst` whose noise-to-signal ratio b/a equals that of `src` at t, and the
    factor s with x_t(dst) = s * x_t(src) for the same (x, eps)."""
    a, b, _, _ = schedule(src, t)
    ratio = b / a
    if dst == "rf":
        t2 = ratio / (1 + ratio)
    elif dst == "vp":
        t2 = torch.atan(ratio) * 2 / math.pi
    elif dst == "ve":
        t2 = torch.log(ratio / VE_SIGMA_MIN) / math.log(VE_SIGMA_MAX / VE_SIGMA_MIN)
    else:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {dst!r}")
    return t2, schedule(dst, t2)[0] / a


@torch.no_grad()
def predict(model, x_t, t, labels=None, guidance=1.0, target="eps", kind="rf"):
    """Ask a rectified-flow velocity network for `target` ("x", "eps", "v" of schedule `kind`, or
    "score") at a noisy input x_t made with schedule `kind` at time t (float or (N,) tensor).

    For kind != "rf", x_t is first rescaled to the rectified-flow input with the same
    signal-to-noise ratio, which is the network's native input. Used by lecture 18's score
    distillation: predict(net, x_t, t, target="eps") - eps is the SDS gradient direction.
    """
    t = torch.as_tensor(t, dtype=x_t.dtype).expand(len(x_t)) if not torch.is_tensor(t) or t.dim() == 0 else t
    t_rf, s = matching_time(t, kind, "rf")
    x_rf = x_t * _bcast(s, x_t)
    x_hat, eps_hat = to_x_eps(guided_velocity(model, x_rf, t_rf, labels, guidance), "v", x_rf, t_rf, "rf")
    if target == "score":
        return -eps_hat / _bcast(schedule(kind, t)[1], x_t)
    return from_x_eps(x_hat, eps_hat, target, t, kind)
