"""Numbers the prose interprets, checked by the run that produces them.

    acc = H.claim("knn_accuracy", acc, {"cifar10": (0.25, 0.31), "shapes": (0.30, 0.42)}, dataset=data.name)

Full mode asserts the value lies in the range the prose was written for (so `make lectures`
fails when a claim drifts); FAST mode prints it, marked unchecked, because tiny runs are not
what the prose describes. Every claim is also appended to COURSE_CLAIMS_FILE (JSON lines) when
that is set, so `make lectures` can print a table of them. Used in: lectures 01-18.
"""

from __future__ import annotations

import json
import os

from . import config


class ClaimError(AssertionError):
    """A number the prose relies on came out of its range: fix the code or rewrite the prose."""


def _range(expected, dataset: str) -> tuple[float, float]:
    if isinstance(expected, dict):
        if dataset not in expected:
            raise ClaimError(f"no expected range for dataset {dataset!r} (have {sorted(expected)}); "
                             "add one measured in full mode")
        expected = expected[dataset]
    low, high = expected
    return float(low), float(high)


def claim(name: str, value, expected, *, dataset: str, fmt: str = ".3g"):
    """Register `value` as the number the prose calls `name`; returns value (so it can wrap it).

    expected: (low, high), or {dataset: (low, high)} when the prose speaks of several datasets.
    """
    low, high = _range(expected, dataset)
    value_f = float(value)
    checked = not config.fast()
    ok = low <= value_f <= high
    record = {"name": name, "value": value_f, "low": low, "high": high, "dataset": dataset,
              "checked": checked, "ok": ok}
    path = os.environ.get("COURSE_CLAIMS_FILE")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
    text = f"claim {name} = {value_f:{fmt}} on {dataset} (prose: {low:{fmt}} to {high:{fmt}})"
    if not checked:
        print(f"{text}: unchecked in FAST mode")
    elif not ok:
        raise ClaimError(f"{text}: OUT OF RANGE; the prose no longer matches this run. "
                         "Fix the code, or re-measure in full mode and rewrite the prose and the range.")
    else:
        print(f"{text}: ok")
    return value
