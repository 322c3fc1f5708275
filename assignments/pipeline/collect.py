"""`make collect ASSIGNMENT=a1 FROM=DIR`: import every a1-<student>.zip in DIR.

Each notebook in the zip lands byte-for-byte in build/nbgrader/submitted/<student>/<folder>/
(nbgrader's layout), with a timestamp.txt (nbgrader's format) that `make grades` compares with the
due date; the zip itself is kept in build/nbgrader/zips/<folder>/. A zip for another assignment,
a corrupt zip or a bad student id is reported and skipped; the others go on. Re-collecting a
student replaces their previous submission.

What a learning-management system's bulk download produces is accepted as it is (lms.py):
Canvas names (`alice_12345_67890_a1-alice.zip`, `alice_LATE_...`), Moodle folders
(`Alice Smith_12345_assignsubmission_file_/a1-alice.zip`), or the bulk zip itself as FROM.
`STUDENTS=roster.csv` (columns `student,lms_id`) maps the LMS's user ids to student ids.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

from . import layout, lms, schedule

STUDENT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")
ZIP_NAME = re.compile(r"^(?P<assignment>[A-Za-z0-9]+)-(?P<student>.+)\.zip$")
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


def notebooks_in(zf: zipfile.ZipFile, folder: str) -> dict[str, zipfile.ZipInfo]:
    """Notebook members: at the top level or in one folder (ideally <folder>/). Unsafe names are ignored."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        path = PurePosixPath(info.filename)
        if info.is_dir() or path.suffix != ".ipynb" or path.is_absolute() or ".." in path.parts:
            continue
        if len(path.parts) > 2 or any(part.startswith(".") for part in path.parts):
            continue  # checkpoints, __MACOSX/._x.ipynb and the like
        found.setdefault(path.name, info)
    return found


def student_of(a: schedule.Assignment, upload: lms.Upload, roster: dict[str, str] | None) -> str:
    """The student id a zip belongs to: the roster's, for an LMS user id; else the zip's own name."""
    if roster is not None and upload.lms_id:
        if upload.lms_id not in roster:
            raise ValueError(f"LMS user id {upload.lms_id} is not in the roster (STUDENTS=...)")
        return roster[upload.lms_id]
    match = ZIP_NAME.match(upload.name)
    if not match:
        hint = " (or pass STUDENTS=roster.csv to map the LMS ids)" if upload.lms_id else ""
        raise ValueError(f"name is not {a.id}-<student>.zip: rename it{hint}")
    if match["assignment"] != a.id:
        raise ValueError(f"is for assignment {match['assignment']!r}, not {a.id!r}")
    return match["student"]


def collect_one(lay: layout.Layout, a: schedule.Assignment, upload: lms.Upload,
                roster: dict[str, str] | None = None) -> str:
    """Import one zip; return the student id. Raises ValueError with the reason to skip it."""
    zip_path, student = upload.path, student_of(a, upload, roster)
    if not STUDENT_ID.match(student):
        raise ValueError(f"student id {student!r} has characters outside [A-Za-z0-9_.-] (or starts with '.')")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = notebooks_in(zf, a.folder)
            if not members:
                raise ValueError("contains no notebook")
            contents = {}
            for name, info in members.items():
                if info.file_size > MAX_NOTEBOOK_BYTES:
                    raise ValueError(f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
                contents[name] = zf.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise ValueError(f"is not a readable zip ({err})") from None
    target = lay.step("submitted") / student / a.folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name, data in contents.items():
        (target / name).write_bytes(data)
    (target / "timestamp.txt").write_text(lms.timestamp(upload.submitted))
    if upload.late:
        (target / "lms_late.txt").write_text("the LMS marked this submission late\n")
    kept = lay.step("zips") / a.folder
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copy2(zip_path, kept / f"{a.id}-{student}.zip")
    return student


def collect(lay: layout.Layout, ident: str, from_dir: Path,
            roster_csv: Path | None = None) -> tuple[list[str], list[str]]:
    a = schedule.load(lay.schedule).assignment(ident)
    roster = lms.read_roster(Path(roster_csv)) if roster_csv else None
    collected, skipped = [], []
    with lms.uploads(Path(from_dir) if from_dir else None, a.id) as found:
        for upload in found:
            label = upload.label
            try:
                student = collect_one(lay, a, upload, roster)
            except ValueError as err:
                skipped.append(f"{label}: {err}")
                print(f"skipped {label}: {err}")
                continue
            if student in collected:
                print(f"note: {label} is a second zip for {student}; it replaced the first")
            collected.append(student)
            print(f"collected {label} -> student {student}" + (" (late, says the LMS)" if upload.late else ""))
    print(f"{a.id}: {len(collected)} submission(s) collected, {len(skipped)} skipped, from {from_dir}")
    return collected, skipped


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--from", dest="from_dir", default="")
    parser.add_argument("--students", default="", help="roster CSV (student,lms_id) for LMS bulk downloads")
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make collect ASSIGNMENT=a1 FROM=inbox/`")
    if not args.from_dir:
        sys.exit("error: FROM is required: a folder holding a1-<student>.zip files")
    collect(layout.from_args(args), args.assignment, Path(args.from_dir), args.students or None)


if __name__ == "__main__":
    main()
