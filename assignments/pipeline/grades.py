"""`make grades`: build/grades.csv, one row per student and assignment.

Columns: student, assignment (short id), score and max_score (autograded points, from the
nbgrader gradebook), status (`ok`, or why not: timeout, crashed, out of memory, invalid
notebook, missing notebook, not autograded, grader error, suspicious: the grader's own
checks contradict what the student's kernel reported, or the student's cells tamper with grading), notes (what the grader fixed or
blocked: restored cells, blocked network access, truncated output, ...), seconds (grading time).
"""

from __future__ import annotations

import argparse
import csv
import json

from . import layout, schedule

COLUMNS = ["student", "assignment", "score", "max_score", "status", "notes", "seconds"]


def rows(lay: layout.Layout) -> list[dict]:
    sched = schedule.load(lay.schedule)
    out = []
    for a in sorted(sched.assignments.values(), key=lambda a: a.id):
        for student in lay.students("submitted", a.folder):
            status_file = lay.step("status") / a.folder / f"{student}.json"
            if status_file.exists():
                r = json.loads(status_file.read_text())
                row = {
                    "student": student, "assignment": a.id, "score": f"{r.get('score', 0):g}",
                    "max_score": f"{r.get('max_score', 0):g}", "status": r.get("status", "ok"),
                    "notes": "; ".join(r.get("notes", [])), "seconds": r.get("seconds", ""),
                }
            else:
                row = {"student": student, "assignment": a.id, "score": "0", "max_score": "",
                       "status": "not autograded", "notes": f"run `make autograde ASSIGNMENT={a.id}`",
                       "seconds": ""}
            out.append(row)
    return out


def write(lay: layout.Layout) -> None:
    table = rows(lay)
    lay.grades_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(lay.grades_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)
    bad = sum(r["status"] != "ok" for r in table)
    print(f"wrote {lay.grades_csv}: {len(table)} row(s), {bad} not ok")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    layout.add_arguments(parser)
    write(layout.from_args(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
