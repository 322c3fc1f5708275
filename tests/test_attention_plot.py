import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import attention_plot as AP  # noqa: E402


def _stochastic(rng, *shape):
    a = rng.random(shape)
    return a / a.sum(axis=-1, keepdims=True)


def test_heatmap_labels_and_shape():
    w = _stochastic(np.random.default_rng(0), 3, 4)
    ax = AP.heatmap(w, ["a", "b", "c"], list("wxyz"), title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == list("wxyz")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "t" and ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.texts) == 12  # small matrix: every weight written in its cell
    plt.close("all")


def test_heatmap_rejects_bad_input():
    with pytest.raises(ValueError):
        AP.heatmap(np.zeros(3))
    with pytest.raises(ValueError):
        AP.heatmap(np.zeros((2, 2)), row_labels=["a"])


def test_rollout_single_layer_without_residual_is_head_mean():
    rng = np.random.default_rng(1)
    a = _stochastic(rng, 2, 5, 5)
    np.testing.assert_allclose(AP.rollout([a], residual=False), a.mean(0))


def test_rollout_product_and_rows_sum_to_one():
    rng = np.random.default_rng(2)
    a1, a2 = _stochastic(rng, 5, 5), _stochastic(rng, 5, 5)
    r = AP.rollout([a1, a2])
    m1, m2 = 0.5 * a1 + 0.5 * np.eye(5), 0.5 * a2 + 0.5 * np.eye(5)
    np.testing.assert_allclose(r, m2 @ m1)
    np.testing.assert_allclose(r.sum(1), 1.0)
    np.testing.assert_allclose(AP.rollout([np.eye(4)] * 3), np.eye(4))


def test_cls_map_and_overlay():
    m = np.zeros((5, 5))
    m[0, 1:] = [1, 2, 3, 4]
    g = AP.cls_map(m, 2)
    np.testing.assert_allclose(g, [[0.25, 0.5], [0.75, 1.0]])
    with pytest.raises(ValueError):
        AP.cls_map(m, 3)
    ax = AP.overlay(np.zeros((3, 16, 16), np.float32), g, title="x")
    assert len(ax.images) == 2 and ax.get_title() == "x"
    AP.overlay(np.full((16, 16, 3), 200, np.uint8), g)
    plt.close("all")


def test_pooled_map_is_mean_of_rows():
    m = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5]])
    np.testing.assert_allclose(AP.pooled_map(m, 2), [[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError):
        AP.pooled_map(m, 3)
