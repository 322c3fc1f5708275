"""The course schedule, read from course.toml: which lectures and assignments each week releases."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Assignment:
    id: str  # short id used by the Makefile and in zip names, e.g. "a1"
    folder: str  # nbgrader assignment folder, e.g. "a1_classification"
    title: str
    release_week: int
    due: str


@dataclass(frozen=True)
class Schedule:
    title: str
    weeks: dict[int, list[str]]  # week -> lecture notebook stems
    assignments: dict[str, Assignment]

    @property
    def last_week(self) -> int:
        weeks = list(self.weeks) + [a.release_week for a in self.assignments.values()]
        return max(weeks, default=0)

    def lectures_until(self, week: int) -> list[str]:
        return [stem for w in sorted(self.weeks) if w <= week for stem in self.weeks[w]]

    def assignments_until(self, week: int) -> list[Assignment]:
        return [a for a in self.assignments.values() if a.release_week <= week]

    def assignment(self, ident: str) -> Assignment:
        """Look an assignment up by short id ("a1") or by folder ("a1_classification")."""
        for a in self.assignments.values():
            if ident in (a.id, a.folder):
                return a
        known = ", ".join(sorted(self.assignments)) or "none"
        raise SystemExit(f"error: unknown assignment {ident!r} (known: {known})")


def load(path: Path) -> Schedule:
    data = tomllib.loads(Path(path).read_text())
    weeks: dict[int, list[str]] = {}
    for entry in data.get("weeks", []):
        weeks.setdefault(int(entry["week"]), []).extend(entry.get("lectures", []))
    assignments = {
        key: Assignment(
            id=key,
            folder=value["folder"],
            title=value.get("title", key),
            release_week=int(value.get("release_week", 1)),
            due=str(value.get("due", "")),
        )
        for key, value in data.get("assignments", {}).items()
    }
    title = data.get("course", {}).get("title", "Course")
    return Schedule(title=title, weeks=weeks, assignments=assignments)


def parse_week(text: str | None) -> int:
    """WEEK=N from the command line: a positive integer, or a clear error."""
    if text is None or not str(text).strip():
        raise SystemExit("error: WEEK is required, e.g. `make release WEEK=3`")
    try:
        week = int(str(text).strip())
    except ValueError:
        raise SystemExit(f"error: WEEK must be a whole number >= 1, got {text!r}") from None
    if week < 1:
        raise SystemExit(f"error: WEEK must be >= 1, got {week}")
    return week
