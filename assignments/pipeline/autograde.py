"""`make autograde ASSIGNMENT=a1`: grade every collected submission, one at a time, sandboxed.

For each student and each notebook of the assignment:
  1. outside the sandbox, rebuild the notebook against the source (restore.py): locked and test
     cells (with hidden tests) come from the instructor's version;
  2. run it with a sandboxed kernel (execute.py, in its own process under an outer timeout);
  3. mark every test cell that did not pass (failed, never ran, timed out, kernel died) with an
     error output, so a cell that never ran can never count as passed;
  4. let nbgrader score the already-executed notebook (`autograde` with execution switched off)
     so the gradebook, `generate_feedback` and `nbgrader export` work as usual.
The submitted files are only read. Each student's outcome (status, notes, score, time) is
written to build/nbgrader/status/<folder>/<student>.json for `make grades`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from . import gradebook, layout, restore, sandbox, schedule

DEFAULTS = {  # override with COURSE_GRADE_<NAME> environment variables or command-line options
    "cell_timeout": 120.0,  # seconds per cell
    "notebook_timeout": 600.0,  # seconds per notebook
    "memory_mb": 6144,  # address-space cap of the kernel (torch alone maps ~3 GiB)
    "max_cell_bytes": 1_000_000,  # outputs kept per cell
}
NOT_RUN = "NotRun"
OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "can't allocate memory", "out of memory")
NOTES = {
    "network access blocked": ("Network is unreachable", "Temporary failure in name resolution",
                               "Name or service not known", "No address associated"),
    "write outside its scratch folder blocked": ("Read-only file system",),
}


def failed_output(reason: str):
    return nbformat.v4.new_output("error", ename=NOT_RUN, evalue=reason, traceback=[f"{NOT_RUN}: {reason}"])


def error_texts(nb) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return out


def mark_tests(nb, result: dict | None, reason: str) -> int:
    """Give every test cell that did not pass an error output. Returns how many failed."""
    executed = set((result or {}).get("executed", []))
    replies = (result or {}).get("replies", {})
    failed = 0
    for index, cell in enumerate(nb.cells):
        if not restore.is_test(cell):
            continue
        has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        ran_ok = index in executed and replies.get(str(index)) == "ok"
        if ran_ok and not has_error:
            continue
        failed += 1
        if not has_error:
            why = reason if index not in executed else "the test did not complete successfully"
            cell.setdefault("outputs", []).append(failed_output(why))
    return failed


def run_sandboxed(lay, jobs: list[dict], settings: dict) -> None:
    """Execute the jobs' notebooks through execute.py in one child process under an outer timeout."""
    if not jobs:
        return
    with tempfile.TemporaryDirectory(prefix="jobs-") as private:
        spec = Path(private) / "jobs.json"
        spec.write_text(json.dumps(jobs))
        read_only = [lay.repo / "helpers"]
        data_dir = os.environ.get("COURSE_DATA_DIR") or lay.repo / "datasets"
        if Path(data_dir).is_dir():
            read_only.append(Path(data_dir))
        budget = len(jobs) * settings["notebook_timeout"] + 120
        cmd = [
            "timeout", "-s", "KILL", str(int(budget)),
            sys.executable, "-m", "assignments.pipeline.execute", str(spec),
            "--cell-timeout", str(settings["cell_timeout"]),
            "--notebook-timeout", str(settings["notebook_timeout"]),
            "--memory-mb", str(settings["memory_mb"]),
            "--max-cell-bytes", str(settings["max_cell_bytes"]),
        ]
        for path in read_only:
            cmd += ["--read-only", str(path)]
        subprocess.run(cmd, cwd=lay.repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Prepared:
    """One notebook of one submission on its way through the sandbox."""

    def __init__(self, name: str, nb, status: str, detail: str, notes: list[str], work: Path | None):
        self.name, self.nb, self.status, self.detail, self.notes, self.work = name, nb, status, detail, notes, work

    def job(self) -> dict:
        w = self.work
        return {"notebook": str(w / "in.ipynb"), "out": str(w / "out.ipynb"),
                "result": str(w / "result.json"), "scratch": str(w / "scratch")}


def prepare(lay, a, student: str, name: str, tmp: Path) -> Prepared:
    """Restore the notebook against the source; set up its private and scratch folders."""
    source = nbformat.read(gradebook.snapshot(lay, a.folder) / name, as_version=4)
    stub = nbformat.read(lay.step("release") / a.folder / name, as_version=4)
    submitted = lay.step("submitted") / student / a.folder / name
    status, detail, parsed = "ok", "", None
    if not submitted.exists():
        status, detail = "missing notebook", f"{name} is not in the submission"
    else:
        try:
            parsed = restore.parse(submitted.read_bytes())
        except restore.InvalidNotebook as err:
            status, detail = "invalid notebook", f"{name}: {err}"
    restored = restore.restore(parsed, source, stub)
    if status != "ok":
        return Prepared(name, restored.notebook, status, detail, restored.changes, None)
    work = tmp / name.removesuffix(".ipynb")  # private: holds hidden tests, never mounted in the sandbox
    scratch = work / "scratch"  # the kernel's only writable folder
    scratch.mkdir(parents=True)
    nbformat.write(restored.notebook, work / "in.ipynb")
    shutil.copyfile(submitted, scratch / name)  # the student's own file, nothing of ours
    for extra in (lay.step("release") / a.folder).iterdir():
        if extra.is_file() and extra.suffix != ".ipynb" and not extra.name.startswith("."):
            shutil.copy2(extra, scratch / extra.name)
    return Prepared(name, restored.notebook, status, detail, restored.changes, work)


def finish(lay, a, student: str, item: Prepared, settings: dict) -> dict:
    """Read back what the sandbox produced, classify problems, mark failed tests, store the notebook."""
    nb, result, notes = item.nb, None, list(item.notes)
    status, detail = item.status, item.detail
    if item.work is not None:
        try:
            result = json.loads((item.work / "result.json").read_text())
            if (item.work / "out.ipynb").exists():
                nb = nbformat.read(item.work / "out.ipynb", as_version=4)
        except (OSError, ValueError):
            result = {"status": "crashed", "detail": "the grader's runner was killed (time limit)",
                      "executed": [], "replies": {}}
        status, detail = result["status"], result.get("detail", "")
        errors = error_texts(nb)
        if any(m in e for e in errors for m in OOM_MARKERS) and status in ("ok", "crashed"):
            status, detail = "out of memory", f"memory cap {settings['memory_mb']} MiB reached" + (
                f"; {detail}" if detail else "")
        for note, markers in NOTES.items():
            if any(m in e for e in errors for m in markers):
                notes.append(note)
        if result.get("truncated"):
            notes.append(f"output truncated in {len(result['truncated'])} cell(s)")
    mark_tests(nb, result, detail or status)
    target = lay.step("executed") / student / a.folder / item.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return {"status": status, "detail": detail, "notes": notes, "seconds": (result or {}).get("seconds", 0.0)}


NBGRADER_SCORING = {
    "CourseDirectory": {"submitted_directory": "executed"},
    "Autograde": {
        # the notebook was already run in the sandbox: keep its outputs, execute nothing here
        "sanitize_preprocessors": [
            "nbgrader.preprocessors.DeduplicateIds", "nbgrader.preprocessors.OverwriteKernelspec",
            "nbgrader.preprocessors.OverwriteCells", "nbgrader.preprocessors.CheckCellMetadata",
        ],
        "autograde_preprocessors": [
            "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
            "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata",
        ],
    },
}


def _classes(sections: dict) -> dict:
    """nbgrader wants preprocessor classes, not dotted names."""
    from importlib import import_module

    def load(dotted):
        module, _, name = dotted.rpartition(".")
        return getattr(import_module(module), name)

    out = {k: dict(v) for k, v in sections.items()}
    for key in ("sanitize_preprocessors", "autograde_preprocessors"):
        out["Autograde"][key] = [load(d) for d in out["Autograde"][key]]
    return out


def score(lay, a, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{lay.gradebook}", gradebook.COURSE_ID) as gb:
        sub = gb.find_submission(a.folder, student)
        return float(sub.code_score or 0.0), float(sub.max_code_score or 0.0)


def grade_student(lay, a, student: str, settings: dict) -> dict:
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy noise from nbgrader's gradebook
    warnings.filterwarnings("ignore", message=".*not in session.*")
    start = time.monotonic()
    names = sorted(p.name for p in (lay.step("release") / a.folder).glob("*.ipynb"))
    record = {"student": student, "assignment": a.id, "status": "ok", "notes": [], "notebooks": {}}
    shutil.rmtree(lay.step("executed") / student / a.folder, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        items = [prepare(lay, a, student, name, Path(tmp)) for name in names]
        run_sandboxed(lay, [item.job() for item in items if item.work is not None], settings)
        for item in items:
            outcome = finish(lay, a, student, item, settings)
            record["notebooks"][item.name] = outcome
            if outcome["status"] != "ok" and record["status"] == "ok":
                record["status"] = outcome["status"]
            if outcome["detail"]:
                record["notes"].append(outcome["detail"])
            record["notes"] += outcome["notes"]
    result = gradebook.api(lay, **_classes(NBGRADER_SCORING)).autograde(a.folder, student, force=True, create=True)
    gradebook.check(result, f"autograde of {student}")
    record["score"], record["max_score"] = score(lay, a, student)
    record["seconds"] = round(time.monotonic() - start, 1)
    return record


def settings_from(args) -> dict:
    out = {}
    for key, default in DEFAULTS.items():
        value = getattr(args, key, None)
        if value is None:
            value = os.environ.get(f"COURSE_GRADE_{key.upper()}", default)
        out[key] = type(default)(value)
    return out


def autograde(lay: layout.Layout, ident: str, students: list[str] | None = None, settings=None) -> list[dict]:
    a = schedule.load(lay.schedule).assignment(ident)
    settings = settings or {k: v for k, v in DEFAULTS.items()}
    os.environ.setdefault("COURSE_FAST", "1")
    submitted = lay.step("submitted")
    everyone = sorted(p.parent.name for p in submitted.glob(f"*/{a.folder}") if p.is_dir())
    students = students or everyone
    if not students:
        print(f"{a.id}: nothing collected yet (run `make collect ASSIGNMENT={a.id} FROM=...`)")
        return []
    gradebook.ensure_generated(lay, a.folder)
    if sandbox.mode() != sandbox.ISOLATED:
        print(sandbox.WARNINGS[sandbox.mode()])
    status_dir = lay.step("status") / a.folder
    status_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for student in students:
        try:
            record = grade_student(lay, a, student, settings)
        except Exception as err:  # noqa: BLE001 - one bad submission never stops the others
            record = {"student": student, "assignment": a.id, "status": "grader error",
                      "notes": [f"{type(err).__name__}: {str(err)[:300]}"], "score": 0.0,
                      "max_score": 0.0, "seconds": 0.0, "notebooks": {}, "error": str(err)[-5000:]}
        (status_dir / f"{student}.json").write_text(json.dumps(record, indent=1))
        records.append(record)
        notes = "; ".join(record["notes"])
        print(f"{a.id} {student}: {record['score']:g}/{record['max_score']:g} {record['status']}"
              f" in {record['seconds']:.1f} s" + (f" — {notes}" if notes else ""), flush=True)
    return records


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--student", action="append", default=None, help="only these (repeatable)")
    parser.add_argument("--cell-timeout", type=float, default=None)
    parser.add_argument("--notebook-timeout", type=float, default=None)
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--max-cell-bytes", type=int, default=None)
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make autograde ASSIGNMENT=a1`")
    autograde(layout.from_args(args), args.assignment, args.student, settings_from(args))


if __name__ == "__main__":
    main()
