"""The grader's resource limits, in one place: autograde.py reads them (command line, then
COURSE_GRADE_<NAME> environment variables, then these defaults) and hands them to execute.py."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 120.0  # seconds per cell
    notebook_timeout: float = 600.0  # seconds per notebook
    memory_mb: int = 6144  # address-space cap of the kernel (torch alone maps ~3 GiB)
    max_cell_bytes: int = 1_000_000  # outputs kept per cell

    def as_args(self) -> list[str]:
        """The same limits as command-line options (execute.py and autograde.py share them)."""
        out = []
        for key, value in asdict(self).items():
            out += ["--" + key.replace("_", "-"), str(value)]
        return out

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        for f in fields(cls):
            parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=None)

    @classmethod
    def resolve(cls, args: argparse.Namespace | None = None) -> Limits:
        """Command line first, then COURSE_GRADE_<NAME>, then the defaults above."""
        values = {}
        for f in fields(cls):
            value = getattr(args, f.name, None) if args is not None else None
            if value is None:
                value = os.environ.get(f"COURSE_GRADE_{f.name.upper()}", f.default)
            values[f.name] = type(f.default)(value)
        return cls(**values)

