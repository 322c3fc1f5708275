"""Seeding and device choice, so every notebook starts the same way."""

from __future__ import annotations

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
