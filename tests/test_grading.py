"""The grading pipeline end to end on a tiny fixture assignment, including hostile submissions.

release -> submit (solution, stub, every hostile case) -> collect -> autograde -> feedback ->
grades, each through the same Python entry points the Makefile calls, in a temporary build
directory. The real assignments (A1, A2, ...) are checked in test_grading_assignments.py.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import tiny_assignment as tiny  # noqa: E402
from pipeline_cli import layout_args, run, tree_hashes  # noqa: E402

pytestmark = pytest.mark.grading

# small limits so the hostile cases finish fast (the fixture needs only numpy)
LIMITS = ["--cell-timeout", "10", "--notebook-timeout", "60", "--memory-mb", "1024",
          "--max-cell-bytes", "200000"]

SNOOP = """import os, sys
found, wrote = [], []
skip = ('/proc', '/sys', '/dev', '/usr', sys.prefix, sys.base_prefix)
for root, dirs, files in os.walk('/'):
    if root.startswith(skip):
        dirs[:] = []
        continue
    for f in files:
        if f.endswith(('.db', '.ipynb', '.toml', '.json')):
            found.append(os.path.join(root, f))
for target in found + [{gradebook!r}, {source!r}]:
    try:
        with open(target, 'a') as fh:
            fh.write('pwned')
        wrote.append(target)
    except OSError:
        pass
print('FOUND', sorted(found))
print('WROTE', sorted(wrote))
def square(x):
    return np.asarray(x) ** 2
"""


# kim: active content in outputs and in a written answer (it ran in formgrader with the
# instructor's session before outputs were sanitised)
XSS = "<script>document.title='XSS_kim'</script>"
XSS_CODE = f"""from IPython.display import HTML, Javascript, display
display(HTML({XSS!r} + '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">kim</a><b>bold</b>'))
display(Javascript("document.title='XSS_js'"))
def square(x):
    return np.asarray(x) ** 2
"""


def with_answer(nb: dict, text: str) -> dict:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "a_why":
            cell["source"] = text
    return nb


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Run the whole pipeline once; tests below inspect its results."""
    root = tmp_path_factory.mktemp("course")
    paths = tiny.make_course(root)
    lay = layout_args(paths)
    release_out = run("release", "--week", "1", *lay).stdout
    student = paths["build"] / "student"
    stub = json.loads((student / "assignments" / tiny.FOLDER / tiny.NOTEBOOK).read_text())
    source_nb = json.loads((paths["source"] / tiny.FOLDER / tiny.NOTEBOOK).read_text())
    gradebook = paths["build"] / "nbgrader" / "gradebook.db"

    def cells_without(nb, drop=(), dup=(), retype=(), edit=()):
        nb = json.loads(json.dumps(nb))
        out = []
        for cell in nb["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in drop:
                continue
            if gid in retype:
                cell = {"cell_type": "markdown", "metadata": cell["metadata"], "source": cell["source"]}
            if gid in edit:
                cell["source"] = "pass  # tests? what tests?"
            out.append(cell)
            if gid in dup:
                out.append(json.loads(json.dumps(cell)))
        nb["cells"] = out
        return nb

    solution = "def square(x):\n    return np.asarray(x) ** 2\n"
    notebooks = {
        "solver": source_nb,  # the instructor's own notebook: full marks
        "stubby": stub,  # the release as is: zero
        "looper": tiny.with_solution(stub, solution + "while True:\n    pass\n"),
        "bomber": tiny.with_solution(stub, "blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 2**20))\n"),
        "crasher": tiny.with_solution(stub, "import os\nos._exit(1)\n"),
        "shuffler": cells_without(tiny.with_solution(stub, solution), drop={"test_float"},
                                  dup={"test_square", "square"}, retype={"imports"}),
        "cheater": cells_without(tiny.with_solution(stub, "def square(x):\n    return 0\n"),
                                 edit={"test_square", "test_float"}),
        "snoop": tiny.with_solution(stub, SNOOP.format(gradebook=str(gradebook),
                                                       source=str(paths["source"] / tiny.FOLDER / tiny.NOTEBOOK))),
        "netcat": tiny.with_solution(stub, solution + "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)\n"),
        "chatty": tiny.with_solution(stub, solution + "print('spam ' * 2_000_000)\n"),
        "warner": tiny.with_solution(stub, "import warnings\n" + solution.replace(
            "    return", "    warnings.warn('squares ahead')\n    return")),
        "halfway": tiny.with_solution(stub, "def square(x):\n    return x * x if np.isscalar(x) else 0 * x\n"),
        "kim": with_answer(tiny.with_solution(stub, XSS_CODE), f"Because. {XSS}<iframe src='/api'></iframe>"),
    }
    inbox = root / "inbox"
    inbox.mkdir()
    desk = root / "desk"  # a student's copy of the edition, where they do the work
    shutil.copytree(student, desk, ignore=shutil.ignore_patterns("helpers", "lectures"))
    for name, nb in notebooks.items():
        target = desk / "assignments" / tiny.FOLDER / tiny.NOTEBOOK
        target.write_text(json.dumps(nb))
        subprocess.run([sys.executable, str(desk / "tools" / "submit.py"), tiny.SHORT, name,
                        "--out-dir", str(inbox)], check=True, capture_output=True)
    member = f"{tiny.FOLDER}/{tiny.NOTEBOOK}"
    write_zip(inbox / "t1-garbled.zip", {member: b'{"cells": [ this is not json'})
    write_zip(inbox / "t1-forgetful.zip", {f"{tiny.FOLDER}/scratch.ipynb": json.dumps(stub).encode()})
    # zips that collect must skip
    write_zip(inbox / "t2-someone.zip", {member: json.dumps(stub).encode()})
    write_zip(inbox / "t1-bad$name.zip", {member: json.dumps(stub).encode()})
    write_zip(inbox / "t1-.hidden.zip", {member: json.dumps(stub).encode()})
    (inbox / "t1-corrupt.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
    late = datetime(2027, 1, 23, 9, 30, tzinfo=timezone.utc).timestamp()  # the due date is 2027-01-22 23:59
    os.utime(inbox / "t1-chatty.zip", (late, late))
    zips_before = tree_hashes(inbox)

    collect_out = run("collect", "--assignment", "t1", "--from", str(inbox), *lay).stdout
    submitted = paths["build"] / "nbgrader" / "submitted"
    submitted_before = tree_hashes(submitted)
    source_before = tree_hashes(paths["source"])
    autograde = run("autograde", "--assignment", "t1", *LIMITS, *lay)
    feedback_out = run("feedback", "--assignment", "t1", *lay).stdout
    run("grades", *lay)
    with open(paths["build"] / "grades.csv") as fh:
        grades = {row["student"]: row for row in csv.DictReader(fh)}
    return {
        "paths": paths, "lay": lay, "student": student, "inbox": inbox, "release_out": release_out,
        "collect_out": collect_out, "autograde_out": autograde.stdout + autograde.stderr,
        "feedback_out": feedback_out, "grades": grades, "submitted": submitted,
        "zips_before": zips_before, "submitted_before": submitted_before, "source_before": source_before,
        "build": paths["build"], "gradebook": gradebook,
    }


# ---------------------------------------------------------------- release and the student edition


def test_release_contents(course):
    student = course["student"]
    for rel in ["Makefile", "README.md", "pyproject.toml", "helpers/__init__.py", "tools/submit.py",
                "tools/validate.py", f"assignments/{tiny.FOLDER}/{tiny.NOTEBOOK}",
                "lectures/01_fixture_lecture.ipynb"]:
        assert (student / rel).exists(), rel
    assert not (student / "lectures" / "03_later.ipynb").exists(), "week 2 material released in week 1"
    assert "02_not_written" in course["release_out"] and "not written yet" in course["release_out"]
    assert "t9" not in (student / "README.md").read_text()
    assert "{{" not in (student / "README.md").read_text()


def test_student_edition_has_no_solutions_or_hidden_tests(course):
    for path in course["student"].rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".md", ".txt", ".json"):
            text = path.read_text(errors="replace")
            assert "BEGIN SOLUTION" not in text, path
            assert "BEGIN HIDDEN TESTS" not in text, path
            assert tiny.HIDDEN_CANARY not in text, path
            assert "np.asarray(x) ** 2" not in text or path.parent.name == "pipeline", path


def test_release_week_past_the_end_and_bad_weeks(course, tmp_path):
    lay = [a if a != str(course["build"]) else str(tmp_path / "build") for a in course["lay"]]
    out = run("release", "--week", "99", *lay).stdout
    assert "past the end" in out
    assert (tmp_path / "build" / "student" / "lectures" / "03_later.ipynb").exists()
    assert "t9" in out and "no source notebooks" in out
    for bad in ["", "abc", "0", "-1"]:
        proc = run("release", "--week", bad, *lay, check=False)
        assert proc.returncode != 0 and "WEEK" in proc.stderr, (bad, proc.stderr)


def test_submit_refuses_broken_work(course, tmp_path):
    edition = tmp_path / "edition"
    shutil.copytree(course["student"], edition, ignore=shutil.ignore_patterns("helpers", "lectures"))
    nb = edition / "assignments" / tiny.FOLDER / tiny.NOTEBOOK
    tool = [sys.executable, str(edition / "tools" / "submit.py")]
    ok = subprocess.run(tool + ["t1", "jdoe"], capture_output=True, text=True)
    assert ok.returncode == 0 and (edition / "t1-jdoe.zip").exists(), ok.stderr
    # the untouched, never-run stub is still zipped (partial credit), but not silently
    assert "untouched stub" in ok.stderr and "not run top to bottom" in ok.stderr, ok.stderr
    solved = tiny.with_solution(json.loads(nb.read_text()), "def square(x):\n    return np.asarray(x) ** 2\n")
    code = [c for c in solved["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    for count, cell in enumerate(code, start=1):
        cell["execution_count"] = count
    nb.write_text(json.dumps(solved))
    clean = subprocess.run(tool + ["t1", "jdoe"], capture_output=True, text=True)
    assert clean.returncode == 0 and "WARNING" not in clean.stderr, clean.stderr
    code[0]["execution_count"] = 99                            # edited and re-run out of order
    nb.write_text(json.dumps(solved))
    stale = subprocess.run(tool + ["t1", "jdoe"], capture_output=True, text=True)
    assert "not run top to bottom" in stale.stderr and "NotImplementedError" not in stale.stderr
    with zipfile.ZipFile(edition / "t1-jdoe.zip") as zf:
        assert zf.namelist() == [f"{tiny.FOLDER}/{tiny.NOTEBOOK}"]
    bad_id = subprocess.run(tool + ["t1", "../evil"], capture_output=True, text=True)
    assert bad_id.returncode != 0 and "student id" in bad_id.stderr
    nb.write_text('{"cells": [')
    broken = subprocess.run(tool + ["t1", "jdoe2"], capture_output=True, text=True)
    assert broken.returncode != 0 and "not valid notebook JSON" in broken.stderr
    nb.unlink()
    missing = subprocess.run(tool + ["t1", "jdoe3"], capture_output=True, text=True)
    assert missing.returncode != 0 and "missing notebook" in missing.stderr
    assert not (edition / "t1-jdoe2.zip").exists() and not (edition / "t1-jdoe3.zip").exists()
    # the student Makefile drives the same script
    proc = subprocess.run(["make", "-s", "-C", str(edition), "submit", "ASSIGNMENT=t1"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "STUDENT is required" in proc.stdout + proc.stderr


def test_student_setup_names_the_python_it_needs(course, tmp_path):
    """`make setup` on Python 3.12 (or none) stops before creating anything and says how to get 3.11."""
    edition = tmp_path / "edition"
    shutil.copytree(course["student"], edition, ignore=shutil.ignore_patterns("helpers", "lectures"))
    fake = tmp_path / "python3.12"
    fake.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Python 3.12.4"; exit 0; fi\nexit 1\n')
    fake.chmod(0o755)
    for python, found in ((fake, "Python 3.12.4"), (tmp_path / "missing", "not runnable")):
        proc = subprocess.run(["make", "-s", "-C", str(edition), "setup", f"PYTHON={python}"],
                              capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "needs Python 3.11" in out and found in out, out
        assert "uv python install 3.11" in out and "environment.yml" in out
        assert not (edition / ".venv").exists()


def test_validate_fails_on_stub_and_passes_on_solution(course, tmp_path):
    edition = tmp_path / "edition"
    shutil.copytree(course["student"], edition, ignore=shutil.ignore_patterns("helpers", "lectures"))
    tool = [sys.executable, str(edition / "tools" / "validate.py"), "t1"]
    env = {**os.environ, "COURSE_FAST": "1"}
    stub = subprocess.run(tool, capture_output=True, text=True, env=env)
    assert stub.returncode != 0, stub.stdout
    assert "test_square" in stub.stdout and "NotImplementedError" in stub.stdout
    # the grader's limits and mode are named, points are counted, no kernel transport noise
    assert "FAST mode, at most 120 s per cell and 600 s per notebook" in stub.stdout
    assert "visible tests: 0 / 3 points; written answers (1 point) are graded by hand" in stub.stdout
    assert "without encryption" not in stub.stdout + stub.stderr
    nb = edition / "assignments" / tiny.FOLDER / tiny.NOTEBOOK
    nb.write_text(json.dumps(tiny.with_solution(json.loads(nb.read_text()),
                                                "def square(x):\n    return np.asarray(x) ** 2\n")))
    good = subprocess.run(tool, capture_output=True, text=True, env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "test_square" in good.stdout and "visible tests: 3 / 3 points" in good.stdout, good.stdout


# ---------------------------------------------------------------- collect


def test_collect_skips_bad_zips_and_keeps_files_identical(course):
    out = course["collect_out"]
    for name in ["t2-someone.zip", "t1-bad$name.zip", "t1-.hidden.zip", "t1-corrupt.zip"]:
        assert f"skipped {name}" in out, (name, out)
    students = sorted(p.name for p in course["submitted"].iterdir())
    assert students == sorted(course["grades"])
    # each submitted notebook is byte-for-byte the zip member, before and after grading
    for student in students:
        with zipfile.ZipFile(course["inbox"] / f"t1-{student}.zip") as zf:
            for info in zf.infolist():
                on_disk = course["submitted"] / student / tiny.FOLDER / Path(info.filename).name
                assert on_disk.read_bytes() == zf.read(info), (student, info.filename)
    assert tree_hashes(course["submitted"]) == course["submitted_before"]
    assert tree_hashes(course["inbox"]) == course["zips_before"]
    assert tree_hashes(course["paths"]["source"]) == course["source_before"]


# ---------------------------------------------------------------- autograde and grades

EXPECTED = {  # student: (score, status, words that must appear in the notes)
    "solver": (3, "ok", []),
    "stubby": (0, "ok", []),
    "looper": (0, "timeout", ["longer than 10 s"]),
    "bomber": (0, "out of memory", ["memory cap"]),
    "crasher": (0, "crashed", ["kernel died"]),
    "garbled": (0, "invalid notebook", ["not valid JSON"]),
    "forgetful": (0, "missing notebook", ["tiny.ipynb"]),
    "shuffler": (3, "ok", ["re-inserted deleted cell test_float", "dropped duplicate of cell test_square",
                           "dropped duplicate of cell square", "restored type of cell imports"]),
    "cheater": (0, "ok", ["restored edited test cell test_square", "restored edited test cell test_float"]),
    "snoop": (3, "ok", []),
    "netcat": (3, "ok", ["network access blocked"]),
    "chatty": (3, "ok", ["output truncated"]),
    "kim": (3, "ok", []),
    "halfway": (1, "ok", []),  # passes the visible tests, fails the hidden one
    "warner": (3, "ok", []),  # its tests write a warning to stderr: still passed (nbgrader alone would give 0)
}


def test_grades_csv(course):
    grades = course["grades"]
    assert sorted(grades) == sorted(EXPECTED), course["autograde_out"]
    for student, (score, status, words) in EXPECTED.items():
        row = grades[student]
        assert row["assignment"] == "t1"
        assert float(row["max_auto"]) == tiny.MAX_SCORE, row
        assert (float(row["auto"]), row["status"]) == (score, status), (student, row, course["autograde_out"])
        for word in words:
            assert word in row["notes"], (student, word, row["notes"])


def test_autograde_prints_time_per_submission(course):
    out = course["autograde_out"]
    for student in EXPECTED:
        assert re.search(rf"t1 {re.escape(student)}: .* in \d+\.\d s", out), (student, out)
    seconds = {s: float(course["grades"][s]["seconds"]) for s in ("solver", "stubby", "shuffler")}
    assert max(seconds.values()) < 60, seconds


def test_sandbox_hides_grader_files(course):
    nb = json.loads((course["build"] / "nbgrader" / "autograded" / "snoop" / tiny.FOLDER / tiny.NOTEBOOK).read_text())
    printed = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream"
    )
    assert "FOUND" in printed, printed
    found = printed.split("FOUND")[1].split("WROTE")[0]
    wrote = printed.split("WROTE")[1]
    build = str(course["build"])
    assert build not in found and "gradebook" not in found and "source" not in found, found
    assert "gradebook" not in wrote and str(course["paths"]["source"]) not in wrote, wrote


def test_gradebook_intact(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course['gradebook']}", "dlcv") as gb:
        for student, (score, _, _) in EXPECTED.items():
            sub = gb.find_submission(tiny.FOLDER, student)
            assert sub.code_score == score and sub.max_code_score == tiny.MAX_SCORE, student


def test_huge_output_is_capped(course):
    path = course["build"] / "nbgrader" / "autograded" / "chatty" / tiny.FOLDER / tiny.NOTEBOOK
    assert path.stat().st_size < 1_000_000


def test_unisolated_fallback_warns_once(course):
    proc = run("autograde", "--assignment", "t1", "--student", "solver", "--student", "stubby",
               *LIMITS, *course["lay"], env={"COURSE_SANDBOX": "none"})
    assert proc.stdout.count("NOT ISOLATED") == 1, proc.stdout
    assert "t1 solver: 3/3 ok" in proc.stdout and "t1 stubby: 0/3 ok" in proc.stdout


def test_parallel_and_serial_grading_agree(course):
    """The fixture graded two at a time (the default on 2 cores); one at a time gives the same grades."""
    again = ["solver", "stubby", "shuffler", "cheater", "kim", "netcat"]
    args = [a for s in again for a in ("--student", s)]
    proc = run("autograde", "--assignment", "t1", "--jobs", "1", *args, *LIMITS, *course["lay"])
    assert "1 at a time" in proc.stderr, proc.stderr[-2000:]
    status = course["build"] / "nbgrader" / "status" / tiny.FOLDER
    for student in again:
        serial = json.loads((status / f"{student}.json").read_text())
        row = course["grades"][student]
        assert (f"{serial['score']:g}", serial["status"], "; ".join(serial["notes"])) == \
            (row["auto"], row["status"], row["notes"]), student


# ---------------------------------------------------------------- feedback


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_warns_about_ungraded_written_answers(course):
    """Right after autograde the written answer (a_why) has no grade: make feedback says so."""
    out = course["feedback_out"]
    assert "written answer(s) not graded yet" in out and "a_why" in out, out
    assert "formgrader" in out
    # once a grader has scored it (nbgrader's own gradebook API, as formgrader does) it is no longer listed
    import argparse

    from assignments.pipeline import gradebook, layout

    parser = argparse.ArgumentParser()
    layout.add_arguments(parser)
    lay = layout.from_args(parser.parse_args(course["lay"]))
    from nbgrader.api import Gradebook

    student = next(s for s in EXPECTED if gradebook.ungraded_written(lay, tiny.FOLDER, s))
    with Gradebook(f"sqlite:///{lay.gradebook}", gradebook.COURSE_ID) as gb:
        grade = gb.find_grade("a_why", tiny.NOTEBOOK.removesuffix(".ipynb"), tiny.FOLDER, student)
        grade.manual_score = 1.0
        gb.db.commit()
    assert gradebook.ungraded_written(lay, tiny.FOLDER, student) == []


def test_grades_have_manual_points_late_flag_and_summary(course):
    """A written answer graded by hand (through nbgrader's API, as formgrader does) reaches grades.csv."""
    from nbgrader.api import Gradebook

    student = "solver"
    with Gradebook(f"sqlite:///{course['gradebook']}", "dlcv") as gb:
        grade = gb.find_grade("a_why", tiny.NOTEBOOK.removesuffix(".ipynb"), tiny.FOLDER, student)
        grade.manual_score = 1.0
        gb.db.commit()
    out = run("grades", *course["lay"]).stdout
    with open(course["build"] / "grades.csv") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    row = rows[student]
    assert (row["auto"], row["manual"], row["max_manual"], row["total"], row["max_total"]) == ("3", "1", "1", "4", "4"), row
    assert row["ungraded"] == ""
    assert rows["kim"]["ungraded"] == "tiny:a_why" and rows["kim"]["manual"] == "0"
    # the late flag comes from the zip's time and course.toml's due date
    assert rows["chatty"]["late"] == "yes" and rows["chatty"]["submitted"].startswith("2027-01-23 09:30")
    assert rows["solver"]["late"] == "no"
    summary = course["build"] / "grades-summary"
    assert (summary / "t1.png").stat().st_size > 5000
    with open(summary / "summary.csv") as fh:
        t1 = next(r for r in csv.DictReader(fh) if r["assignment"] == "t1")
    assert int(t1["submissions"]) == len(EXPECTED) and int(t1["late"]) == 1, t1
    assert "t1:" in out and "median" in out


def test_feedback_has_no_hidden_tests(course):
    pages = sorted((course["build"] / "nbgrader" / "feedback").rglob("*.html"))
    assert {p.parts[-3] for p in pages} == set(EXPECTED), course["feedback_out"]
    for page in pages:
        raw = page.read_text()
        text = visible_text(raw)
        assert tiny.HIDDEN_CANARY not in raw and tiny.HIDDEN_CANARY not in text, page
        assert "BEGIN HIDDEN TESTS" not in text, page
        assert "assert square(3) == 9" in text, page  # visible tests stay visible
    # a failed hidden test names itself through its assert message; its code stays hidden
    halfway = visible_text(next(p for p in pages if p.parts[-3] == "halfway").read_text())
    assert "hidden test: square of an integer array" in halfway
    # kim's written answer has not been graded: the page says so instead of showing 0 points
    kim = visible_text(next(p for p in pages if p.parts[-3] == "kim").read_text())
    assert "to be graded by hand" in kim and "Score: 0.0 / 1.0" not in kim, kim[:2000]


# ---------------------------------------------------------------- untrusted output


def test_student_html_is_inert(course):
    """kim's script, event handler, javascript: link and iframe reach no instructor's browser live."""
    autograded = course["build"] / "nbgrader" / "autograded" / "kim" / tiny.FOLDER / tiny.NOTEBOOK
    page = course["build"] / "nbgrader" / "feedback" / "kim" / tiny.FOLDER / tiny.NOTEBOOK.replace(".ipynb", ".html")
    nb = json.loads(autograded.read_text())
    # what a browser renders as HTML: outputs and markdown (code sources are shown as text)
    rendered = json.dumps([o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", [])])
    rendered += "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                          for c in nb["cells"] if c["cell_type"] == "markdown")
    for where, text in (("autograded notebook", rendered), ("feedback page", page.read_text())):
        assert "XSS_kim" in text, where  # graded normally: the output is there, escaped
        assert "<script>document.title" not in text and "<iframe" not in text, where
        assert not re.search(r"<[^>]*\bonerror\s*=", text), where  # a live tag with a handler
        assert not re.search(r"<a[^>]*javascript:", text), where
    kinds = {k for c in nb["cells"] for o in c.get("outputs", []) for k in o.get("data", {})}
    assert kinds <= {"text/plain", "text/html", "image/png", "image/jpeg", "text/latex", "application/json"}, kinds
    assert "<b>bold</b>" in rendered  # harmless markup survives


# ---------------------------------------------------------------- grading on several hosts


def test_run_and_score_phases_split_the_work(course):
    """--phase run touches no gradebook (other hosts can do it); --phase score finishes the job."""
    status = course["build"] / "nbgrader" / "status" / tiny.FOLDER / "solver.json"
    gradebook_before = course["gradebook"].read_bytes()
    run("autograde", "--assignment", "t1", "--phase", "run", "--student", "solver", *LIMITS, *course["lay"])
    assert course["gradebook"].read_bytes() == gradebook_before
    assert json.loads(status.read_text())["scored"] is False
    run("grades", *course["lay"])
    with open(course["build"] / "grades.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["student"] == "solver")
    assert row["status"] == "not autograded" and "--phase score" in row["notes"], row
    out = run("autograde", "--assignment", "t1", "--phase", "score", *course["lay"]).stdout
    assert "1 run(s) scored" in out, out
    record = json.loads(status.read_text())
    assert "scored" not in record and (record["score"], record["status"]) == (3.0, "ok"), record
