"""The nbgrader exchange, for a course on a shared JupyterHub (assignments/hub/).

    python -m assignments.pipeline.exchange publish --assignment a1 [--exchange DIR]
    python -m assignments.pipeline.exchange publish --week 3 [--exchange DIR]
    python -m assignments.pipeline.exchange collect --assignment a1 [--exchange DIR]

publish: the stubs `make release` generated (build/nbgrader/release/<folder>/) go to
  <exchange>/dlcv/outbound/<folder>/ through nbgrader's own release_assignment. Students fetch
  them from JupyterLab's "Assignments" panel (or `nbgrader fetch_assignment <folder>`).
collect: nbgrader's submit leaves <exchange>/dlcv/inbound/<student>+<folder>+<timestamp>+<random>/.
  For each student the latest submission is packed, notebooks only, as <id>-<student>.zip (the
  zip's time is the submission's) into build/nbgrader/exchange_inbox/<folder>/, and that folder
  goes through collect.py like any inbox: same checks, same submitted/ layout, the zip kept
  under zips/ for audit, then the same sandboxed autograde.

The exchange is only ever read by collect: submissions stay there as the students left them.
A submission whose folder is owned by another account than the student it names (on a hub with
one account per student) is reported and skipped, not collected: nbgrader's inbound is writable
by every student, so the name alone proves nothing.

The exchange folder: --exchange, else $COURSE_EXCHANGE, else <build>/exchange.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import collect, gradebook, layout, lms, schedule

ENV = "COURSE_EXCHANGE"


def exchange_root(lay: layout.Layout, given: str | Path | None = None) -> Path:
    chosen = given or os.environ.get(ENV) or lay.build / "exchange"
    return Path(chosen).expanduser().resolve()


def course_dir(root: Path) -> Path:
    return root / gradebook.COURSE_ID


# ---------------------------------------------------------------- publish


def _check_publishable(root: Path) -> None:
    """A clear message before nbgrader's own (which says only 'permission denied')."""
    if root.exists() and not root.is_dir():
        raise SystemExit(f"error: EXCHANGE={root} is a file, not a folder. Pass a folder (it is created "
                         "if missing), e.g. EXCHANGE=build/exchange, or the one your hub's config uses.")
    existing = next(p for p in [root, *root.parents] if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SystemExit(f"error: cannot create or write the exchange {root}: {existing} is not writable "
                         f"by this account. Create it as an administrator (mkdir -p {root} && chmod 777 {root}) "
                         "or pass another folder with EXCHANGE=...")


def publish(lay: layout.Layout, ident: str, root: Path) -> Path:
    """Put the released stubs of one assignment into the exchange; return its outbound folder."""
    a = schedule.load(lay.schedule).assignment(ident)
    released = lay.step("release") / a.folder
    if not any(released.glob("*.ipynb")):
        raise SystemExit(f"error: {a.id} ({a.folder}) has not been released: run `make release WEEK=N` "
                         f"(N >= its release week, {a.release_week}) first, then publish it.")
    _check_publishable(root)
    nbgrader = gradebook.api(lay, Exchange={"root": str(root)}, ExchangeReleaseAssignment={"force": True})
    try:
        gradebook.check(nbgrader.release_assignment(a.folder), f"release_assignment of {a.folder} to {root}")
    except RuntimeError as err:  # nbgrader's reason is the last line of its log
        reason = [line for line in str(err).splitlines() if line.strip()][-1]
        raise SystemExit(f"error: could not publish {a.id} to the exchange {root}: {reason}\n"
                         "The exchange must be a folder this account owns or may change "
                         f"(mkdir -p {root} && chmod 777 {root}), or pass another EXCHANGE=.") from None
    outbound = course_dir(root) / "outbound" / a.folder
    names = sorted(p.name for p in outbound.glob("*.ipynb"))
    print(f"published {a.id} ({a.folder}) to the exchange {root}: {', '.join(names)}")
    return outbound


def publish_week(lay: layout.Layout, week: int, root: Path) -> list[str]:
    """Publish every assignment released by `week` (those `make release` generated)."""
    done = []
    for a in schedule.load(lay.schedule).assignments_until(week):
        if any((lay.step("release") / a.folder).glob("*.ipynb")):
            publish(lay, a.id, root)
            done.append(a.id)
        else:
            print(f"note: {a.id} ({a.folder}) was not released (no stubs in {lay.step('release')}); not published")
    return done


# ---------------------------------------------------------------- collect


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    submitted: datetime


def _submission_name(folder: str) -> re.Pattern:
    # nbgrader submit: <student>+<assignment>+<timestamp>[+<random>], the random part without '+'
    return re.compile(rf"^(?P<student>[^+]+)\+{re.escape(folder)}\+(?P<stamp>[^+]+)(\+[^+]*)?$")


def inbound_dir(root: Path) -> Path:
    """The exchange's inbound folder, or a SystemExit that says what to do."""
    if not root.is_dir():
        raise SystemExit(f"error: the exchange {root} does not exist. Publish to it first "
                         f"(`make release WEEK=N EXCHANGE={root}` or `make publish ASSIGNMENT=a1 EXCHANGE={root}`), "
                         "or pass the exchange your hub uses: EXCHANGE=<its Exchange.root>.")
    inbound = course_dir(root) / "inbound"
    if not inbound.is_dir():
        found = sorted(p.name for p in root.iterdir() if (p / "inbound").is_dir())
        raise SystemExit(f"error: {root} holds no course {gradebook.COURSE_ID!r} (no {inbound}); "
                         + (f"it has: {', '.join(found)}. " if found else "")
                         + "Publish an assignment there first, or pass the right EXCHANGE=.")
    if not os.access(inbound, os.R_OK | os.X_OK):
        raise SystemExit(f"error: cannot list {inbound} as this account; collect as the instructor "
                         "account that published the assignment (or root).")
    return inbound


def _owner_conflict(path: Path, student: str) -> str | None:
    """Why `path` may not be `student`'s, or None. Our own account (one-account hubs, tests) is trusted."""
    uid = path.lstat().st_uid
    if uid == os.getuid():
        return None
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = f"uid {uid}"
    return None if owner == student else f"names student {student!r} but is owned by {owner!r}"


def submissions(root: Path, folder: str) -> tuple[list[Submission], list[str]]:
    """The latest submission of each student, and what was skipped (with why)."""
    pattern, latest, skipped = _submission_name(folder), {}, []
    for entry in sorted(inbound_dir(root).iterdir()):
        match = pattern.match(entry.name)
        if not match:
            continue  # another assignment's
        why = None
        if entry.is_symlink() or not entry.is_dir():
            why = "is not a plain folder"
        else:
            why = _owner_conflict(entry, match["student"])
        stamp = lms.parse_timestamp(match["stamp"])
        if why is None and stamp is None:
            why = f"has an unreadable timestamp {match['stamp']!r}"
        if why:
            skipped.append(f"{entry.name}: {why}")
            continue
        sub = Submission(entry, match["student"], stamp)
        if sub.student not in latest or sub.submitted > latest[sub.student].submitted:
            latest[sub.student] = sub
    return sorted(latest.values(), key=lambda s: s.student), skipped


def _read_plain_file(path: Path) -> bytes | None:
    """The bytes of a regular file within the size cap, else None. O_NOFOLLOW, and the check on
    the open descriptor: a link swapped in after a check would still not be followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > collect.MAX_NOTEBOOK_BYTES:
            return None
        data = fh.read(collect.MAX_NOTEBOOK_BYTES + 1)  # it may have grown since fstat
    return data if len(data) <= collect.MAX_NOTEBOOK_BYTES else None


def pack(sub: Submission, a: schedule.Assignment, inbox: Path) -> Path:
    """<id>-<student>.zip of the submission's notebooks (regular files only: a student's symlink
    must not make us read a file of ours), dated with the submission time."""
    target = inbox / f"{a.id}-{sub.student}.zip"
    when = sub.submitted.astimezone().timetuple()[:6]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for nb in sorted(sub.path.glob("*.ipynb")):
            data = _read_plain_file(nb)
            if data is None:
                print(f"skipped {sub.path.name}/{nb.name}: not a regular file, or larger than "
                      f"{collect.MAX_NOTEBOOK_BYTES // 2**20} MiB (graded as missing)")
                continue
            zf.writestr(zipfile.ZipInfo(f"{a.folder}/{nb.name}", when), data)
        zf.writestr(zipfile.ZipInfo(f"{a.folder}/exchange_submission.txt", when), sub.path.name + "\n")
    stamp = sub.submitted.timestamp()
    os.utime(target, (stamp, stamp))
    return target


def collect_from_exchange(lay: layout.Layout, ident: str, root: Path) -> tuple[list[str], list[str]]:
    a = schedule.load(lay.schedule).assignment(ident)
    subs, skipped = submissions(root, a.folder)
    for line in skipped:
        print(f"skipped {line}")
    inbox = lay.step("exchange_inbox") / a.folder  # rebuilt from the exchange on every collect
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for sub in subs:
        pack(sub, a, inbox)
        print(f"exchange: {sub.path.name} -> {a.id}-{sub.student}.zip")
    print(f"{a.id}: {len(subs)} student(s) in the exchange {root}")
    collected, rejected = collect.collect(lay, ident, inbox)
    return collected, skipped + rejected


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["publish", "collect"])
    parser.add_argument("--assignment", default="")
    parser.add_argument("--week", default=None, help="publish: every assignment released by this week")
    parser.add_argument("--exchange", default="", help=f"default: ${ENV}, else <build>/exchange")
    layout.add_arguments(parser)
    args = parser.parse_args(argv)
    lay = layout.from_args(args)
    root = exchange_root(lay, args.exchange or None)
    if args.action == "publish" and args.week is not None and not args.assignment:
        publish_week(lay, schedule.parse_week(args.week), root)
    elif not args.assignment:
        sys.exit(f"error: ASSIGNMENT is required, e.g. `make {'publish' if args.action == 'publish' else 'collect'} "
                 "ASSIGNMENT=a1" + (" FROM=exchange`" if args.action == "collect" else "`"))
    elif args.action == "publish":
        publish(lay, args.assignment, root)
    else:
        collect_from_exchange(lay, args.assignment, root)


if __name__ == "__main__":
    main()
