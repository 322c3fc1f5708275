"""Where everything lives. Source material stays in the repo; everything generated goes under
one build directory (default <repo>/build, or --build-dir / COURSE_BUILD_DIR), so tests can
use a temporary one and never clobber a developer's build/.

build/
  nbgrader/            nbgrader course root: gradebook.db, release/, submitted/, autograded/,
                       feedback/, plus our own executed/, status/, zips/ and a `source` link
  student/             the student edition (`make release`)
  grades.csv           (`make grades`)
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Layout:
    build: Path
    source: Path  # assignments/source (nbgrader source notebooks, with solutions + hidden tests)
    schedule: Path  # course.toml
    lectures: Path
    repo: Path = REPO

    @property
    def course(self) -> Path:
        return self.build / "nbgrader"

    @property
    def probes(self) -> Path:
        """The grader's own checks per assignment (beside the source, never released)."""
        return self.source.parent / "probes"

    @property
    def student(self) -> Path:
        return self.build / "student"

    @property
    def gradebook(self) -> Path:
        return self.course / "gradebook.db"

    @property
    def grades_csv(self) -> Path:
        return self.build / "grades.csv"

    def step(self, name: str) -> Path:
        """nbgrader step folder: release, submitted, autograded, feedback, executed, status, zips."""
        return self.course / name

    def students(self, step: str, folder: str) -> list[str]:
        """Students who have `folder` in step `step` (e.g. everyone collected: "submitted")."""
        return sorted(p.parent.name for p in self.step(step).glob(f"*/{folder}") if p.is_dir())

    @classmethod
    def default(cls) -> Layout:
        """The layout the Make targets and nbgrader_config.py use (COURSE_BUILD_DIR or build/)."""
        return from_args(argparse.Namespace(build_dir=None, source_dir=None, schedule=None, lectures_dir=None))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build-dir", type=Path, default=None, help="default: <repo>/build")
    parser.add_argument("--source-dir", type=Path, default=None, help="default: assignments/source")
    parser.add_argument("--schedule", type=Path, default=None, help="default: course.toml")
    parser.add_argument("--lectures-dir", type=Path, default=None, help="default: lectures/")


def from_args(args: argparse.Namespace) -> Layout:
    build = args.build_dir or Path(os.environ.get("COURSE_BUILD_DIR") or REPO / "build")
    return Layout(
        build=Path(build).resolve(),
        source=Path(args.source_dir or REPO / "assignments" / "source").resolve(),
        schedule=Path(args.schedule or REPO / "course.toml").resolve(),
        lectures=Path(args.lectures_dir or REPO / "lectures").resolve(),
    )
