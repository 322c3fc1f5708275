"""Tiny 2-D datasets for seeing decision boundaries (kNN, linear models, MLPs).

Points live in the plane so a classifier's decision regions can be drawn
(`helpers.plot.decision_regions`); labels are int64 in 0..classes-1, balanced.
"""

from __future__ import annotations

import numpy as np

KINDS = ("spirals", "blobs", "circles", "moons")


def toy_2d(n, kind="spirals", classes=None, noise=None, seed=0):
    """n points (X float64 (n, 2), y int64 (n,)) of one of KINDS; same seed -> same data.

    classes defaults to 2 for "moons" (its only option) and 3 for the others.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    classes = classes or (2 if kind == "moons" else 3)
    if n < classes or classes < 2:
        raise ValueError(f"need at least 2 classes and n >= classes, got n={n}, classes={classes}")
    if kind == "moons" and classes != 2:
        raise ValueError("'moons' has exactly 2 classes: pass classes=2")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    return _MAKERS[kind](rng, y, classes, noise), y.astype(np.int64)


def _spirals(rng, y, classes, noise):
    # interleaved arms: the classic set a linear model cannot separate
    r = rng.uniform(0.1, 1.0, len(y))
    angle = 4.0 * r + y * 2 * np.pi / classes
    X = 3.0 * np.c_[r * np.cos(angle), r * np.sin(angle)]
    return X + rng.normal(scale=0.35 if noise is None else noise, size=X.shape)


def _blobs(rng, y, classes, noise):
    # Gaussian clusters on a circle: linearly separable up to the overlap set by noise
    angle = 2 * np.pi * np.arange(classes) / classes + np.pi / 2
    centres = 2.2 * np.c_[np.cos(angle), np.sin(angle)]
    return centres[y] + rng.normal(scale=0.9 if noise is None else noise, size=(len(y), 2))


def _circles(rng, y, classes, noise):
    # concentric rings: separable by radius, never by a line
    angle = rng.uniform(0, 2 * np.pi, len(y))
    radius = 1.0 + 1.2 * y
    X = radius[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + rng.normal(scale=0.2 if noise is None else noise, size=X.shape)


def _moons(rng, y, classes, noise):
    # two interlocking half circles
    t = rng.uniform(0, np.pi, len(y))
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + rng.normal(scale=0.15 if noise is None else noise, size=X.shape)


_MAKERS = {"spirals": _spirals, "blobs": _blobs, "circles": _circles, "moons": _moons}
