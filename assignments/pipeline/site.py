"""`make site`: the offline HTML edition of the course, in build/site/.

    python -m assignments.pipeline.site                      # every lecture, full mode
    python -m assignments.pipeline.site --fast               # FAST mode (make site FAST=1)
    python -m assignments.pipeline.site --fast --lectures 01_intro_history,02_image_classification
    python -m assignments.pipeline.site --week 3             # the lectures released by week 3

Every lecture is executed (tests/nbrun.py runs it, as `make lectures` does) and exported with
nbconvert's lab template, adapted in site_template/site/: nothing loads from the network.
MathJax 2.7 is copied from the jupyter-server-mathjax package into _static/mathjax; interactive
controls cannot move without a kernel, so each one is listed under the static figure that
H.widgets.explore draws at its defaults. index.html is the course table from course.toml
(week, lectures, assignments released that week), exported with the same template; every page
links to the index and to the previous and next lecture. Open build/site/index.html in a browser.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from assignments.pipeline.schedule import Schedule, load, parse_week

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "site_template"
MATHJAX_URL = "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def lecture_order(schedule: Schedule, lectures_dir: Path, only: list[str] | None,
                  week: int | None = None) -> list[str]:
    """Lecture stems in schedule order, then any notebook the schedule does not name; `only` filters.
    With `week`, only the lectures released by then (as `make release WEEK=N` hands them out)."""
    on_disk = sorted(p.stem for p in lectures_dir.glob("*.ipynb"))
    stems = [s for s in schedule.lectures_until(schedule.last_week if week is None else week) if s in on_disk]
    if week is None:
        stems += [s for s in on_disk if s not in stems]
    if only:
        unknown = [s for s in only if s not in on_disk]
        if unknown:
            raise SystemExit(f"error: no such lecture(s): {', '.join(unknown)} (known: {', '.join(on_disk)})")
        stems = [s for s in stems if s in only]
    return stems


def title_of(nb, fallback: str) -> str:
    """The first markdown heading, without its #s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def _describe(model: dict) -> str:
    state = model.get("state", {})
    name = html.escape(str(state.get("description", "") or "control"))
    kind = model.get("model_name", "").replace("Model", "")
    if "options" in state or "_options_labels" in state:
        options = state.get("_options_labels") or state.get("options")
        return f"<b>{name}</b>: one of {html.escape(', '.join(map(str, options)))}"
    if kind == "FloatLogSlider":
        base = state.get("base", 10)
        low, high, value = base ** state["min"], base ** state["max"], state["value"]
        return f"<b>{name}</b>: {low:.3g} to {high:.3g} (log scale), shown at {value:.3g}"
    if "min" in state and "max" in state:
        return f"<b>{name}</b>: {state['min']:.4g} to {state['max']:.4g}, shown at {state.get('value', ''):.4g}"
    return ""


def controls_as_text(nb) -> int:
    """Replace every widget output by a note listing its controls; drop the widget state.

    A page without a kernel cannot move a slider, and the widget renderer would come from a
    CDN; the figure H.widgets.explore draws at the defaults stays right above the note.
    Returns how many widget outputs were replaced.
    """
    states = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        for i, out in enumerate(cell.get("outputs", [])):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if not view:
                continue
            lines = [_describe(states[m]) for m in _descendants(states, view.get("model_id"))]
            listed = "".join(f"<li>{line}</li>" for line in lines if line)
            cell.outputs[i] = nbformat.v4.new_output("display_data", data={"text/html": (
                "<div class='site-controls'><i>Interactive controls — open this lecture in "
                "JupyterLab (<code>make lab</code>) to move them; the figure above is drawn at "
                f"the values shown.</i><ul>{listed}</ul></div>")})
            replaced += 1
    return replaced


def _descendants(states: dict, model_id: str | None) -> list[str]:
    """model_id and every model its children name, depth first (a VBox holds the controls)."""
    if model_id not in states:
        return []
    found = [model_id]
    for child in states[model_id].get("state", {}).get("children", []):
        found += _descendants(states, str(child).removeprefix("IPY_MODEL_"))
    return found


def exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="site", extra_template_basedirs=[str(TEMPLATES)],
                        embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)


def write_page(nb, out: Path, name: str, site: dict) -> None:
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": name}, "site": site})
    out.write_text(body)


def index_notebook(schedule: Schedule, titles: dict[str, str], mode: str, until: int | None = None):
    """The course table as one markdown cell: week, lectures (linked), assignments released;
    with `until`, the weeks up to that one only."""
    rows = ["| Week | Lectures | Assignments |", "|---|---|---|"]
    for week in sorted(set(schedule.weeks) | {a.release_week for a in schedule.assignments.values()}):
        if until is not None and week > until:
            continue
        lectures = "<br>".join(f"[{titles[s]}]({s}.html)" if s in titles else f"{s} (not in this build)"
                               for s in schedule.weeks.get(week, []))
        work = "<br>".join(f"**{a.id.upper()}** {a.title}" + (f" (due {a.due[:10]})" if a.due else "")
                           for a in schedule.assignments.values() if a.release_week == week)
        rows.append(f"| {week} | {lectures} | {work} |")
    which = (f"Every lecture, executed ({mode}), with its figures" if until is None else
             f"The lectures released by week {until}, executed ({mode}), with their figures")
    text = (f"# {schedule.title}\n\n{which}. Interactive "
            "controls are listed under the figure they redraw; to move them, run the lecture in "
            "JupyterLab (`make lab`). Assignments are handed out as notebooks in the student "
            "edition.\n\n" + "\n".join(rows))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nb.metadata["title"] = schedule.title
    return nb


def _nbrun():
    """tests/nbrun.py, the course's notebook runner (make lectures and the tests use it too)."""
    spec = importlib.util.spec_from_file_location("nbrun", REPO / "tests" / "nbrun.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["nbrun"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build(out: Path, fast: bool, only: list[str] | None = None, lectures_dir: Path = REPO / "lectures",
          course_toml: Path = REPO / "course.toml", week: int | None = None) -> int:
    """Execute and export every lecture, write the index, copy MathJax; returns the number of failures."""
    import jupyter_server_mathjax

    nbrun = _nbrun()
    schedule = load(course_toml)
    stems = lecture_order(schedule, lectures_dir, only, week)
    if not stems:
        raise SystemExit(f"error: no lecture to build (week {week} releases none of them); "
                         "pick a later WEEK or other LECTURES")
    if fast:
        os.environ["COURSE_FAST"] = "1"
    else:
        os.environ.pop("COURSE_FAST", None)  # full mode, whatever the shell had
    os.environ.setdefault("COURSE_OFFLINE", "1")
    budget = nbrun.FAST_BUDGET_S if fast else nbrun.FULL_BUDGET_S
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", out / "_static" / "mathjax",
                    dirs_exist_ok=True)
    mode = "FAST mode" if fast else "full mode"
    executed, failures = {}, []
    for stem in stems:
        print(f"running {stem} ({mode}, budget {budget} s) ...", flush=True)
        run = nbrun.execute_within(lectures_dir / f"{stem}.ipynb", budget)
        print(f"  {run.seconds:.1f} s  {run.status}" + (f"\n  {run.detail}" if run.detail else ""), flush=True)
        if run.status != "ok":
            failures.append(f"{stem}: {run.status}")
        executed[stem] = run.nb
    titles = {stem: title_of(nb, stem) for stem, nb in executed.items()}
    for i, stem in enumerate(stems):
        nb = executed[stem]
        controls_as_text(nb)
        site = {"course": schedule.title, "mathjax": MATHJAX_URL,
                "prev": (f"{stems[i - 1]}.html", titles[stems[i - 1]]) if i > 0 else None,
                "next": (f"{stems[i + 1]}.html", titles[stems[i + 1]]) if i + 1 < len(stems) else None}
        nb.metadata["title"] = titles[stem]
        write_page(nb, out / f"{stem}.html", stem, site)
        problems = nbrun.offline_figure_problems(nb, (out / f"{stem}.html").read_text())
        failures += [f"{stem}: {p}" for p in problems]
    write_page(index_notebook(schedule, titles, mode, week), out / "index.html", "index",
               {"course": schedule.title, "mathjax": MATHJAX_URL, "prev": None,
                "next": (f"{stems[0]}.html", titles[stems[0]])})
    print(f"\nsite in {out}/ — open {out / 'index.html'}: {len(stems)} lecture(s), {mode}")
    for failure in failures:
        print(f"FAILED {failure}")
    return len(failures)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("COURSE_BUILD_DIR", REPO / "build")) / "site")
    parser.add_argument("--fast", action="store_true", help="FAST mode (COURSE_FAST=1), 60 s per lecture")
    parser.add_argument("--lectures", default="",
                        help="comma-separated lecture stems (default: all), e.g. 01_intro_history")
    parser.add_argument("--week", default=None,
                        help="only the lectures released by this week (as `make release WEEK=N`)")
    args = parser.parse_args(argv)
    week = None if args.week in (None, "") else parse_week(args.week)
    only = [s.strip() for s in args.lectures.replace(" ", ",").split(",") if s.strip()] or None
    return 1 if build(args.out, args.fast, only, week=week) else 0


if __name__ == "__main__":
    sys.exit(main())
