"""The nbgrader exchange round trip on the tiny fixture assignment, with nbgrader's own commands.

release -> publish to a temporary exchange -> alice and bob, each with their own HOME and
working folder, `nbgrader fetch_assignment`, fill in the notebook, `nbgrader submit` (bob twice)
-> collect from the exchange -> the sandboxed autograde -> grades.csv. Plus: the exchange is never
modified, a submission owned by another account is refused, bad exchange folders say what to do.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import tiny_assignment as tiny  # noqa: E402
from pipeline_cli import layout_args, run, tree_hashes  # noqa: E402

pytestmark = pytest.mark.grading

NBGRADER = str(Path(sys.executable).parent / "nbgrader")
LIMITS = ["--cell-timeout", "10", "--notebook-timeout", "60", "--jobs", "1"]
FULL = "def square(x):\n    return np.asarray(x) ** 2\n"
FLOATS_ONLY = "def square(x):\n    return x * x if isinstance(x, float) else 0\n"  # test_float only: 1 of 3


class Student:
    """One student's account as nbgrader sees it: own HOME (nbgrader's cache) and working folder."""

    def __init__(self, name: str, home: Path, exchange: Path):
        self.name, self.home, self.exchange = name, home, exchange
        home.mkdir(parents=True)

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COURSE_"))}
        env |= {"HOME": str(self.home), "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
        # --student: every test student is this same OS account (a hub gives each their own)
        cmd = [NBGRADER, *args, "--course", "dlcv", f"--Exchange.root={self.exchange}"]
        if args[0] == "submit":
            cmd.append(f"--student={self.name}")
        proc = subprocess.run(cmd, cwd=self.home, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"{self.name}: {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def solve(self, code: str) -> None:
        nb_path = self.home / tiny.FOLDER / tiny.NOTEBOOK
        nb_path.write_text(json.dumps(tiny.with_solution(json.loads(nb_path.read_text()), code)))


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("exchange_course")
    paths = tiny.make_course(root)
    lay = layout_args(paths)
    exchange = root / "exchange"
    run("release", "--week", "1", *lay)
    publish_out = run("exchange", "publish", "--week", "1", "--exchange", str(exchange), *lay).stdout

    alice, bob = (Student(n, root / "home" / n, exchange) for n in ("alice", "bob"))
    for s in (alice, bob):
        s.nbgrader("fetch_assignment", tiny.FOLDER)
    bob.nbgrader("submit", tiny.FOLDER)  # an early, untouched submission: the later one counts
    alice.solve(FULL)
    alice.nbgrader("submit", tiny.FOLDER)
    bob.solve(FLOATS_ONLY)
    bob.nbgrader("submit", tiny.FOLDER)

    exchange_before = tree_hashes(exchange)
    collect_out = run("exchange", "collect", "--assignment", "t1", "--exchange", str(exchange), *lay).stdout
    submitted = paths["build"] / "nbgrader" / "submitted"
    submitted_before = tree_hashes(submitted)
    run("autograde", "--assignment", "t1", *LIMITS, *lay)
    run("grades", *lay)
    with open(paths["build"] / "grades.csv") as fh:
        grades = {row["student"]: row for row in csv.DictReader(fh)}
    return {"exchange": exchange, "lay": lay, "build": paths["build"], "grades": grades,
            "publish_out": publish_out, "collect_out": collect_out, "submitted": submitted,
            "exchange_before": exchange_before, "submitted_before": submitted_before}


def test_students_fetch_the_released_stub(round_trip):
    outbound = round_trip["exchange"] / "dlcv" / "outbound" / tiny.FOLDER / tiny.NOTEBOOK
    released = round_trip["build"] / "nbgrader" / "release" / tiny.FOLDER / tiny.NOTEBOOK
    assert outbound.read_bytes() == released.read_bytes()
    assert tiny.HIDDEN_CANARY not in outbound.read_text()
    assert "published t1" in round_trip["publish_out"]
    inbound = sorted(p.name for p in (round_trip["exchange"] / "dlcv" / "inbound").iterdir())
    assert [n.split("+")[0] for n in inbound] == ["alice", "bob", "bob"], inbound


def test_both_students_graded_with_their_latest_submission(round_trip):
    grades = round_trip["grades"]
    assert set(grades) == {"alice", "bob"}
    assert float(grades["alice"]["auto"]) == tiny.MAX_SCORE
    assert float(grades["bob"]["auto"]) == 1.0, "bob's later submission (test_float passes) must count"
    inbound = round_trip["exchange"] / "dlcv" / "inbound"
    for student, row in grades.items():
        assert row["status"] == "ok" and row["late"] == "no", row
        stamps = sorted((p / "timestamp.txt").read_text() for p in inbound.glob(f"{student}+*"))
        # the time nbgrader's submit wrote (to the second: zip times have no finer grain)
        assert row["submitted"] == stamps[-1][:19] + " UTC", (row, stamps)


def test_collected_notebooks_are_the_submitted_bytes(round_trip):
    inbound = round_trip["exchange"] / "dlcv" / "inbound"
    for student in ("alice", "bob"):
        latest = max((p for p in inbound.iterdir() if p.name.startswith(student + "+")),
                     key=lambda p: (p / "timestamp.txt").read_text())
        got = round_trip["submitted"] / student / tiny.FOLDER / tiny.NOTEBOOK
        assert got.read_bytes() == (latest / tiny.NOTEBOOK).read_bytes()
        kept = round_trip["build"] / "nbgrader" / "zips" / tiny.FOLDER / f"t1-{student}.zip"
        with zipfile.ZipFile(kept) as zf:  # the audit copy says which exchange folder it came from
            assert zf.read(f"{tiny.FOLDER}/exchange_submission.txt").decode().strip() == latest.name


def test_exchange_and_submissions_never_modified(round_trip):
    assert tree_hashes(round_trip["exchange"]) == round_trip["exchange_before"]
    assert tree_hashes(round_trip["submitted"]) == round_trip["submitted_before"]


def test_recollect_is_idempotent(round_trip):
    out = run("exchange", "collect", "--assignment", "t1", "--exchange", str(round_trip["exchange"]),
              *round_trip["lay"]).stdout
    assert "2 submission(s) collected, 0 skipped" in out
    assert tree_hashes(round_trip["submitted"]) == round_trip["submitted_before"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another account")
def test_submission_owned_by_someone_else_is_refused(round_trip, tmp_path):
    """nbgrader's inbound is writable by every student: a folder named alice+... made by mallory."""
    exchange = tmp_path / "exchange"
    run("exchange", "publish", "--week", "1", "--exchange", str(exchange), *round_trip["lay"])
    forged = exchange / "dlcv" / "inbound" / f"alice+{tiny.FOLDER}+2026-01-01 00:00:00.000000 UTC+xyz"
    forged.mkdir()
    (forged / tiny.NOTEBOOK).write_text("{}")
    os.chown(forged, 54321, 54321)  # an account that is not alice
    proc = run("exchange", "collect", "--assignment", "t1", "--exchange", str(exchange), *round_trip["lay"])
    assert "names student 'alice' but is owned by 'uid 54321'" in proc.stdout
    assert "0 student(s) in the exchange" in proc.stdout
    assert forged.exists() and (forged / tiny.NOTEBOOK).read_text() == "{}"


def test_symlinked_notebook_is_not_followed(round_trip, tmp_path):
    """A student's link must not make the instructor's account read a file for them."""
    exchange = tmp_path / "exchange"
    run("exchange", "publish", "--week", "1", "--exchange", str(exchange), *round_trip["lay"])
    linked = exchange / "dlcv" / "inbound" / f"carol+{tiny.FOLDER}+2026-01-01 00:00:00.000000 UTC+abc"
    linked.mkdir()
    secret = tmp_path / "instructor_only.ipynb"
    secret.write_text(json.dumps({"cells": [], "secret": "s3cret"}))
    (linked / tiny.NOTEBOOK).symlink_to(secret)
    out = run("exchange", "collect", "--assignment", "t1", "--exchange", str(exchange), *round_trip["lay"]).stdout
    assert "not a regular file" in out and "t1-carol.zip: contains no notebook" in out, out
    assert not (round_trip["submitted"] / "carol").exists()


def test_bad_exchange_folders_say_what_to_do(round_trip, tmp_path):
    lay = round_trip["lay"]
    missing = run("exchange", "collect", "--assignment", "t1", "--exchange", str(tmp_path / "nope"), *lay, check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr and "EXCHANGE=" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run("exchange", "collect", "--assignment", "t1", "--exchange", str(tmp_path / "empty"), *lay, check=False)
    assert empty.returncode != 0 and "holds no course 'dlcv'" in empty.stderr
    (tmp_path / "afile").write_text("x")
    afile = run("exchange", "publish", "--assignment", "t1", "--exchange", str(tmp_path / "afile"), *lay, check=False)
    assert afile.returncode != 0 and "is a file, not a folder" in afile.stderr
    unreleased = run("exchange", "publish", "--assignment", "t1", "--exchange", str(tmp_path / "x"),
                     "--build-dir", str(tmp_path / "fresh_build"), *lay[2:], check=False)
    assert unreleased.returncode != 0 and "has not been released" in unreleased.stderr
