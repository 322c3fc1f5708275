"""`make grades`: build/grades.csv, one row per student and assignment, and a summary per assignment.

Columns: student, assignment (short id);
auto / max_auto: points of the test cells (autograded; a formgrader override counts);
manual / max_manual: points of written answers graded by hand in formgrader (0 until graded;
`ungraded` names those still waiting); total / max_total: both together;
submitted: the submission time (collect's timestamp.txt, UTC); late: `yes` when that is after
the assignment's due date in course.toml (read as UTC) or the LMS marked it late;
status: `ok`, or why not (timeout, crashed, out of memory, invalid notebook, missing notebook,
not autograded, grader error, suspicious: the grader's own checks contradict what the student's
kernel reported, or the student's cells tamper with grading or use a forbidden library answer);
notes: what the grader fixed or blocked; seconds: grading time.

The summary (build/grades-summary/<assignment>.png and summary.csv) gives the instructor the
mean, median and a histogram of the totals, with counts of late and not-ok submissions.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from datetime import datetime, timezone

from . import gradebook, layout, lms, schedule

COLUMNS = ["student", "assignment", "auto", "max_auto", "manual", "max_manual", "total", "max_total",
           "ungraded", "submitted", "late", "status", "notes", "seconds"]


def due_date(a: schedule.Assignment) -> datetime | None:
    if not a.due:
        return None
    when = datetime.fromisoformat(a.due)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def lateness(lay: layout.Layout, a: schedule.Assignment, student: str) -> tuple[str, str]:
    """(submitted, late) for one submission: the recorded time, and yes / no / '' (unknown)."""
    folder = lay.step("submitted") / student / a.folder
    stamp = folder / "timestamp.txt"
    when = lms.parse_timestamp(stamp.read_text()) if stamp.is_file() else None
    due = due_date(a)
    late = (folder / "lms_late.txt").is_file() or bool(when and due and when > due)
    known = when is not None or late
    return (when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "",
            ("yes" if late else "no") if known else "")


def points(lay: layout.Layout, a: schedule.Assignment, student: str, record: dict) -> dict:
    """Points from the gradebook (hand grading included); the status file's if it has none."""
    found = gradebook.scores(lay, a.folder, student) if gradebook.exists(lay) else None
    if found is None:
        found = {"auto": record.get("score", 0.0), "max_auto": record.get("max_score", 0.0),
                 "manual": 0.0, "max_manual": 0.0, "ungraded": []}
    total, max_total = found["auto"] + found["manual"], found["max_auto"] + found["max_manual"]
    return {"auto": f"{found['auto']:g}", "max_auto": f"{found['max_auto']:g}",
            "manual": f"{found['manual']:g}", "max_manual": f"{found['max_manual']:g}",
            "total": f"{total:g}", "max_total": f"{max_total:g}", "ungraded": " ".join(found["ungraded"])}


def rows(lay: layout.Layout) -> list[dict]:
    sched = schedule.load(lay.schedule)
    out = []
    for a in sorted(sched.assignments.values(), key=lambda a: a.id):
        for student in lay.students("submitted", a.folder):
            submitted, late = lateness(lay, a, student)
            row = {"student": student, "assignment": a.id, "submitted": submitted, "late": late}
            status_file = lay.step("status") / a.folder / f"{student}.json"
            r = json.loads(status_file.read_text()) if status_file.exists() else {}
            if r and r.get("scored", True):
                row |= points(lay, a, student, r)
                row |= {"status": r.get("status", "ok"), "notes": "; ".join(r.get("notes", [])),
                        "seconds": r.get("seconds", "")}
            else:  # not run yet, or run on another host and not scored yet
                row |= {"auto": "0", "max_auto": "", "manual": "0", "max_manual": "", "total": "0",
                        "max_total": "", "ungraded": "", "status": "not autograded",
                        "notes": (f"ran, not scored: `python -m assignments.pipeline.autograde --assignment {a.id} "
                                  "--phase score`") if r else f"run `make autograde ASSIGNMENT={a.id}`",
                        "seconds": ""}
            out.append(row)
    return out


def histogram(path, assignment: str, percent: list[float]) -> None:
    """The totals of one assignment as a histogram, with the median marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(percent, bins=range(0, 105, 5), color="tab:blue", edgecolor="white")
    if percent:
        median = statistics.median(percent)
        ax.axvline(median, color="tab:orange", label=f"median {median:.0f}%")
        ax.legend(loc="upper center")
    ax.set(xlabel="total score (% of the maximum, written answers included)", ylabel="submissions",
           title=f"{assignment}: {len(percent)} graded submission(s)", xlim=(0, 100))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summarize(lay: layout.Layout, table: list[dict]) -> list[dict]:
    """Per assignment: counts, mean and median total (as % of the maximum) and a histogram figure."""
    folder = lay.grades_csv.parent / "grades-summary"
    folder.mkdir(parents=True, exist_ok=True)
    summary = []
    for assignment in sorted({r["assignment"] for r in table}):
        mine = [r for r in table if r["assignment"] == assignment]
        graded = [r for r in mine if r["max_total"] not in ("", "0")]
        percent = [100 * float(r["total"]) / float(r["max_total"]) for r in graded]
        summary.append({
            "assignment": assignment, "submissions": len(mine), "graded": len(graded),
            "mean_percent": f"{statistics.mean(percent):.1f}" if percent else "",
            "median_percent": f"{statistics.median(percent):.1f}" if percent else "",
            "late": sum(r["late"] == "yes" for r in mine), "not_ok": sum(r["status"] != "ok" for r in mine),
            "written_ungraded": sum(bool(r["ungraded"]) for r in mine)})
        histogram(folder / f"{assignment}.png", assignment, percent)
    with open(folder / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(summary[0]) if summary else ["assignment"])
        writer.writeheader()
        writer.writerows(summary)
    return summary


def write(lay: layout.Layout) -> None:
    table = rows(lay)
    lay.grades_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(lay.grades_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)
    bad = sum(r["status"] != "ok" for r in table)
    print(f"wrote {lay.grades_csv}: {len(table)} row(s), {bad} not ok")
    for s in summarize(lay, table):
        print(f"  {s['assignment']}: {s['graded']} graded, mean {s['mean_percent'] or '-'}%, median "
              f"{s['median_percent'] or '-'}%, {s['late']} late, {s['not_ok']} not ok, "
              f"{s['written_ungraded']} with written answers still to grade")
    print(f"summary and histograms in {lay.grades_csv.parent / 'grades-summary'}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    layout.add_arguments(parser)
    write(layout.from_args(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
