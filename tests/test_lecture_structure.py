"""Every lecture has the parts of the lecture standard that a reader looks for, in the stored
notebook (no execution): a numbered title (the site's index and navigation are built from it),
goals, prerequisites, a coverage map, check-your-understanding, at least two checked exercises
under an Exercises heading, and further reading."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbrun import REPO

from assignments.pipeline.site import title_of

LECTURES = sorted((REPO / "lectures").glob("*.ipynb"))


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_has_the_standard_parts(path):
    nb = nbformat.read(path, as_version=4)
    number = path.stem.split("_")[0]
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# Lecture {number} — "), \
        f"{path.name}: the first cell must be the title '# Lecture {number} — <topic>' (the site's index uses it)"
    assert title_of(nb, path.stem).startswith(f"Lecture {number} — ")
    text = "\n".join(_markdown(nb))
    for part in ("**Goals.**", "**Prerequisites.**", "**Coverage map.**", "## Check your understanding",
                 "## Further reading"):
        assert part in text, f"{path.name}: no '{part}'"
    assert any(re.match(r"##\s+(\d+\.\s+)?Exercises\b", md) for md in _markdown(nb)), \
        f"{path.name}: the exercises need a markdown cell that opens with an '## Exercises' heading"
    checked = [c for c in nb.cells if c.cell_type == "code" and "H.exercises.check(" in c.source]
    assert len(checked) >= 2, f"{path.name}: {len(checked)} checked exercise(s), the standard asks for 2+"
