"""helpers.cifar on tiny fake CIFAR-10 files in every supported format (no network, no ../shared).

Fake images are flat colours, so JPEG round trips stay within a few grey levels, and the blue
channel carries a per-source tag so the precedence test can tell which source was read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import shutil
import struct
import tarfile
from pathlib import Path

import numpy as np
import pooch
import pytest
from PIL import Image

from helpers import cifar, datasets
from helpers.cifar import CIFAR10_CLASSES, CifarArchiveError, CifarNotFoundError, load_cifar10

JPEG_TOLERANCE = 4


# --- fake data -----------------------------------------------------------------------------------

def fake_arrays(tag=0, train_per_class=2, test_per_class=1):
    """Class-sorted flat-colour images: red = class, green = index, blue = source tag."""
    out = {}
    for split, n in (("train", train_per_class), ("test", test_per_class)):
        y = np.repeat(np.arange(10, dtype=np.int64), n)
        colours = np.stack([20 * y + 10, (37 * np.arange(len(y))) % 200 + 20,
                            np.full(len(y), 60 * tag + 10)], axis=1).astype(np.uint8)
        out[f"X_{split}"] = np.broadcast_to(colours[:, None, None, :], (len(y), 32, 32, 3)).copy()
        out[f"y_{split}"] = y
    return out


class Py2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 'str' (BINSTRING), as the official 2009 files do."""

    def save_binstring(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch = {**pickle._Pickler.dispatch, str: save_binstring, bytes: save_binstring}


def py2_style_pickle(obj):
    """Pickle like the official files: Python 2 strings, protocol 2, numpy 1.x module paths."""
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"cnumpy._core.", b"cnumpy.core.")


def write_batches_dir(folder, arrays):
    """cifar-10-batches-py/: data_batch_1..5 (the train set split in 5) and test_batch."""
    folder.mkdir(parents=True)
    to_rows = lambda X: X.transpose(0, 3, 1, 2).reshape(len(X), -1)  # channel-major rows
    train = zip(np.array_split(arrays["X_train"], 5), np.array_split(arrays["y_train"], 5))
    files = {f"data_batch_{i}": batch for i, batch in enumerate(train, start=1)}
    files["test_batch"] = (arrays["X_test"], arrays["y_test"])
    for name, (X, y) in files.items():
        batch = {"batch_label": name, "labels": [int(v) for v in y],
                 "data": to_rows(X), "filenames": ["x.png"] * len(y)}
        (folder / name).write_bytes(py2_style_pickle(batch))
    (folder / "batches.meta").write_bytes(py2_style_pickle({"label_names": list(CIFAR10_CLASSES)}))
    return folder


def reproducible(info):
    """Same bytes on every run, so damage tests hit the same spot every time."""
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def write_official_archive(path, arrays):
    staging = path.parent / "staging"
    write_batches_dir(staging / cifar.BATCHES_DIR, arrays)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging / cifar.BATCHES_DIR, arcname=cifar.BATCHES_DIR, filter=reproducible)
    shutil.rmtree(staging)
    return path


def jpeg_members(arrays, top=None, size=32):
    """(name, bytes) for [top/]train/<class>/NNNN.jpg and test/...; names sort in array order."""
    for split in ("train", "test"):
        for i, (image, label) in enumerate(zip(arrays[f"X_{split}"], arrays[f"y_{split}"])):
            buf = io.BytesIO()
            Image.fromarray(image).resize((size, size)).save(buf, format="JPEG", quality=95)
            name = f"{split}/{CIFAR10_CLASSES[label]}/{i:04d}.jpg"
            yield (f"{top}/{name}" if top else name), buf.getvalue()


def write_tar_gz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_jpeg_archive(path, arrays, top=None):
    return write_tar_gz(path, jpeg_members(arrays, top))


def assert_same(got, arrays, tolerance=0):
    X_train, y_train, X_test, y_test = got
    for X, y, split in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        assert X.dtype == np.uint8 and X.shape == arrays[f"X_{split}"].shape
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, arrays[f"y_{split}"])
        diff = np.abs(X.astype(int) - arrays[f"X_{split}"]).max()
        assert diff <= tolerance, f"{split} pixels differ by {diff}"


def leftovers(root):
    """Files a failed load must not leave behind: a cache or temp files."""
    return sorted(p.name for p in root.iterdir() if p.name == cifar.CACHE_NAME or
                  p.name.endswith(".part"))


def load(root, **kwargs):
    return load_cifar10(data_dir=root, download=False, verbose=False, **kwargs)


# --- every format loads --------------------------------------------------------------------------

def test_batches_folder_loads_exactly(tmp_path):
    arrays = fake_arrays()
    write_batches_dir(tmp_path / cifar.BATCHES_DIR, arrays)
    assert_same(load(tmp_path), arrays)


def test_official_archive_loads_exactly_and_is_cached(tmp_path):
    arrays = fake_arrays()
    archive = write_official_archive(tmp_path / cifar.OFFICIAL_ARCHIVE, arrays)
    assert_same(load(tmp_path), arrays)
    assert (tmp_path / cifar.CACHE_NAME).exists()
    assert not (tmp_path / cifar.BATCHES_DIR).exists()  # read in place, never extracted
    archive.unlink()  # the second call must not need the archive
    assert_same(load(tmp_path), arrays)


@pytest.mark.parametrize("top", [None, "cifar10"])
def test_jpeg_archive_loads_and_is_cached(tmp_path, top):
    arrays = fake_arrays(train_per_class=3, test_per_class=2)
    archive = write_jpeg_archive(tmp_path / cifar.JPEG_ARCHIVE, arrays, top)
    assert_same(load(tmp_path), arrays, JPEG_TOLERANCE)
    archive.unlink()
    assert_same(load(tmp_path), arrays, JPEG_TOLERANCE)
    assert leftovers(tmp_path) == [cifar.CACHE_NAME]


def test_jpeg_archive_order_does_not_depend_on_packing(tmp_path):
    arrays = fake_arrays()
    members = list(jpeg_members(arrays))[::-1]
    write_tar_gz(tmp_path / cifar.JPEG_ARCHIVE, members)
    assert_same(load(tmp_path), arrays, JPEG_TOLERANCE)


def test_verbose_says_where_the_data_came_from(tmp_path, capsys):
    write_batches_dir(tmp_path / cifar.BATCHES_DIR, fake_arrays())
    load_cifar10(data_dir=tmp_path, download=False, verbose=True)
    out = capsys.readouterr().out
    assert str(tmp_path / cifar.BATCHES_DIR) in out and "Cached as" in out
    load_cifar10(data_dir=tmp_path, download=False, verbose=True)
    assert str(tmp_path / cifar.CACHE_NAME) in capsys.readouterr().out


def test_failed_cache_write_only_warns_and_leaves_nothing(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(cifar.np, "savez", disk_full)
    arrays = fake_arrays()
    write_batches_dir(tmp_path / cifar.BATCHES_DIR, arrays)
    with pytest.warns(UserWarning, match="No space left"):
        assert_same(load(tmp_path), arrays)
    assert leftovers(tmp_path) == []


def test_data_dir_defaults_to_course_data_dir(tmp_path, monkeypatch):
    arrays = fake_arrays()
    write_batches_dir(tmp_path / cifar.BATCHES_DIR, arrays)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert_same(load_cifar10(download=False, verbose=False), arrays)


def test_sources_are_used_in_the_documented_order(tmp_path):
    cache, folder = tmp_path / cifar.CACHE_NAME, tmp_path / cifar.BATCHES_DIR
    np.savez(cache, **fake_arrays(tag=0))
    write_batches_dir(folder, fake_arrays(tag=1))
    write_official_archive(tmp_path / cifar.OFFICIAL_ARCHIVE, fake_arrays(tag=2))
    write_jpeg_archive(tmp_path / cifar.JPEG_ARCHIVE, fake_arrays(tag=3))
    tag = lambda: int(round((load(tmp_path)[0][..., 2].mean() - 10) / 60))
    assert tag() == 0
    cache.unlink()
    assert tag() == 1
    cache.unlink(), shutil.rmtree(folder)
    assert tag() == 2
    cache.unlink(), (tmp_path / cifar.OFFICIAL_ARCHIVE).unlink()
    assert tag() == 3


# --- broken files: a clear error and nothing cached ---------------------------------------------

def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def scramble(where):
    def damage(path):
        data = bytearray(path.read_bytes())
        start = int(len(data) * where)
        data[start:start + 64] = bytes((b ^ 0x5A) for b in data[start:start + 64])
        path.write_bytes(bytes(data))
    damage.__name__ = f"scramble_at_{where}"
    return damage


@pytest.mark.parametrize("damage", [truncate, scramble(0.25), scramble(0.5), scramble(0.75)],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("name, writer", [(cifar.OFFICIAL_ARCHIVE, write_official_archive),
                                          (cifar.JPEG_ARCHIVE, write_jpeg_archive)])
def test_damaged_archive_gives_clear_error_and_no_cache(tmp_path, name, writer, damage):
    archive = writer(tmp_path / name, fake_arrays(train_per_class=20, test_per_class=5))
    damage(archive)
    with pytest.raises(CifarArchiveError, match="corrupted") as err:
        load(tmp_path)
    assert str(archive) in str(err.value) and "Delete it" in str(err.value)
    assert leftovers(tmp_path) == []


def test_truncated_batch_file_gives_clear_error(tmp_path):
    folder = write_batches_dir(tmp_path / cifar.BATCHES_DIR, fake_arrays())
    truncate(folder / "data_batch_3")
    with pytest.raises(CifarArchiveError, match="data_batch_3 is corrupted"):
        load(tmp_path)
    assert leftovers(tmp_path) == []


def test_batch_file_cannot_run_code(tmp_path):
    folder = write_batches_dir(tmp_path / cifar.BATCHES_DIR, fake_arrays())
    evil = b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR."
    (folder / "data_batch_1").write_bytes(evil)
    with pytest.raises(CifarArchiveError, match="corrupted"):
        load(tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_unreadable_cache_gives_clear_error(tmp_path):
    (tmp_path / cifar.CACHE_NAME).write_bytes(b"not a zip file")
    with pytest.raises(CifarArchiveError, match="Delete it"):
        load(tmp_path)


def drop_class(members, cls):
    return [(n, d) for n, d in members if f"/{cls}/" not in n]


@pytest.mark.parametrize("members, message", [
    (drop_class(jpeg_members(fake_arrays()), "truck"), "no train images of class truck"),
    (list(jpeg_members(fake_arrays()))[1:], "train classes are unbalanced"),
    (list(jpeg_members(fake_arrays(), size=28)), "not 32x32"),
    ([(n.replace("/cat/", "/kitten/"), d) for n, d in jpeg_members(fake_arrays())],
     "unknown class folder 'kitten'"),
    ([(n.replace("test/", "val/"), d) for n, d in jpeg_members(fake_arrays())],
     "not under train/<class>/"),
])
def test_jpeg_archive_layout_errors(tmp_path, members, message):
    write_tar_gz(tmp_path / cifar.JPEG_ARCHIVE, members)
    with pytest.raises(CifarArchiveError, match=message):
        load(tmp_path)
    assert leftovers(tmp_path) == []


def test_batches_folder_layout_errors(tmp_path):
    folder = write_batches_dir(tmp_path / cifar.BATCHES_DIR, fake_arrays())
    (folder / "data_batch_3").unlink()
    with pytest.raises(CifarArchiveError, match="missing batch file.*data_batch_3"):
        load(tmp_path)
    (folder / "data_batch_3").write_bytes(py2_style_pickle(
        {"data": np.zeros((2, 1024), np.uint8), "labels": [0, 1]}))
    with pytest.raises(CifarArchiveError, match="expected \\(N, 3072\\) uint8"):
        load(tmp_path)
    assert leftovers(tmp_path) == []


# --- not found / offline ------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network must not be used")
    monkeypatch.setattr(datasets, "_download", refuse)
    monkeypatch.setattr(pooch, "retrieve", refuse)


@pytest.mark.parametrize("offline, download", [("1", True), ("1", None), ("0", False)])
def test_missing_data_offline_says_what_to_do(tmp_path, monkeypatch, no_network, offline,
                                              download):
    monkeypatch.setenv("COURSE_OFFLINE", offline)
    root = tmp_path / "nowhere"
    with pytest.raises(CifarNotFoundError) as err:
        load_cifar10(data_dir=root, download=download, verbose=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert isinstance(err.value, datasets.DatasetNotFoundError)
    for needed in (str(root), cifar.CIFAR10_URL, cifar.JPEG_ARCHIVE, "load_cifar10(download=True)",
                   f"-m helpers.datasets cifar10 --data-dir {root}"):
        assert needed in message
    assert not root.exists()


# --- download through the registry (pooch), from a local file:// "server" ----------------------

@pytest.fixture
def served_archive(tmp_path, monkeypatch):
    """A fake official archive 'on the server'; the registry entry points at it and trusts it."""
    arrays = fake_arrays()
    archive = write_official_archive(tmp_path / "server" / cifar.OFFICIAL_ARCHIVE, arrays)
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    entry = dataclasses.replace(datasets.REGISTRY["cifar10"], urls=(archive.as_uri(),),
                                sha256=hashlib.sha256(archive.read_bytes()).hexdigest(),
                                size=archive.stat().st_size)
    monkeypatch.setitem(datasets.REGISTRY, "cifar10", entry)
    return arrays


@pytest.mark.parametrize("download", [True, None])
def test_download_verifies_and_caches(tmp_path, served_archive, download):
    root = tmp_path / "data"
    assert_same(load_cifar10(data_dir=root, download=download, verbose=False), served_archive)
    assert sorted(p.name for p in root.iterdir()) == [datasets.VERDICTS, cifar.OFFICIAL_ARCHIVE,
                                                      cifar.CACHE_NAME]


def test_download_with_bad_checksum_keeps_nothing(tmp_path, served_archive, monkeypatch):
    bad = dataclasses.replace(datasets.REGISTRY["cifar10"], sha256="0" * 64)
    monkeypatch.setitem(datasets.REGISTRY, "cifar10", bad)
    root = tmp_path / "data"
    with pytest.raises(CifarArchiveError, match="sha256"):
        load_cifar10(data_dir=root, download=True, verbose=False)
    assert list(root.iterdir()) == []


def test_interrupted_download_keeps_nothing(tmp_path, served_archive, monkeypatch):
    def half_then_fail(url, output_file, pooch_obj, check_only=False):
        Path(output_file).write_bytes(b"partial")  # pooch passes its temporary file's name
        raise ConnectionResetError("connection reset")
    monkeypatch.setattr(datasets, "_file_downloader", half_then_fail)
    root = tmp_path / "data"
    with pytest.raises(CifarNotFoundError, match="download failed: ConnectionResetError: connection reset"):
        load_cifar10(data_dir=root, download=True, verbose=False)
    assert list(root.iterdir()) == []
