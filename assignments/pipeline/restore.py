"""Put a submission back into the shape of the assignment before it is run.

Students can edit anything in their notebook. Before grading we rebuild it from the source
(the instructor's version, with hidden tests): every locked cell and every test cell comes
from the source, matched by nbgrader grade_id; deleted ones are re-inserted, duplicates are
dropped, a retyped cell gets its type back, and an edited test cell is replaced. Solution cells
keep the student's text (a deleted solution cell comes back as the released stub). Cells the
student added keep their place. Every change is reported, so grades.csv can say what happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import nbformat
from nbformat import v4


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbg if isinstance(nbg, dict) else {}


def is_test(cell) -> bool:
    m = nbgrader_meta(cell)
    return bool(m.get("grade")) and not m.get("solution") and cell.get("cell_type") == "code"


def is_protected(cell) -> bool:
    """Cells the student may not change: locked cells and autograded test cells."""
    m = nbgrader_meta(cell)
    return bool(m.get("locked")) or is_test(cell)


def source_text(cell) -> str | None:
    src = cell.get("source", "") if isinstance(cell, dict) else None
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else None


@dataclass
class Restored:
    notebook: nbformat.NotebookNode
    changes: list[str] = field(default_factory=list)


class InvalidNotebook(Exception):
    """The submission is not a notebook we can read."""


def parse(data: bytes) -> dict:
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidNotebook(f"not valid JSON ({err})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("no list of cells")
    return nb


def fresh_cell(cell_type: str, source: str, metadata: dict | None = None):
    make = {"code": v4.new_code_cell, "markdown": v4.new_markdown_cell, "raw": v4.new_raw_cell}[cell_type]
    made = make(source=source)
    if metadata:
        made.metadata = nbformat.from_dict(json.loads(json.dumps(metadata)))
    return made


def restore(student: dict | None, source: nbformat.NotebookNode, stub: nbformat.NotebookNode) -> Restored:
    """Rebuild `student` (parsed JSON, or None when missing) against `source` and the released `stub`."""
    changes: list[str] = []
    stub_by_id = {nbgrader_meta(c).get("grade_id"): c for c in stub.cells if nbgrader_meta(c).get("grade_id")}
    source_ids = [nbgrader_meta(c).get("grade_id") for c in source.cells]
    known = {i for i in source_ids if i}

    # The student's cells: first copy of each known grade_id, the extras anchored to the next known cell.
    theirs: dict[str, dict] = {}
    extras: dict[str | None, list] = {}
    pending: list = []
    for cell in (student or {}).get("cells", []):
        if not isinstance(cell, dict):
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in known:
            if gid in theirs:
                changes.append(f"dropped duplicate of cell {gid}")
                continue
            theirs[gid] = cell
            extras[gid] = pending
            pending = []
        else:
            text = source_text(cell)
            kind = cell.get("cell_type")
            if text is None or kind not in ("code", "markdown", "raw"):
                changes.append("dropped an unreadable cell")
                continue
            pending.append(fresh_cell(kind, text))  # a student's own cell: no nbgrader metadata
    extras[None] = pending

    cells = []
    for index, src_cell in enumerate(source.cells):
        gid = source_ids[index]
        if not gid:
            continue  # unprotected cells without an id are the student's to keep or delete
        cells.extend(extras.get(gid, []))
        mine = theirs.get(gid)
        meta = dict(src_cell.metadata)
        released = stub_by_id.get(gid, src_cell)  # what the student was given (no hidden tests)
        if is_protected(src_cell):
            if mine is None:
                changes.append(f"re-inserted deleted cell {gid}")
            elif mine.get("cell_type") != src_cell.cell_type:
                changes.append(f"restored type of cell {gid}")
            elif source_text(mine) != released.source:
                kind = "test" if is_test(src_cell) else "locked"
                changes.append(f"restored edited {kind} cell {gid}")
            cells.append(fresh_cell(src_cell.cell_type, src_cell.source, meta))
            continue
        # a solution (answer) cell: the student's text in the source's cell type
        text = source_text(mine) if mine is not None else None
        if mine is None or text is None:
            changes.append(f"re-inserted deleted answer cell {gid} as the stub")
            text = stub_by_id[gid].source if gid in stub_by_id else ""
        elif mine.get("cell_type") != src_cell.cell_type:
            changes.append(f"restored type of answer cell {gid}")
        cells.append(fresh_cell(src_cell.cell_type, text, meta))
    cells.extend(extras[None])

    nb = v4.new_notebook(cells=cells, metadata=json.loads(json.dumps(dict(source.metadata))))
    nb.nbformat, nb.nbformat_minor = 4, 5
    return Restored(nb, changes)
