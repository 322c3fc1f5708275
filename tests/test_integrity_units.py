"""Unit tests of the grader's pure checks: the static scan, the canary verdict, probe comparison,
output sanitising and the limits. The end-to-end versions run in test_grading*.py."""

from __future__ import annotations

import numpy as np
import pytest
from nbformat import v4

from assignments.pipeline import integrity
from assignments.pipeline.limits import Limits
from assignments.pipeline.sanitize import sanitize


def notebook(*student_sources: str, given: str = "import numpy as np\nfrom helpers.gradcheck import rel_error\n"):
    cells = [v4.new_code_cell(given, metadata={"nbgrader": {"grade_id": "setup", "locked": True}})]
    for i, src in enumerate(student_sources):
        cells.append(v4.new_code_cell(src, metadata={"nbgrader": {"grade_id": f"answer{i}", "solution": True}}))
    return v4.new_notebook(cells=cells)


HONEST = [
    "import numpy as np\n\ndef f(x):\n    out = np.maximum(x, 0)\n    return out\n",
    "import helpers as H\nsvm_regs = H.config.pick([1e3], [1e4])\n",
    "class Net:\n    def __init__(self):\n        self.params = {}\n        self.params['W'] = np.zeros(3)\n",
    "%matplotlib inline\nx = [1, 2]\nx[0] = 3\n",
    "def rel(a, b):\n    In = 3  # a local name is harmless\n    return In\n",
]


@pytest.mark.parametrize("src", HONEST)
def test_scan_leaves_honest_work_alone(src):
    assert integrity.scan(notebook(src)) == []


TAMPERING = {
    "get_ipython().ast_transformers.append(T())": "ast_transformers",
    "import sys\nsys.settrace(None)": "settrace",
    "np.allclose = lambda *a, **k: True": "np.allclose",
    "np.testing.assert_allclose = print": "np.testing.assert_allclose",
    "setattr(np, 'allclose', len)": "setattr",
    "rel_error = lambda *a: 0.0": "rel_error",
    "def rel_error(a, b):\n    return 0": "rel_error",
    "import builtins\nbuiltins.print = None": "builtins",
    "print(In[-1])": "cell history",
    "exec('x = 1')": "exec",
    "import sys\nf = sys._getframe(1).f_back": "call stack",
    "getattr(sys, 'settrace')(None)": "settrace",
}


@pytest.mark.parametrize("src,word", TAMPERING.items())
def test_scan_names_the_tampering(src, word):
    found = integrity.scan(notebook(src))
    assert found and any(word in f for f in found), found
    assert all(f.startswith("cell answer0, line") for f in found), found


def test_scan_reads_added_cells_too_and_survives_syntax_errors():
    nb = notebook("def f(:\n")
    nb.cells.append(v4.new_code_cell("get_ipython()"))  # a cell the student added: no metadata
    found = integrity.scan(nb)
    assert len(found) == 1 and "added cell 1" in found[0]


def test_canary_verdicts():
    error = [{"output_type": "error", "ename": "AssertionError", "evalue": "g123"}]
    assert integrity.canary_honest("error", error)
    assert not integrity.canary_honest("ok", [])
    assert not integrity.canary_honest("error", [{"output_type": "error", "ename": "NameError"}])
    code = integrity.canary_code("gabc")
    with pytest.raises(AssertionError, match="gabc"):
        exec(code, {})
    patched = {"rel_error": lambda a, b: 0.0}
    exec(code, patched)  # a patched rel_error makes the canary pass: exactly what it detects


def test_probe_round_trip(tmp_path):
    probe = integrity.Probe("double", "nb.ipynb", ("test_double",), lambda rng: {"x": rng.standard_normal(4)},
                            "O = double(I['x'])", lambda I: 2 * I["x"])
    for double, verdict in ((lambda x: 2 * x, "ok"), (lambda x: 2 * x + 1e-3, "relative error"),
                            (lambda x: x[:2], "shape"), (lambda x: x * np.nan, "not finite")):
        folder = tmp_path / verdict.replace(" ", "_")
        made = integrity.ProbeSet.prepare([probe], folder)
        exec(integrity.probe_cell([probe], folder), {"double": double})
        assert verdict in made.verdicts()["double"], (verdict, made.verdicts())
    folder = tmp_path / "raises"
    made = integrity.ProbeSet.prepare([probe], folder)
    exec(integrity.probe_cell([probe], folder), {"double": lambda x: 1 / 0})
    assert made.verdicts()["double"].startswith("ZeroDivisionError")
    assert integrity.ProbeSet.prepare([probe], tmp_path / "never").verdicts()["double"] == \
        "the grader's check did not run"


def test_sanitize_keeps_text_and_drops_active_content():
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)><a href='javascript:x()'>a</a><b>b</b>"
    out = v4.new_output("display_data", data={"text/html": payload, "text/plain": "p",
                                              "application/javascript": "alert(3)",
                                              "image/svg+xml": "<svg onload='alert(4)'/>"})
    nb = notebook("x = 1")
    nb.cells[1].outputs = [out]
    nb.cells.append(v4.new_markdown_cell(payload, metadata={"nbgrader": {"grade_id": "q", "solution": True}}))
    nb.cells.append(v4.new_markdown_cell("<details>ours</details>", metadata={"nbgrader": {"locked": True}}))
    sanitize(nb)
    data = nb.cells[1].outputs[0]["data"]
    assert set(data) == {"text/html", "text/plain"}
    for text in (data["text/html"], nb.cells[2].source):
        assert "<script" not in text and "<img" not in text and "javascript:" not in text and "<b>b</b>" in text
    assert nb.cells[3].source == "<details>ours</details>"  # our own markdown is left alone


def test_limits_resolve_and_round_trip(monkeypatch):
    import argparse

    monkeypatch.setenv("COURSE_GRADE_CELL_TIMEOUT", "7")
    parser = argparse.ArgumentParser()
    Limits.add_arguments(parser)
    limits = Limits.resolve(parser.parse_args(["--memory-mb", "100"]))
    assert limits == Limits(cell_timeout=7.0, memory_mb=100)
    assert Limits.resolve(parser.parse_args(limits.as_args())) == limits


FORBIDDEN = {"torchvision.ops.nms": "computes the NMS you are asked to write",
             "helpers.vlm.info_nce": "is the course's own InfoNCE", "pycocotools": "computes mAP"}
BORROWED = [
    "from torchvision.ops import nms\nkeep = nms(b, s, 0.5)",
    "import torchvision\nkeep = torchvision.ops.nms(b, s, 0.5)",
    "from torchvision import ops as o\nkeep = o.nms(b, s, 0.5)",
    "import helpers as H\nloss = H.vlm.info_nce(a, b, 1.0)",
    "from helpers import vlm\nloss = vlm.info_nce(a, b, 1.0)",
    "from pycocotools.cocoeval import COCOeval",
    "import pycocotools.coco as cc",
]


@pytest.mark.parametrize("src", BORROWED)
def test_scan_names_borrowed_answers(src):
    found = integrity.scan(notebook(src), FORBIDDEN)
    assert found and all("uses `" in f for f in found), found


def test_scan_allows_own_functions_of_the_same_name():
    # the student's own nms, and torchvision used for something that is not graded
    src = "import torchvision\ndef nms(b, s, t):\n    return b\nkeep = nms(b, s, 0.5)\nx = torchvision.ops.box_area(b)"
    assert integrity.scan(notebook(src), FORBIDDEN) == []
    assert integrity.scan(notebook("from torchvision.ops import nms"), None) == []
