"""Real CIFAR-10 (Krizhevsky, 2009): find it, check it, cache it, or download it.

`load_cifar10()` looks inside the data folder (`helpers.config.data_dir()`, i.e. COURSE_DATA_DIR or
<repo>/datasets) for, in this order:

1. `cifar10.npz` — our own cache of the four uint8/int64 arrays (uncompressed: loads in < 2 s);
2. `cifar-10-batches-py/` — the official python-pickle batches, already extracted;
3. `cifar-10-python.tar.gz` — the official archive, read in place (nothing is extracted);
4. `cifar10-jpeg.tar.gz` — an image folder `train/<class>/*.jpg`, `test/<class>/*.jpg`
   (optionally under one top-level folder), streamed and decoded with PIL.

After reading 2-4 the cache is written atomically, so the second call is fast. If nothing is
found, the official archive is downloaded through the dataset registry (helpers/datasets.py:
pooch, progress bar, sha256-checked) — unless `download=False` or COURSE_OFFLINE=1, in which
case `CifarNotFoundError` says what to put where.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from . import config, datasets

__all__ = ["CIFAR10_CLASSES", "CIFAR10_URL", "CIFAR10_SHA256", "CifarNotFoundError",
           "CifarArchiveError", "load_cifar10"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR10_URL = datasets.REGISTRY["cifar10"].urls[0]  # the registry entry is the one source
CIFAR10_SHA256 = datasets.REGISTRY["cifar10"].sha256

CACHE_NAME = "cifar10.npz"
BATCHES_DIR = "cifar-10-batches-py"
OFFICIAL_ARCHIVE = datasets.REGISTRY["cifar10"].filename  # cifar-10-python.tar.gz
JPEG_ARCHIVE = "cifar10-jpeg.tar.gz"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
_KEYS = ("X_train", "y_train", "X_test", "y_test")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class CifarNotFoundError(datasets.DatasetNotFoundError):
    """CIFAR-10 is not in the data folder and may not be downloaded (offline or download=False)."""


class CifarArchiveError(ValueError):
    """A CIFAR-10 file is corrupted, truncated or not laid out like CIFAR-10."""


def load_cifar10(data_dir=None, download=None, verbose=True):
    """Load CIFAR-10 as X_train (50000, 32, 32, 3) uint8, y_train int64, X_test, y_test.

    data_dir: folder to look in and cache to (default `helpers.config.data_dir()`).
    download: None (default) or True = if nothing is found locally, fetch the official archive
      (sha256-checked, through helpers/datasets.py); False = never use the network. COURSE_OFFLINE=1 acts like False.
    verbose: progress bars and one line saying where the data came from.
    """
    root = Path(data_dir if data_dir is not None else config.data_dir()).expanduser().absolute()
    found = _load_local(root, verbose)
    if found is None:
        if download is False or config.offline():
            reason = "download=False" if download is False else "COURSE_OFFLINE=1 is set"
            raise CifarNotFoundError(_not_found_message(root, reason))
        _download(root, verbose)
        found = _load_local(root, verbose)
    arrays, source = found
    cached = source.name != CACHE_NAME and _write_cache(root / CACHE_NAME, arrays)
    if verbose:
        print(f"CIFAR-10 from {source}: {len(arrays['X_train'])} train / "
              f"{len(arrays['X_test'])} test images."
              + (f" Cached as {root / CACHE_NAME} for fast loading next time." if cached else ""))
    return tuple(arrays[k] for k in _KEYS)


def _load_local(root, verbose):
    """(arrays, path) from the first local source present, in the documented order, else None."""
    sources = [(root / CACHE_NAME, _read_cache),
               (root / BATCHES_DIR, _read_batches_dir),
               (root / OFFICIAL_ARCHIVE, _read_official_archive),
               (root / JPEG_ARCHIVE, _read_image_folder_archive)]
    for path, reader in sources:
        if path.exists():
            arrays = reader(path, verbose)
            _validate(arrays, path)
            return arrays, path
    return None


# --- errors ------------------------------------------------------------------------------------

_CORRUPTION = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def _corrupted(path, exc, detail=""):
    """Error for a damaged file: name it and say how to get a good copy."""
    return CifarArchiveError(
        f"{path} is corrupted or truncated{detail} ({type(exc).__name__}: {exc}). Delete it and "
        f"download or copy it again ({CIFAR10_URL}, or `H.data.load_cifar10(download=True)` "
        f"once the file is gone).")


@contextlib.contextmanager
def _reading(path):
    """Turn the many low-level 'this file is broken' exceptions into one clear error."""
    try:
        yield
    except _CORRUPTION as exc:
        raise _corrupted(path, exc) from exc


def _bad_layout(path, problem):
    """Error for a readable file whose content is not CIFAR-10 as we expect it."""
    return CifarArchiveError(
        f"{path} does not look like CIFAR-10: {problem}. Replace it with the official archive "
        f"({CIFAR10_URL}) or a cifar10-jpeg.tar.gz with train/<class>/*.jpg and "
        f"test/<class>/*.jpg for the classes {', '.join(CIFAR10_CLASSES)}.")


def _not_found_message(root, reason):
    """Say exactly what to download or place, and where, and how to do it from Python."""
    return (
        f"CIFAR-10 was not found in {root} (looked for {CACHE_NAME}, {BATCHES_DIR}/, "
        f"{OFFICIAL_ARCHIVE} and {JPEG_ARCHIVE}) and it cannot be downloaded now ({reason}).\n"
        f"To get it, do one of:\n"
        f"  - download {CIFAR10_URL} (about 170 MB, sha256 {CIFAR10_SHA256}) and put it, "
        f"unextracted, in {root}{os.sep}\n"
        f"  - put an image-folder archive {JPEG_ARCHIVE} (train/<class>/*.jpg, "
        f"test/<class>/*.jpg) in {root}{os.sep}\n"
        f"  - with a network connection (and COURSE_OFFLINE unset), run from the repository root:\n"
        f"      {datasets.download_command('cifar10', root)}\n"
        f"    or in Python: import helpers as H; H.data.load_cifar10(download=True)\n"
        f"Set COURSE_DATA_DIR to use another folder.")


# --- checks ------------------------------------------------------------------------------------

def _validate(arrays, path):
    """Shapes, dtypes, label range and balanced classes: catch a wrong archive before caching it."""
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.dtype != np.uint8 or X.ndim != 4 or X.shape[1:] != (32, 32, 3):
            raise _bad_layout(path, f"{split} images have shape {X.shape} and dtype {X.dtype}, "
                                    f"expected (N, 32, 32, 3) uint8")
        if y.shape != (len(X),):
            raise _bad_layout(path, f"{len(X)} {split} images but labels of shape {y.shape}")
        if len(y) and (y.min() < 0 or y.max() >= len(CIFAR10_CLASSES)):
            raise _bad_layout(path, f"{split} labels outside 0..9")
        counts = np.bincount(y, minlength=len(CIFAR10_CLASSES))
        missing = [c for c, n in zip(CIFAR10_CLASSES, counts) if n == 0]
        if missing:
            raise _bad_layout(path, f"no {split} images of class {', '.join(missing)}")
        if counts.min() != counts.max():
            per_class = ", ".join(f"{c}={n}" for c, n in zip(CIFAR10_CLASSES, counts))
            raise _bad_layout(path, f"{split} classes are unbalanced ({per_class})")


# --- source 1: our cache -----------------------------------------------------------------------

def _read_cache(path, verbose=False):
    """Plain (uncompressed) npz, so the 180 MB of pixels load at disk/page-cache speed."""
    try:
        with np.load(path) as z:
            return {k: z[k] for k in _KEYS}
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CifarArchiveError(f"the cache {path} is unreadable ({exc}). Delete it; the next "
                                f"load rebuilds it from the archive next to it.") from exc


def _write_cache(path, arrays):
    """Write to a temp file and rename, so a crash or a parallel run never leaves half a cache.

    Returns whether it worked; a read-only data folder only costs speed, so it just warns.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
    except OSError as exc:
        warnings.warn(f"could not cache CIFAR-10 in {path.parent} ({exc}); the next load will "
                      f"be slow again.", stacklevel=3)
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is ordinary data
        os.replace(tmp, path)
        return True
    except OSError as exc:
        warnings.warn(f"could not write the CIFAR-10 cache {path} ({exc}).", stacklevel=3)
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)


# --- sources 2 and 3: the official python batches -----------------------------------------------

class _ArrayUnpickler(pickle.Unpickler):
    """Unpickle only containers and numpy arrays, so a batch file cannot run arbitrary code."""

    _NUMPY_NAMES = {"_reconstruct", "ndarray", "dtype", "_frombuffer", "scalar"}

    def find_class(self, module, name):
        if (module.split(".")[0] == "numpy" and name in self._NUMPY_NAMES) or \
                (module, name) == ("_codecs", "encode"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")


def _parse_batch(fileobj, path):
    """One batch file -> images (N, 32, 32, 3) uint8 and labels (N,) int64."""
    try:  # Python 2 wrote these files; latin1 maps its byte strings to str one to one
        batch = _ArrayUnpickler(fileobj, encoding="latin1").load()
    except Exception as exc:  # damaged bytes can make unpickling fail in almost any way
        raise _corrupted(path, exc) from exc
    if not isinstance(batch, dict):
        raise _bad_layout(path, f"a batch holds a {type(batch).__name__}, not a dict")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise _bad_layout(path, f"a batch has keys {sorted(batch)}, expected 'data' and 'labels'")
    try:
        data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise _bad_layout(path, f"batch labels are not integers ({exc})") from exc
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise _bad_layout(path, f"batch data has shape {data.shape} and dtype {data.dtype}, "
                                f"expected (N, 3072) uint8")
    if labels.shape != (len(data),):
        raise _bad_layout(path, f"a batch has {len(data)} images but {labels.size} labels")
    # Rows are channel-major (all red, then green, then blue); the course uses NHWC.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _stack_batches(batches, path):
    """Concatenate data_batch_1..5 (train) and test_batch (test), naming any that is missing."""
    missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if n not in batches]
    if missing:
        raise _bad_layout(path, f"missing batch file(s) {', '.join(missing)}")
    train = [batches[n] for n in TRAIN_BATCHES]
    return {"X_train": np.ascontiguousarray(np.concatenate([x for x, _ in train])),
            "y_train": np.concatenate([y for _, y in train]),
            "X_test": np.ascontiguousarray(batches[TEST_BATCH][0]),
            "y_test": batches[TEST_BATCH][1]}


def _read_batches_dir(folder, verbose=False):
    """The extracted official folder: cifar-10-batches-py/data_batch_1..5 and test_batch."""
    batches = {}
    for name in (*TRAIN_BATCHES, TEST_BATCH):
        if (folder / name).is_file():
            with open(folder / name, "rb") as f:
                batches[name] = _parse_batch(f, folder / name)
    return _stack_batches(batches, folder)


@contextlib.contextmanager
def _gzip_tar_stream(path):
    """Stream a .tar.gz member by member, then read to the end so gzip checks length and CRC.

    tarfile alone stops at the end-of-archive marker and quietly ends early on a garbled header,
    so a damaged archive could pass for a smaller valid one. Draining the gzip stream turns any
    damage into an error; it is also done before reporting a layout error, because garbage
    member names or images are usually damage, and "delete and re-download" is the right advice.
    """
    with _reading(path), gzip.open(path, "rb") as gz:
        try:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                yield tar
        except CifarArchiveError:
            _drain(gz)
            raise
        _drain(gz)


def _drain(fileobj):
    while fileobj.read(1 << 20):
        pass


def _read_official_archive(path, verbose=True):
    """cifar-10-python.tar.gz read in place: only the six batch files are unpickled."""
    wanted = {*TRAIN_BATCHES, TEST_BATCH}
    batches = {}
    with _gzip_tar_stream(path) as tar:
        for member in tqdm(tar, desc=f"Reading {path.name}", unit=" files", disable=not verbose):
            name = PurePosixPath(member.name).name
            if member.isfile() and name in wanted:
                batches[name] = _parse_batch(tar.extractfile(member), path)
    return _stack_batches(batches, path)


# --- source 4: an image-folder archive of JPEGs --------------------------------------------------

def _split_and_label(name, path):
    """'[top/]train/cat/0001.jpg' -> ('train', 3); anything else is a layout error."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    split, cls = (parts[-3], parts[-2]) if len(parts) >= 3 else ("", "")
    if split not in ("train", "test"):
        raise _bad_layout(path, f"image {name!r} is not under train/<class>/ or test/<class>/")
    if cls not in CIFAR10_CLASSES:
        raise _bad_layout(path, f"image {name!r} is in an unknown class folder {cls!r}")
    return split, CIFAR10_CLASSES.index(cls)


def _decode(data, name, path):
    """JPEG/PNG bytes -> (32, 32, 3) uint8; an undecodable image means a damaged archive."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            image = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    except Exception as exc:  # PIL raises OSError, ValueError, SyntaxError... on bad bytes
        raise _corrupted(path, exc, f": cannot decode {name!r}") from exc
    if image.shape != (32, 32, 3):
        raise _bad_layout(path, f"image {name!r} is {image.shape[1]}x{image.shape[0]}, not 32x32")
    return image


def _is_image(name):
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(_IMAGE_SUFFIXES) and not base.startswith(".")  # skip macOS ._x


def _read_image_folder_archive(path, verbose=True):
    """Stream cifar10-jpeg.tar.gz without extracting it, decoding each image as it arrives.

    One process on purpose: PIL spends most of its per-image time in Python, so threads do not
    help, and on a shared 2-core machine two decoder processes were not measurably faster.
    Images are sorted by path, so the order never depends on how the archive was packed.
    """
    names, splits, labels, images = [], [], [], []
    with _gzip_tar_stream(path) as tar:
        for member in tqdm(tar, desc=f"Decoding {path.name}", unit=" files",
                           disable=not verbose, mininterval=0.5):
            if member.isfile() and _is_image(member.name):
                split, label = _split_and_label(member.name, path)
                names.append(member.name), splits.append(split), labels.append(label)
                images.append(_decode(tar.extractfile(member).read(), member.name, path))
    order = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    is_train = np.array(splits)[order] == "train"
    train, test, labels = order[is_train], order[~is_train], np.array(labels, dtype=np.int64)
    images = np.stack(images) if images else np.zeros((0, 32, 32, 3), np.uint8)
    return {"X_train": images[train], "y_train": labels[train],
            "X_test": images[test], "y_test": labels[test]}


# --- download ----------------------------------------------------------------------------------

def _download(root, verbose):
    """The official archive through the registry: pooch keeps it only if the sha256 matches."""
    try:
        return datasets.fetch("cifar10", root, download=True, verbose=verbose)
    except datasets.DatasetChecksumError as exc:
        raise CifarArchiveError(str(exc)) from exc
    except datasets.DatasetNotFoundError as exc:
        raise CifarNotFoundError(_not_found_message(root, getattr(exc, "reason", str(exc)))) from exc
