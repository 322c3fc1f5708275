"""`make collect ASSIGNMENT=a1 FROM=DIR`: import every a1-<student>.zip in DIR.

Each notebook in the zip lands byte-for-byte in build/nbgrader/submitted/<student>/<folder>/
(nbgrader's layout); the zip itself is kept in build/nbgrader/zips/<folder>/. A zip for another
assignment, a corrupt zip or a bad student id is reported and skipped; the others go on.
Re-collecting a student replaces their previous submission.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

from . import layout, schedule

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


def collect_one(lay: layout.Layout, a: schedule.Assignment, zip_path: Path) -> str:
    """Import one zip; return the student id. Raises ValueError with the reason to skip it."""
    match = ZIP_NAME.match(zip_path.name)
    if not match:
        raise ValueError("name is not <assignment>-<student>.zip")
    if match["assignment"] != a.id:
        raise ValueError(f"is for assignment {match['assignment']!r}, not {a.id!r}")
    student = match["student"]
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
    kept = lay.step("zips") / a.folder
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copy2(zip_path, kept / zip_path.name)
    return student


def collect(lay: layout.Layout, ident: str, from_dir: Path) -> tuple[list[str], list[str]]:
    a = schedule.load(lay.schedule).assignment(ident)
    if not from_dir or not Path(from_dir).is_dir():
        raise SystemExit(f"error: FROM must be a folder of {a.id}-<student>.zip files, got {from_dir!r}")
    collected, skipped = [], []
    zips = sorted(p for p in Path(from_dir).iterdir() if p.is_file() and p.suffix.lower() == ".zip")
    for zip_path in zips:
        try:
            student = collect_one(lay, a, zip_path)
        except ValueError as err:
            skipped.append(f"{zip_path.name}: {err}")
            print(f"skipped {zip_path.name}: {err}")
            continue
        collected.append(student)
        print(f"collected {zip_path.name} -> student {student}")
    print(f"{a.id}: {len(collected)} submission(s) collected, {len(skipped)} skipped, from {from_dir}")
    return collected, skipped


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--from", dest="from_dir", default="")
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.assignment:
        sys.exit("error: ASSIGNMENT is required, e.g. `make collect ASSIGNMENT=a1 FROM=inbox/`")
    if not args.from_dir:
        sys.exit("error: FROM is required: a folder holding a1-<student>.zip files")
    collect(layout.from_args(args), args.assignment, Path(args.from_dir))


if __name__ == "__main__":
    main()
