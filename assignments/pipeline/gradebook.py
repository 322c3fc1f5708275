"""nbgrader configuration for a build layout, and a thin wrapper around nbgrader's Python API.

The repo-root nbgrader_config.py calls `configure` too, so the `nbgrader` command line
(formgrader, `nbgrader export`, ...) sees exactly the same course directory as our pipeline.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .layout import Layout

COURSE_ID = "dlcv"

# nbgrader runs the `alembic` console script of its environment; make sure that is on PATH
# even when the venv's python is called directly (.venv/bin/python -m ...).
_BIN = str(Path(__import__("sys").executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def link_source(layout: Layout) -> None:
    """nbgrader wants source/ inside its root; we point a symlink at the real source folder."""
    layout.course.mkdir(parents=True, exist_ok=True)
    link = layout.course / "source"
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == layout.source:
            return
        if link.is_symlink():
            link.unlink()
        else:
            raise SystemExit(f"error: {link} exists and is not a symlink; remove it")
    link.symlink_to(layout.source, target_is_directory=True)


def configure(c, layout: Layout) -> None:
    """Fill a traitlets Config `c` for this layout (used by nbgrader_config.py and the pipeline)."""
    root = layout.course
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{layout.gradebook}"
    c.CourseDirectory.source_directory = "source"
    c.CourseDirectory.release_directory = "release"
    c.CourseDirectory.submitted_directory = "submitted"
    c.CourseDirectory.autograded_directory = "autograded"
    c.CourseDirectory.feedback_directory = "feedback"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    c.Execute.timeout = 300
    c.Execute.allow_errors = True


def config(layout: Layout, **sections):
    """A fresh Config for this layout; `sections` override, e.g. Autograde={"...": ...}."""
    from traitlets.config import Config

    c = Config()
    configure(c, layout)
    for section, values in sections.items():
        for key, value in values.items():
            setattr(c[section], key, value)
    return c


def api(layout: Layout, **sections):
    """An NbGraderAPI on this layout (quiet: nbgrader's log goes to the returned dicts)."""
    import logging

    from nbgrader.apps import NbGraderAPI

    link_source(layout)
    logging.getLogger("traitlets").setLevel(logging.WARNING)
    return NbGraderAPI(config=config(layout, **sections))


def check(result: dict, what: str) -> None:
    """nbgrader's API returns {"success", "log", "error"}; turn a failure into an exception."""
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error')}\n{result.get('log')}")


def ensure_generated(layout: Layout, folder: str, force: bool = False) -> Path:
    """Run `nbgrader generate_assignment` once (records the assignment in the gradebook)."""
    release = layout.step("release") / folder
    if force or not release.is_dir() or not any(release.glob("*.ipynb")) or not snapshot(layout, folder).is_dir():
        check(api(layout).generate_assignment(folder, force=True, create=True), "generate_assignment")
        # Grade against the source as it was released (as the gradebook has it), even if the
        # source notebooks are edited afterwards.
        shutil.rmtree(snapshot(layout, folder), ignore_errors=True)
        snapshot(layout, folder).mkdir(parents=True)
        for nb in (layout.source / folder).glob("*.ipynb"):
            shutil.copy2(nb, snapshot(layout, folder) / nb.name)
    return release


def snapshot(layout: Layout, folder: str) -> Path:
    """Copy of the source notebooks taken when the assignment was generated."""
    return layout.step("released_source") / folder
