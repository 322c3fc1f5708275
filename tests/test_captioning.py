"""helpers.captioning: vocabulary, encode/decode round trip, features, shape matching, figure, solver."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import captioning as C


def test_encode_decode_round_trip_with_padding_and_unknown_words():
    texts = ["a red star on a plain background", "a ring"]
    w2i, i2w = C.build_vocab(texts)
    assert i2w[:4] == list(C.SPECIAL) and w2i["<NULL>"] == 0
    ids = C.encode(texts, w2i)
    assert ids.shape == (2, 7 + 2)
    assert ids[1, 0] == w2i["<START>"] and ids[1, 3] == w2i["<END>"] and (ids[1, 4:] == 0).all()
    assert C.decode(ids, i2w) == texts
    assert C.decode(C.encode(["a blue ring"], w2i)[0], i2w) == "a <UNK> ring"
    assert C.encode(["a red star on"], w2i, max_length=2).shape == (1, 4)  # cut to 2 words


def test_encode_needs_texts():
    with pytest.raises(ValueError, match="at least one"):
        C.encode([], {"<NULL>": 0})


def test_pooled_colours_average_each_cell():
    img = np.zeros((1, 8, 8, 3), np.uint8)
    img[0, :4, :4, 0] = 255  # top-left cell of a 2x2 grid is red
    f = C.pooled_colours(img, grid=2).reshape(2, 2, 3)
    assert f[0, 0, 0] == pytest.approx(1.0) and f[1, 1].sum() == 0
    with pytest.raises(ValueError, match="divisible"):
        C.pooled_colours(np.zeros((1, 9, 9, 3), np.uint8), grid=2)


def test_shape_match_compares_shape_words_in_order():
    assert C.shapes_named("a large red star with a small ring on a plain background") == ["star", "ring"]
    got = C.shape_match(["a red star on a x", "a blue ring", "a star"], ["a big star", "a ring", "a heart"])
    assert got.tolist() == [True, True, False]
    with pytest.raises(ValueError):
        C.shape_match(["a"], [])


def test_caption_data_is_consistent_and_features_carry_the_shape():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    data = C.load_caption_data(600, 20, 200, cnn_epochs=6, verbose=False)
    for split, n in (("train", 600), ("val", 20), ("test", 200)):
        assert data.features[split].shape[0] == data.captions[split].shape[0] == len(data.texts[split]) == n
        assert C.decode(data.captions[split], data.idx_to_word) == list(data.texts[split])
    assert np.allclose(data.features["train"].mean(axis=0), 0, atol=1e-4)
    # a nearest-class-mean classifier on the features names the main shape well above chance (0.1)
    from helpers.shapes import SHAPE_CLASSES
    labels = {s: np.array([SHAPE_CLASSES.index(C.shapes_named(t)[0]) for t in data.texts[s]]) for s in ("train", "test")}
    cnn = {s: data.features[s][:, :64] for s in ("train", "test")}  # the CNN's part of the features
    means = np.stack([cnn["train"][labels["train"] == k].mean(axis=0) for k in range(10)])
    pred = np.argmin(((cnn["test"][:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred == labels["test"]).mean() > 0.25
    assert data.split("test", 5)["features"].shape[0] == 5
    with pytest.raises(KeyError):
        data.split("dev")


def test_show_captions_draws_labelled_figure():
    imgs = np.zeros((3, 8, 8, 3), np.uint8)
    fig = C.show_captions(imgs, ["a star", "a ring", "a heart"], ["a star", "a star", "a heart"], ncols=2)
    assert fig._suptitle.get_text().startswith("Sampled captions")
    assert "true: a star" in fig.axes[1].get_xlabel() and fig.axes[1].xaxis.label.get_color() == "darkred"
    with pytest.raises(ValueError):
        C.show_captions(imgs, ["a"], None)


class _Parrot:
    """A 'captioner' that always says the caption of its one parameter row: accuracy is exact."""

    def __init__(self, caption):
        self.params = {"w": np.zeros(1)}
        self.caption = caption

    def loss(self, X, y):
        return float(((self.params["w"] - 1) ** 2).sum()), {"w": 2 * (self.params["w"] - 1)}

    def sample(self, X, max_length):
        return np.tile(self.caption, (len(X), 1))[:, :max_length]


def test_captioning_solver_accuracy_is_the_shape_match_fraction():
    w2i, i2w = C.build_vocab(["a star", "a ring"])
    y = C.encode(["a star", "a ring", "a star", "a star"], w2i)
    model = _Parrot(C.encode(["a star"], w2i)[0, 1:])
    data = {"X_train": np.zeros((4, 2)), "y_train": y, "X_val": np.zeros((4, 2)), "y_val": y}
    solver = C.CaptioningSolver(model, data, i2w, num_epochs=2, batch_size=2, verbose=False, progress=False)
    assert solver.check_accuracy(data["X_val"], y) == pytest.approx(0.75)
    solver.train()
    assert solver.loss_history[-1] < solver.loss_history[0]
