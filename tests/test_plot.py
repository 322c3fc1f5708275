"""helpers.plot: every figure has a title and labelled axes; bad shapes give clear errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]


def assert_labelled(fig):
    """Title somewhere, and every visible axes has x and y labels."""
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]
    assert any(titles), "figure has no title"
    for ax in visible_axes(fig):
        assert ax.get_xlabel() and ax.get_ylabel(), f"unlabelled axes: {ax}"


@pytest.mark.parametrize("images", [
    np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8),
    np.random.default_rng(0).normal(size=(5, 8, 8, 3)),  # float outside [0, 1] gets rescaled
    np.random.default_rng(0).random((5, 8, 8)),  # grayscale NHW
    np.random.default_rng(0).random((5, 8, 8, 1)),
    torch.rand(5, 3, 8, 8, requires_grad=True),  # torch NCHW with grad
    [np.zeros((8, 8, 3)), np.ones((8, 8, 3))],  # list of images
])
def test_image_grid_accepts_common_layouts(images):
    fig = plot.image_grid(images, ncols=3, title="Samples")
    assert fig.get_suptitle() == "Samples"
    assert len([ax for ax in fig.axes if ax.images]) == len(images)
    assert_labelled(fig)


def test_image_grid_titles_and_default_suptitle():
    fig = plot.image_grid(np.zeros((3, 4, 4, 3), np.uint8), titles=["a", "b", "c"])
    assert fig.get_suptitle()
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["a", "b", "c"]


def test_image_grid_rejects_single_2d_image():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        plot.image_grid(np.zeros((8, 8)))


def test_image_grid_rejects_bad_channels_and_title_count():
    with pytest.raises(ValueError, match="shape"):
        plot.image_grid(np.zeros((2, 8, 8, 5)))
    with pytest.raises(ValueError, match="titles"):
        plot.image_grid(np.zeros((2, 8, 8, 3)), titles=["only one"])


def test_training_curves_dict():
    hist = {"loss": [2.3, 1.5, 1.0], "train_acc": [0.1, 0.4, 0.6], "val_acc": [0.1, 0.3, 0.5]}
    fig = plot.training_curves(hist, title="My run")
    assert fig.get_suptitle() == "My run"
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig.axes[0].get_xlabel() == "epoch"
    assert list(fig.axes[0].lines[0].get_xdata()) == [1, 2, 3]  # train_torch: after each epoch
    assert len(fig.axes[1].lines) == 2
    assert_labelled(fig)


def test_training_curves_solver_like_and_loss_only():
    class FakeSolver:
        loss_history = list(np.linspace(2, 1, 50))
        train_acc_history = [0.1, 0.5]
        val_acc_history = [0.1, 0.4]

    fig = plot.training_curves(FakeSolver())
    assert fig.axes[0].get_xlabel() == "iteration"  # loss per iteration, accuracy per epoch
    assert list(fig.axes[1].lines[0].get_xdata()) == [0, 1]  # Solver checks before training too
    assert_labelled(fig)
    fig = plot.training_curves({"loss": torch.tensor([1.0, 0.5])})
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "iteration"
    assert_labelled(fig)
    with pytest.raises(ValueError, match="loss"):
        plot.training_curves({"lr": [1, 2]})


def test_confusion_matrix_labels_and_values():
    classes = ["cat", "dog", "frog"]
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = torch.tensor([0, 1, 1, 1, 2, 0])
    fig = plot.confusion_matrix(y_true, y_pred, classes, title="CM")
    ax = fig.axes[0]
    assert ax.get_title() == "CM"
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == classes
    assert [t.get_text() for t in ax.get_yticklabels()] == classes
    cm = ax.images[0].get_array()
    np.testing.assert_allclose(cm, [[0.5, 0.5, 0], [0, 1, 0], [0.5, 0, 0.5]])
    counts = plot.confusion_matrix(y_true, y_pred, classes, normalize=False).axes[0].images[0]
    assert counts.get_array().sum() == 6


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="labels"):
        plot.confusion_matrix([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match="outside"):
        plot.confusion_matrix([0, 3], [0, 1], ["a", "b"])


@pytest.mark.parametrize("weights,expected_hw", [
    (torch.randn(6, 3, 5, 5, requires_grad=True), (5, 5, 3)),  # torch conv weights
    (np.random.default_rng(0).normal(size=(6, 7, 7, 3)), (7, 7, 3)),  # FHWC array
    (torch.randn(4, 1, 3, 3), (3, 3)),  # grayscale
    (np.random.default_rng(0).normal(size=(10, 4, 4)), (4, 4)),
])
def test_filters_rescaled_per_filter(weights, expected_hw):
    fig = plot.filters(weights, title="Conv1")
    assert "Conv1" in fig.get_suptitle()
    ims = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(ims) == len(weights)
    for im in ims:
        arr = np.asarray(im.get_array())
        assert arr.shape == expected_hw
        assert arr.min() == pytest.approx(0) and arr.max() == pytest.approx(1)
    if len(expected_hw) == 2:
        assert ims[0].get_cmap().name == "gray"


def test_filters_rejects_many_channels():
    with pytest.raises(ValueError, match="C = 1 or 3"):
        plot.filters(torch.randn(4, 16, 3, 3))


def test_boxes_masks_draws_boxes_labels_and_masks():
    img = np.zeros((32, 32, 3), np.uint8)
    boxes = np.array([[2, 3, 12, 15], [16, 16, 30, 30]])
    masks = np.zeros((2, 32, 32), bool)
    masks[0, 3:15, 2:12] = True
    masks[1, 16:30, 16:30] = True
    fig = plot.boxes_masks(img, boxes, masks, labels=np.array([1, 0]), classes=["circle", "square"],
                           scores=[0.9, 0.5])
    ax = fig.axes[0]
    assert ax.get_title() == "2 boxes, 2 masks"
    assert len(ax.patches) == 2
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["square 0.90", "circle 0.50"]
    assert len(ax.images) == 3  # image + one overlay per mask
    overlays = [np.asarray(im.get_array()) for im in ax.images[1:]]
    assert all(0 < o[..., 3].max() < 1 for o in overlays)  # semi-transparent
    assert not np.allclose(overlays[0][3, 2, :3], overlays[1][20, 20, :3])  # distinct colours
    assert_labelled(fig)


def test_boxes_masks_into_existing_axes_and_errors():
    fig, axes = plt.subplots(1, 2)
    out = plot.boxes_masks(torch.rand(3, 16, 16), torch.tensor([[1.0, 1, 5, 5]]), ax=axes[1],
                           labels=["thing"], title="pred")
    assert out is fig and axes[1].get_title() == "pred"
    with pytest.raises(ValueError, match="masks"):
        plot.boxes_masks(np.zeros((16, 16, 3)), [[0, 0, 4, 4]], masks=np.zeros((1, 8, 8), bool))
    with pytest.raises(ValueError, match="labels"):
        plot.boxes_masks(np.zeros((16, 16, 3)), [[0, 0, 4, 4]], labels=[1, 2])


def test_curves():
    x = np.arange(10)
    fig = plot.curves({"a": (x, x ** 2), "b": torch.arange(10.0)}, "step", "value", "Growth",
                      logy=True)
    ax = fig.axes[0]
    assert ax.get_title() == "Growth" and ax.get_yscale() == "log"
    assert len(ax.lines) == 2
    assert_labelled(fig)
    with pytest.raises(ValueError, match="shape"):
        plot.curves({"bad": (x, x[:5])}, "x", "y", "t")
