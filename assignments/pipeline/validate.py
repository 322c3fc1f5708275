"""Student side: `make validate ASSIGNMENT=a1` runs the assignment's notebooks top to bottom
with the visible tests and exits non-zero when a cell fails (unlike `nbgrader validate`,
which only prints). It runs them as the autograder does: FAST mode (unless COURSE_FAST is
already set), the grader's time limits (120 s per cell, 600 s per notebook), and a kernel on
local sockets. It prints the points of every visible test and their total.
Standalone script: it is copied into the student edition's tools/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from limits import Limits  # noqa: E402  (the grader's own defaults, shipped beside this script)
from submit import ROOT, find_assignment, problems  # noqa: E402

GRADER = Limits()


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:100] if lines else ""


def _kernel_manager(folder: str):
    """A kernel talking over Unix sockets in `folder`, as in grading (no TCP-port warning)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3", transport="ipc")
    km.ip = os.path.join(folder, "k")
    km.connection_file = os.path.join(folder, "kernel.json")
    return km


def _is_test(meta: dict) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


def run_notebook(path: Path, cell_timeout: float) -> tuple[list[str], list[tuple[str, float, float]], float]:
    """Execute one notebook; return (failures, [(test id, points earned, points)], points of
    written answers that are graded by hand)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as sockets:
        client = NotebookClient(
            nb, km=_kernel_manager(sockets), timeout=cell_timeout, allow_errors=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
        except CellTimeoutError:
            return [f"{path.name}: a cell ran longer than {cell_timeout:g} s (the grader stops it there)"], [], 0.0
        except DeadKernelError:
            return [f"{path.name}: the kernel died (crash or out of memory)"], [], 0.0
    failures, tests, by_hand = [], [], 0.0
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        name = meta.get("grade_id") or f"#{index}"
        for out in errors:
            kind = "test" if _is_test(meta) else "cell"
            failures.append(
                f"{path.name}: {kind} {name} ({first_line(cell.source)}): "
                f"{out.get('ename')}: {str(out.get('evalue'))[:200]}"
            )
        points = float(meta.get("points", 0) or 0)
        if _is_test(meta):
            tests.append((name, 0.0 if errors else points, points))
        elif meta.get("grade") and meta.get("solution"):
            by_hand += points
    return failures, tests, by_hand


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run an assignment's notebooks and visible tests.")
    parser.add_argument("assignment", nargs="?", default="")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--cell-timeout", type=float, default=GRADER.cell_timeout,
                        help="seconds per cell (the grader's limit)")
    parser.add_argument("--notebook-timeout", type=float, default=GRADER.notebook_timeout,
                        help="seconds per notebook (the grader's limit)")
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make validate ASSIGNMENT=a1`")
    os.environ.setdefault("COURSE_FAST", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    folder = find_assignment(args.root, args.assignment)
    broken = problems(folder)
    if broken:
        print("\n".join(broken))
        return 1
    mode = "FAST" if os.environ["COURSE_FAST"] == "1" else "full"
    print(f"Running {folder.name} as the grader does: {mode} mode, at most {args.cell_timeout:g} s per cell "
          f"and {args.notebook_timeout:g} s per notebook. Each notebook prints which dataset it uses; the "
          "grader uses CIFAR-10 only if the course staff gave it the files, else the built-in shapes world.")
    failures, tests, by_hand = [], [], 0.0
    for name in sorted(p.name for p in folder.glob("*.ipynb")):
        start = time.monotonic()
        found, scored, manual = run_notebook(folder / name, args.cell_timeout)
        seconds = time.monotonic() - start
        if seconds > args.notebook_timeout:
            found.append(f"{name}: took {seconds:.0f} s; the grader stops a notebook after "
                         f"{args.notebook_timeout:g} s (everything after that scores 0)")
        print(f"{name}: {'ok' if not found else 'FAILED'} ({seconds:.1f} s)")
        for test_id, got, points in scored:
            print(f"  {test_id:<40} {got:g} / {points:g}")
        failures, tests, by_hand = failures + found, tests + scored, by_hand + manual
    earned, possible = sum(t[1] for t in tests), sum(t[2] for t in tests)
    print(f"\nvisible tests: {earned:g} / {possible:g} points"
          + (f"; written answers ({by_hand:g} point{'' if by_hand == 1 else 's'}) are graded by hand" if by_hand else "")
          + "; hidden tests run when it is graded.")
    if failures:
        print("\nfailing cells (fix these, then run `make validate` again):")
        print("\n".join("  " + f for f in failures))
        return 1
    print(f"all cells and visible tests of {folder.name} pass.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
