"""The lecture standard's tools: claims, widgets, exercises, the preamble, solution substitution."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from nbrun import with_solutions  # noqa: E402

import helpers as H  # noqa: E402


def test_claim_checked_in_full_mode_only(monkeypatch, tmp_path, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_FILE", str(log))
    monkeypatch.setenv("COURSE_FAST", "0")
    assert H.claim("acc", 0.3, (0.2, 0.4), dataset="shapes") == 0.3
    with pytest.raises(H.claims.ClaimError, match="OUT OF RANGE"):
        H.claim("acc", 0.5, {"shapes": (0.2, 0.4)}, dataset="shapes")
    with pytest.raises(H.claims.ClaimError, match="no expected range"):
        H.claim("acc", 0.3, {"cifar10": (0.2, 0.4)}, dataset="shapes")
    monkeypatch.setenv("COURSE_FAST", "1")
    H.claim("acc", 0.9, (0.2, 0.4), dataset="shapes")  # FAST: printed, not checked
    assert "unchecked in FAST mode" in capsys.readouterr().out
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["ok"], r["checked"]) for r in rows] == [(True, True), (False, True), (False, False)]


def test_exercise_check(monkeypatch, capsys):
    def todo(x):
        raise NotImplementedError

    cases = [((2.0,), 4.0), ((np.arange(3.0),), np.arange(3.0) ** 2)]
    assert not H.exercises.check("square", todo, cases)
    assert "not attempted yet" in capsys.readouterr().out
    assert H.exercises.check("square", lambda x: x ** 2, cases)
    assert not H.exercises.check("square", lambda x: x * 2, cases)
    assert "case 2" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_CHECK_EXERCISES", "1")
    with pytest.raises(AssertionError):
        H.exercises.check("square", lambda x: x * 2, cases)


def test_widgets_draw_static_figure_and_try_every_end(monkeypatch):
    calls = []

    def draw(n, lr, how):
        calls.append((n, lr, how))
        plt.figure()
        plt.plot([0, n], [0, lr])

    monkeypatch.setenv("COURSE_CHECK_WIDGETS", "1")
    H.widgets.explore(draw, n=H.widgets.slider(1, 9, 3), lr=H.widgets.slider(1e-3, 1.0, 0.1, log=True),
                      how=H.widgets.choice(["a", "b", "c"], "b"))
    assert calls[0] == (3, 0.1, "b")  # the static figure at the defaults comes first
    assert {(1, 0.1, "b"), (9, 0.1, "b"), (3, 1e-3, "b"), (3, 1.0, "b"), (3, 0.1, "a"), (3, 0.1, "c")} <= set(calls)
    with pytest.raises(ValueError):
        H.widgets.slider(0, 1, 2)
    with pytest.raises(ValueError):
        H.widgets.choice(["a"], "z")


def test_setup_seeds_and_returns_a_device(monkeypatch):
    import torch

    monkeypatch.setenv("COURSE_THREADS", "1")
    device = H.setup(seed=3, verbose=False)
    assert device.type in ("cpu", "cuda") and torch.get_num_threads() == 1
    a = np.random.rand()
    H.setup(seed=3, verbose=False)
    assert np.random.rand() == a


def test_solutions_replace_exercises():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("# Exercise: double\ndef double(x):\n    raise NotImplementedError\n"
                                  "H.exercises.check('double', double, [((1,), 2)])"),
        nbformat.v4.new_markdown_cell("<details><summary>Solution: double</summary>\n\n```python\n"
                                      "def double(x):\n    return 2 * x\n```\n</details>"),
    ])
    assert with_solutions(nb) == ["double"]
    assert "return 2 * x" in nb.cells[0].source and "H.exercises.check('double'" in nb.cells[0].source
    orphan = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# Exercise: lonely\npass")])
    with pytest.raises(ValueError, match="no folded solution"):
        with_solutions(orphan)
