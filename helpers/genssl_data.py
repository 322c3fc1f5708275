"""Data and plumbing for assignment 6 (generative and self-supervised models): small procedural
image sets as tensors, caption tokens and class prompts for a CLIP-style model, a small CNN,
and image mosaics. Nothing here computes a graded answer (losses, samplers, augmentations and
metrics are the students' work).

    x, y, world = H.genssl_data.shape_tensors(2000, size=16)      # images in [-1, 1], labels
    vocab = H.genssl_data.caption_vocab()                          # words of every caption
    ids = H.genssl_data.caption_ids(world.captions, vocab)         # (N, L) <bos> ... <eos> <pad>
    prompts = H.genssl_data.class_prompts("star")                  # every "a small red star on a ..."
    net = H.genssl_data.small_cnn(out=10)                          # referee, encoder or baseline
    H.genssl_data.show_mosaic(x, nrow=10, title="...")             # one picture of many images

Used in: assignments/source/a6_generative_ssl.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

from . import shapes
from .text import Vocab

SIZES = ("small", "medium", "large")


def shape_tensors(n: int, size: int = 16, seed: int = 0):
    """n images of the procedural world as a float tensor (n, 3, size, size) in [-1, 1], their
    int64 labels (n,), and the ShapesWorld itself (captions, boxes, ...)."""
    world = shapes.load_shapes(n, size=size, seed=seed)
    x = torch.from_numpy(world.images).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.from_numpy(world.labels), world


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> [0, 1] (clipped), for display and for a Bernoulli decoder."""
    return ((x + 1) / 2).clamp(0, 1)


def caption_vocab() -> Vocab:
    """A word vocabulary (with <pad> = 0, <bos>, <eos>, <unk>) covering every caption and prompt
    of the shapes world: sizes, colours, shapes, backgrounds and the glue words."""
    words = [*SIZES, *shapes.COLOURS, *shapes.SHAPE_CLASSES, *shapes.BACKGROUNDS, "a", "an", "on",
             "with", "and", "background", ","]
    return Vocab.from_text(" ".join(words), level="word")


def caption_ids(captions, vocab, max_len: int = 16) -> torch.Tensor:
    """Captions -> int64 tensor (N, L) of word ids: <bos> words <eos>, right-padded with <pad>."""
    if len(captions) == 0:
        raise ValueError("caption_ids needs at least one caption")
    ids, _ = vocab.encode_sentences(list(captions), max_len=max_len)
    return torch.from_numpy(ids)


def class_prompts(shape: str) -> list[str]:
    """Every caption the world can write about one shape alone: sizes x colours x backgrounds.
    Averaging a text encoder over them gives one class embedding (prompt ensembling, as CLIP does
    with "a photo of a {}" templates)."""
    if shape not in shapes.SHAPE_CLASSES:
        raise ValueError(f"unknown shape {shape!r}; the classes are {shapes.SHAPE_CLASSES}")
    combos = itertools.product(SIZES, shapes.COLOURS, shapes.BACKGROUNDS)
    return [f"a {s} {c} {shape} on a {b} background" for s, c, b in combos]


def small_cnn(out: int, width: int = 32, channels: int = 3) -> nn.Sequential:
    """(N, channels, H, W) -> (N, out): three conv-BN-ReLU stages (two 2x poolings), global
    average pooling, one linear layer. Small enough to train in seconds on a CPU at 16x16."""
    if out < 1 or width < 1:
        raise ValueError(f"out and width must be positive, got out={out}, width={width}")

    def stage(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(*stage(channels, width), nn.MaxPool2d(2), *stage(width, 2 * width), nn.MaxPool2d(2),
                         *stage(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4 * width, out))


def mosaic(images: torch.Tensor, nrow: int) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> one (rows*H, nrow*W, 3) array in [0, 1], row-major, 1-pixel white gaps."""
    if images.dim() != 4 or nrow < 1:
        raise ValueError(f"expected (N, C, H, W) images and nrow >= 1, got {tuple(images.shape)}, nrow={nrow}")
    x = to_unit(images.detach().float().cpu())
    n, c, h, w = x.shape
    rows = -(-n // nrow)
    out = torch.ones(c, rows * (h + 1) - 1, nrow * (w + 1) - 1)
    for i in range(n):
        r, k = divmod(i, nrow)
        out[:, r * (h + 1):r * (h + 1) + h, k * (w + 1):k * (w + 1) + w] = x[i]
    return out.permute(1, 2, 0).numpy()


def show_mosaic(images, nrow: int, title: str, col_labels=None, row_labels=None, ax=None):
    """Draw `mosaic(images, nrow)` with a title; col_labels/row_labels name the columns/rows."""
    pic = mosaic(images, nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(14, 0.5 + 0.55 * nrow), 0.6 + 0.55 * -(-len(images) // nrow)))
    ax.imshow(pic, interpolation="nearest")
    h, w = images.shape[2] + 1, images.shape[3] + 1
    ax.set_xticks(np.arange(len(col_labels)) * w + w / 2 - 1 if col_labels is not None else [])
    if col_labels is not None:
        ax.set_xticklabels(col_labels, rotation=60, fontsize=7)
    ax.set_yticks(np.arange(len(row_labels)) * h + h / 2 - 1 if row_labels is not None else [])
    if row_labels is not None:
        ax.set_yticklabels(row_labels, fontsize=7)
    ax.set_title(title, fontsize=10)
    return ax
