"""helpers.plot.computational_graph and helpers.plot.log_ticks (lectures 03 and 04)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class Node:
    """The attributes computational_graph reads, as lecture 04's Value has them."""

    def __init__(self, data, children=(), op="", label="", grad=0.0):
        self.data, self._children, self._op, self.label, self.grad = data, children, op, label, grad


def test_graph_boxes_gradients_and_arrows():
    x, y, z = Node(2.0, label="x", grad=-3.0), Node(-3.0, label="y", grad=2.0), Node(7.0, label="z", grad=1.0)
    q = Node(-6.0, (x, y), "×", "q", 1.0)
    f = Node(1.0, (q, z), "+", "f", 1.0)
    fig = plot.computational_graph(f, title="f = x·y + z")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "q = x × y\n-6" in texts and "f = q + z\n1" in texts and "x\n2" in texts
    assert sum(t.startswith("grad ") for t in texts) == 5      # one gradient label per node
    arrows = [t for t in ax.texts if isinstance(t, matplotlib.text.Annotation)]
    assert len(arrows) == 4                                    # one arrow per edge
    assert ax.get_title() == "f = x·y + z" and ax.get_xlabel() and ax.get_ylabel()
    assert list(ax.get_xticks()) == [0, 1, 2]                  # inputs, q, f: depth 0..2


def test_graph_node_used_twice_is_drawn_once():
    a = Node(3.0, label="a")
    m = Node(9.0, (a, a), "×", "m")
    fig = plot.computational_graph(Node(12.0, (m, a), "+", "out"))
    assert sum(t.get_text().startswith("a\n") for t in fig.axes[0].texts) == 1
    assert "m = a × a\n9" in [t.get_text() for t in fig.axes[0].texts]


def labels(ax):
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text() and ax.get_ylim()[0] <= t.get_position()[1]
            <= ax.get_ylim()[1]]


def test_log_ticks_label_a_narrow_range():
    fig, ax = plt.subplots()
    ax.semilogy(np.linspace(3, 0.17, 50))
    plot.log_ticks(ax)
    shown = labels(ax)
    assert len(shown) >= 4 and {"0.2", "0.5", "1", "2"} <= set(shown), shown


def test_log_ticks_one_label_per_decade_on_a_wide_range():
    fig, ax = plt.subplots()
    ax.loglog([1, 256], [1e-6, 10.0])
    plot.log_ticks(ax, "y")
    plot.log_ticks(ax, "x")
    shown = labels(ax)
    assert "1e-05" in shown and "0.001" in shown and "2" not in shown, shown
    assert not ax.yaxis.get_minor_locator().tick_values(1e-6, 10)


def test_log_ticks_refuses_a_linear_axis_through_zero():
    fig, ax = plt.subplots()
    ax.plot([-1, 1], [0, 1])
    with pytest.raises(ValueError, match="positive"):
        plot.log_ticks(ax)
