"""Load the reference solution's definitions out of an nbgrader source notebook (and make the
submission of a student who wrote that solution: `solved_stub`).

Benchmarks time the instructor's solution, which lives only in the source notebook (helpers
never contains graded answers). We execute the notebook's solution cells — each is expected to
import what it uses — in one fresh namespace and hand back the names the benchmark asks for.
"""

from __future__ import annotations

import json
import linecache
from pathlib import Path


def solution_cells(path: Path) -> list[str]:
    nb = json.loads(Path(path).read_text())
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb["cells"]
        if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]


def solved_stub(stub: dict, source: dict) -> dict:
    """What a student who got everything right hands in: a copy of the released stub (notebook
    JSON) with every answer cell's text taken from the source notebook, matched by grade_id."""
    def grade_id(cell):
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    answers = {grade_id(c): c["source"] for c in source["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    out = json.loads(json.dumps(stub))
    for cell in out["cells"]:
        cell["source"] = answers.get(grade_id(cell), cell["source"])
    return out


def load_solution(path: Path, names: list[str]) -> dict:
    """Exec the solution cells of `path`; return {name: object} for `names` (KeyError if absent)."""
    namespace: dict = {"__name__": "reference_solution"}
    for i, source in enumerate(solution_cells(path)):
        # IPython magics are not Python; solution cells should not need them.
        code = "\n".join(line for line in source.splitlines()
                         if not line.lstrip().startswith(("%", "!"))) + "\n"
        # Registered in linecache so inspect.getsource works: @triton.jit needs the source.
        filename = f"<{Path(path).name}: solution cell {i}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), namespace)
    missing = [n for n in names if n not in namespace]
    if missing:
        raise KeyError(f"{path} defines no {missing} in its solution cells")
    return {n: namespace[n] for n in names}
