"""Seeding, device choice and thread policy, so every notebook starts the same way:

    device = H.setup(seed=0)
"""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 0) -> None:
    """Seed Python, numpy and (if installed) torch so reruns give the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # numpy-only use of the helpers stays possible
        return
    torch.manual_seed(seed)


def get_device(verbose: bool = True):
    """The CUDA GPU when there is one, else the CPU; says which in one line."""
    import torch

    if torch.cuda.is_available():
        device = torch.device("cuda")
        msg = f"Using GPU: {torch.cuda.get_device_name(0)}"
    else:
        device = torch.device("cpu")
        msg = "Using CPU (no CUDA GPU found) — everything in this course still runs."
    if verbose:
        print(msg)
    return device


def threads() -> int:
    """Threads for torch: COURSE_THREADS if set, else the cores, at most 4.

    Small models gain little from more threads, and on a busy machine extra threads wait on
    each other (a 2-core laptop running another job slowed 10x with torch's default).
    """
    wanted = os.environ.get("COURSE_THREADS")
    return max(1, int(wanted)) if wanted else max(1, min(4, os.cpu_count() or 1))


def setup(seed: int = 0, verbose: bool = True):
    """The one preamble of every notebook: print the mode, seed everything, set the thread
    policy, and return the device (the GPU when there is one, else the CPU)."""
    from . import config

    if verbose:
        print(config.describe())
    seed_everything(seed)
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads())
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work has started: keep what is there
        pass
    return get_device(verbose)
