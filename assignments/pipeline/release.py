"""`make release WEEK=N`: build the student edition (build/student/) up to week N.

It holds the lectures released so far, helpers/, pyproject.toml, environment.yml,
datasets/README.md, the released assignment stubs (nbgrader generate_assignment: solutions
replaced by stubs, hidden tests removed), a student README and Makefile, and tools/ with the
student-side validate/submit scripts. A week past the end of the schedule releases everything.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from . import gradebook, layout, schedule

TEMPLATES = Path(__file__).resolve().parents[1] / "student_edition"
STUDENT_TOOLS = ("validate.py", "submit.py", "limits.py")  # validate reads the grader's limits
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


def release(lay: layout.Layout, week: int) -> Path:
    sched = schedule.load(lay.schedule)
    effective = min(week, max(sched.last_week, 1))
    out = lay.student
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if week > sched.last_week:
        print(f"week {week} is past the end of the schedule (week {sched.last_week}): releasing everything")

    released_lectures = []
    (out / "lectures").mkdir()
    for stem in sched.lectures_until(week):
        nb = lay.lectures / f"{stem}.ipynb"
        if nb.exists():
            shutil.copy2(nb, out / "lectures" / nb.name)
            released_lectures.append(stem)
        else:
            print(f"note: lecture {stem} is scheduled but not written yet (no {nb.name}); skipped")

    released_assignments, failed = [], []
    (out / "assignments").mkdir()
    for a in sched.assignments_until(week):
        if not (lay.source / a.folder).is_dir() or not any((lay.source / a.folder).glob("*.ipynb")):
            print(f"note: assignment {a.id} ({a.folder}) is scheduled but has no source notebooks; skipped")
            continue
        try:
            stub_dir = gradebook.ensure_generated(lay, a.folder, force=True)
        except RuntimeError as err:  # report, release the rest, fail at the end
            print(f"ERROR: assignment {a.id} ({a.folder}) could not be generated:\n{err}", file=sys.stderr)
            failed.append(a.id)
            continue
        target = out / "assignments" / a.folder
        shutil.copytree(stub_dir, target, ignore=IGNORE)
        # what `make submit` must find: lets it refuse a zip with a notebook missing
        names = sorted(p.name for p in target.glob("*.ipynb"))
        (target / ".notebooks").write_text("".join(n + "\n" for n in names))
        released_assignments.append(a)

    repo = lay.repo
    if (repo / "helpers").is_dir():
        shutil.copytree(repo / "helpers", out / "helpers", ignore=IGNORE)
    for name in ("pyproject.toml", "environment.yml"):
        if (repo / name).exists():
            shutil.copy2(repo / name, out / name)
        else:
            print(f"note: {name} not found in the repo; not in the student edition")
    (out / "datasets").mkdir()
    if (repo / "datasets" / "README.md").exists():  # data itself is downloaded by the student
        shutil.copy2(repo / "datasets" / "README.md", out / "datasets" / "README.md")

    (out / "tools").mkdir()
    for tool in STUDENT_TOOLS:
        shutil.copy2(Path(__file__).with_name(tool), out / "tools" / tool)
    shutil.copy2(TEMPLATES / "Makefile", out / "Makefile")
    (out / ".gitignore").write_text(".venv/\n*.egg-info/\n__pycache__/\n.ipynb_checkpoints/\n*.zip\ndatasets/*\n!datasets/README.md\n!datasets/*.py\n")
    (out / "README.md").write_text(student_readme(sched, effective, released_lectures, released_assignments))

    print(
        f"student edition for week {effective} in {out}: "
        f"{len(released_lectures)} lecture(s), assignments: "
        + (", ".join(a.id for a in released_assignments) or "none")
    )
    if failed:
        raise SystemExit(f"error: release incomplete, these assignments failed: {', '.join(failed)}")
    return out


def student_readme(sched, week, lectures, assignments) -> str:
    template = (TEMPLATES / "README.md").read_text()
    lecture_list = "\n".join(f"- `lectures/{stem}.ipynb`" for stem in lectures) or "- (none yet)"
    assignment_list = (
        "\n".join(
            f"- **{a.id}** — {a.title}: `assignments/{a.folder}/`, due {a.due.replace('T', ' ')}"
            for a in assignments
        )
        or "- (none yet)"
    )
    return (
        template.replace("{{title}}", sched.title)
        .replace("{{week}}", str(week))
        .replace("{{lectures}}", lecture_list)
        .replace("{{assignments}}", assignment_list)
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", default=None, help="release everything scheduled up to this week")
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    release(layout.from_args(args), schedule.parse_week(args.week))


if __name__ == "__main__":
    main()
