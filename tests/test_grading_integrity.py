"""Wrong and cheating submissions to the real assignments, through the real sandboxed pipeline.

Each case (tests/fixtures/grading/cases_*.py) is one student's submission of one notebook:
the released stub with every answer cell filled in from the source solution (unless the case
is a `stub`), then some answer cells replaced (`replace`: grade_id -> the student's text) and
cells of the student's own added (`insert`: after grade_id -> code). The case says which test
cells must lose their points (`must_fail`), which must keep them (`must_pass`) and whether the
submission must be flagged `suspicious` (True), must not be (False), or either (absent).
Only the case's notebook is submitted, so the others grade instantly as missing.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_grading_assignments import REPO, SOURCE, run, short_id

from assignments.bench.notebook_defs import solved_stub

pytestmark = pytest.mark.grading

# COURSE_CASES=cheats,a3 grades only those case files (while working on one assignment)
ONLY = [x for x in os.environ.get("COURSE_CASES", "").split(",") if x]
FIXTURES = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))  # case files may share code (cases_cheats uses cases_a1's bugs)
CASE_FILES = [p for p in sorted(FIXTURES.glob("cases_*.py"))
              if not ONLY or p.stem.removeprefix("cases_") in ONLY]


def load_cases() -> list[tuple[str, str, dict]]:
    """(folder, student, case) for every case in every cases file."""
    out = []
    for path in CASE_FILES:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for student, case in module.CASES.items():
            folder = next(f.name for f in SOURCE.iterdir() if (f / case["notebook"]).exists())
            out.append((folder, f"{path.stem.removeprefix('cases_')}-{student}", case))
    return out


CASES = load_cases()


def nbgrader_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def submission(stub: dict, source: dict, case: dict) -> dict:
    start = json.loads(json.dumps(stub)) if case.get("stub") else solved_stub(stub, source)
    cells = []
    for cell in start["cells"]:
        gid = nbgrader_id(cell)
        if gid in case.get("replace", {}):
            cell["source"] = case["replace"][gid]
        cells.append(cell)
        if gid in case.get("insert", {}):
            cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                          "source": case["insert"][gid]})
    missing = (set(case.get("replace", {})) | set(case.get("insert", {}))) - {nbgrader_id(c) for c in cells}
    assert not missing, f"case names cells the notebook does not have: {missing}"
    return {**stub, "cells": cells}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Release everything once, submit every case, autograde each assignment; return the records."""
    root = tmp_path_factory.mktemp("integrity")
    build, inbox = root / "build", root / "inbox"
    inbox.mkdir()
    run("release", "--week", "99", "--build-dir", str(build))
    folders = set()
    for folder, student, case in CASES:
        name = case["notebook"]
        stub = json.loads((build / "student" / "assignments" / folder / name).read_text())
        source = json.loads((SOURCE / folder / name).read_text())
        with zipfile.ZipFile(inbox / f"{short_id(folder)}-{student}.zip", "w") as zf:
            zf.writestr(f"{folder}/{name}", json.dumps(submission(stub, source, case)))
        folders.add(folder)
    outputs = []
    for folder in sorted(folders):
        run("collect", "--assignment", short_id(folder), "--from", str(inbox), "--build-dir", str(build))
        proc = run("autograde", "--assignment", short_id(folder), "--build-dir", str(build))
        outputs.append(proc.stdout)
    run("grades", "--build-dir", str(build))
    with open(build / "grades.csv") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    records = {}
    for folder, student, _ in CASES:
        records[student] = json.loads((build / "nbgrader" / "status" / folder / f"{student}.json").read_text())
    return {"records": records, "rows": rows, "out": "\n".join(outputs), "build": build}


@pytest.mark.parametrize("folder,student,case", CASES, ids=[s for _, s, _ in CASES])
def test_case(graded, folder, student, case, record_notebook_time):
    record = graded["records"][student]
    outcome = record["notebooks"][case["notebook"]]
    record_notebook_time(f"{folder}/{case['notebook']} (case {student})", outcome["seconds"], outcome["status"])
    context = f"{student}: {case['why']}\n{json.dumps(record, indent=1)[:3000]}"
    failed = set(outcome["failed_tests"])
    assert set(case["must_fail"]) <= failed, context
    assert not set(case.get("must_pass", [])) & failed, context
    row = graded["rows"][student]
    if case.get("suspicious") is True:
        assert row["status"] == "suspicious" and record["status"] == "suspicious", context
        assert case.get("notes_contain", "") in row["notes"], context
    elif case.get("suspicious") is False:
        assert row["status"] != "suspicious", context
    assert float(row["auto"]) < float(row["max_auto"]), context


def test_suspicious_rows_say_why(graded):
    for student, row in graded["rows"].items():
        if row["status"] == "suspicious":
            assert row["notes"], (student, row)


def test_stored_notebooks_carry_no_hidden_flags(graded):
    """The canaries and probes never show up in what nbgrader stores and the instructor reads."""
    for path in (graded["build"] / "nbgrader" / "autograded").rglob("*.ipynb"):
        text = path.read_text()
        assert "_grader_probe" not in text and "assert any(_seen)" not in text, path
        assert "Fontconfig error" not in text, f"{path}: the sandbox hides the system font config"


if __name__ == "__main__":  # list the cases
    for folder, student, case in CASES:
        print(f"{folder:<20} {student:<24} {case['why']}")
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", __file__, "-q"], cwd=REPO))
