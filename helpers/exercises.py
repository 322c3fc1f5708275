"""Ungraded "try it" exercises at the end of a lecture, checked on the spot.

    # Exercise: softmax
    def softmax(z):
        raise NotImplementedError  # your code here
    H.exercises.check("softmax", softmax, [((np.array([0.0, 0.0]),), np.array([0.5, 0.5]))])

The notebook shows the solution folded in a markdown cell that follows, as
<details><summary>Solution: softmax</summary> with one ```python block. `make test` runs every
lecture with each exercise cell replaced by its solution (tests/nbrun.py), with
COURSE_CHECK_EXERCISES=1, so a solution that fails its own check fails the build.
"""

from __future__ import annotations

import os

import numpy as np


def _same(got, expected, tol: float) -> bool:
    if isinstance(expected, (tuple, list)) and not isinstance(expected, np.ndarray):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and all(
            _same(g, e, tol) for g, e in zip(got, expected))
    try:
        got_a, exp_a = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return got == expected
    return got_a.shape == exp_a.shape and np.allclose(got_a, exp_a, rtol=tol, atol=tol)


def check(name: str, fn, cases, *, tol: float = 1e-6) -> bool:
    """Call fn(*args) for each (args, expected) case; print a verdict and return whether all pass.

    Never raises for the student's sake (it is not graded), except under
    COURSE_CHECK_EXERCISES=1, where the course's own solutions must pass.
    """
    strict = os.environ.get("COURSE_CHECK_EXERCISES") == "1"
    verdict = None
    for i, (args, expected) in enumerate(cases):
        try:
            got = fn(*args)
        except NotImplementedError:
            verdict = f"{name}: not attempted yet (replace `raise NotImplementedError` with your code)"
            break
        except Exception as err:  # noqa: BLE001 - report the student's error, do not crash the lecture
            verdict = f"{name}: case {i + 1} raised {type(err).__name__}: {err}"
            break
        if not _same(got, expected, tol):
            verdict = f"{name}: case {i + 1} gave {got!r}, expected {expected!r}"
            break
    if verdict is None:
        print(f"{name}: all {len(cases)} checks pass")
        return True
    print(verdict)
    if strict:
        raise AssertionError(verdict)
    return False
