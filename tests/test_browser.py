"""The course in a real browser: JupyterLab in headless chromium, driven by Playwright.

One JupyterLab (FAST mode, random port and token) serves a scratch folder holding a copy of the
lectures and a fresh student edition. For lecture 02 and lecture 07 (both have sliders and a
dropdown): Run All from the menu, save, and fail on an error output or a cell that did not run
(read from the saved file), on a figure that is not an image, on a widget that is not a live
control, and on a slider whose drag does not redraw its figure. Then nbgrader's Validate button
on the student edition of A1 must run the notebook's tests. Last, `make site` for lecture 02
(FAST) must give pages that show their math, figures and links with the network off.
Screenshots: build/browser/.

Without chromium these tests FAIL and say how to install it: a skipped browser test would hide
a broken install. `make check` deselects them (-m "not browser"); `make test` runs them.
To see a check fail: tests/browser_lab.py --plant-error N / --disable-extension NAME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from browser_lab import (
    REPO,
    browser_for,
    check_lecture,
    check_validate,
    chromium_executable,
    running_lab,
)
from nbrun import remote_scripts

pytestmark = pytest.mark.browser

LECTURES = ["02_image_classification", "07_rnn_lstm_gru"]
SITE_LECTURE = "02_image_classification"  # has formulas, figures and sliders
A1_NOTEBOOK = "release/student/assignments/a1_classification/knn.ipynb"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A copy of the lectures and a student edition (release --week 99) side by side."""
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(REPO / "lectures", root / "lectures", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    subprocess.run([sys.executable, "-m", "assignments.pipeline.release", "--week", "99",
                    "--build-dir", str(root / "release")], cwd=REPO, check=True, capture_output=True)
    return root


def require_chromium() -> None:
    """Fail (never skip) without chromium, saying how to install it."""
    try:
        chromium_executable()
        return
    except RuntimeError as err:
        message = str(err)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def browser(scratch):
    require_chromium()
    with running_lab(scratch, scratch) as lab, browser_for(lab) as guard:
        yield lab, guard
        assert not guard.blocked, f"the lab pages tried to leave the machine: {guard.blocked[:5]}"


def test_chromium_is_installed():
    require_chromium()


@pytest.mark.parametrize("stem", LECTURES)
def test_lecture_runs_in_jupyterlab(browser, stem, record_notebook_time):
    lab, guard = browser
    start = time.perf_counter()
    problems = check_lecture(guard.context, lab, f"lectures/{stem}.ipynb")
    record_notebook_time(f"{stem} (JupyterLab in chromium)", time.perf_counter() - start,
                         "ok" if not problems else "FAILED")
    assert not problems, f"{stem} in JupyterLab (log: {lab.log}):\n" + "\n".join(problems)


def test_nbgrader_validate_button_runs_on_the_student_edition(browser):
    lab, guard = browser
    assert (lab.root / A1_NOTEBOOK).exists(), os.listdir(lab.root / "release" / "student" / "assignments")
    outcome, problems = check_validate(guard.context, lab, A1_NOTEBOOK)
    assert not problems, "\n".join(problems)
    # the untouched student notebook has unanswered cells: its tests must run and fail
    assert outcome == "validation-failed", f"Validate on the unanswered A1 notebook said {outcome}"


def test_site_pages_work_offline(tmp_path):
    """`make site` on lecture 02 (FAST): math typeset from the local MathJax, figures, navigation."""
    out = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "assignments.pipeline.site", "--fast", "--out", str(out),
                            "--lectures", SITE_LECTURE], cwd=REPO, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    html = (out / f"{SITE_LECTURE}.html").read_text()
    assert not remote_scripts(html), f"the page loads scripts from the network: {remote_scripts(html)}"
    require_chromium()
    # its own process: the lab tests' Playwright is still running in this one
    check = subprocess.run([sys.executable, str(REPO / "tests" / "browser_lab.py"), "--site",
                            str(out / "index.html"), str(out / f"{SITE_LECTURE}.html")],
                           cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
