"""The figure rule's checker: it must pass good figures and name what a bad one lacks."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backend_bases import FigureCanvasBase  # noqa: E402

from helpers import figcheck  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_a_titled_labelled_plot_passes():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    ax.set(title="t", xlabel="x", ylabel="y")
    assert figcheck.problems(fig) == []


def test_missing_title_and_labels_are_named():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert figcheck.problems(fig) == ["axes 0: no title, no x-axis label, no y-axis label"]
    ax.set_xlabel("x")
    assert figcheck.problems(fig) == ["axes 0: no title, no y-axis label"]


def test_suptitle_shared_axes_and_category_ticks_count():
    fig, axes = plt.subplots(1, 2, sharey=True)
    fig.suptitle("two panels")
    axes[0].plot([0, 1]), axes[1].plot([1, 0])
    axes[0].set(xlabel="step", ylabel="loss")
    axes[1].set_xlabel("step")  # its y-axis is labelled through sharey
    assert figcheck.problems(fig) == []
    fig, axes = plt.subplots(2, 2)  # outer labels only: bottom row x, left column y
    fig.suptitle("grid")
    for ax in axes.flat:
        ax.plot([0, 1])
    for ax in axes[1]:
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("loss")
    assert figcheck.problems(fig) == ["axes 2: no y-axis label", "axes 3: no y-axis label"]  # bottom row
    axes[1, 0].set_ylabel("loss")
    assert figcheck.problems(fig) == []
    fig, ax = plt.subplots()
    ax.bar(["cat", "dog"], [1, 2])
    ax.set(title="counts", ylabel="count")  # the tick labels name the categories
    assert figcheck.problems(fig) == []


def test_images_need_a_title_only_and_colorbars_are_left_alone():
    fig, ax = plt.subplots()
    im = ax.imshow(np.eye(3))
    ax.axis("off")
    fig.colorbar(im)
    assert figcheck.problems(fig) == ["axes 0: no title"]
    ax.set_title("identity")
    assert figcheck.problems(fig) == []
    fig, ax = plt.subplots()
    ax.imshow(np.eye(3))
    ax.set(xticks=[], yticks=[], title="framed image")  # no scale shown, so no label asked
    assert figcheck.problems(fig) == []
    ax.set_yticks([0, 2])
    assert figcheck.problems(fig) == ["axes 0: no y-axis label"]


def test_twinx_labels_each_side():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set(title="t", xlabel="step", ylabel="loss")
    other = ax.twinx()
    other.plot([1, 0])
    assert figcheck.problems(fig) == ["axes 1: no y-axis label"]
    other.set_ylabel("accuracy")
    assert figcheck.problems(fig) == []


def test_install_logs_rendered_figures(tmp_path, monkeypatch):
    log = tmp_path / "figures.jsonl"
    monkeypatch.setenv("COURSE_FIGURE_LOG", str(log))
    # restored after the test, so the check does not stay on for the rest of the session
    monkeypatch.setattr(FigureCanvasBase, "print_figure", FigureCanvasBase.print_figure)
    figcheck.install()
    figcheck.install()  # a second call must not check twice (one record below)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set_title("bad one")
    fig.savefig(tmp_path / "f.png")
    record = json.loads(log.read_text())
    assert record == {"figure": "bad one", "problems": ["axes 0: no x-axis label, no y-axis label"]}
