"""Shared test fixtures: FAST mode for everything, and the per-notebook time table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("COURSE_OFFLINE", "1")

_NOTEBOOK_TIMES: list[tuple[str, float, str]] = []


@pytest.fixture(scope="session")
def record_notebook_time():
    """Call record(name, seconds, status) for every notebook a test executes."""

    def record(name: str, seconds: float, status: str = "ok") -> None:
        _NOTEBOOK_TIMES.append((name, seconds, status))

    return record


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_TIMES:
        return
    tr = terminalreporter
    tr.section("notebook times (FAST mode)")
    width = max(len(n) for n, _, _ in _NOTEBOOK_TIMES)
    for name, seconds, status in sorted(_NOTEBOOK_TIMES):
        tr.write_line(f"{name:<{width}}  {seconds:7.1f} s  {status}")
    # whole-submission rows repeat their notebooks' time (plus the grader's overhead): not summed
    total = sum(s for n, s, _ in _NOTEBOOK_TIMES if "whole submission" not in n)
    tr.write_line(f"{'total (notebooks)':<{width}}  {total:7.1f} s")


# tests/nbrun.py is both a script (make lectures) and the notebook runner the tests import.
import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
