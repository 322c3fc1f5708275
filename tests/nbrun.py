"""Execute notebooks and report how long each took; check stored notebooks carry no outputs.

    python tests/nbrun.py --html build/lectures lectures/*.ipynb   # `make lectures` (full mode, 300 s each)
    python tests/nbrun.py --fast --html build/lectures-fast lectures/*.ipynb  # `make lectures FAST=1` (60 s)
    python tests/nbrun.py --check-clean lectures assignments/source # part of `make lint`

The notebook tests import `execute` from here, so `make test` and `make lectures` run
notebooks the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def _poll_kernel_replies_in_slices() -> None:
    """Work around a missed wake-up in jupyter_client (nbclient#312, nbconvert#1921).

    After an ipywidgets cell the kernel's reply sometimes arrives while the client waits,
    yet the client only notices when the whole cell timeout expires. Waiting in 0.5 s slices
    bounds that loss to half a second. Applied once, only in this runner.
    """
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    original = AsyncZMQSocketChannel.get_msg
    if getattr(original, "_sliced", False):
        return

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic()))
            try:
                return await original(self, timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg._sliced = True
    AsyncZMQSocketChannel.get_msg = get_msg


EXERCISE = re.compile(r"^# Exercise: *(\S+)")
SOLUTION = re.compile(r"<summary>\s*Solution: *([^<\s]+)\s*</summary>.*?```python\n(.*?)```", re.DOTALL)


def exercise_solutions(nb) -> dict[str, str]:
    """{name: code} of every folded solution (<details><summary>Solution: name</summary> + a ```python block)."""
    return {name: code for cell in nb.cells if cell.cell_type == "markdown"
            for name, code in SOLUTION.findall(cell.source)}


def with_solutions(nb) -> list[str]:
    """Replace every `# Exercise: name` code cell by its folded solution; returns the names.

    Tests run lectures this way (with COURSE_CHECK_EXERCISES=1), so each solution must pass
    the check the student runs; an exercise without a solution is an error.
    """
    solutions, done = exercise_solutions(nb), []
    for cell in nb.cells:
        match = EXERCISE.match(cell.source) if cell.cell_type == "code" else None
        if match:
            name = match.group(1)
            if name not in solutions:
                raise ValueError(f"exercise {name!r} has no folded solution (<summary>Solution: {name}</summary>)")
            checks = [line for line in cell.source.splitlines() if "H.exercises.check(" in line]
            cell.source = solutions[name] + ("\n" + "\n".join(checks) if checks else "")
            done.append(name)
    return done


def execute(path: Path, timeout_per_cell: int = 600, solutions: bool = False) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in its own folder; return it executed and the seconds it took.

    solutions=True runs each exercise with its folded solution (see with_solutions).
    """
    from nbclient import NotebookClient

    _poll_kernel_replies_in_slices()
    nb = nbformat.read(path, as_version=4)
    if solutions:
        with_solutions(nb)
    client = NotebookClient(nb, timeout=timeout_per_cell, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def stored_outputs(path: Path) -> list[str]:
    """Why a stored notebook is not clean: cells with outputs or execution counts."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has an execution count")
    return problems


def check_clean(folders: list[str]) -> int:
    bad = 0
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            problems = stored_outputs(path)
            if problems:
                bad += 1
                print(f"{path}: {', '.join(problems[:3])} — clear outputs before committing "
                      f"(jupyter nbconvert --clear-output --inplace {path})")
    print(f"{'no' if not bad else bad} notebook(s) with stored outputs")
    return 1 if bad else 0


FULL_BUDGET_S, FAST_BUDGET_S = 300, 60  # per lecture, 2 CPU cores (COURSE_DESIGN.md)


@dataclass
class Run:
    """One notebook run by `execute_within`."""

    nb: nbformat.NotebookNode  # as far as it ran, outputs and the error included
    seconds: float  # kernel start to kernel stop
    status: str  # "ok", or why it failed, naming the 0-based index of the cell that was running
    detail: str = ""  # the error message in full
    cell_seconds: dict = field(default_factory=dict)  # cell index -> seconds, as the client saw it
    late: dict = field(default_factory=dict)  # cell index -> seconds the client noticed the reply late

    def slowest(self, n: int = 3) -> str:
        top = sorted(self.cell_seconds.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"cell {i} {t:.1f} s" for i, t in top)


def execute_within(path: Path, budget_s: float) -> Run:
    """Run a notebook like `execute`, but stop it when `budget_s` seconds are used up.

    Also times every cell, and compares when the kernel sent each reply with when the client got
    it, so that a client-side stall (a missed wake-up) is not mistaken for a slow lecture.
    """
    from datetime import datetime, timezone

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    _poll_kernel_replies_in_slices()
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    current = {"cell": None, "t0": start}
    run = Run(nb, 0.0, "")

    def on_cell_start(cell, cell_index):
        current["cell"], current["t0"] = cell_index, time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply):
        run.cell_seconds[cell_index] = time.perf_counter() - current["t0"]
        sent = (execute_reply or {}).get("header", {}).get("date")
        if isinstance(sent, datetime):
            lag = (datetime.now(timezone.utc) - sent).total_seconds()
            if lag > 1.0:
                run.late[cell_index] = lag

    client = NotebookClient(nb, kernel_name="python3", on_cell_start=on_cell_start,
                            on_cell_executed=on_cell_executed,
                            # whatever is left of the lecture's budget, at least 1 s (0 = forever)
                            timeout_func=lambda cell: max(1, int(budget_s - (time.perf_counter() - start)) + 1),
                            resources={"metadata": {"path": str(Path(path).parent)}})
    try:
        client.execute()
        run.status = "ok"
    except CellTimeoutError:
        run.status = f"OVER BUDGET: stopped in cell {current['cell']} after {budget_s:.0f} s"
    except CellExecutionError as err:
        run.status, run.detail = f"ERROR in cell {current['cell']}: {err.ename}", f"{err.ename}: {err.evalue}"
    except Exception as err:  # a dead kernel, a missing kernel spec...
        run.status, run.detail = f"FAILED: {type(err).__name__}", f"{type(err).__name__}: {err}"
    run.seconds = time.perf_counter() - start
    if run.status == "ok" and run.seconds > budget_s:  # the last cell ended just past the deadline
        run.status = f"OVER BUDGET: {run.seconds:.0f} s > {budget_s:.0f} s"
    return run


def read_claims(path: Path) -> list[dict]:
    """The JSON lines helpers/claims.py appended to COURSE_CLAIMS_FILE (none if the file is absent)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


_IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# <script src=...>, and scripts the page adds itself (nbconvert loads the widget renderer that way)
_REMOTE_SCRIPT = re.compile(r"(?:<script[^>]*\bsrc=|Src\s*=\s*)[\"']?(https?:)?//([^\"' >]+)", re.IGNORECASE)
_REMOTE_IMAGE = re.compile(r"<img[^>]*\bsrc=[\"']?(https?:)?//", re.IGNORECASE)
_INLINE_IMAGE = re.compile(r"<img[^>]*\bsrc=[\"']?data:image/", re.IGNORECASE)


def remote_scripts(html: str) -> list[str]:
    """What the page loads from the network, named by purpose (math, widget controls, ...)."""
    found = set()
    for _, url in _REMOTE_SCRIPT.findall(html):
        low = url.lower()
        found.add("math (MathJax)" if "mathjax" in low else
                  "widget controls" if "widgets" in low or "require" in low else url)
    return sorted(found)


def offline_figure_problems(nb, html: str) -> list[str]:
    """Why a figure of this executed notebook would not show in its HTML with the network off.

    Every image output must be embedded in the page (a data: URI, or inline SVG); none may be
    fetched from a server; a cell with interactive controls must also show a plain figure.
    Widget controls and math may need the network — figures may not.
    """
    problems = []
    images = sum(1 for cell in nb.cells for out in cell.get("outputs", [])
                 if any(t in out.get("data", {}) for t in _IMAGE_TYPES))
    inline = len(_INLINE_IMAGE.findall(html)) + html.count("<svg")
    if inline < images:
        problems.append(f"{images} figure(s) in the notebook but only {inline} embedded in the HTML")
    if _REMOTE_IMAGE.search(html):
        problems.append("an <img> is loaded from the network")
    for i, cell in enumerate(nb.cells):  # a control whose only figure lives in the widget state
        data = [out.get("data", {}) for out in cell.get("outputs", [])]
        if any(_WIDGET_VIEW in d for d in data) and not any(t in d for d in data for t in _IMAGE_TYPES):
            problems.append(f"cell {i} has interactive controls but no static figure (H.widgets.explore draws one)")
    return problems


def run_to_html(paths: list[Path], out_dir: Path, budget_s: float = FULL_BUDGET_S) -> int:
    """Run each notebook within its budget into out_dir/<name>.html; print the time and claims tables.

    Fails (returns 1) when a notebook errors, runs over budget, breaks a claim, or writes HTML
    whose figures would not show offline. Every notebook runs even after a failure, so the
    tables are complete.
    """
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    claims_dir = out_dir / "claims"
    claims_dir.mkdir(exist_ok=True)
    exporter = HTMLExporter()  # MathJax stays on its CDN: no local copy ships with the environment
    rows, claims, needs_net = [], [], set()
    load_start = os.getloadavg()[0]
    for path in paths:
        print(f"running {path} (budget {budget_s:.0f} s) ...", flush=True)
        claims_file = claims_dir / f"{path.stem}.jsonl"
        claims_file.unlink(missing_ok=True)
        os.environ["COURSE_CLAIMS_FILE"] = str(claims_file.absolute())  # the kernel inherits it
        run = execute_within(path, budget_s)
        nb, seconds, status = run.nb, run.seconds, run.status
        html, _ = exporter.from_notebook_node(nb)
        (out_dir / f"{path.stem}.html").write_text(html)
        problems = offline_figure_problems(nb, html)
        if problems and status == "ok":
            status = "HTML: " + "; ".join(problems)
        needs_net.update(remote_scripts(html))
        mine = [{"lecture": path.stem, **c} for c in read_claims(claims_file)]
        broken = [c["name"] for c in mine if c.get("checked") and not c.get("ok")]
        if broken and status == "ok":
            status = f"BROKEN CLAIM: {', '.join(broken)}"
        claims += mine
        rows.append((path.name, seconds, status))
        print(f"  {seconds:.1f} s  {status}" + (f"\n  {run.detail}" if run.detail else ""), flush=True)
        if run.cell_seconds:
            print(f"  slowest: {run.slowest()}", flush=True)
        for i, lag in run.late.items():
            print(f"  note: the client noticed cell {i}'s reply {lag:.1f} s after the kernel sent it "
                  f"(a client-side stall, not the lecture's time)", flush=True)
    os.environ.pop("COURSE_CLAIMS_FILE", None)
    print_claims(claims)
    width = max([len(r[0]) for r in rows] + [8])
    print(f"\n{'notebook':<{width}}  {'seconds':>8}  {'budget':>6}  status")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {budget_s:6.0f}  {status}")
    print(f"{'total':<{width}}  {sum(r[1] for r in rows):8.1f}")
    print(f"(load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on "
          f"{os.cpu_count()} CPUs: on a shared machine every time above stretches with it)")
    print(f"\nHTML in {out_dir}/ — figures are embedded and show offline; "
          f"{'these parts load from the network: ' + ', '.join(needs_net) if needs_net else 'nothing loads from the network'}.")
    failed = sum(status != "ok" for _, _, status in rows)
    print(f"{len(rows) - failed} of {len(rows)} notebook(s) ok" + (f", {failed} FAILED" if failed else ""))
    return 1 if failed else 0


def print_claims(claims: list[dict]) -> None:
    if not claims:
        print("\nno claims registered")
        return
    rows = [(c["lecture"], c["name"], c["dataset"], f"{c['value']:.4g}", f"{c['low']:.4g} .. {c['high']:.4g}",
             ("ok" if c["ok"] else "BROKEN") if c["checked"] else ("unchecked (FAST)" + ("" if c["ok"] else ", out of range")))
            for c in claims]
    head = ("lecture", "name", "dataset", "value", "range", "ok")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print("\nclaims")
    for r in [head, *rows]:
        print("  ".join(f"{str(v):<{w}}" for v, w in zip(r, widths)).rstrip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--html", type=Path, help="execute and write HTML here (with time and claims tables)")
    parser.add_argument("--fast", action="store_true",
                        help=f"FAST mode (COURSE_FAST=1), {FAST_BUDGET_S} s per notebook; "
                             f"default full mode, {FULL_BUDGET_S} s")
    parser.add_argument("--budget", type=float, help="seconds per notebook (overrides the mode's)")
    parser.add_argument("--check-clean", action="store_true", help="fail if notebooks store outputs")
    args = parser.parse_args(argv)
    if args.check_clean:
        return check_clean(args.paths)
    if args.html:
        if args.fast:
            os.environ["COURSE_FAST"] = "1"
        else:
            os.environ.pop("COURSE_FAST", None)  # full mode, whatever the shell had
        budget = args.budget or (FAST_BUDGET_S if args.fast else FULL_BUDGET_S)
        return run_to_html([Path(p) for p in args.paths if Path(p).exists()], args.html, budget)
    parser.error("give --html DIR or --check-clean")


if __name__ == "__main__":
    sys.exit(main())
