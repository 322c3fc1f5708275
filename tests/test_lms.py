"""Collecting what LMS bulk downloads produce: Canvas names, Moodle folders, a bulk zip, a roster."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "grading"))
import tiny_assignment as tiny  # noqa: E402

from assignments.pipeline import collect, layout, lms  # noqa: E402


@pytest.fixture
def lay(tmp_path):
    paths = tiny.make_course(tmp_path)
    return layout.Layout(build=paths["build"], source=paths["source"], schedule=paths["schedule"],
                         lectures=paths["lectures"])


def submission_zip(path: Path, text: str = "{}", when: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{tiny.FOLDER}/{tiny.NOTEBOOK}", text)
    if when is not None:
        os.utime(path, (when, when))
    return path


def submitted(lay, student: str) -> Path:
    return lay.step("submitted") / student / tiny.FOLDER


def test_canvas_names_late_flag_and_time(lay, tmp_path):
    inbox = tmp_path / "canvas"
    submission_zip(inbox / "smithalice_12345_67890_t1-alice.zip", '{"a": 1}', when=1_800_000_000)
    submission_zip(inbox / "jonesbob_LATE_23456_78901_t1-bob.zip", '{"b": 2}')
    got, skipped = collect.collect(lay, "t1", inbox)
    assert sorted(got) == ["alice", "bob"] and not skipped
    assert (submitted(lay, "alice") / tiny.NOTEBOOK).read_text() == '{"a": 1}'  # byte for byte
    when = lms.parse_timestamp((submitted(lay, "alice") / "timestamp.txt").read_text())
    assert when.timestamp() == 1_800_000_000
    assert (submitted(lay, "bob") / "lms_late.txt").exists()
    assert not (submitted(lay, "alice") / "lms_late.txt").exists()


def test_moodle_folders_and_roster(lay, tmp_path):
    inbox = tmp_path / "moodle"
    submission_zip(inbox / "Alice Smith_12345_assignsubmission_file_" / "homework.zip")
    submission_zip(inbox / "Bob Jones_23456_assignsubmission_file_" / "t1-bob.zip")
    # without a roster the oddly named zip is skipped with a message that says what to do
    got, skipped = collect.collect(lay, "t1", inbox)
    assert got == ["bob"] and len(skipped) == 1 and "STUDENTS=roster.csv" in skipped[0], skipped
    roster = tmp_path / "roster.csv"
    roster.write_text("student,lms_id,name\nalice,12345,Alice Smith\nbob2,23456,Bob Jones\n")
    got, skipped = collect.collect(lay, "t1", inbox, roster)
    assert sorted(got) == ["alice", "bob2"] and not skipped


def test_bulk_zip_as_from(lay, tmp_path):
    inner = submission_zip(tmp_path / "x" / "smithalice_12345_67890_t1-alice.zip")
    bulk = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bulk, "w") as zf:
        zf.write(inner, inner.name)
        zf.writestr("../evil.zip", "no")  # never written outside the scratch folder
    got, _ = collect.collect(lay, "t1", bulk)
    assert got == ["alice"] and not (tmp_path / "evil.zip").exists()


def test_bad_roster_and_unknown_ids_say_what_to_do(lay, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,id\nAlice,1\n")
    with pytest.raises(SystemExit, match="student,lms_id"):
        collect.collect(lay, "t1", tmp_path, bad)
    roster = tmp_path / "roster.csv"
    roster.write_text("student,lms_id\nalice,1\n")
    submission_zip(tmp_path / "canvas" / "smithalice_999_1_t1-alice.zip")
    got, skipped = collect.collect(lay, "t1", tmp_path / "canvas", roster)
    assert not got and "999 is not in the roster" in skipped[0]
    with pytest.raises(SystemExit, match="FROM must be a folder"):
        collect.collect(lay, "t1", tmp_path / "nowhere")
