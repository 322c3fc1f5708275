"""Self-supervised learning plumbing for lecture 12: one tiny encoder, augmentations, a probe.

    enc = H.ssl.TinyViT()                       # 16x16 images, 4x4 patches -> 16 tokens
    feats = enc(x)                              # (B, 64): mean of the output tokens
    feats = enc(x, keep=idx)                    # the same encoder on visible patches only (MAE, CPC)
    v1, v2 = H.ssl.augment(x, gen), H.ssl.augment(x, gen)   # two SimCLR-style views
    acc = H.ssl.linear_probe(enc, Xtr, ytr, Xte, yte)       # frozen features -> logistic regression

Why a ViT for every method: MAE's encoder must see *only* the visible patches, which a
transformer does by simply dropping tokens; using the same architecture for every method keeps
the linear-probe table a comparison of objectives, not of networks (the ideas: Dosovitskiy et
al. 2021 for ViT, He et al. 2022 for MAE, Chen et al. 2020 for the SimCLR augmentations).
The losses themselves (InfoNCE, DINO, ...) are the lesson and live in the notebook.
Used in: lecture 12.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def patchify(x, p):
    """(B, C, H, W) -> (B, (H/p)*(W/p), C*p*p): non-overlapping patches in row-major order."""
    B, C, Hh, W = x.shape
    x = x.reshape(B, C, Hh // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, (Hh // p) * (W // p), C * p * p)


def unpatchify(t, p, channels=3):
    """Inverse of patchify for square images: (B, N, C*p*p) -> (B, C, H, W)."""
    B, N, _ = t.shape
    g = int(round(math.sqrt(N)))
    x = t.reshape(B, g, g, channels, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, channels, g * p, g * p)


class Block(nn.Module):
    """Pre-norm transformer block (attention + MLP, each with a residual)."""

    def __init__(self, dim, heads, mlp=2):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp * dim), nn.GELU(), nn.Linear(mlp * dim, dim))

    def forward(self, x):
        h = self.n1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class TinyViT(nn.Module):
    """A small vision transformer: patch embedding + learned positions + `depth` blocks.

    forward(x, keep=None) -> (B, dim) features (mean of the output tokens).
    tokens(x, keep=None) -> (B, n, dim) output tokens. keep: (B, n) or (n,) long indices of the
    patches the encoder sees; the others are dropped before the first block, so the cost
    scales with the number of visible patches (MAE's asymmetric encoder).
    """

    def __init__(self, img=16, patch=4, dim=64, depth=2, heads=4, channels=3):
        super().__init__()
        self.patch, self.dim, self.num_patches = patch, dim, (img // patch) ** 2
        self.embed = nn.Linear(channels * patch * patch, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(1, self.num_patches, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    def tokens(self, x, keep=None):
        t = self.embed(patchify(x, self.patch)) + self.pos
        if keep is not None:
            keep = keep.expand(len(t), -1) if keep.dim() == 1 else keep
            t = torch.gather(t, 1, keep[..., None].expand(-1, -1, self.dim))
        return self.norm(self.blocks(t))

    def forward(self, x, keep=None):
        return self.tokens(x, keep).mean(1)


def mlp_head(dim_in, dim_out, hidden=128):
    """The non-linear projection/prediction head g(.) used by SimCLR, MoCo v2 and DINO."""
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, dim_out))


def augment(x, gen=None, min_scale=0.3, jitter=0.4, gray_p=0.2, flip=True):
    """A random view of each image of a normalised batch (B, 3, H, W), all done in torch:

    random resized crop (area fraction in [min_scale, 1], aspect ratio in [3/4, 4/3]),
    horizontal flip (p=0.5), colour jitter (brightness, contrast, saturation by up to
    `jitter`), grayscale (p=gray_p). Deterministic for a given torch.Generator `gen`.
    """
    B = len(x)
    u = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731 - local shorthand
    area = min_scale + (1 - min_scale) * u(B)
    ratio = torch.exp((u(B) - 0.5) * 2 * math.log(4 / 3))
    sx, sy = (area * ratio).sqrt().clamp(max=1), (area / ratio).sqrt().clamp(max=1)
    tx, ty = (1 - sx) * (2 * u(B) - 1), (1 - sy) * (2 * u(B) - 1)
    sign = torch.where(u(B) < 0.5, -1.0, 1.0) if flip else torch.ones(B)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx * sign, tx, sy, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    v = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    a = lambda: (1 + jitter * (2 * u(B, 1, 1, 1) - 1))  # noqa: E731 - a random factor per image
    gray = v.mean(1, keepdim=True)
    v = gray + a() * (v - gray)  # saturation
    v = v.mean((1, 2, 3), keepdim=True) + a() * (v - v.mean((1, 2, 3), keepdim=True))  # contrast
    v = v + jitter * (2 * u(B, 1, 1, 1) - 1)  # brightness (in normalised units)
    return torch.where(u(B, 1, 1, 1) < gray_p, v.mean(1, keepdim=True).expand_as(v), v)


@torch.no_grad()
def ema_update(teacher, student, momentum):
    """teacher <- momentum * teacher + (1 - momentum) * student, parameter by parameter
    (buffers such as BatchNorm statistics are copied)."""
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)
    for t, s in zip(teacher.buffers(), student.buffers()):
        t.copy_(s)


def fit(loss_fn, params, steps, n, batch=128, lr=2e-3, weight_decay=0.05, seed=0, after_step=None):
    """AdamW with warm-up and cosine decay for `steps` mini-batches of `batch` indices in
    range(n) (reshuffled every pass); loss_fn(idx) returns the loss. after_step(step) runs
    after each update (e.g. an EMA teacher). Returns the list of losses."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    losses, perm, pos = [], torch.randperm(n, generator=gen), 0
    for step in range(steps):
        if pos + batch > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        loss = loss_fn(perm[pos:pos + batch])
        pos += batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if after_step is not None:
            after_step(step)
        losses.append(loss.item())
    return losses


@torch.no_grad()
def features(encoder, X, batch=1024):
    """Frozen features of X (eval mode, no gradients), as one tensor."""
    was = encoder.training
    encoder.eval()
    out = torch.cat([encoder(X[i:i + batch]) for i in range(0, len(X), batch)])
    encoder.train(was)
    return out


def probe_features(Ftr, ytr, Fte, yte, weight_decay=1e-3, iters=100):
    """Test accuracy of a logistic-regression probe fitted (L-BFGS, L2 penalty) on standardised
    training features Ftr, ytr and evaluated on Fte, yte."""
    mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-6
    Ftr, Fte = (Ftr - mu) / sd, (Fte - mu) / sd
    torch.manual_seed(0)
    lin = nn.Linear(Ftr.shape[1], int(ytr.max()) + 1)
    opt = torch.optim.LBFGS(lin.parameters(), lr=1, max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(lin(Ftr), ytr) + weight_decay * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (lin(Fte).argmax(1) == yte).float().mean().item()


def linear_probe(encoder, Xtr, ytr, Xte, yte, **kw):
    """The one evaluation of the lecture: freeze `encoder`, fit a linear classifier on its
    features of the labelled training images, return its accuracy on the test images."""
    return probe_features(features(encoder, Xtr), ytr, features(encoder, Xte), yte, **kw)


def entropy(p, dim=-1):
    """Entropy in nats of probability vectors along `dim` (0 log 0 = 0)."""
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim)
