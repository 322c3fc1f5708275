"""Every lecture runs top to bottom in FAST mode (assignment notebooks run in the grading tests),
with every interactive control tried at both ends of its range (COURSE_CHECK_WIDGETS), every
exercise replaced by its folded solution, which must pass its own check (COURSE_CHECK_EXERCISES),
and every figure it draws titled with labelled axes (COURSE_CHECK_FIGURES)."""

from __future__ import annotations

import pytest
from nbrun import REPO, execute, stored_outputs

pytestmark = pytest.mark.notebooks

LECTURES = sorted((REPO / "lectures").glob("*.ipynb"))
FAST_BUDGET_S = 60  # per lecture, 2 CPU cores; a time table is printed at the end


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_runs_in_fast_mode(path, record_notebook_time, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CHECK_WIDGETS", "1")  # the kernel inherits the environment
    monkeypatch.setenv("COURSE_CHECK_EXERCISES", "1")
    monkeypatch.setenv("COURSE_CHECK_FIGURES", "1")  # helpers/figcheck.py: titles and axis labels
    figure_log = tmp_path / "figures.jsonl"
    monkeypatch.setenv("COURSE_FIGURE_LOG", str(figure_log))
    try:
        nb, seconds = execute(path, timeout_per_cell=FAST_BUDGET_S * 3, solutions=True)
    except Exception:
        record_notebook_time(f"lectures/{path.name}", float("nan"), "FAILED")
        raise
    status = "ok" if seconds <= FAST_BUDGET_S else f"over the {FAST_BUDGET_S} s budget"
    record_notebook_time(f"lectures/{path.name}", seconds, status)
    # A lecture shows its ideas: a notebook without a single figure is a broken lecture.
    assert any(o.get("output_type") == "display_data" for c in nb.cells for o in c.get("outputs", [])), \
        f"{path.name} shows no figure"
    # A value left as a cell's last expression shows up raw (np.float64(0.96...), <Legend at 0x...>,
    # a figure drawn twice): lectures print what they mean to show.
    stray = [f"cell {i}: {o['data'].get('text/plain', '')[:60]!r}" for i, c in enumerate(nb.cells)
             for o in c.get("outputs", []) if o.get("output_type") == "execute_result"
             and "application/vnd.jupyter.widget-view+json" not in o.get("data", {})]
    assert not stray, f"{path.name}: bare values displayed (end the line with ';' or print):\n" + "\n".join(stray)
    bad = figure_log.read_text().splitlines() if figure_log.exists() else []
    assert not bad, f"{path.name}: figures without a title or axis labels:\n" + "\n".join(bad)


NOTEBOOKS = LECTURES + sorted((REPO / "assignments" / "source").rglob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS])
def test_stored_without_outputs(path):
    assert stored_outputs(path) == []
