"""2-D toy datasets and the decision-region plot."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as H


@settings(max_examples=20, deadline=None)
@given(n=st.integers(4, 300), kind=st.sampled_from(["spirals", "blobs", "circles"]),
       classes=st.integers(2, 4), seed=st.integers(0, 10))
def test_toy_2d_shapes_balance_and_determinism(n, kind, classes, seed):
    X, y = H.data.toy_2d(n, kind, classes=classes, seed=seed)
    assert X.shape == (n, 2) and y.dtype == np.int64 and np.isfinite(X).all()
    counts = np.bincount(y, minlength=classes)
    assert counts.max() - counts.min() <= 1
    X2, y2 = H.data.toy_2d(n, kind, classes=classes, seed=seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_blobs_are_nearly_linearly_separable_but_circles_are_not():
    # nearest class mean is a linear rule: good on blobs, near chance on concentric circles
    def nearest_mean_acc(X, y):
        means = np.stack([X[y == c].mean(0) for c in np.unique(y)])
        return np.mean(np.argmin(((X[:, None] - means) ** 2).sum(-1), 1) == y)

    assert nearest_mean_acc(*H.data.toy_2d(600, "blobs", noise=0.3)) > 0.95
    assert nearest_mean_acc(*H.data.toy_2d(600, "circles", classes=2)) < 0.75


def test_toy_2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        H.data.toy_2d(10, "swirls")
    with pytest.raises(ValueError, match="moons"):
        H.data.toy_2d(10, "moons", classes=3)


def test_decision_regions_titles_and_labels():
    X, y = H.data.toy_2d(90, "blobs")
    fig = H.plot.decision_regions(lambda P: (P[:, 0] > 0).astype(int), X, y, title="sign of x1")
    ax = fig.axes[0]
    assert ax.get_title() == "sign of x1" and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        H.plot.decision_regions(lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5))
