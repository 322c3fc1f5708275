"""What learning-management systems hand an instructor, read as the zips `make submit` writes.

A bulk download comes in one of these shapes (FROM may be the folder or the bulk zip itself):

- plain: `a1-alice.zip` (what `make submit` writes; e-mail, shared drive);
- Canvas: `alice_12345_67890_a1-alice.zip` — sortable name, user id, submission id, then the
  file the student uploaded; late work carries `_LATE_` after the name;
- Moodle: one folder per student, `Alice Smith_12345_assignsubmission_file_/a1-alice.zip`.

The LMS user id is kept so that a roster (`STUDENTS=roster.csv`, columns `student,lms_id`)
can name the student whatever the uploaded file was called. The submission time is the zip's
modification time as the instructor has it (bulk downloads keep the upload time inside their
own zip; a plain copy keeps whatever the copy kept), written in nbgrader's timestamp format.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

CANVAS = re.compile(r"^(?P<who>[^_]+)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+\.zip)$", re.IGNORECASE)
MOODLE_DIR = re.compile(r"^(?P<who>.+)_(?P<uid>\d+)_assignsubmission_file_?$")
STUDENT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's timestamp.txt
MAX_BULK_BYTES = 4 * 2**30


@dataclass(frozen=True)
class Upload:
    path: Path  # the zip on disk
    name: str  # the file the student handed in (a1-alice.zip)
    lms_id: str | None = None
    late: bool = False  # the LMS said so
    label: str = ""  # how to name it in messages

    @property
    def submitted(self) -> datetime:
        return datetime.fromtimestamp(self.path.stat().st_mtime, tz=timezone.utc)


def read_upload(path: Path, folder_id: str | None = None) -> Upload:
    """An Upload for one zip; `folder_id` is the Moodle user id of the folder it sits in."""
    canvas = CANVAS.match(path.name)
    if canvas:
        return Upload(path, canvas["file"], canvas["uid"], bool(canvas["late"]), path.name)
    label = f"{path.parent.name}/{path.name}" if folder_id else path.name
    return Upload(path, path.name, folder_id, False, label)


def scan_folder(root: Path) -> list[Upload]:
    """Every zip in root, and in root's Moodle-style per-student folders."""
    found = []
    for entry in sorted(root.iterdir()):
        if entry.is_file() and entry.suffix.lower() == ".zip":
            found.append(read_upload(entry))
        elif entry.is_dir() and (moodle := MOODLE_DIR.match(entry.name)):
            found += [read_upload(p, moodle["uid"]) for p in sorted(entry.glob("*.zip")) if p.is_file()]
    return found


def _unpack_bulk(bulk: Path, into: Path) -> None:
    """Extract an LMS bulk zip safely (no absolute paths, no `..`, bounded size), keeping times."""
    try:
        with zipfile.ZipFile(bulk) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_BULK_BYTES:
                raise SystemExit(f"error: {bulk} unpacks to more than {MAX_BULK_BYTES // 2**30} GiB")
            for m in members:
                parts = PurePosixPath(m.filename).parts
                if PurePosixPath(m.filename).is_absolute() or ".." in parts or len(parts) > 2:
                    continue
                target = into.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(m))
                stamp = datetime(*m.date_time).timestamp()
                os.utime(target, (stamp, stamp))
    except zipfile.BadZipFile as err:
        raise SystemExit(f"error: FROM={bulk} is not a readable zip ({err})") from None


@contextlib.contextmanager
def uploads(source: Path | None, assignment: str):
    """The uploads in FROM: a folder of zips (plain, Canvas, Moodle folders) or a bulk zip."""
    if source is None or not source.exists():
        raise SystemExit(f"error: FROM must be a folder of {assignment}-<student>.zip files (or an LMS "
                         f"bulk download: its zip or its unpacked folder), got {str(source or '')!r}")
    if source.is_dir():
        yield scan_folder(source)
        return
    if source.suffix.lower() != ".zip":
        raise SystemExit(f"error: FROM={source} is a file but not a zip; give the folder that holds the zips")
    with tempfile.TemporaryDirectory(prefix="bulk-") as tmp:
        _unpack_bulk(source, Path(tmp))
        # no zips inside: FROM is one student's zip, not a bulk download
        yield scan_folder(Path(tmp)) or [read_upload(source)]


def read_roster(path: Path) -> dict[str, str]:
    """{lms_id: student} from a CSV with columns `student` and `lms_id`; clear errors otherwise."""
    if not path.is_file():
        raise SystemExit(f"error: STUDENTS={path} does not exist (a CSV with columns student,lms_id)")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in reader.fieldnames or []]
        if not {"student", "lms_id"} <= set(columns):
            raise SystemExit(f"error: {path} needs the columns student,lms_id (it has: {', '.join(columns) or 'none'})")
        roster = {}
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            student, lms_id = row["student"], row["lms_id"]
            if not STUDENT_ID.match(student):
                raise SystemExit(f"error: {path}:{line}: student id {student!r} must use [A-Za-z0-9_.-]")
            if lms_id in roster:
                raise SystemExit(f"error: {path}:{line}: lms_id {lms_id} appears twice")
            roster[lms_id] = student
    return roster


def timestamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_timestamp(text: str) -> datetime | None:
    """nbgrader's timestamp.txt (ours, or the exchange's) as an aware datetime; None if unreadable."""
    from dateutil import parser

    try:
        when = parser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
