"""The one registry of real datasets: where each file comes from, its checksum and size, and how
it is unpacked; files are fetched with pooch (progress bar, sha256-checked) into the data folder.

    path = H.data.fetch("tinyshakespeare")     # -> <data dir>/tinyshakespeare.txt
    python -m helpers.datasets tinyshakespeare  # the same from a shell; no argument lists them

`fetch(name)` looks in `helpers.config.data_dir()` (COURSE_DATA_DIR, default <repo>/datasets):

- the file is there: it is used without the network. Its size and sha256 are checked the first
  time; the verdict is remembered in `.checksums.json` beside it (keyed by size and mtime), so a
  170 MB archive is hashed once, not at every load. A wrong checksum is an error, never a
  silent re-download over a file the user placed;
- it is not there: it is downloaded (each URL in turn) into a temporary file that pooch renames
  into place only once the sha256 matches — unless `download=False` or COURSE_OFFLINE=1, in
  which case `DatasetNotFoundError` says which file to put where and the command that fetches it.

Adding a dataset is one `register(Dataset(...))` here. Loaders that read the file live beside
their data (helpers/cifar.py for CIFAR-10, `H.data.load_text` for text corpora).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import config

__all__ = ["Dataset", "REGISTRY", "register", "DatasetNotFoundError", "DatasetChecksumError",
           "fetch", "local_path", "download_command"]

UNPACK = ("none", "untar", "unzip")
VERDICTS = ".checksums.json"


@dataclass(frozen=True)
class Dataset:
    """One file of a dataset and everything needed to get it and trust it."""

    name: str  # registry key, e.g. "tinyshakespeare"
    filename: str  # as stored in the data folder
    urls: tuple[str, ...]  # tried in order; https:// (pooch) or file:// (a local mirror)
    sha256: str
    size: int  # bytes
    unpack: str = "none"  # "none": used as is (a loader may read an archive in place);
    #                       "untar"/"unzip": extracted next to it into `extract_dir`
    description: str = ""
    source: str = ""  # who made it (paper, year)
    extract_dir: str = ""  # for untar/unzip; default: the file name without its suffixes

    def __post_init__(self):
        if self.unpack not in UNPACK:
            raise ValueError(f"{self.name}: unpack must be one of {UNPACK}, got {self.unpack!r}")
        if len(self.sha256) != 64 or not self.urls:
            raise ValueError(f"{self.name}: needs a sha256 (64 hex digits) and at least one URL")


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    REGISTRY[dataset.name] = dataset
    return dataset


register(Dataset(
    name="cifar10",
    filename="cifar-10-python.tar.gz",
    urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",  # md5 c58f3010...
    size=170_498_071,
    unpack="none",  # helpers/cifar.py reads the six pickled batches inside it in place
    description="CIFAR-10, the official python version: 50,000 + 10,000 colour images, 32x32, 10 classes",
    source="Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009",
))

register(Dataset(
    name="tinyshakespeare",
    filename="tinyshakespeare.txt",
    urls=("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
    sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    size=1_115_394,
    unpack="none",
    description="tiny-shakespeare: 40,000 lines of Shakespeare's plays in one UTF-8 text file",
    source="Karpathy, char-rnn, 2015",
))


class DatasetNotFoundError(FileNotFoundError):
    """The file is not in the data folder and may not (or could not) be downloaded now."""


def _not_found(name, root, reason) -> DatasetNotFoundError:
    err = DatasetNotFoundError(not_found_message(name, root, reason))
    err.reason = reason  # for loaders that word their own message (helpers/cifar.py)
    return err


class DatasetChecksumError(ValueError):
    """A file's size or sha256 is not the registry's: damaged, truncated or a different file."""


# --- looking things up --------------------------------------------------------------------------

def _entry(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no dataset {name!r} in the registry (have {', '.join(sorted(REGISTRY))})") from None


def _root(data_dir) -> Path:
    return Path(data_dir if data_dir is not None else config.data_dir()).expanduser().absolute()


def local_path(name: str, data_dir=None) -> Path:
    """Where `name`'s file is (or would be) in the data folder."""
    return _root(data_dir) / _entry(name).filename


def download_command(name: str, data_dir=None) -> str:
    """The shell command that fetches `name` into the data folder."""
    python = Path(sys.executable)
    try:  # `.venv/bin/python` reads better than a long absolute path, when it is the course's
        python = python.relative_to(config.REPO_ROOT)
    except ValueError:
        pass
    root = _root(data_dir)
    where = "" if root == _root(None) else f" --data-dir {root}"
    return f"{python} -m helpers.datasets {name}{where}"


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def not_found_message(name: str, data_dir, reason: str) -> str:
    """Say which file to put where, where it comes from, and the one command that downloads it."""
    ds, root = _entry(name), _root(data_dir)
    return (f"{ds.filename} ({name}) is not in {root}, and it cannot be downloaded now "
            f"({reason}).\n"
            f"  - put the file {ds.filename} ({_human(ds.size)}, sha256 {ds.sha256}) in {root}{os.sep}"
            f"\n    it is published at {ds.urls[0]}\n"
            f"  - or, with a network connection (and COURSE_OFFLINE unset), run from the repository root:\n"
            f"      {download_command(name, data_dir)}\n"
            f"Set COURSE_DATA_DIR to use another folder.")


# --- checking a file that is already there ------------------------------------------------------

def _sha256(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


def _read_verdicts(root: Path) -> dict:
    try:
        return json.loads((root / VERDICTS).read_text())
    except (OSError, ValueError):
        return {}


def _remember(root: Path, filename: str, key: dict) -> None:
    """Record that this exact file (size, mtime) was checked; a read-only folder only costs speed."""
    verdicts = _read_verdicts(root)
    verdicts[filename] = key
    try:
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f"{VERDICTS}-", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(verdicts, f, indent=1, sort_keys=True)
        os.replace(tmp, root / VERDICTS)
    except OSError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def verify(name: str, data_dir=None) -> Path:
    """Check the size and sha256 of `name`'s file in the data folder (hashing it at most once)."""
    ds, root = _entry(name), _root(data_dir)
    path = root / ds.filename
    stat = path.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": ds.sha256}
    if _read_verdicts(root).get(ds.filename) == key:
        return path
    fix = (f"Delete it and run `{download_command(name, data_dir)}`, or copy a good one from "
           f"{ds.urls[0]}.")
    if stat.st_size != ds.size:
        raise DatasetChecksumError(f"{path} has {stat.st_size:,} bytes, expected {ds.size:,}: it is "
                                   f"incomplete or not the registry's file. {fix}")
    got = _sha256(path)
    if got != ds.sha256:
        raise DatasetChecksumError(f"{path} is damaged or a different file (sha256 {got}, "
                                   f"expected {ds.sha256}). {fix}")
    _remember(root, ds.filename, key)
    return path


# --- downloading --------------------------------------------------------------------------------

def _file_downloader(url, output_file, pooch_obj, check_only=False):
    """pooch downloader for file:// URLs (a local mirror, and the tests)."""
    source = Path(unquote(urlparse(url).path))
    if check_only:
        return source.is_file()
    if hasattr(output_file, "write"):
        with open(source, "rb") as f:
            shutil.copyfileobj(f, output_file)
    else:
        shutil.copyfile(source, output_file)
    return None


def _download(ds: Dataset, root: Path, verbose: bool) -> Path:
    """Try each URL; pooch streams into a temp file and keeps it only if the sha256 matches."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("INFO" if verbose else "WARNING")
    errors = []
    try:
        for url in ds.urls:
            downloader = _file_downloader if url.startswith("file://") else None
            try:
                return Path(pooch.retrieve(url, known_hash=f"sha256:{ds.sha256}", fname=ds.filename,
                                           path=root, downloader=downloader, progressbar=verbose))
            except ValueError as exc:  # pooch: hash mismatch (the temp file is already gone)
                if "hash" not in str(exc).lower():
                    raise
                errors.append(DatasetChecksumError(
                    f"the download of {url} does not match the registry's sha256 ({exc}); "
                    f"nothing was kept"))
            except Exception as exc:  # requests' ConnectionError/HTTPError/Timeout, OSError, ...
                errors.append(exc)
    finally:
        logger.setLevel(level)
    if all(isinstance(e, DatasetChecksumError) for e in errors):
        raise DatasetChecksumError("; ".join(map(str, errors)) + ". Try again later.")
    reason = "download failed: " + "; ".join(f"{type(e).__name__}: {e}" for e in errors)
    raise _not_found(ds.name, root, reason)


def _unpacked(ds: Dataset, path: Path, action: str) -> Path:
    if ds.unpack == "none":
        return path
    import pooch

    folder = ds.extract_dir or ds.filename.split(".")[0]
    processor = (pooch.Untar if ds.unpack == "untar" else pooch.Unzip)(extract_dir=folder)
    processor(str(path), action, None)  # extracts unless every member is already there
    return path.parent / folder


def fetch(name: str, data_dir=None, download=None, verbose=True) -> Path:
    """Path of `name`'s file in the data folder (its extracted folder for untar/unzip entries).

    download: None (default) or True = fetch it when absent; False = never use the network.
    COURSE_OFFLINE=1 acts like False. A present file is used as is, once its checksum passed.
    """
    ds, root = _entry(name), _root(data_dir)
    path = root / ds.filename
    if path.is_file():
        return _unpacked(ds, verify(name, root), "fetch")
    if download is False or config.offline():
        reason = "download=False" if download is False else "COURSE_OFFLINE=1 is set"
        raise _not_found(name, root, reason)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _not_found(name, root, f"cannot write there: {exc}") from exc
    path = _download(ds, root, verbose)
    stat = path.stat()  # pooch checked the sha256: remember it, so the next call does not hash
    _remember(root, ds.filename, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": ds.sha256})
    return _unpacked(ds, path, "download")


# --- command line -------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.datasets",
        description="Download registered datasets into the data folder (checksum-verified), "
                    "or list them when no name is given.")
    parser.add_argument("names", nargs="*", help=f"one or more of: {', '.join(sorted(REGISTRY))}")
    parser.add_argument("--data-dir", type=Path, help="default: COURSE_DATA_DIR or <repo>/datasets")
    args = parser.parse_args(argv)
    if not args.names:
        root = _root(args.data_dir)
        print(f"Datasets in the registry (data folder {root}):")
        for ds in REGISTRY.values():
            here = "present" if (root / ds.filename).is_file() else "absent"
            print(f"  {ds.name:<16} {ds.filename:<26} {_human(ds.size):>9}  {here:<8} {ds.description}")
        return 0
    for name in args.names:
        if name not in REGISTRY:
            parser.error(f"unknown dataset {name!r}; have {', '.join(sorted(REGISTRY))}")
    status = 0
    for name in args.names:
        try:
            print(f"{name}: {fetch(name, args.data_dir, download=True)}")
        except (DatasetNotFoundError, DatasetChecksumError) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
