"""`make feedback ASSIGNMENT=a1`: per-student HTML feedback, with no hidden test code in it.

nbgrader's generate_feedback renders the autograded notebook, whose test cells hold the hidden
tests. We render from a scrubbed copy instead (build/nbgrader/feedback_src/): every test cell's
source is the released one (hidden part removed), and every output of every cell is cleaned of
lines of hidden-test code (a failing hidden assert prints its own line in the traceback, and
student code can print whatever reaches it); the assert's message stays, so a failed hidden test
still says what it checked (every hidden assert carries one: a test checks the sources).
Written answers nobody has graded yet read "to be graded by hand" instead of 0 points.
HTML lands in build/nbgrader/feedback/<student>/<folder>/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

from . import gradebook, layout, restore, schedule

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)
REDACTED = "[hidden test line removed]"


def hidden_lines(source_nb) -> set[str]:
    """Stripped lines of hidden-test code (ignoring blank or trivially short ones)."""
    lines = set()
    for cell in source_nb.cells:
        for block in HIDDEN.findall(cell.source):
            for line in block.splitlines():
                text = line.strip()
                if len(text) >= 4 and not text.startswith("### "):
                    lines.add(text)
    return lines


def scrub_text(text: str, secret: set[str]) -> str:
    plain = ANSI.sub("", text)
    out = []
    for line in plain.splitlines(keepends=True):
        if any(s in line for s in secret) or "HIDDEN TESTS" in line:
            out.append(REDACTED + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out)


def scrub_value(value, secret):
    if isinstance(value, str):
        return scrub_text(value, secret)
    if isinstance(value, list):
        return [scrub_value(v, secret) for v in value]
    if isinstance(value, dict):
        return {k: scrub_value(v, secret) for k, v in value.items()}
    return value


def scrub(nb, source_nb, stub_nb):
    secret = hidden_lines(source_nb)
    released = {restore.nbgrader_meta(c).get("grade_id"): c.source for c in stub_nb.cells}
    for cell in nb.cells:
        gid = restore.nbgrader_meta(cell).get("grade_id")
        if restore.is_test(cell):
            cell.source = released.get(gid, HIDDEN.sub("", cell.source))
        for out in cell.get("outputs", []):
            for key in ("text", "data", "traceback", "evalue", "ename"):
                if key in out:
                    out[key] = scrub_value(out[key], secret)
    return nb


def mark_ungraded(page: str, grade_ids: list[str]) -> str:
    """nbgrader shows an answer nobody has graded yet as "Score: 0.0 / 2.0"; say what it is."""
    for gid in grade_ids:
        name = re.escape(gid)
        page = re.sub(rf'(<a href="#{name}">[^<]*</a>) \(Score: [\d.]+ / ([\d.]+)\)',
                      r"\1 (to be graded by hand: \2 point(s))", page)
        page = re.sub(rf'(<a name="{name}"></a>.{{0,400}}?)Score: [\d.]+ / ([\d.]+)',
                      r"\1To be graded by hand (\2 point(s))", page, count=1, flags=re.DOTALL)
    notice = ('<div class="alert alert-info" style="margin:1em">Written answers are still to be graded by '
              f"hand ({', '.join(grade_ids)}): the totals below do not include them yet.</div>")
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + notice, page, count=1)


def feedback(lay: layout.Layout, ident: str, students: list[str] | None = None) -> list[Path]:
    a = schedule.load(lay.schedule).assignment(ident)
    autograded = lay.step("autograded")
    students = students or lay.students("autograded", a.folder)
    if not students:
        print(f"{a.id}: nothing autograded yet (run `make autograde ASSIGNMENT={a.id}`)")
        return []
    written = []
    for student in students:
        src_dir = lay.step("feedback_src") / student / a.folder
        shutil.rmtree(src_dir, ignore_errors=True)
        src_dir.mkdir(parents=True)
        for path in sorted((autograded / student / a.folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            source_nb = nbformat.read(gradebook.snapshot(lay, a.folder) / path.name, as_version=4)
            stub_nb = nbformat.read(lay.step("release") / a.folder / path.name, as_version=4)
            nbformat.write(scrub(nb, source_nb, stub_nb), src_dir / path.name)
        try:
            api = gradebook.api(lay, CourseDirectory={"autograded_directory": "feedback_src"})
            gradebook.check(api.generate_feedback(a.folder, student, force=True), f"feedback for {student}")
        except Exception as err:  # noqa: BLE001 - one student's problem never stops the others
            print(f"{a.id} {student}: feedback FAILED: {str(err)[:500]}", file=sys.stderr)
            continue
        html = sorted((lay.step("feedback") / student / a.folder).glob("*.html"))
        written += html
        print(f"{a.id} {student}: " + ", ".join(str(h) for h in html))
        waiting = gradebook.ungraded_written(lay, a.folder, student)
        for page in html:  # waiting holds "notebook:grade_id"
            mine = [w.split(":", 1)[1] for w in waiting if w.split(":", 1)[0] == page.stem]
            if mine:
                page.write_text(mark_ungraded(page.read_text(), mine))
        if waiting:
            print(f"WARNING {a.id} {student}: {len(waiting)} written answer(s) not graded yet "
                  f"({', '.join(waiting)}): this feedback marks them 'to be graded by hand' and leaves "
                  "them out of its totals. Grade them in "
                  "`nbgrader formgrader`, then run `make feedback` again before sending it.")
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--student", action="append", default=None)
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make feedback ASSIGNMENT=a1`")
    feedback(layout.from_args(args), args.assignment, args.student)


if __name__ == "__main__":
    main()
