"""The pipeline's one adapter to nbgrader: configuration for a build layout, its Python API,
scoring an already-executed notebook, and reading scores back from the gradebook.

No other module of the pipeline imports nbgrader. The repo-root nbgrader_config.py calls
`configure` too, so the `nbgrader` command line (formgrader, `nbgrader export`, ...) sees
exactly the same course directory, and the same HTML sanitising, as our pipeline.
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


def db_url(layout: Layout) -> str:
    """The gradebook database: SQLite in the build folder, or COURSE_GRADEBOOK_URL (any SQLAlchemy
    URL nbgrader accepts, e.g. postgresql://grader@db/dlcv) when graders on several hosts share one."""
    return os.environ.get("COURSE_GRADEBOOK_URL") or f"sqlite:///{layout.gradebook}"


def exists(layout: Layout) -> bool:
    return "COURSE_GRADEBOOK_URL" in os.environ or layout.gradebook.exists()


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
    c.CourseDirectory.db_url = db_url(layout)
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
    # Student output is untrusted: formgrader and feedback render it without scripts (sanitize.py).
    c.HTMLExporter.sanitize_html = True


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


# Scoring: the notebook was already run in the sandbox, so nbgrader keeps its outputs and
# executes nothing; it only restores metadata and saves the scores of the test cells.
SCORING = {
    "CourseDirectory": {"submitted_directory": "executed"},
    "Autograde": {
        "sanitize_preprocessors": [
            "nbgrader.preprocessors.DeduplicateIds", "nbgrader.preprocessors.OverwriteKernelspec",
            "nbgrader.preprocessors.OverwriteCells", "nbgrader.preprocessors.CheckCellMetadata",
        ],
        "autograde_preprocessors": [
            "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
            "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata",
        ],
    },
}


def _classes(sections: dict) -> dict:
    """nbgrader wants preprocessor classes, not dotted names."""
    from importlib import import_module

    def load(dotted):
        module, _, name = dotted.rpartition(".")
        return getattr(import_module(module), name)

    out = {k: dict(v) for k, v in sections.items()}
    for key in ("sanitize_preprocessors", "autograde_preprocessors"):
        out["Autograde"][key] = [load(d) for d in out["Autograde"][key]]
    return out


def record_scores(layout: Layout, folder: str, student: str) -> tuple[float, float]:
    """Score the executed notebooks of one student into the gradebook; return (score, max_score)."""
    from nbgrader.api import Gradebook

    result = api(layout, **_classes(SCORING)).autograde(folder, student, force=True, create=True)
    check(result, f"autograde of {student}")
    with Gradebook(db_url(layout), COURSE_ID) as gb:
        sub = gb.find_submission(folder, student)
        return float(sub.code_score or 0.0), float(sub.max_code_score or 0.0)


def ungraded_written(layout: Layout, folder: str, student: str) -> list[str]:
    """Names of the written answers of a submission still waiting for a grader (nbgrader's
    needs_manual_grade): until graded, feedback and totals count them as 0."""
    found = scores(layout, folder, student)
    return found["ungraded"] if found else []


def scores(layout: Layout, folder: str, student: str) -> dict | None:
    """Points of one submission as the gradebook has them now, hand grading included:
    auto (test cells, after any override in formgrader), manual (written answers and tasks),
    their maxima, and the written answers still waiting for a grader. None if not scored yet."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url(layout), COURSE_ID) as gb:
        try:
            sub = gb.find_submission(folder, student)
        except MissingEntry:
            return None
        return {"auto": float(sub.code_score or 0.0), "max_auto": float(sub.max_code_score or 0.0),
                "manual": float((sub.written_score or 0.0) + (sub.task_score or 0.0)),
                "max_manual": float((sub.max_written_score or 0.0) + (sub.max_task_score or 0.0)),
                # formgrader clears needs_manual_grade itself; a score set through the API may not
                "ungraded": [f"{nb.name}:{g.name}" for nb in sub.notebooks for g in nb.grades
                             if g.needs_manual_grade and g.manual_score is None]}
