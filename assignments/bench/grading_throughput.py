"""Grading throughput: submissions per hour at JOBS=1 and JOBS=2 on the same submissions.

    .venv/bin/python assignments/bench/grading_throughput.py a1 a2 --submissions 4   # `make bench-grading`

For each assignment: release it into a scratch build folder, hand in N copies of the released
stub with every answer cell filled in from the source solution (every notebook runs to the end,
the slowest honest case), collect them, then autograde
all N one at a time and again two at a time, in this one process, through the real sandboxed
pipeline. Prints seconds, submissions per hour and the speed-up, and checks both runs gave the
same grades (a parallel grader that changes a grade is a bug, not a speed-up). Times stretch with
whatever else the machine is doing: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assignments.bench.notebook_defs import solved_stub  # noqa: E402
from assignments.pipeline import autograde, collect, layout, release, schedule  # noqa: E402


def scratch_layout(build: Path) -> layout.Layout:
    return layout.from_args(argparse.Namespace(build_dir=build, source_dir=None, schedule=None, lectures_dir=None))


def hand_in(lay: layout.Layout, a: schedule.Assignment, n: int, inbox: Path) -> list[str]:
    """n zips of a fully solved stub, as `make submit` names them; collected into the build."""
    inbox.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in (lay.source / a.folder).glob("*.ipynb"))
    work = {name: json.dumps(solved_stub(json.loads((lay.step("release") / a.folder / name).read_text()),
                                    json.loads((lay.source / a.folder / name).read_text()))) for name in names}
    students = [f"bench{i + 1}" for i in range(n)]
    for student in students:
        with zipfile.ZipFile(inbox / f"{a.id}-{student}.zip", "w") as zf:
            for name, text in work.items():
                zf.writestr(f"{a.folder}/{name}", text)
    collect.collect(lay, a.id, inbox)
    return students


def grades(lay: layout.Layout, a: schedule.Assignment, students: list[str]) -> dict:
    """{student: (score, status)} from the status records autograde wrote."""
    records = {s: json.loads((lay.step("status") / a.folder / f"{s}.json").read_text()) for s in students}
    return {s: (r["score"], r["status"]) for s, r in records.items()}


def measure(ident: str, n: int, jobs_list: list[int]) -> list[dict]:
    sched = schedule.load(REPO / "course.toml")
    a = sched.assignment(ident)
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"bench-grading-{a.id}-") as tmp:
        lay = scratch_layout(Path(tmp) / "build")
        release.release(lay, a.release_week)
        students = hand_in(lay, a, n, Path(tmp) / "inbox")
        first = None
        for jobs in jobs_list:
            load = os.getloadavg()[0]
            start = time.perf_counter()
            autograde.autograde(lay, a.id, students, jobs=jobs)
            seconds = time.perf_counter() - start
            got = grades(lay, a, students)
            first = first or got
            rows.append({"assignment": a.id, "jobs": jobs, "submissions": n, "seconds": seconds,
                         "per_hour": 3600 * n / seconds, "load": load, "same_grades": got == first,
                         "scores": sorted({score for score, _ in got.values()})})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", default=["a1", "a2"])
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    if args.submissions < 1:
        sys.exit("error: --submissions must be at least 1")
    os.environ.setdefault("COURSE_FAST", "1")
    os.environ.setdefault("COURSE_OFFLINE", "1")
    rows = [row for ident in args.assignments for row in measure(ident, args.submissions, args.jobs)]
    print(f"\ngrading throughput on {os.cpu_count()} cores (solution submissions, FAST mode, sandboxed)")
    print(f"{'assignment':<11}{'JOBS':>5}{'subs':>6}{'seconds':>9}{'subs/hour':>11}{'speed-up':>10}"
          f"{'load':>7}  same grades")
    base = {}
    for r in rows:
        base.setdefault(r["assignment"], r["seconds"])
        print(f"{r['assignment']:<11}{r['jobs']:>5}{r['submissions']:>6}{r['seconds']:>9.1f}{r['per_hour']:>11.0f}"
              f"{base[r['assignment']] / r['seconds']:>9.2f}x{r['load']:>7.1f}  {r['same_grades']} {r['scores']}")
    return 0 if all(r["same_grades"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
