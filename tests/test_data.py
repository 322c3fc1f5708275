"""The data facade: subsets, splits, and the real-or-procedural fallback."""

from __future__ import annotations

import numpy as np
import pytest

import helpers.data as data


def _fake_cifar(n_train=60, n_test=20):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    Xt = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    return X, np.arange(n_train) % 10, Xt, np.arange(n_test) % 10


def test_subsample_is_seeded_and_without_replacement():
    X, y = np.arange(100)[:, None], np.arange(100)
    Xa, ya = data.subsample(X, y, 30, seed=1)
    Xb, _ = data.subsample(X, y, 30, seed=1)
    assert np.array_equal(Xa, Xb) and len(set(ya.tolist())) == 30
    assert np.array_equal(Xa[:, 0], ya)
    with pytest.raises(ValueError, match="only 100"):
        data.subsample(X, y, 101)


def test_train_val_split_partitions_the_data():
    X, y = np.arange(50)[:, None], np.arange(50)
    Xtr, ytr, Xv, yv = data.train_val_split(X, y, 10)
    assert len(Xv) == 10 and len(Xtr) == 40
    assert sorted(np.concatenate([ytr, yv]).tolist()) == list(range(50))
    with pytest.raises(ValueError, match="num_val"):
        data.train_val_split(X, y, 50)


def test_falls_back_to_shapes_and_says_so(monkeypatch, capsys):
    def missing(**kwargs):
        raise data.CifarNotFoundError("no CIFAR-10 here")

    monkeypatch.setattr(data, "load_cifar10", missing)
    d = data.load_classification(40, 10, 20)
    assert d.name == "shapes" and len(d.classes) >= 10
    assert d.X_train.shape == (40, 32, 32, 3) and d.X_val.shape[0] == 10 and d.X_test.shape[0] == 20
    assert d.X_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "procedural" in out


def test_uses_real_cifar_when_present(monkeypatch, capsys):
    monkeypatch.setattr(data, "load_cifar10", lambda **kw: _fake_cifar())
    d = data.load_classification(30, 10, 15)
    assert d.name == "cifar10" and d.classes == data.CIFAR10_CLASSES
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (30, 10, 15)
    assert "real CIFAR-10" in capsys.readouterr().out


def test_asking_for_cifar_explicitly_raises_when_missing(monkeypatch):
    def missing(**kwargs):
        raise data.CifarNotFoundError("put cifar-10-python.tar.gz in datasets/")

    monkeypatch.setattr(data, "load_cifar10", missing)
    with pytest.raises(data.CifarNotFoundError, match="datasets"):
        data.load_classification(10, 5, 5, source="cifar10")
    with pytest.raises(ValueError, match="source"):
        data.load_classification(10, 5, 5, source="imagenet")


def test_to_nchw_and_torch_splits_normalise_with_training_statistics():
    X = np.random.default_rng(0).integers(0, 256, size=(20, 8, 8, 3), dtype=np.uint8)
    mean, std = data.channel_stats(X)
    x = data.to_nchw(X, mean, std)
    assert x.shape == (20, 3, 8, 8) and x.dtype == np.float32
    assert np.allclose(x.mean(axis=(0, 2, 3)), 0, atol=1e-5) and np.allclose(x.std(axis=(0, 2, 3)), 1, atol=1e-4)
    assert np.allclose(data.to_nchw(X)[:, 1], X[..., 1] / 255)
    splits_in = data.ClassificationData(X[:10], np.arange(10), X[10:15], np.arange(5), X[15:], np.arange(5),
                                     ("a",), "shapes")
    s = data.torch_splits(splits_in, res=4)
    assert tuple(s.Xtr.shape) == (10, 3, 4, 4) and tuple(s.Xte.shape) == (5, 3, 4, 4)
    assert abs(float(s.Xtr.mean())) < 1e-5 and s.ytr.dtype.is_floating_point is False
