"""Image captioning data for Assignment 4: the procedural world's captions as word ids, image
features from a small CNN trained here (no pretrained weights), and captions shown under images.

    data = H.captioning.load_caption_data(num_train=2000, num_val=200, num_test=200)
    data.captions["train"]       # int64 (N, T): <START> w1 ... wk <END> <NULL> ... (0 = <NULL>)
    data.features["train"]       # float32 (N, D): what a captioning model sees of the image
    H.captioning.decode(ids, data.idx_to_word)  -> ["a large red star on a plain background", ...]

Features: a small convolutional net is trained (a few epochs, from scratch) to say which shapes
an image contains (one sigmoid per shape class, so it also works with two shapes per image); its
penultimate activations are concatenated with the image's average colour on a 4 x 4 grid (colour
and background are not what the net is trained on). Nothing here is a graded answer: the
assignment grades the sequence models that read these features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .shapes import SHAPE_CLASSES, load_shapes
from .solver import Solver

__all__ = ["SPECIAL", "CaptionData", "build_vocab", "encode", "decode", "pooled_colours",
           "train_shape_cnn", "cnn_features", "load_caption_data", "shapes_named",
           "shape_match", "show_captions", "CaptioningSolver"]

SPECIAL = ("<NULL>", "<START>", "<END>", "<UNK>")  # <NULL> is 0: padding, ignored by the loss
SPLITS = ("train", "val", "test")


@dataclass
class CaptionData:
    """Per split ("train", "val", "test"): uint8 images (N, 32, 32, 3), float32 features (N, D),
    int64 captions (N, T) and the caption texts. word_to_idx / idx_to_word: the vocabulary."""

    images: dict
    features: dict
    captions: dict
    texts: dict
    word_to_idx: dict
    idx_to_word: list

    def split(self, name: str, n: int | None = None) -> dict:
        """{'features', 'captions', 'images', 'texts'} of a split, its first n examples if n."""
        if name not in self.features:
            raise KeyError(f"split must be one of {sorted(self.features)}, got {name!r}")
        cut = slice(None) if n is None else slice(n)
        return {"features": self.features[name][cut], "captions": self.captions[name][cut],
                "images": self.images[name][cut], "texts": self.texts[name][cut]}


def build_vocab(texts) -> tuple[dict, list]:
    """word_to_idx and idx_to_word for lower-case, space-separated texts; SPECIAL words first."""
    words = sorted({w for t in texts for w in t.split()} - set(SPECIAL))
    idx_to_word = list(SPECIAL) + words
    return {w: i for i, w in enumerate(idx_to_word)}, idx_to_word


def encode(texts, word_to_idx, max_length: int | None = None) -> np.ndarray:
    """int64 (N, T) captions: <START>, the words (unknown ones as <UNK>), <END>, <NULL> padding.

    T = max_length + 2 when given (longer texts are cut), else the longest text + 2."""
    tokens = [t.split() for t in texts]
    if not tokens:
        raise ValueError("encode needs at least one text")
    longest = max(len(t) for t in tokens) if max_length is None else int(max_length)
    out = np.full((len(tokens), longest + 2), word_to_idx["<NULL>"], dtype=np.int64)
    unk = word_to_idx["<UNK>"]
    for i, words in enumerate(tokens):
        ids = [word_to_idx["<START>"]] + [word_to_idx.get(w, unk) for w in words[:longest]]
        ids.append(word_to_idx["<END>"])
        out[i, :len(ids)] = ids
    return out


def decode(captions, idx_to_word) -> list[str]:
    """Texts of int captions (N, T) or (T,): words up to the first <END>, without <START>/<NULL>."""
    captions = np.asarray(captions)
    single = captions.ndim == 1
    texts = []
    for row in np.atleast_2d(captions):
        words = []
        for i in row:
            word = idx_to_word[int(i)]
            if word == "<END>":
                break
            if word not in ("<NULL>", "<START>"):
                words.append(word)
        texts.append(" ".join(words))
    return texts[0] if single else texts


def pooled_colours(images, grid: int = 4) -> np.ndarray:
    """float32 (N, grid * grid * 3): the mean colour of each cell of a grid x grid split, in [0, 1]."""
    x = np.asarray(images, dtype=np.float32) / 255
    n, h, w, c = x.shape
    if h % grid or w % grid:
        raise ValueError(f"image size {h}x{w} is not divisible by grid={grid}")
    return x.reshape(n, grid, h // grid, grid, w // grid, c).mean(axis=(2, 4)).reshape(n, -1)


def _presence(instance_labels, num_classes) -> np.ndarray:
    out = np.zeros((len(instance_labels), num_classes), dtype=np.float32)
    for i, labels in enumerate(instance_labels):
        out[i, np.asarray(labels)] = 1
    return out


def _shape_net(width: int, feature_dim: int, num_classes: int):
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 16
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),  # 8 x 8 -> 1: "is this pattern anywhere"
        nn.Flatten(), nn.Linear(2 * width, feature_dim), nn.ReLU(),
        nn.Linear(feature_dim, num_classes))


def train_shape_cnn(images, instance_labels, epochs: int = 8, width: int = 16, feature_dim: int = 64,
                    seed: int = 0, batch_size: int = 32, lr: float = 3e-3):
    """A small CNN trained from scratch to say which shapes each image contains (multi-label).

    Returns the net (torch, eval mode); `cnn_features` reads its penultimate layer."""
    import torch
    import torch.nn.functional as F

    if len(images) != len(instance_labels):
        raise ValueError(f"{len(images)} images but {len(instance_labels)} label lists")
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(np.asarray(images, np.float32).transpose(0, 3, 1, 2) / 255))
    y = torch.from_numpy(_presence(instance_labels, len(SHAPE_CLASSES)))
    net = _shape_net(width, feature_dim, len(SHAPE_CLASSES))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            loss = F.binary_cross_entropy_with_logits(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def cnn_features(net, images, batch_size: int = 500) -> np.ndarray:
    """float32 (N, feature_dim): the trained net's penultimate activations."""
    import torch

    body = net[:-1]  # everything but the classifier
    x = np.asarray(images, np.float32).transpose(0, 3, 1, 2) / 255
    with torch.no_grad():
        parts = [body(torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size]))).numpy()
                 for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def load_caption_data(num_train: int, num_val: int, num_test: int, max_objects: int = 1,
                      seed: int = 0, cnn_epochs: int = 8, verbose: bool = True) -> CaptionData:
    """Captioned images of the procedural world, with features and word-id captions per split.

    The CNN that makes the features is trained on the training split only; features are
    standardised with the training split's mean and std."""
    sizes = {"train": num_train, "val": num_val, "test": num_test}
    if min(sizes.values()) < 1:
        raise ValueError(f"every split needs at least one image, got {sizes}")
    world = load_shapes(sum(sizes.values()), seed=seed, max_objects=max_objects)
    bounds = np.cumsum([0, num_train, num_val, num_test])
    part = {s: slice(int(a), int(b)) for s, a, b in zip(SPLITS, bounds[:-1], bounds[1:])}
    images = {s: world.images[part[s]] for s in SPLITS}
    texts = {s: world.captions[part[s]] for s in SPLITS}
    word_to_idx, idx_to_word = build_vocab(texts["train"])
    net = train_shape_cnn(images["train"], world.instance_labels[part["train"]], epochs=cnn_epochs, seed=seed)
    raw = {s: np.hstack([cnn_features(net, images[s]), pooled_colours(images[s])]) for s in SPLITS}
    mean, std = raw["train"].mean(axis=0), raw["train"].std(axis=0) + 1e-6
    features = {s: ((raw[s] - mean) / std).astype(np.float32) for s in SPLITS}
    longest = max(len(t.split()) for t in texts["train"])
    captions = {s: encode(texts[s], word_to_idx, longest) for s in SPLITS}
    if verbose:
        print(f"Captions: procedural shapes world, {num_train} train / {num_val} val / {num_test} test, "
              f"up to {max_objects} shapes per image; vocabulary {len(idx_to_word)} words, "
              f"captions of {captions['train'].shape[1]} tokens; features {features['train'].shape[1]}-d "
              f"(CNN trained here {cnn_epochs} epochs + 4x4 mean colours).")
    return CaptionData(images, features, captions, texts, word_to_idx, idx_to_word)


_SHAPE_WORDS = re.compile(r"\b(" + "|".join(SHAPE_CLASSES) + r")\b")


def shapes_named(text: str) -> list[str]:
    """The shape words of a caption, in order ('a red star with a blue ring ...' -> ['star', 'ring'])."""
    return _SHAPE_WORDS.findall(text)


def shape_match(sampled, reference) -> np.ndarray:
    """bool (N,): the sampled caption names the same shapes as the reference, main shape first."""
    if len(sampled) != len(reference):
        raise ValueError(f"{len(sampled)} sampled captions but {len(reference)} references")
    return np.array([shapes_named(s) == shapes_named(r) for s, r in zip(sampled, reference)], dtype=bool)


def show_captions(images, sampled, reference=None, ncols: int = 4, title: str = "Sampled captions"):
    """Images with the sampled caption under each (and the true one, green/red by shape_match)."""
    import textwrap

    import matplotlib.pyplot as plt

    n = len(images)
    if len(sampled) != n or (reference is not None and len(reference) != n):
        raise ValueError("images, sampled (and reference) must have the same length")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.8 * nrows + 0.5), squeeze=False)
    ok = shape_match(sampled, reference) if reference is not None else [None] * n
    for ax, img, text, good, i in zip(axes.flat, images, sampled, ok, range(n)):
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        label = "sampled: " + textwrap.fill(text, 40)
        if reference is not None:
            label += "\ntrue: " + textwrap.fill(reference[i], 40)
        ax.set_xlabel(label, fontsize=7, color={True: "darkgreen", False: "darkred", None: "black"}[good])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title + ("" if reference is None else " (green: the right shapes, red: not)"))
    fig.tight_layout()
    return fig


class CaptioningSolver(Solver):
    """The course's Solver for captioning models: `X_*` are image features, `y_*` int captions.

    The model needs `params`, `loss(features, captions) -> (loss, grads)` and
    `sample(features, max_length) -> int captions`. The "accuracy" the Solver records (and uses
    to keep the best parameters) is the fraction of images whose greedy caption names the
    same shapes as the true caption (`shape_match`)."""

    def __init__(self, model, data, idx_to_word, **kwargs):
        self.idx_to_word = list(idx_to_word)
        super().__init__(model, data, **kwargs)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        if num_samples is not None and len(X) > num_samples:
            idx = np.random.choice(len(X), num_samples)
            X, y = X[idx], y[idx]
        sampled = np.concatenate([np.asarray(self.model.sample(X[i:i + batch_size], max_length=y.shape[1]))
                                  for i in range(0, len(X), batch_size)])
        return float(shape_match(decode(sampled, self.idx_to_word), decode(y, self.idx_to_word)).mean())
