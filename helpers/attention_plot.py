"""Attention-map plots: a heatmap of attention weights with token labels, attention rollout
through a stack of transformer layers, and a patch-attention map overlaid on an image (ViT).

    from helpers import attention_plot as AP
    AP.heatmap(weights, row_labels=out_tokens, col_labels=in_tokens, title="Bahdanau attention")
    R = AP.rollout([A1, A2, A3])                  # each (heads, T, T) or (T, T); T = 1 + patches
    AP.overlay(image, AP.cls_map(R, grid=8), title="rollout of the CLS token")
    AP.overlay(image, AP.pooled_map(R, grid=8))   # a ViT that average-pools its patch tokens

Only plotting and bookkeeping live here; the attention layers themselves are written in the
lectures. Used in: lecture 08 (seq2seq attention, ViT attention), lecture 09 (visualisation).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def heatmap(weights, row_labels=None, col_labels=None, *, ax=None, title="Attention weights",
            xlabel="attended position (key)", ylabel="query position", cmap="viridis",
            annotate=None, colorbar=True):
    """Draw a (rows, cols) matrix of attention weights with token labels on both axes.

    Rows are queries (e.g. output steps), columns keys (input tokens). annotate: write each
    weight in its cell (default: when the matrix has at most 12 x 12 cells). Returns the axes.
    """
    w = _np(weights)
    if w.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {w.shape}")
    for labels, n, what in ((row_labels, w.shape[0], "row"), (col_labels, w.shape[1], "col")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{len(labels)} {what} labels for {n} {what}s")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(3.0, 0.45 * w.shape[1] + 1.5), max(2.5, 0.4 * w.shape[0] + 1.2)))
    im = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=max(float(w.max()), 1e-12), aspect="auto")
    ax.set_xticks(range(w.shape[1]))
    ax.set_yticks(range(w.shape[0]))
    ax.set_xticklabels([str(s) for s in col_labels] if col_labels is not None else range(w.shape[1]),
                       fontsize=8, rotation=90 if w.shape[1] > 16 else 0)
    ax.set_yticklabels([str(s) for s in row_labels] if row_labels is not None else range(w.shape[0]), fontsize=8)
    if annotate is None:
        annotate = w.shape[0] <= 12 and w.shape[1] <= 12
    if annotate:
        top = w.max()
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if w[i, j] > 0.6 * top else "white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    return ax


def rollout(attentions, residual=True):
    """Attention rollout (Abnar and Zuidema, 2020): how much each output token draws on each
    input token through a stack of layers.

    attentions: a list (first layer first) of (heads, T, T) or (T, T) row-stochastic matrices
    (one example). Heads are averaged; with residual=True each layer becomes 0.5 A + 0.5 I (the
    skip connection), rows renormalised; the layers are multiplied. Returns a (T, T) array whose
    rows sum to 1.
    """
    if len(attentions) == 0:
        raise ValueError("rollout needs at least one attention matrix")
    out = None
    for a in attentions:
        a = _np(a)
        if a.ndim == 3:
            a = a.mean(axis=0)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"each attention must be (heads, T, T) or (T, T), got {a.shape}")
        if residual:
            a = 0.5 * a + 0.5 * np.eye(len(a))
        a = a / a.sum(axis=1, keepdims=True)
        out = a if out is None else a @ out
    return out


def cls_map(matrix, grid, cls_index=0):
    """The row of a (T, T) attention (or rollout) matrix belonging to the CLS token, restricted to
    the grid*grid patch tokens (those after it) and reshaped to (grid, grid), scaled to max 1."""
    m = _np(matrix)
    row = np.delete(m[cls_index], cls_index)
    if row.size != grid * grid:
        raise ValueError(f"{row.size} patch tokens cannot form a {grid}x{grid} grid")
    row = row.reshape(grid, grid)
    return row / max(row.max(), 1e-12)


def pooled_map(matrix, grid):
    """For a model that average-pools its tokens (no CLS token): the mean of the rows of a (T, T)
    rollout matrix — each input patch's share in the pooled output — as a (grid, grid) map scaled
    to max 1."""
    m = _np(matrix)
    if m.shape[-1] != grid * grid:
        raise ValueError(f"{m.shape[-1]} tokens cannot form a {grid}x{grid} grid")
    g = m.mean(axis=0).reshape(grid, grid)
    return g / max(g.max(), 1e-12)


def overlay(image, attention_grid, *, ax=None, title=None, alpha=0.55, cmap="inferno"):
    """Show an image (H, W, 3) uint8/float or (3, H, W) with a (g, g) attention map stretched
    over it (nearest patches, so every patch stays a visible square). Returns the axes."""
    img = _np(image)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)
    if img.max() > 1.0:
        img = img / 255.0
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    g = _np(attention_grid)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6, 2.6))
    h, w = img.shape[:2]
    ax.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None, extent=(0, w, h, 0))
    ax.imshow(g, cmap=cmap, alpha=alpha, extent=(0, w, h, 0), interpolation="nearest",
              vmin=0.0, vmax=max(float(g.max()), 1e-12))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
