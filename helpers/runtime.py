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
    """Threads for torch: COURSE_THREADS if set; one on a machine with two cores or fewer, else
    half the cores, at most 4.

    The course's models are small: extra threads gain little and, on a busy laptop, wait on
    each other. Measured on a shared 2-core box: a schedule experiment of lecture 03 took over
    150 s with 2 threads and 10 s with 1.
    """
    wanted = os.environ.get("COURSE_THREADS")
    if wanted:
        return max(1, int(wanted))
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(4, cores // 2)


def setup(seed: int = 0, verbose: bool = True):
    """The one preamble of every notebook: print the mode, seed everything, set the thread
    policy, and return the device (the GPU when there is one, else the CPU)."""
    from . import config

    if verbose:
        print(config.describe())
    if os.environ.get("COURSE_CHECK_FIGURES") == "1":  # the lecture tests: every figure titled and labelled
        from . import figcheck

        figcheck.install()
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
