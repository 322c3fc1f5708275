"""Run-time modes of the course, read from the environment in exactly one place.

COURSE_FAST=1      tiny data and few iterations (set by `make test`); same code path as a full run.
COURSE_DATA_DIR    where datasets are looked up and cached (default: <repo>/datasets).
COURSE_OFFLINE=1   never touch the network.

Functions (not module constants) so that tests and notebooks see changes to the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
REPO_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def fast() -> bool:
    """True in FAST mode: notebooks shrink their data and iteration counts."""
    return _flag("COURSE_FAST")


def offline() -> bool:
    """True when the network must not be used."""
    return _flag("COURSE_OFFLINE")


def data_dir() -> Path:
    """Folder where datasets are found and cached (created on demand by loaders).

    A relative COURSE_DATA_DIR is taken from the repository root, because notebooks run from
    lectures/ while `make` runs from the root: both must find the same folder.
    """
    path = Path(os.environ.get("COURSE_DATA_DIR") or "datasets").expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def pick(full, fast_value):
    """Choose a size: `full` normally, `fast_value` in FAST mode.

    >>> n_train = pick(5000, 500)
    """
    return fast_value if fast() else full


def describe() -> str:
    """One line saying which mode this run is in, for the top of every notebook."""
    mode = "FAST (tiny data, few iterations)" if fast() else "full"
    net = "offline" if offline() else "network allowed"
    return f"Course mode: {mode}; data dir: {data_dir()}; {net}."
