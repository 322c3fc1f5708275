"""Every real assignment through the real autograder, once: the source solution scores full
marks and the released stub scores zero. This is also the execution check (and time report)
for assignment notebooks: each is run top to bottom in FAST mode inside the grading sandbox.
Assignments are discovered from assignments/source/*; their short ids come from course.toml.
"""

from __future__ import annotations

import html
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest
from pipeline_cli import REPO, run

pytestmark = pytest.mark.grading

SOURCE = REPO / "assignments" / "source"
FOLDERS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if SOURCE.is_dir() else []
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.DOTALL)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)


def short_id(folder: str) -> str | None:
    sys.path.insert(0, str(REPO))
    from assignments.pipeline import schedule

    for a in schedule.load(REPO / "course.toml").assignments.values():
        if a.folder == folder:
            return a.id
    return None


def cell_sources(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]


def block_lines(sources: list[str], block: re.Pattern) -> set[str]:
    """Distinctive lines inside solution or hidden-test blocks (not also found outside them)."""
    inside, outside = set(), set()
    for src in sources:
        for chunk in block.findall(src):
            inside |= {line.strip() for line in chunk.splitlines()}
        outside |= {line.strip() for line in block.sub("", src).splitlines()}
    return {line for line in inside - outside if len(line) >= 25 and not line.startswith("#")}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    build = tmp_path_factory.mktemp("assignments") / "build"
    proc = run("release", "--week", "99", "--build-dir", str(build), check=False)
    return {"build": build, "out": proc.stdout + proc.stderr}


@pytest.mark.parametrize("folder", FOLDERS)
def test_solution_full_marks_stub_zero(release, folder, record_notebook_time, tmp_path):
    short = short_id(folder)
    if short is None:
        pytest.skip(f"{folder} is not in course.toml")
    build = release["build"]
    stubs = build / "student" / "assignments" / folder
    assert stubs.is_dir(), f"{folder} was not released:\n{release['out']}"
    names = sorted(p.name for p in (SOURCE / folder).glob("*.ipynb"))

    # the student edition carries no solution and no hidden test
    for name in names:
        released = (stubs / name).read_text()
        assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released, name
        secret = block_lines(cell_sources(SOURCE / folder / name), SOLUTION_BLOCK)
        secret |= block_lines(cell_sources(SOURCE / folder / name), HIDDEN_BLOCK)
        released_lines = {line.strip() for src in cell_sources(stubs / name) for line in src.splitlines()}
        leaked = sorted(secret & released_lines)
        assert not leaked, f"{name} leaks solution/hidden-test lines: {leaked[:3]}"

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student, origin in (("solution", SOURCE / folder), ("stub", stubs)):
        with zipfile.ZipFile(inbox / f"{short}-{student}.zip", "w") as zf:
            for name in names:
                zf.write(origin / name, f"{folder}/{name}")
    layout = ["--build-dir", str(build)]
    run("collect", "--assignment", short, "--from", str(inbox), *layout)
    graded = run("autograde", "--assignment", short, *layout)
    print(graded.stdout)
    records = {}
    for student in ("solution", "stub"):
        records[student] = json.loads((build / "nbgrader" / "status" / folder / f"{student}.json").read_text())
    for student, record in records.items():
        for name, outcome in record["notebooks"].items():
            record_notebook_time(f"{folder}/{name} (autograded {student})", outcome["seconds"], outcome["status"])
        # the whole submission, grader overhead included (restore, probes, scoring)
        record_notebook_time(f"{folder} whole submission (autograded {student})", record["seconds"], record["status"])

    sol, stub = records["solution"], records["stub"]
    assert sol["status"] == "ok", (sol, graded.stdout)
    assert sol["max_score"] > 0
    assert sol["score"] == sol["max_score"], (sol, graded.stdout)
    assert stub["score"] == 0, (stub, graded.stdout)

    # feedback shows no hidden test code
    run("feedback", "--assignment", short, *layout)
    for student in ("solution", "stub"):
        for name in names:
            page = build / "nbgrader" / "feedback" / student / folder / name.replace(".ipynb", ".html")
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            # a hidden line that also stands in the released notebook is no secret
            public = {line.strip() for src in cell_sources(stubs / name) for line in src.splitlines()}
            hidden = block_lines(cell_sources(SOURCE / folder / name), HIDDEN_BLOCK) - public
            # a page line counts when it holds a hidden line (tracebacks prefix them) and is not
            # itself public (`w, config = rule(...)` sits inside the public `next_w, config = ...`)
            # (markdown is compared without its backticks and emphasis, as the page renders it)
            public_text = re.sub(r"[`*]", "", "\n".join(cell_sources(stubs / name)))
            page_lines = {line.strip() for line in text.splitlines()} - public
            page_lines = {p for p in page_lines if p not in public_text}
            shown = sorted(h for h in hidden if any(h in p for p in page_lines))
            assert not shown, f"{student}/{name} feedback shows hidden tests: {shown[:3]}"


# ---------------------------------------------------------------- no notebook hands out answers

LECTURES = REPO / "lectures"


def answer_lines(src: str) -> set[str]:
    """Solution lines that compute something (an assignment or a return of an expression)."""
    import ast

    out = set()
    for chunk in SOLUTION_BLOCK.findall(src):
        for line in chunk.splitlines():
            text = line.strip()
            try:
                node = ast.parse(text).body[0] if len(text) >= 16 else None
            except (SyntaxError, IndexError):
                continue
            value = getattr(node, "value", None)
            computes = value is not None and not isinstance(value, (ast.Name, ast.Constant))
            if isinstance(node, ast.AugAssign) or (isinstance(node, (ast.Assign, ast.Return)) and computes):
                out.add(re.sub(r"\s+", "", text))
    return out


def given_lines(path: Path) -> set[str]:
    """Every line a student is handed in `path`: all its cells, minus solution blocks."""
    nb = json.loads(path.read_text())
    lines = set()
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines |= {re.sub(r"\s+", "", line) for line in SOLUTION_BLOCK.sub("", src).splitlines()}
    return lines


def test_no_notebook_hands_out_graded_answers():
    """A line of any graded solution appears in no given cell of any notebook (lectures included),
    unless its own notebook shows it outside the solution too (an idiom the task teaches)."""
    notebooks = sorted(SOURCE.glob("*/*.ipynb")) + sorted(LECTURES.glob("*.ipynb"))
    given = {path: given_lines(path) for path in notebooks}
    leaks = []
    for path in sorted(SOURCE.glob("*/*.ipynb")):
        answers = set()
        for src in cell_sources(path):
            answers |= answer_lines(src)
        answers -= given[path]  # shown in its own notebook: part of the task's statement
        for other, lines in given.items():
            leaks += [f"{other.relative_to(REPO)} gives `{line}` (graded in {path.name})"
                      for line in sorted(answers & lines)]
    assert not leaks, "\n".join(leaks)


def test_every_hidden_assert_says_what_it_checks():
    """Feedback hides hidden-test code but keeps an assert's message: without one a student reads
    a bare `AssertionError:` and learns nothing."""
    import ast
    import textwrap

    bare = []
    for path in sorted(SOURCE.glob("*/*.ipynb")):
        for src in cell_sources(path):
            for block in HIDDEN_BLOCK.findall(src):
                try:
                    tree = ast.parse(textwrap.dedent(block))
                except SyntaxError as err:
                    bare.append(f"{path.parent.name}/{path.name}: a hidden block that is not whole statements ({err})")
                    continue
                bare += [f"{path.parent.name}/{path.name}: line {n.lineno} of a hidden block"
                         for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]
    assert not bare, bare
