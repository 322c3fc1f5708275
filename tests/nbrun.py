"""Execute notebooks and report how long each took; check stored notebooks carry no outputs.

    python tests/nbrun.py --html build/lectures lectures/*.ipynb   # `make lectures` (full mode)
    python tests/nbrun.py --check-clean lectures assignments/source # part of `make lint`

The notebook tests import `execute` from here, so `make test` and `make lectures` run
notebooks the same way.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
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


def run_to_html(paths: list[Path], out_dir: Path) -> int:
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failed = [], 0
    for path in paths:
        print(f"running {path} ...", flush=True)
        try:
            nb, seconds = execute(path)
            status = "ok"
        except Exception as err:  # keep going: the table should show every lecture
            nb, seconds, status = nbformat.read(path, as_version=4), float("nan"), f"FAILED: {type(err).__name__}"
            failed += 1
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / f"{path.stem}.html").write_text(html)
        rows.append((path.name, seconds, status))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>8}  status")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {status}")
    print(f"HTML in {out_dir}/")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--html", type=Path, help="execute and write HTML here")
    parser.add_argument("--check-clean", action="store_true", help="fail if notebooks store outputs")
    args = parser.parse_args(argv)
    if args.check_clean:
        return check_clean(args.paths)
    if args.html:
        return run_to_html([Path(p) for p in args.paths if Path(p).exists()], args.html)
    parser.error("give --html DIR or --check-clean")


if __name__ == "__main__":
    sys.exit(main())
