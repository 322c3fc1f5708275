"""Student side: `make validate ASSIGNMENT=a1` runs the assignment's notebooks top to bottom
with the visible tests and exits non-zero when a cell fails (unlike `nbgrader validate`,
which only prints). Runs in FAST mode like the autograder unless COURSE_FAST is already set.
Standalone script: it is copied into the student edition's tools/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from submit import ROOT, find_assignment, problems  # noqa: E402


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:100] if lines else ""


def run_notebook(path: Path, cell_timeout: int) -> list[str]:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellTimeoutError:
        return [f"{path.name}: a cell ran longer than {cell_timeout} s"]
    except DeadKernelError:
        return [f"{path.name}: the kernel died (crash or out of memory)"]
    failures = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                meta = cell.get("metadata", {}).get("nbgrader", {})
                kind = "test" if meta.get("grade") and not meta.get("solution") else "cell"
                name = meta.get("grade_id") or f"#{index}"
                failures.append(
                    f"{path.name}: {kind} {name} ({first_line(cell.source)}): "
                    f"{out.get('ename')}: {str(out.get('evalue'))[:200]}"
                )
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run an assignment's notebooks and visible tests.")
    parser.add_argument("assignment", nargs="?", default="")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--cell-timeout", type=int, default=600)
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
    failures = []
    for name in sorted(p.name for p in folder.glob("*.ipynb")):
        start = time.monotonic()
        found = run_notebook(folder / name, args.cell_timeout)
        print(f"{name}: {'ok' if not found else 'FAILED'} ({time.monotonic() - start:.1f} s)")
        failures += found
    if failures:
        print("\nfailing cells (fix these, then run `make validate` again):")
        print("\n".join("  " + f for f in failures))
        return 1
    print(f"all cells and visible tests of {folder.name} pass. Hidden tests run when it is graded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
