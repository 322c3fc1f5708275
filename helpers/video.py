"""Video plumbing for lecture 10: clips as tensors, optical flow, cost counting, a small
trainer and a long clip for temporal localisation.

    X = video.to_tensor(data.clips)                  # (N, 3, T, H, W) floats, normalised
    flow = video.farneback(data.clips)               # (N, 2, T-1, H, W) OpenCV Farneback flow
    gflop = video.flops(model, X[:1]) / 1e9          # counted by torch's FlopCounterMode
    hist = video.fit(model, X_train, y_train, X_test, y_test, epochs=8)

What a lecture teaches (the models, fusion, inflation, attention) stays in the notebook; this
module holds only the loops and conversions around it. Used in: lecture 10.
"""

from __future__ import annotations

import numpy as np

MEAN, STD = 127.5, 64.0  # fixed pixel normalisation: the same for every split and every lecture section


def to_tensor(clips):
    """uint8 clips (N, T, H, W, 3) -> float32 tensor (N, 3, T, H, W), roughly zero-mean, unit-scale."""
    import torch

    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"expected clips of shape (N, T, H, W, 3), got {clips.shape}")
    x = (clips.astype(np.float32) - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 4, 1, 2, 3)))


def farneback(clips, levels=2, winsize=9, iterations=3, poly_n=5, poly_sigma=1.1):
    """Dense optical flow between consecutive frames (OpenCV's Farneback method on grey frames).

    clips: uint8 (N, T, H, W, 3) or (T, H, W, 3). Returns float32 (N, 2, T-1, H, W) (or
    (2, T-1, H, W)): channel 0 is the x displacement, 1 the y displacement, in pixels per frame.
    """
    import cv2

    clips = np.asarray(clips)
    single = clips.ndim == 4
    if single:
        clips = clips[None]
    if clips.ndim != 5 or clips.shape[1] < 2:
        raise ValueError(f"need clips (N, T >= 2, H, W, 3), got {clips.shape}")
    n, t, h, w, _ = clips.shape
    grey = (clips.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    out = np.empty((n, t - 1, h, w, 2), np.float32)
    for i in range(n):
        for j in range(t - 1):
            out[i, j] = cv2.calcOpticalFlowFarneback(grey[i, j], grey[i, j + 1], None, 0.5, levels,
                                                     winsize, iterations, poly_n, poly_sigma, 0)
    out = out.transpose(0, 4, 1, 2, 3)
    return out[0] if single else out


def flow_to_rgb(flow, max_mag=None):
    """Colour-code one flow field (2, H, W) or (H, W, 2): hue = direction, brightness = speed.

    max_mag: the speed shown at full brightness (default: the field's own maximum).
    Returns float RGB (H, W, 3) in [0, 1]. Right is red, down is yellow-green, left cyan, up violet.
    """
    from matplotlib.colors import hsv_to_rgb

    flow = np.asarray(flow, np.float32)
    if flow.shape[0] == 2 and flow.ndim == 3:
        flow = flow.transpose(1, 2, 0)
    mag = np.hypot(flow[..., 0], flow[..., 1])
    top = float(max_mag) if max_mag else max(float(mag.max()), 1e-6)
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    hsv = np.stack([hue, np.ones_like(hue), np.clip(mag / top, 0, 1)], -1)
    return hsv_to_rgb(hsv)


def params(model) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flops(model, *inputs) -> int:
    """Floating-point operations of one forward pass, counted by torch.utils.flop_counter.

    A multiply-add counts as 2 FLOPs (convolutions, matrix products, attention); element-wise
    work (ReLU, norms, softmax) is not counted, as in most papers' tables.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    model.train(was_training)
    return int(counter.get_total_flops())


def predict(model, X, batch=256):
    """Logits of model on X, in evaluation mode and batches, without gradients."""
    import torch

    model.eval()
    with torch.no_grad():
        return torch.cat([model(X[i:i + batch]) for i in range(0, len(X), batch)])


def fit(model, X, y, X_test=None, y_test=None, epochs=8, lr=3e-3, batch=64, weight_decay=1e-4,
        seed=0, augment=None):
    """Train a classifier with AdamW and a one-cycle schedule; returns a history dict.

    X may be a tensor or a tuple of tensors (models with several inputs, e.g. two streams).
    augment: optional function (inputs_tuple, generator) -> inputs_tuple applied per batch
    (clip sampling). history: "loss" per step, "seconds", and "test_acc" when a test set is given.
    """
    import time

    import torch
    import torch.nn.functional as F

    Xs = X if isinstance(X, tuple) else (X,)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = max(len(y) // batch, 1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps_per_epoch, pct_start=0.2)
    losses, t0 = [], time.perf_counter()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=gen)
        for k in range(steps_per_epoch):
            idx = perm[k * batch:(k + 1) * batch]
            xb = tuple(x[idx] for x in Xs)
            if augment is not None:
                xb = augment(xb, gen)
            loss = F.cross_entropy(model(*xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
    history = {"loss": losses, "seconds": time.perf_counter() - t0}
    if X_test is not None:
        history["test_acc"] = accuracy(model, X_test, y_test)
    model.eval()
    return history


def accuracy(model, X, y, batch=256) -> float:
    """Top-1 accuracy; X may be a tuple of inputs like in `fit`."""
    import torch

    Xs = X if isinstance(X, tuple) else (X,)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(*(x[i:i + batch] for x in Xs)) for i in range(0, len(y), batch)])
    return float((logits.argmax(1) == y).float().mean())


def long_clip(length=96, size=32, actions=3, min_len=8, max_len=24, seed=0):
    """A long untrimmed clip for temporal action localisation: a shape rests on a textured
    background and, during `actions` separate intervals, slides to a new resting place.

    Returns (frames uint8 (length, size, size, 3), segments int64 (k, 2) of [start, end) frame
    indices of the actions, sorted). Action lengths are uniform in [min_len, max_len]; between
    actions the shape stays still (only pixel noise changes).
    """
    from .shapes import _PALETTE, SHAPE_CLASSES, render_masks

    if actions * (max_len + 4) + 4 > length:
        raise ValueError(f"{actions} actions of up to {max_len} frames do not fit in {length} frames")
    rng = np.random.default_rng([10, seed])
    lens = rng.integers(min_len, max_len + 1, actions)
    gaps = rng.multinomial(length - lens.sum() - 4 * (actions + 1), np.ones(actions + 1) / (actions + 1)) + 4
    starts = gaps[:-1].cumsum() + np.concatenate([[0], lens[:-1].cumsum()])
    segments = np.stack([starts, starts + lens], 1).astype(np.int64)
    x = np.zeros(length)
    pos = rng.uniform(-0.5, 0.5)
    x[:] = pos
    for s, e in segments:
        target = -np.sign(pos) * rng.uniform(0.2, 0.55)
        x[s:e] = pos + (target - pos) * (np.arange(1, e - s + 1) / (e - s))
        x[e:] = pos = target
    kind = np.full(length, rng.integers(len(SHAPE_CLASSES)))
    masks = render_masks(size, kind, x, np.full(length, rng.uniform(-0.3, 0.3)), np.full(length, 0.35),
                         np.full(length, rng.uniform(-0.5, 0.5)))
    u = np.arange(size) / size
    background = 110 + 40 * np.sin(2 * np.pi * (3 * u[:, None] + 2 * u[None, :]))[..., None] * np.ones(3)
    frames = np.repeat(background[None], length, 0) + rng.normal(0, 5, (length, size, size, 3))
    frames[masks] = _PALETTE[rng.choice([0, 3, 5, 6])]  # red, yellow, cyan or blue: never close to the grey background
    return np.clip(frames, 0, 255).astype(np.uint8), segments
