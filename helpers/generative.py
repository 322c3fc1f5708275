"""Small pieces for the generative-model lectures (13, 14): masked convolutions for PixelCNN,
encoder/decoder builders, bits-per-dimension conversion, a taxonomy figure and sample grids.

    conv = H.generative.MaskedConv2d(1, 32, 7, mask_type="A")   # sees only pixels before the centre
    bpd = H.generative.bits_per_dim(nll_nats_per_image, dims=16 * 16)

The masks follow van den Oord, Kalchbrenner and Kavukcuoglu, *Pixel recurrent neural networks*
(2016): raster (scanline) order, type "A" for the first layer (the centre pixel is hidden), type
"B" after it (the centre is visible, since it already holds only earlier pixels' information).
Used in: lectures 13-14.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["causal_mask", "MaskedConv2d", "bits_per_dim", "quantize", "mlp", "conv_encoder",
           "conv_decoder", "log_mean_exp", "input_dependence", "taxonomy_figure", "sample_grid",
           "latent_walk"]


def causal_mask(k: int, mask_type: str = "B") -> torch.Tensor:
    """(k, k) 0/1 mask of a raster-order masked convolution: rows above the centre and pixels left
    of it are 1; the centre is 1 for type "B", 0 for type "A"; everything after it is 0."""
    if k % 2 != 1 or mask_type not in ("A", "B"):
        raise ValueError("k must be odd and mask_type 'A' or 'B'")
    mask = torch.zeros(k, k)
    c = k // 2
    mask[:c] = 1
    mask[c, :c + (mask_type == "B")] = 1
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded convolution whose kernel is multiplied by `causal_mask` at every call, so an
    output pixel never depends on input pixels at or (type "A") after it in raster order."""

    def __init__(self, c_in: int, c_out: int, k: int, mask_type: str = "B"):
        super().__init__(c_in, c_out, k, padding=k // 2)
        self.mask_type = mask_type
        self.register_buffer("mask", causal_mask(k, mask_type))

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def bits_per_dim(nll_nats, dims: int):
    """Negative log-likelihood of one example in nats -> bits per dimension (divide by dims * ln 2)."""
    return nll_nats / (dims * math.log(2))


def quantize(x, levels: int):
    """Values in [0, 1] -> integer levels 0..levels-1 (equal-width bins); works on numpy and torch."""
    if isinstance(x, torch.Tensor):
        return (x * levels).floor().clamp(0, levels - 1).long()
    return np.clip(np.floor(np.asarray(x) * levels), 0, levels - 1).astype(np.int64)


def mlp(*sizes: int, act=nn.ReLU) -> nn.Sequential:
    """Linear layers of the given widths with `act` between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def conv_encoder(c_in: int, width: int, out: int, side: int = 16) -> nn.Sequential:
    """(n, c_in, side, side) -> (n, out): two stride-2 convolutions, then a linear layer."""
    return nn.Sequential(nn.Conv2d(c_in, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, 2 * width, 4, 2, 1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(2 * width * (side // 4) ** 2, out))


def conv_decoder(z_dim: int, width: int, c_out: int, side: int = 16) -> nn.Sequential:
    """(n, z_dim) -> (n, c_out, side, side) in (0, 1): the mirror of `conv_encoder`, sigmoid output."""
    s = side // 4
    return nn.Sequential(nn.Linear(z_dim, 2 * width * s * s), nn.ReLU(), nn.Unflatten(1, (2 * width, s, s)),
                         nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                         nn.ConvTranspose2d(width, c_out, 4, 2, 1), nn.Sigmoid())


def log_mean_exp(x: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log(mean(exp(x))) along dim, computed stably (the importance-sampling estimate of log p(x))."""
    return torch.logsumexp(x, dim) - math.log(x.shape[dim])


def input_dependence(model, shape, pos, tries: int = 8) -> torch.Tensor:
    """Which input pixels output pixel `pos` = (row, col) depends on: |d out[pos] / d in|, summed
    over channels and over `tries` random inputs of `shape` (1, C, H, W) (several, so that a ReLU
    that happens to be off for one input does not hide a path). Returns (H, W), exactly 0 where
    there is no path."""
    x = torch.randn((tries, *shape[1:]), requires_grad=True)
    out = model(x)
    out[:, :, pos[0], pos[1]].sum().backward()
    return x.grad.abs().sum((0, 1)).detach()


def _box(ax, xy, text, color, highlight=False):
    ax.text(*xy, text, ha="center", va="center", fontsize=9.5, wrap=True,
            bbox=dict(boxstyle="round,pad=0.45", fc=color, ec="black", lw=2.2 if highlight else 0.8))


def taxonomy_figure(highlight=("Tractable density",)):
    """Goodfellow's (2016) taxonomy of generative models drawn as a tree; boxes whose title is in
    `highlight` get a thick border. Returns the Figure."""
    nodes = {
        "Generative models\n(fit p(x) by maximum likelihood, or not)": ((0.5, 0.9), "#eeeeee"),
        "Explicit density\n(a formula for p(x))": ((0.25, 0.62), "#dbe9f6"),
        "Implicit density\n(only samples)": ((0.75, 0.62), "#f6e3d5"),
        "Tractable density\nautoregressive: PixelRNN/CNN,\nGPT-style LMs (this lecture)": ((0.11, 0.25), "#c6dbef"),
        "Approximate density\nvariational: VAE\n(this lecture)": ((0.38, 0.25), "#c6dbef"),
        "Direct\nGAN\n(lecture 14)": ((0.62, 0.25), "#fdd0a2"),
        "Indirect (iterative)\ndiffusion, rectified flow\n(lecture 14)": ((0.89, 0.25), "#fdd0a2"),
    }
    edges = [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6)]
    keys = list(nodes)
    fig, ax = plt.subplots(figsize=(11, 4.6))
    for a, b in edges:
        (xa, ya), (xb, yb) = nodes[keys[a]][0], nodes[keys[b]][0]
        ax.annotate("", (xb, yb + 0.09), (xa, ya - 0.08), arrowprops=dict(arrowstyle="->", color="0.3"))
    for key, (xy, color) in nodes.items():
        _box(ax, xy, key, color, highlight=key.split("\n")[0] in highlight)
    ax.set(xlim=(0, 1), ylim=(0.08, 1.0))
    ax.axis("off")
    ax.set_title("A taxonomy of generative models (after Goodfellow, NIPS 2016 tutorial)")
    fig.tight_layout()
    return fig


def sample_grid(images, title, ncols=8, titles=None):
    """A grid of images given as (N, C, H, W) tensors in [0, 1] (C = 1 shown in grey). Returns the Figure."""
    imgs = images.detach().cpu().clamp(0, 1).numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    n = len(imgs)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.15 * ncols, 1.15 * nrows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, im) in enumerate(zip(axes.flat, imgs)):
        ax.imshow(im[0] if im.shape[0] == 1 else im.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def latent_walk(decode, n: int = 10, lim: float = 2.5):
    """Decode an n x n grid of 2-D latent codes in [-lim, lim]^2 and tile the images into one
    (C, n*H, n*W) tensor; row 0 is the largest z2 (top of the picture), column 0 the smallest z1."""
    z1 = torch.linspace(-lim, lim, n)
    z2 = torch.linspace(lim, -lim, n)
    z = torch.stack(torch.meshgrid(z2, z1, indexing="ij")[::-1], -1).reshape(-1, 2)
    with torch.no_grad():
        imgs = decode(z)
    c, h, w = imgs.shape[1:]
    return imgs.reshape(n, n, c, h, w).permute(2, 0, 3, 1, 4).reshape(c, n * h, n * w)
