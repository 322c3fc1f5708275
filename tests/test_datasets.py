"""The dataset registry (helpers/datasets.py) and the text loaders in helpers.data, on tiny fake
entries served from local file:// URLs through the real pooch code path: no network, no ../shared."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

import pooch
import pytest

import helpers.data as data
from helpers import datasets
from helpers.datasets import Dataset, DatasetChecksumError, DatasetNotFoundError, fetch

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 50


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "server"
    folder.mkdir()
    return folder


def entry(name, path, **changes):
    """A registry entry that trusts the file at `path` and downloads it from there."""
    fields = dict(name=name, filename=f"{name}.txt", urls=(path.as_uri(),),
                  sha256=hashlib.sha256(path.read_bytes()).hexdigest(), size=path.stat().st_size,
                  description=f"fake {name}")
    return Dataset(**{**fields, **changes})


@pytest.fixture
def fake(server, monkeypatch):
    """Register 'fake' (a small text file on the 'server'); the network is allowed by default."""
    source = server / "fake.txt"
    source.write_text(TEXT)
    monkeypatch.setitem(datasets.REGISTRY, "fake", entry("fake", source))
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    return source


def forbid(monkeypatch, *what):
    def refuse(*args, **kwargs):
        raise AssertionError("must not be called")
    for module, attr in what:
        monkeypatch.setattr(module, attr, refuse)


# --- the real registry ----------------------------------------------------------------------

def test_registry_entries_are_complete():
    assert {"cifar10", "tinyshakespeare"} <= set(datasets.REGISTRY)
    for name, ds in datasets.REGISTRY.items():
        assert ds.name == name and re.fullmatch(r"[0-9a-f]{64}", ds.sha256)
        assert ds.size > 0 and ds.unpack in datasets.UNPACK and ds.description and ds.source
        assert all(url.startswith("https://") for url in ds.urls)
    shakespeare = datasets.REGISTRY["tinyshakespeare"]
    assert shakespeare.filename == "tinyshakespeare.txt" and shakespeare.size == 1_115_394
    assert "karpathy/char-rnn" in shakespeare.urls[0]


def test_entries_are_validated():
    with pytest.raises(ValueError, match="unpack"):
        Dataset("x", "x.bin", ("https://example.org/x",), "0" * 64, 1, unpack="unrar")
    with pytest.raises(ValueError, match="sha256"):
        Dataset("x", "x.bin", ("https://example.org/x",), "abc", 1)
    with pytest.raises(KeyError, match="no dataset 'nope'.*tinyshakespeare"):
        fetch("nope")


# --- download -------------------------------------------------------------------------------

def test_download_checks_and_remembers(tmp_path, fake, monkeypatch):
    root = tmp_path / "data"
    path = fetch("fake", root, verbose=False)
    assert path == root / "fake.txt" and path.read_text() == TEXT
    assert sorted(p.name for p in root.iterdir()) == [datasets.VERDICTS, "fake.txt"]
    # the second call uses the file: no network, and no hashing either (the verdict is cached)
    forbid(monkeypatch, (pooch, "retrieve"), (datasets, "_sha256"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert fetch("fake", root, verbose=False) == path


def test_download_shows_a_progress_bar_when_verbose(tmp_path, fake, monkeypatch):
    seen = {}
    real = pooch.retrieve

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(pooch, "retrieve", spy)
    fetch("fake", tmp_path / "data", verbose=True)
    assert seen["progressbar"] is True and seen["known_hash"] == f"sha256:{datasets.REGISTRY['fake'].sha256}"


def test_default_folder_is_course_data_dir(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert fetch("fake", verbose=False) == tmp_path / "elsewhere" / "fake.txt"


def test_bad_checksum_download_keeps_nothing(tmp_path, fake, monkeypatch):
    monkeypatch.setitem(datasets.REGISTRY, "fake", entry("fake", fake, sha256="1" * 64))
    root = tmp_path / "data"
    with pytest.raises(DatasetChecksumError, match="does not match the registry's sha256"):
        fetch("fake", root, verbose=False)
    assert list(root.iterdir()) == []


def test_next_url_is_tried_when_one_fails(tmp_path, fake, server, monkeypatch):
    urls = ((server / "gone.txt").as_uri(), fake.as_uri())
    monkeypatch.setitem(datasets.REGISTRY, "fake", entry("fake", fake, urls=urls))
    assert fetch("fake", tmp_path / "data", verbose=False).read_text() == TEXT


def test_failed_download_says_why_and_keeps_nothing(tmp_path, fake, server, monkeypatch):
    monkeypatch.setitem(datasets.REGISTRY, "fake", entry("fake", fake, urls=((server / "gone.txt").as_uri(),)))
    root = tmp_path / "data"
    with pytest.raises(DatasetNotFoundError, match="download failed: FileNotFoundError") as err:
        fetch("fake", root, verbose=False)
    assert "gone.txt" in err.value.reason
    assert list(root.iterdir()) == []


def test_interrupted_download_keeps_nothing(tmp_path, fake, monkeypatch):
    def half_then_fail(url, output_file, pooch_obj, check_only=False):
        Path(output_file).write_bytes(b"First Cit")  # pooch passes its temporary file's name
        raise ConnectionResetError("connection reset")
    monkeypatch.setattr(datasets, "_file_downloader", half_then_fail)
    root = tmp_path / "data"
    with pytest.raises(DatasetNotFoundError, match="connection reset"):
        fetch("fake", root, verbose=False)
    assert list(root.iterdir()) == []


# --- offline / absent ---------------------------------------------------------------------------

@pytest.mark.parametrize("offline, download", [("1", None), ("1", True), ("0", False)])
def test_absent_offline_says_which_file_where_and_the_command(tmp_path, fake, monkeypatch,
                                                               offline, download):
    forbid(monkeypatch, (pooch, "retrieve"), (datasets, "_download"))
    monkeypatch.setenv("COURSE_OFFLINE", offline)
    root = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as err:
        fetch("fake", root, download=download, verbose=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    for needed in ("fake.txt", f"{root}/", datasets.REGISTRY["fake"].sha256, fake.as_uri(),
                   f"-m helpers.datasets fake --data-dir {root}", "COURSE_DATA_DIR"):
        assert needed in message
    assert not root.exists()


def test_command_omits_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert datasets.download_command("tinyshakespeare").endswith("-m helpers.datasets tinyshakespeare")


# --- a file that is already there ---------------------------------------------------------------

def test_present_file_is_used_offline_and_checked_once(tmp_path, fake, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    (root / "fake.txt").write_text(TEXT)
    forbid(monkeypatch, (pooch, "retrieve"), (datasets, "_download"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    calls = []
    real = datasets._sha256
    monkeypatch.setattr(datasets, "_sha256", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        assert fetch("fake", root).read_text() == TEXT
    assert len(calls) == 1


@pytest.mark.parametrize("content, message", [(TEXT[:-1], "incomplete"),
                                              (TEXT.replace("speak", "SPEAK"), "damaged")])
def test_wrong_present_file_is_an_error_and_left_alone(tmp_path, fake, monkeypatch, content, message):
    root = tmp_path / "data"
    root.mkdir()
    (root / "fake.txt").write_text(content)
    forbid(monkeypatch, (pooch, "retrieve"), (datasets, "_download"))  # never downloads over it
    with pytest.raises(DatasetChecksumError, match=message) as err:
        fetch("fake", root)
    assert "-m helpers.datasets fake" in str(err.value) and "Delete it" in str(err.value)
    assert (root / "fake.txt").read_text() == content


def test_file_changed_after_its_check_is_checked_again(tmp_path, fake):
    root = tmp_path / "data"
    path = fetch("fake", root, verbose=False)
    path.write_text(TEXT.replace("speak", "SPEAK"))  # same size, new mtime
    with pytest.raises(DatasetChecksumError, match="damaged"):
        fetch("fake", root)


def test_read_only_folder_still_works(tmp_path, fake, monkeypatch):
    root = tmp_path / "data"
    fetch("fake", root, verbose=False)
    (root / datasets.VERDICTS).unlink()
    monkeypatch.setattr(datasets.tempfile, "mkstemp", lambda **kw: (_ for _ in ()).throw(OSError("read-only")))
    assert fetch("fake", root).read_text() == TEXT


# --- unpacking ----------------------------------------------------------------------------------

def test_untar_entry_is_extracted_once(tmp_path, server, monkeypatch):
    archive = server / "corpus.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (("corpus/a.txt", "alpha\n"), ("corpus/b.txt", "beta\n")):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    monkeypatch.setitem(datasets.REGISTRY, "corpus",
                        entry("corpus", archive, filename="corpus.tar.gz", unpack="untar"))
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    root = tmp_path / "data"
    folder = fetch("corpus", root, verbose=False)
    assert folder == root / "corpus" and (folder / "corpus" / "b.txt").read_text() == "beta\n"
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    (folder / "corpus" / "a.txt").write_text("edited")  # present: not extracted over again
    assert fetch("corpus", root) == folder and (folder / "corpus" / "a.txt").read_text() == "edited"


# --- command line -------------------------------------------------------------------------------

def test_cli_lists_and_fetches(tmp_path, fake, capsys):
    root = tmp_path / "data"
    assert datasets.main(["--data-dir", str(root)]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"tinyshakespeare\s+tinyshakespeare.txt\s+1.1 MB\s+absent", listing)
    assert datasets.main(["fake", "--data-dir", str(root)]) == 0
    assert (root / "fake.txt").read_text() == TEXT
    assert datasets.main(["--data-dir", str(root)]) == 0
    assert re.search(r"fake\s+fake.txt.*present", capsys.readouterr().out)


def test_cli_offline_fails_with_the_message(tmp_path, fake, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert datasets.main(["fake", "--data-dir", str(tmp_path)]) == 1
    assert "COURSE_OFFLINE=1 is set" in capsys.readouterr().err


# --- text loaders in helpers.data ---------------------------------------------------------------

def test_load_text_reads_the_registry_file(tmp_path, fake):
    assert data.load_text("fake", data_dir=tmp_path, verbose=False) == TEXT


def test_load_corpus_uses_the_real_text_when_present(tmp_path, fake, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "fake.txt").write_text(TEXT)
    text, name = data.load_corpus("fake")
    assert (text, name) == (TEXT, "fake")
    assert capsys.readouterr().out.count("\n") == 1


def test_load_corpus_falls_back_to_captions_and_says_so(tmp_path, monkeypatch, capsys):
    forbid(monkeypatch, (pooch, "retrieve"), (datasets, "_download"))  # never downloads
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    text, name = data.load_corpus(fallback_chars=5_000)
    out = capsys.readouterr().out
    assert name == "shapes-captions" and out.count("\n") == 1
    assert "tinyshakespeare not found" in out and "procedural shape captions" in out
    assert 4_000 < len(text) <= 5_000 and text.endswith(" background\n")


def test_load_corpus_does_not_hide_a_damaged_file(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "fake.txt").write_text("not shakespeare")
    with pytest.raises(DatasetChecksumError):
        data.load_corpus("fake")


def test_caption_corpus_is_deterministic_whole_lines():
    a, b = data.caption_corpus(3_000, seed=1), data.caption_corpus(3_000, seed=1)
    assert a == b != data.caption_corpus(3_000, seed=2)
    lines = a.splitlines()
    assert len(lines) > 20 and all(line.startswith("a ") and line.endswith("background") for line in lines)
    assert any(" with " in line for line in lines)  # scenes with several shapes
