"""`make autograde ASSIGNMENT=a1`: grade every collected submission, one at a time, sandboxed.

For each student and each notebook of the assignment:
  1. outside the sandbox, rebuild the notebook against the source (restore.py): locked and test
     cells (with hidden tests) come from the instructor's version;
  2. run it with a sandboxed kernel (execute.py, in its own process under an outer timeout);
  3. check what the kernel claimed (integrity.py): canaries after each test cell, the grader's
     own probes of the graded functions, a scan of the student's cells; a test contradicted by
     them is marked failed and the submission is flagged `suspicious`;
  4. mark every test cell that did not pass (failed, never ran, timed out, kernel died) with an
     error output, so a cell that never ran can never count as passed; sanitise every output
     (sanitize.py) before nbgrader stores the notebook an instructor's browser will render;
  5. let nbgrader score the already-executed notebook (gradebook.record_scores, execution
     switched off) so the gradebook, `generate_feedback` and `nbgrader export` work as usual.
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
import traceback
import warnings
from pathlib import Path

import nbformat

from . import gradebook, integrity, layout, restore, sandbox, schedule
from .limits import Limits
from .sanitize import sanitize

NOT_RUN = "NotRun"
DISTRUSTED = "GraderCheck"
OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "can't allocate memory", "out of memory")
NOTES = {
    "network access blocked": ("Network is unreachable", "Temporary failure in name resolution",
                               "Name or service not known", "No address associated"),
    "write outside its scratch folder blocked": ("Read-only file system",),
}


def failed_output(reason: str, ename: str = NOT_RUN):
    return nbformat.v4.new_output("error", ename=ename, evalue=reason, traceback=[f"{ename}: {reason}"])


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
            # nbgrader scores a test cell that wrote to stderr as 0 (a warning from the student's
            # code, a progress bar); here a test passes when it ran without error, so keep the
            # text but show it as ordinary output
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"], out["text"] = "stdout", "[stderr] " + "".join(out.get("text", ""))
            continue
        failed += 1
        if not has_error:
            why = reason if index not in executed else "the test did not complete successfully"
            cell.setdefault("outputs", []).append(failed_output(why))
    return failed


def run_sandboxed(lay, jobs: list[dict], limits: Limits) -> None:
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
        budget = len(jobs) * (limits.notebook_timeout + limits.cell_timeout) + 120  # + the probes
        cmd = ["timeout", "-s", "KILL", str(int(budget)),
               sys.executable, "-m", "assignments.pipeline.execute", str(spec), *limits.as_args()]
        for path in read_only:
            cmd += ["--read-only", str(path)]
        subprocess.run(cmd, cwd=lay.repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Prepared:
    """One notebook of one submission on its way through the sandbox."""

    def __init__(self, name: str, nb, status: str, detail: str, notes: list[str], work: Path | None,
                 forbidden: dict[str, str] | None = None):
        self.name, self.nb, self.status, self.detail, self.notes, self.work = name, nb, status, detail, notes, work
        self.canary = integrity.canary_code(integrity.nonce())
        self.probes: integrity.ProbeSet | None = None
        self.findings = integrity.scan(nb, forbidden) if work is not None else []

    def job(self) -> dict:
        w, probes = self.work, self.probes
        return {"notebook": str(w / "in.ipynb"), "out": str(w / "out.ipynb"),
                "result": str(w / "result.json"), "scratch": str(w / "scratch"),
                "tests": [i for i, c in enumerate(self.nb.cells) if restore.is_test(c)],
                "canary": self.canary,
                "probe": integrity.probe_cell(probes.probes, probes.folder) if probes else None}


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
    if status != "ok":  # nothing to restore: the status says it all
        return Prepared(name, restored.notebook, status, detail, [], None)
    work = tmp / name.removesuffix(".ipynb")  # private: holds hidden tests, never mounted in the sandbox
    scratch = work / "scratch"  # the kernel's only writable folder
    scratch.mkdir(parents=True)
    nbformat.write(restored.notebook, work / "in.ipynb")
    shutil.copyfile(submitted, scratch / name)  # the student's own file, nothing of ours
    for extra in (lay.step("release") / a.folder).iterdir():
        if extra.is_file() and extra.suffix != ".ipynb" and not extra.name.startswith("."):
            shutil.copy2(extra, scratch / extra.name)
    item = Prepared(name, restored.notebook, status, detail, restored.changes, work,
                    integrity.load_forbidden(lay.probes, a.folder))
    probes = integrity.load_probes(lay.probes, a.folder, name)
    if probes:  # inputs go where the kernel can read them; the references stay in this process
        item.probes = integrity.ProbeSet.prepare(probes, scratch / f"_grader_{integrity.nonce()}")
    return item


def passed_tests(nb, result: dict) -> set[int]:
    replies = result.get("replies", {})
    return {i for i in result.get("executed", []) if replies.get(str(i)) == "ok" and restore.is_test(nb.cells[i])
            and not any(o.get("output_type") == "error" for o in nb.cells[i].get("outputs", []))}


def check_claims(item: Prepared, nb, result: dict) -> list[str]:
    """Hold what the kernel claimed against the canaries and probes; fail contradicted tests.

    Returns the findings: the reasons to flag this notebook (the static scan's included).
    """
    findings, passed = list(item.findings), passed_tests(nb, result)
    gid = {i: restore.nbgrader_meta(c).get("grade_id", f"#{i}") for i, c in enumerate(nb.cells)}

    def distrust(index: int, why: str) -> None:
        nb.cells[index].outputs.append(failed_output(why, DISTRUSTED))
        passed.discard(index)

    lied = sorted(int(i) for i, honest in result.get("canaries", {}).items() if not honest)
    if lied:
        findings.append(f"a check that must fail came back ok after test {gid[lied[0]]} (errors "
                        "swallowed or comparisons patched): tests from there on are not counted")
        for i in sorted(i for i in passed if i >= lied[0]):
            distrust(i, "not counted: from here on the kernel reported success for a check that must fail")

    if item.probes is not None and result.get("status") == "ok":
        index_of = {g: i for i, g in gid.items()}
        verdicts = item.probes.verdicts()
        for probe in item.probes.probes:
            for test in probe.tests:
                if verdicts[probe.name] != "ok" and index_of.get(test) in passed:
                    findings.append(f"{test} passed in the kernel, but the grader's own check of "
                                    f"{probe.name} disagrees: {verdicts[probe.name]}")
                    distrust(index_of[test], f"the grader re-checked {probe.name} outside your kernel: "
                                             f"{verdicts[probe.name]}")
    return findings


def failed_tests(nb) -> list[str]:
    return [restore.nbgrader_meta(c).get("grade_id", "?") for c in nb.cells if restore.is_test(c)
            and any(o.get("output_type") == "error" for o in c.get("outputs", []))]


def finish(lay, a, student: str, item: Prepared, limits: Limits) -> dict:
    """Read back what the sandbox produced, check its claims, mark failed tests, store the notebook."""
    nb, result, notes, findings = item.nb, None, list(item.notes), []
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
            status, detail = "out of memory", f"memory cap {limits.memory_mb} MiB reached" + (
                f"; {detail}" if detail else "")
        for note, markers in NOTES.items():
            if any(m in e for e in errors for m in markers):
                notes.append(note)
        if result.get("truncated"):
            notes.append(f"output truncated in {len(result['truncated'])} cell(s)")
        findings = check_claims(item, nb, result)
    mark_tests(nb, result, detail or status)
    sanitize(nb)  # before nbgrader stores it: formgrader renders it in the instructor's session
    target = lay.step("executed") / student / a.folder / item.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return {"status": status, "detail": detail, "notes": notes, "findings": findings,
            "failed_tests": failed_tests(nb), "seconds": (result or {}).get("seconds", 0.0)}


def run_student(lay, a, student: str, limits: Limits) -> dict:
    """Restore, run (sandboxed) and check every notebook of one submission; no gradebook access,
    so several students can run at once. The record has no score yet (see score_student)."""
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy noise from nbgrader's gradebook
    warnings.filterwarnings("ignore", message=".*not in session.*")
    start = time.monotonic()
    names = sorted(p.name for p in (lay.step("release") / a.folder).glob("*.ipynb"))
    record = {"student": student, "assignment": a.id, "status": "ok", "notes": [], "notebooks": {}}
    shutil.rmtree(lay.step("executed") / student / a.folder, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        items = [prepare(lay, a, student, name, Path(tmp)) for name in names]
        run_sandboxed(lay, [item.job() for item in items if item.work is not None], limits)
        for item in items:
            outcome = finish(lay, a, student, item, limits)
            record["notebooks"][item.name] = outcome
            if outcome["status"] != "ok" and record["status"] == "ok":
                record["status"] = outcome["status"]
            if outcome["detail"]:
                record["notes"].append(outcome["detail"])
            record["notes"] += outcome["notes"]
    findings = [f"{name}: {f}" for name, o in record["notebooks"].items() for f in o["findings"]]
    if findings:  # outranks every other status: an instructor must look before trusting the score
        if record["status"] != "ok":
            record["notes"].insert(0, f"also: {record['status']}")
        record["status"], record["notes"] = integrity.SUSPICIOUS, findings + record["notes"]
    record["seconds"] = round(time.monotonic() - start, 1)
    return record


def score_student(lay, a, record: dict) -> dict:
    """nbgrader scores the executed notebooks into the gradebook: one process, one student at a time."""
    start = time.monotonic()
    record["score"], record["max_score"] = gradebook.record_scores(lay, a.folder, record["student"])
    record["seconds"] = round(record["seconds"] + time.monotonic() - start, 1)
    return record


def grader_error(a, student: str, err: Exception) -> dict:
    return {"student": student, "assignment": a.id, "status": "grader error",
            "notes": [f"{type(err).__name__}: {str(err)[:300]}"], "score": 0.0,
            "max_score": 0.0, "seconds": 0.0, "notebooks": {}, "error": traceback.format_exc()[-5000:]}


def kernel_threads(jobs: int) -> str:
    """Threads per sandboxed kernel: the cores shared out between the jobs (oversubscribed threads
    slow small models down many times over), unless OMP_NUM_THREADS says otherwise."""
    return os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // jobs))


def require_released(lay, a) -> None:
    """A grading host without the gradebook needs the release and its source snapshot."""
    for path in (lay.step("release") / a.folder, gradebook.snapshot(lay, a.folder)):
        if not any(path.glob("*.ipynb")):
            raise SystemExit(f"error: {path} is missing: run `make release` on the gradebook's host and "
                             "share build/nbgrader/release and build/nbgrader/released_source with this one")


def score_pending(lay, ident: str, students: list[str] | None = None) -> list[dict]:
    """The second half of `--phase run` on other hosts: score every run not yet in the gradebook."""
    a = schedule.load(lay.schedule).assignment(ident)
    gradebook.ensure_generated(lay, a.folder)
    records = []
    for path in sorted((lay.step("status") / a.folder).glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("scored", True) or (students and record["student"] not in students):
            continue
        record.pop("scored")
        try:
            record = score_student(lay, a, record)
        except Exception as err:  # noqa: BLE001
            record = grader_error(a, record["student"], err)
        path.write_text(json.dumps(record, indent=1))
        print(f"{a.id} {record['student']}: {record['score']:g}/{record['max_score']:g} {record['status']}")
        records.append(record)
    print(f"{a.id}: {len(records)} run(s) scored into the gradebook")
    return records


def autograde(lay: layout.Layout, ident: str, students: list[str] | None = None,
              limits: Limits | None = None, jobs: int = 1, phase: str = "all") -> list[dict]:
    """Grade `students` (default: everyone collected), `jobs` submissions at a time.

    Each submission runs in its own sandbox (threads here only wait on those processes); the
    gradebook is written by this thread alone, one student at a time, as each run finishes.
    phase "run" only runs and checks (no gradebook: any number of hosts sharing build/ can do
    their share of the students), "score" then scores what they left (see score_pending).
    """
    if phase == "score":
        return score_pending(lay, ident, students)
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm.auto import tqdm

    a = schedule.load(lay.schedule).assignment(ident)
    limits = limits or Limits.resolve()
    jobs = max(1, int(jobs))
    os.environ.setdefault("COURSE_FAST", "1")
    students = students or lay.students("submitted", a.folder)
    if not students:
        print(f"{a.id}: nothing collected yet (run `make collect ASSIGNMENT={a.id} FROM=...`)")
        return []
    if phase == "run":
        require_released(lay, a)
    else:
        gradebook.ensure_generated(lay, a.folder)
    if sandbox.mode() != sandbox.ISOLATED:
        print(sandbox.WARNINGS[sandbox.mode()])
    status_dir = lay.step("status") / a.folder
    status_dir.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = kernel_threads(jobs)  # read by execute.kernel_env

    def run(student):
        try:
            return run_student(lay, a, student, limits)
        except Exception as err:  # noqa: BLE001 - one bad submission never stops the others
            return grader_error(a, student, err)

    # a probe reference may redirect sys.stdout in a worker thread for a moment (pycocotools
    # prints); the per-student lines go to the stdout we started with, never into that redirect
    out = sys.stdout
    records = []
    with ThreadPoolExecutor(max_workers=jobs) as pool, \
            tqdm(total=len(students), desc=f"{a.id} autograde ({jobs} at a time)", unit="submission") as bar:
        for future in as_completed([pool.submit(run, s) for s in students]):
            record = future.result()
            if phase == "run":
                record |= {"scored": False, "score": 0.0, "max_score": 0.0}
            elif record["status"] != "grader error":
                try:
                    record = score_student(lay, a, record)
                except Exception as err:  # noqa: BLE001
                    record = grader_error(a, record["student"], err)
            (status_dir / f"{record['student']}.json").write_text(json.dumps(record, indent=1))
            records.append(record)
            notes = "; ".join(record["notes"])
            points = "run, not scored yet" if phase == "run" else f"{record['score']:g}/{record['max_score']:g}"
            tqdm.write(f"{a.id} {record['student']}: {points} "
                       f"{record['status']} in {record['seconds']:.1f} s" + (f" — {notes}" if notes else ""), file=out)
            bar.update()
    return sorted(records, key=lambda r: r["student"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--student", action="append", default=None, help="only these (repeatable)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("COURSE_GRADE_JOBS") or os.cpu_count() or 1),
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--phase", choices=("all", "run", "score"), default="all",
                        help="run: sandboxed runs only, no gradebook (hosts sharing build/); score: score those runs")
    Limits.add_arguments(parser)
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make autograde ASSIGNMENT=a1`")
    autograde(layout.from_args(args), args.assignment, args.student, Limits.resolve(args), args.jobs, args.phase)


if __name__ == "__main__":
    main()
