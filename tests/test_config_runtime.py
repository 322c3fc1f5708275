"""helpers.config (modes from the environment) and helpers.runtime (seeding, device)."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import config, runtime


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("COURSE_FAST", "COURSE_OFFLINE", "COURSE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("value,expected", [
    ("1", True), ("true", True), ("YES", True), (" on ", True),
    ("0", False), ("", False), ("false", False), ("no", False),
])
def test_flags_read_from_environment(clean_env, value, expected):
    clean_env.setenv("COURSE_FAST", value)
    clean_env.setenv("COURSE_OFFLINE", value)
    assert config.fast() is expected
    assert config.offline() is expected


def test_flags_default_off_and_follow_changes(clean_env):
    assert not config.fast() and not config.offline()
    clean_env.setenv("COURSE_FAST", "1")
    assert config.fast()  # functions, not constants: changes are seen at once


def test_pick(clean_env):
    assert config.pick(5000, 500) == 5000
    clean_env.setenv("COURSE_FAST", "1")
    assert config.pick(5000, 500) == 500


def test_data_dir(clean_env, tmp_path):
    assert config.data_dir() == config.REPO_ROOT / "datasets"
    assert (config.REPO_ROOT / "helpers" / "config.py").exists()
    clean_env.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path
    clean_env.setenv("COURSE_DATA_DIR", "~/course-data")
    assert config.data_dir() == Path.home() / "course-data"
    clean_env.setenv("COURSE_DATA_DIR", "")
    assert config.data_dir() == config.REPO_ROOT / "datasets"


def test_describe(clean_env, tmp_path):
    line = config.describe()
    assert "full" in line and "network allowed" in line and "\n" not in line
    clean_env.setenv("COURSE_FAST", "1")
    clean_env.setenv("COURSE_OFFLINE", "1")
    clean_env.setenv("COURSE_DATA_DIR", str(tmp_path))
    line = config.describe()
    assert "FAST" in line and "offline" in line and str(tmp_path) in line


def draw():
    return random.random(), np.random.rand(3), torch.rand(3)


def test_seed_everything_is_reproducible():
    runtime.seed_everything(123)
    a = draw()
    runtime.seed_everything(123)
    b = draw()
    runtime.seed_everything(124)
    c = draw()
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])
    assert a[0] != c[0] and not np.array_equal(a[1], c[1]) and not torch.equal(a[2], c[2])


def test_get_device_without_gpu_is_cpu_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.get_device() == torch.device("cpu")
    assert "CPU" in capsys.readouterr().out
    assert runtime.get_device(verbose=False).type == "cpu"
    assert capsys.readouterr().out == ""


def test_get_device_matches_this_machine(capsys):
    device = runtime.get_device()
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert capsys.readouterr().out.strip()
