"""helpers.plot.conv_windows and annotated_kernel (lecture 05): window counts and readable labels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("W, F, S, P", [(7, 3, 1, 0), (7, 3, 2, 0), (7, 3, 3, 0), (5, 5, 1, 2), (1, 11, 1, 0), (32, 1, 5, 5)])
def test_conv_windows_counts_like_torch(W, F, S, P):
    _, ax = plt.subplots()
    n = plot.conv_windows(ax, W, F, S, P)
    expected = torch.nn.functional.conv1d(torch.zeros(1, 1, W), torch.zeros(1, 1, F), stride=S, padding=P).shape[-1] \
        if F <= W + 2 * P else 0
    assert n == expected
    assert ax.get_xlabel() and ax.get_ylabel()


def test_conv_windows_marks_uncovered_cells():
    _, ax = plt.subplots()
    plot.conv_windows(ax, 7, 3, 3, 0)  # windows at 0-2 and 3-5: cell 6 is never covered
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert len(hatched) == 1 and hatched[0].get_x() == 6


def test_annotated_kernel_text_contrasts_with_cell():
    _, ax = plt.subplots()
    k = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float)
    plot.annotated_kernel(ax, k, title="Laplacian")
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["8"] == "white"  # dark red centre: white numerals
    assert colours["-1"] == "black"  # pale blue surround: black numerals
    assert len(ax.texts) == 9 and ax.get_title() == "Laplacian"


def test_annotated_kernel_rejects_3d():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="2-D"):
        plot.annotated_kernel(ax, np.zeros((3, 3, 3)))
