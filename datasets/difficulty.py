"""How hard is the procedural shapes world? Linear softmax on raw pixels vs a small CNN.

The course promises that a linear classifier does clearly worse than a small CNN on the
embedded world (so lectures 02-06 tell the same story on it as on CIFAR-10). This script
measures that promise, and the generation speed, so datasets/README.md can quote numbers:

    .venv/bin/python datasets/difficulty.py            # about 2 minutes on an idle CPU core

Data: load_shapes(6000, seed=0), first 5,000 images to train, last 1,000 to test; the linear
model's learning rate and weight decay are chosen on the last 500 training images.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.shapes import load_shapes  # noqa: E402


def generation_time(n=10_000, repeat=3):
    """Best of `repeat` wall times to generate n 32x32 images (single-threaded numpy)."""
    load_shapes(100)  # warm up imports and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        load_shapes(n, seed=1)
        times.append(time.perf_counter() - start)
    return min(times)


def to_tensor(images):
    """uint8 NHWC -> float NCHW in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def fit(model, x, y, epochs, lr, weight_decay=0.0, batch_size=64, augment=False, seed=0):
    """Adam on mini-batches; optional random horizontal flips (every class is mirror-symmetric)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * ((len(x) + batch_size - 1) // batch_size))
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            xb = x[idx]
            if augment:
                flip = torch.rand(len(xb), generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


def linear_softmax(x_train, y_train, x_test, y_test, num_classes):
    """Small grid over learning rate and weight decay, chosen on 500 held-out images."""
    mean = x_train.mean(0, keepdim=True)
    flat = lambda x: (x - mean).flatten(1)
    xt, yt, xv, yv = flat(x_train[:-500]), y_train[:-500], flat(x_train[-500:]), y_train[-500:]
    best = (-1.0, None)
    for lr in (1e-3, 3e-3):
        for wd in (1e-3, 1e-2, 3e-2, 1e-1):
            torch.manual_seed(0)
            model = fit(nn.Linear(xt.shape[1], num_classes), xt, yt, epochs=15, lr=lr,
                        weight_decay=wd, batch_size=128)
            val = accuracy(model, xv, yv)
            print(f"  linear lr={lr:g} wd={wd:g}: val {val:.3f}")
            best = max(best, (val, (lr, wd)), key=lambda b: b[0])
    lr, wd = best[1]
    torch.manual_seed(0)
    model = fit(nn.Linear(xt.shape[1], num_classes), flat(x_train), y_train, epochs=15, lr=lr,
                weight_decay=wd, batch_size=128)
    return accuracy(model, flat(x_test), y_test), (lr, wd)


def small_cnn(num_classes, width=32):
    """Three conv blocks and global average pooling: about 100k parameters."""
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*block(3, width), nn.MaxPool2d(2), *block(width, 2 * width),
                         nn.MaxPool2d(2), *block(2 * width, 4 * width),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, num_classes))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12, help="CNN epochs (about 1 min)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CNN threads (1 is fastest on a shared, busy machine)")
    args = parser.parse_args()

    print(f"generation: 10,000 images 32x32 in {generation_time():.2f} s (best of 3)")
    world = load_shapes(6000, seed=0)
    x, y = to_tensor(world.images), torch.from_numpy(world.labels)
    x_train, y_train, x_test, y_test = x[:5000], y[:5000], x[5000:], y[5000:]
    num_classes = len(world.classes)

    start = time.perf_counter()
    torch.set_num_threads(1)  # tiny matrix products: extra threads only add overhead
    lin_acc, (lr, wd) = linear_softmax(x_train, y_train, x_test, y_test, num_classes)
    print(f"linear softmax on raw pixels: test accuracy {lin_acc:.3f} "
          f"(lr={lr:g}, wd={wd:g}; {time.perf_counter() - start:.0f} s incl. grid search)")

    torch.set_num_threads(args.threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    torch.manual_seed(0)
    cnn = fit(small_cnn(num_classes), x_train, y_train, epochs=args.epochs, lr=3e-3, augment=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"small CNN ({args.epochs} epochs, {args.threads} threads): test accuracy "
          f"{accuracy(cnn, x_test, y_test):.3f} (training: {wall:.0f} s wall, {cpu:.0f} s CPU)")
    print(f"chance: {1 / num_classes:.3f}; class counts in test: "
          f"{np.bincount(y_test.numpy(), minlength=num_classes).tolist()}")


if __name__ == "__main__":
    main()
