"""The one place notebooks get data from.

- `load_cifar10()` — real CIFAR-10 (see helpers/cifar.py for where it is looked up).
- `load_shapes(n)` — the embedded procedural world (helpers/shapes.py); also
  `load_shape_clips` (video) and `load_point_clouds` (3D).
- `load_classification(...)` — real CIFAR-10 when it is available, otherwise the procedural
  world; it says which in one visible line, so a notebook runs anywhere.
- `subsample`, `train_val_split` — the small utilities every classification notebook needs.
- `toy_2d(n, kind)` — 2-D spirals/blobs/circles/moons for drawing decision regions.
- `channel_stats`, `to_nchw`, `torch_splits` — the one preprocessing: uint8 NHWC -> float
  NCHW, normalised with the training set's per-channel statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import config
from .cifar import CIFAR10_CLASSES, CifarNotFoundError, load_cifar10
from .shapes import SHAPE_CLASSES, load_point_clouds, load_shape_clips, load_shapes
from .toy import toy_2d

__all__ = [
    "CIFAR10_CLASSES", "SHAPE_CLASSES", "CifarNotFoundError", "ClassificationData",
    "load_cifar10", "load_shapes", "load_shape_clips", "load_point_clouds",
    "load_classification", "subsample", "train_val_split", "toy_2d",
    "channel_stats", "to_nchw", "torch_splits", "TorchSplits",
]


def subsample(X, y, n, seed=0):
    """A random subset of n examples (without replacement), same order for the same seed."""
    if n > len(X):
        raise ValueError(f"asked for {n} examples but only {len(X)} are available")
    idx = np.random.default_rng(seed).permutation(len(X))[:n]
    return X[idx], y[idx]


def train_val_split(X, y, num_val, seed=0):
    """Split off `num_val` random examples for validation: X_train, y_train, X_val, y_val."""
    if not 0 < num_val < len(X):
        raise ValueError(f"num_val must be between 1 and {len(X) - 1}, got {num_val}")
    idx = np.random.default_rng(seed).permutation(len(X))
    val, train = idx[:num_val], idx[num_val:]
    return X[train], y[train], X[val], y[val]


@dataclass
class ClassificationData:
    """Images as uint8 (N, H, W, 3) and int64 labels, with the dataset's name and class names."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    name: str  # "cifar10" or "shapes": thresholds and prose can depend on it


def load_classification(num_train, num_val, num_test, seed=0, source="auto"):
    """Real CIFAR-10 if available, else the procedural world, split three ways.

    source: "auto" (CIFAR-10 when found locally, else shapes), "cifar10" or "shapes".
    Never downloads: run `H.data.load_cifar10(download=True)` once to fetch CIFAR-10.
    """
    if source not in ("auto", "cifar10", "shapes"):
        raise ValueError("source must be 'auto', 'cifar10' or 'shapes'")
    if source in ("auto", "cifar10"):
        try:
            X, y, X_test, y_test = load_cifar10(download=False, verbose=False)
        except CifarNotFoundError:
            if source == "cifar10":
                raise
        else:
            X, y = subsample(X, y, num_train + num_val, seed)
            X_test, y_test = subsample(X_test, y_test, num_test, seed)
            print(f"Data: real CIFAR-10 from {config.data_dir()} "
                  f"({num_train} train / {num_val} val / {num_test} test).")
            return ClassificationData(*train_val_split(X, y, num_val, seed), X_test, y_test,
                                      CIFAR10_CLASSES, "cifar10")
    world = load_shapes(num_train + num_val + num_test, seed=seed)
    X, y = world.images, world.labels
    n = num_train + num_val
    print(f"Data: CIFAR-10 not found in {config.data_dir()} — using the embedded procedural "
          f"shapes world ({num_train} train / {num_val} val / {num_test} test; see datasets/README.md).")
    return ClassificationData(*train_val_split(X[:n], y[:n], num_val, seed), X[n:], y[n:],
                              tuple(world.classes), "shapes")


def channel_stats(X_uint8) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of uint8 (N, H, W, 3) images scaled to [0, 1] (float32, shape (3,))."""
    x = np.asarray(X_uint8, dtype=np.float32) / 255
    return x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))


def to_nchw(X_uint8, mean=None, std=None) -> np.ndarray:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [0, 1]; minus mean, over std when given."""
    x = np.asarray(X_uint8, dtype=np.float32) / 255
    if mean is not None:
        x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


@dataclass
class TorchSplits:
    """Normalised float tensors (N, 3, H, W) and int64 labels, normalised by training statistics."""

    Xtr: object
    ytr: object
    Xva: object
    yva: object
    Xte: object
    yte: object
    mean: np.ndarray
    std: np.ndarray


def torch_splits(data: ClassificationData, res: int | None = None) -> TorchSplits:
    """The three splits of `data` as torch tensors, normalised with the training set's channel
    statistics, optionally shrunk to res x res by area averaging. Used in: lectures 05, 06, 07-18."""
    import torch
    import torch.nn.functional as F

    mean, std = channel_stats(data.X_train)

    def tensor(X):
        x = torch.from_numpy(to_nchw(X, mean, std))
        return F.adaptive_avg_pool2d(x, res) if res and res != x.shape[-1] else x

    labels = (torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in (data.y_train, data.y_val, data.y_test))
    ytr, yva, yte = labels
    return TorchSplits(tensor(data.X_train), ytr, tensor(data.X_val), yva, tensor(data.X_test), yte, mean, std)


# --- text corpora (lectures 07+): the dataset registry, with the procedural world as fallback ---
# fetch(name) gives the path of any file in helpers/datasets.py's registry (pooch, sha256-checked).
from .datasets import DatasetChecksumError, DatasetNotFoundError, fetch  # noqa: E402

__all__ += ["fetch", "DatasetNotFoundError", "DatasetChecksumError", "load_text", "load_corpus",
            "caption_corpus"]


def load_text(name="tinyshakespeare", data_dir=None, download=None, verbose=True) -> str:
    """A text corpus of the dataset registry as one str (UTF-8), e.g. tiny-shakespeare.

    The file is looked up in the data folder and checksum-checked; when absent it is downloaded,
    unless download=False or COURSE_OFFLINE=1: then DatasetNotFoundError says what to put where.
    """
    return fetch(name, data_dir=data_dir, download=download, verbose=verbose).read_text(encoding="utf-8")


def caption_corpus(num_chars=300_000, seed=0) -> str:
    """About `num_chars` characters of procedural-world captions, one per line (whole lines only).

    Scenes with up to three shapes, so sentences vary in length and structure; deterministic per
    seed. ~0.4 s for the default size.
    """
    lines, total, n = [], 0, max(1, num_chars // 55)
    while total < num_chars:  # ~70 characters a caption on average; top up if short
        lines = load_shapes(n, size=16, seed=seed, max_objects=3).captions
        total = sum(len(c) + 1 for c in lines)
        n *= 2
    text = "\n".join(lines) + "\n"
    cut = text.rfind("\n", 0, num_chars)
    return text[:cut + 1] if cut > 0 else text


def load_corpus(name="tinyshakespeare", fallback_chars=300_000, seed=0) -> tuple[str, str]:
    """(text, corpus name): the real corpus when it is in the data folder, else procedural captions.

    Never downloads (run `python -m helpers.datasets tinyshakespeare` once for the real text) and
    prints one line saying which corpus it is. The name is `name` or "shapes-captions", so claims
    and prose can depend on it. A present but damaged file is an error, not a silent fallback.
    """
    try:
        text = load_text(name, download=False, verbose=False)
    except DatasetNotFoundError:
        text = caption_corpus(fallback_chars, seed)
        print(f"Text: {name} not found in {config.data_dir()} — using {len(text):,} characters of "
              f"procedural shape captions instead (see datasets/README.md).")
        return text, "shapes-captions"
    print(f"Text: {name} from {config.data_dir()} ({len(text):,} characters).")
    return text, name
