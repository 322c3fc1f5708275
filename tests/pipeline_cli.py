"""The grading pipeline's command-line modules, called from tests as the Makefile calls them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(module: str, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m assignments.pipeline.<module> args...` from the repo root; raise with its output on failure."""
    cmd = [sys.executable, "-m", f"assignments.pipeline.{module}", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file below root: to show a folder was only read."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def layout_args(paths: dict[str, Path]) -> list[str]:
    """Layout options for a fixture course made by tiny_assignment.make_course."""
    return ["--build-dir", str(paths["build"]), "--source-dir", str(paths["source"]),
            "--schedule", str(paths["schedule"]), "--lectures-dir", str(paths["lectures"])]
