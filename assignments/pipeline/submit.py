"""Student side: `make submit ASSIGNMENT=a1 STUDENT=<id>` writes a1-<id>.zip to hand in.

The zip holds the assignment's notebooks (assignments/<folder>/*.ipynb) under <folder>/.
It refuses, with a message saying why, when a notebook is missing or is not valid JSON, and
warns loudly (but still writes the zip: partial work earns partial credit) when answer cells are
untouched or the notebook was not run top to bottom after its last edit.
Standalone script (standard library only): it is copied into the student edition's tools/.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the student edition (tools/..)
STUDENT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")


def find_assignment(root: Path, ident: str) -> Path:
    """ASSIGNMENT=a1 -> assignments/a1_<slug>/ (or a folder named exactly like the id)."""
    folders = sorted(p for p in (root / "assignments").glob("*") if p.is_dir())
    matches = [p for p in folders if p.name == ident or p.name.startswith(ident + "_")]
    if len(matches) != 1:
        known = ", ".join(p.name.split("_")[0] for p in folders) or "none released yet"
        sys.exit(f"error: no assignment {ident!r} here (released: {known})")
    return matches[0]


def expected_notebooks(folder: Path) -> list[str]:
    """The notebooks the release shipped (recorded in .notebooks by `make release`), else all present."""
    manifest = folder / ".notebooks"
    if manifest.exists():
        return [line.strip() for line in manifest.read_text().splitlines() if line.strip()]
    return sorted(p.name for p in folder.glob("*.ipynb"))


def problems(folder: Path) -> list[str]:
    out = []
    names = expected_notebooks(folder)
    if not names:
        out.append(f"no notebooks in {folder}")
    for name in names:
        path = folder / name
        if not path.exists():
            out.append(f"missing notebook: {path}")
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            out.append(f"{path} is not valid notebook JSON ({err}); restore it from a checkpoint")
            continue
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            out.append(f"{path} is not a notebook (no list of cells)")
    return out


def _answer_cells(nb: dict) -> list[dict]:
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
            and (c.get("metadata", {}).get("nbgrader") or {}).get("solution")]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def warnings(folder: Path) -> list[str]:
    """What is probably a mistake in a notebook that is valid: untouched answers, not run."""
    out = []
    for name in expected_notebooks(folder):
        nb = json.loads((folder / name).read_text(encoding="utf-8"))
        answers = _answer_cells(nb)
        untouched = [c for c in answers if "raise NotImplementedError" in _source(c)]
        if answers and len(untouched) == len(answers):
            out.append(f"{name}: every answer cell still raises NotImplementedError — is this the untouched stub?")
        elif untouched:
            out.append(f"{name}: {len(untouched)} of {len(answers)} answer cells still raise NotImplementedError")
        code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code" and _source(c).strip()]
        counts = [c.get("execution_count") for c in code]
        if any(n is None for n in counts) or counts != sorted(counts):
            out.append(f"{name}: not run top to bottom since its last edit (cells never run or run out of "
                       "order); in JupyterLab use Kernel > Restart Kernel and Run All Cells, then save")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Zip an assignment for submission.")
    parser.add_argument("assignment", nargs="?", default="", help="short id, e.g. a1")
    parser.add_argument("student", nargs="?", default="", help="your student id")
    parser.add_argument("--root", type=Path, default=ROOT, help="student edition folder")
    parser.add_argument("--out-dir", type=Path, default=None, help="where to write the zip (default: root)")
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make submit ASSIGNMENT=a1 STUDENT=jdoe`")
    if not args.student:
        sys.exit("error: STUDENT is required, e.g. `make submit ASSIGNMENT=a1 STUDENT=jdoe`")
    if not STUDENT_ID.match(args.student):
        sys.exit(
            f"error: student id {args.student!r} may use only letters, digits, '_', '-' and '.' "
            "(not first), at most 64 characters"
        )
    folder = find_assignment(args.root, args.assignment)
    found = problems(folder)
    if found:
        sys.exit("error: not submitting, fix this first:\n  " + "\n  ".join(found))
    short = folder.name.split("_")[0]
    out_dir = args.out_dir or args.root
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{short}-{args.student}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in expected_notebooks(folder):
            zf.write(folder / name, f"{folder.name}/{name}")
    for line in warnings(folder):
        print(f"WARNING: {line}", file=sys.stderr)
    print(f"wrote {target} — hand this file in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
