"""helpers.cited draws tables of cited numbers: every entry becomes a labelled point or stem,
labels stay inside the axes, groups share one colour, and bad input fails with a message."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from helpers import cited

ENTRIES = [(2010, "A", 28.2, "old"), (2012, "B", 16.4, "new"), (2014, "C", 7.3, "new", "left"),
           (2014, "D", 6.7, "new")]


def test_by_year_labels_every_point_inside_the_axes():
    fig = cited.by_year(ENTRIES, ylabel="error (%)", title="t", reference=(5.1, "human"))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["A\n28.2%", "B\n16.4%", "C\n7.3%", "D\n6.7%"]
    lo, hi = ax.get_xlim()
    assert lo < 2010 and hi > 2014 and ax.get_ylim()[1] > 28.2
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["old", "new", "human"]  # one legend entry per group
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert colours[1] == colours[2] == colours[3] != colours[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "t"
    plt.close(fig)


def test_by_year_rejects_bad_entries():
    with pytest.raises(ValueError, match="at least one"):
        cited.by_year([], ylabel="y", title="t")
    with pytest.raises(ValueError, match="side"):
        cited.by_year([(2010, "A", 1.0, "g", "up")], ylabel="y", title="t")


def test_timeline_sorts_staggers_and_colours_by_group():
    events = [(1998, "later", "cnn"), (1959, "first", "biology"), (1980, "middle", "cnn")]
    fig = cited.timeline(events, title="history", colours={"cnn": "tab:blue"}, levels=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1959: first", "1980: middle", "1998: later"]
    ys = [t.get_position()[1] for t in ax.texts]
    assert ys[0] > 0 > ys[1] and ys[2] > 0  # alternate sides of the axis
    assert all(abs(y) <= 2 for y in ys) and ax.get_ylim() == (-3, 3)
    assert ax.get_legend_handles_labels()[1] == ["biology", "cnn"]
    plt.close(fig)


def test_timeline_rejects_empty_and_bad_levels():
    with pytest.raises(ValueError):
        cited.timeline([], title="t")
    with pytest.raises(ValueError, match="levels"):
        cited.timeline([(2000, "x", "g")], title="t", levels=0)


def test_by_year_makes_room_under_zero_only_for_labels_below():
    fig = cited.by_year(ENTRIES, ylabel="y", title="t")
    assert fig.axes[0].get_ylim()[0] == 0
    plt.close(fig)
    fig = cited.by_year(ENTRIES + [(2015, "E", 3.6, "new", "below")], ylabel="y", title="t")
    assert fig.axes[0].get_ylim()[0] < 0
    plt.close(fig)
