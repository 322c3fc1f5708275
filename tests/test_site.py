"""`make site`'s choice of lectures and its index, without executing anything (the browser tests
build and open a real site)."""

from __future__ import annotations

import re
import subprocess
import sys

from nbrun import REPO

from assignments.pipeline.schedule import load
from assignments.pipeline.site import index_notebook, lecture_order

SCHEDULE = load(REPO / "course.toml")
LECTURES = REPO / "lectures"


def test_every_lecture_in_schedule_order_by_default():
    stems = lecture_order(SCHEDULE, LECTURES, None)
    assert sorted(stems) == sorted(p.stem for p in LECTURES.glob("*.ipynb"))
    assert stems == SCHEDULE.lectures_until(SCHEDULE.last_week)


def test_week_keeps_the_released_lectures_only():
    week = 2
    stems = lecture_order(SCHEDULE, LECTURES, None, week)
    assert stems == SCHEDULE.lectures_until(week) and len(stems) < len(lecture_order(SCHEDULE, LECTURES, None))
    titles = {s: f"Lecture {s}" for s in stems}
    index = index_notebook(SCHEDULE, titles, "FAST mode", until=week).cells[0].source
    assert f"released by week {week}" in index
    weeks_listed = [int(row.split("|")[1]) for row in index.splitlines() if re.match(r"\| \d+ \|", row)]
    assert weeks_listed == [w for w in sorted(SCHEDULE.weeks) if w <= week]
    assert "not in this build" not in index  # no row points at an unreleased lecture


def test_bad_week_says_what_to_do():
    for week in ("0", "three"):
        run = subprocess.run([sys.executable, "-m", "assignments.pipeline.site", "--fast", "--week", week,
                              "--out", "/nonexistent/never-written"], cwd=REPO, capture_output=True, text=True)
        assert run.returncode != 0 and "WEEK must be" in run.stderr, run.stderr
