"""helpers.generative: masked convolutions are causal, conversions and builders have the right shapes."""

import math

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn as nn

matplotlib.use("Agg")

from helpers import generative as G  # noqa: E402


def test_causal_mask_by_hand():
    assert G.causal_mask(3, "A").tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert G.causal_mask(3, "B").tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    assert G.causal_mask(5, "B").sum() == 5 * 2 + 3
    with pytest.raises(ValueError):
        G.causal_mask(4)
    with pytest.raises(ValueError):
        G.causal_mask(3, "C")


@pytest.mark.parametrize("k", [3, 5, 7])
def test_masked_stack_never_sees_the_present_or_future(k):
    torch.manual_seed(0)
    net = nn.Sequential(G.MaskedConv2d(2, 4, k, "A"), nn.ReLU(), G.MaskedConv2d(4, 4, 3, "B"),
                        nn.ReLU(), G.MaskedConv2d(4, 3, 3, "B"))
    side = 9
    for row, col in [(0, 0), (4, 4), (8, 3), (2, 8)]:
        dep = G.input_dependence(net, (1, 2, side, side), (row, col))
        later = (torch.arange(side * side) >= row * side + col).reshape(side, side)
        assert dep[later].abs().max() == 0  # includes the pixel itself (type A first)
    # the pixel directly to the left and the one directly above are seen
    dep = G.input_dependence(net, (1, 2, side, side), (4, 4))
    assert dep[4, 3] > 0 and dep[3, 4] > 0


def test_masked_conv_weights_outside_mask_get_no_gradient():
    conv = G.MaskedConv2d(1, 1, 3, "A")
    conv(torch.randn(2, 1, 5, 5)).sum().backward()
    assert (conv.weight.grad[0, 0] * (1 - conv.mask)).abs().max() == 0


def test_bits_per_dim_and_quantize():
    assert G.bits_per_dim(256 * math.log(4), 256) == pytest.approx(2.0)
    assert G.bits_per_dim(0.0, 10) == 0.0
    x = np.array([0.0, 0.24, 0.25, 0.5, 0.99, 1.0])
    assert G.quantize(x, 4).tolist() == [0, 0, 1, 2, 3, 3]
    assert G.quantize(torch.tensor(x), 4).tolist() == [0, 0, 1, 2, 3, 3]


def test_log_mean_exp_is_stable_and_correct():
    x = torch.tensor([[0.0, math.log(3.0)], [-1000.0, -1000.0 + math.log(3.0)]])
    assert torch.allclose(G.log_mean_exp(x, 1), torch.tensor([math.log(2.0), -1000 + math.log(2.0)], dtype=x.dtype))


def test_builders_shapes():
    assert G.mlp(5, 7, 3)(torch.zeros(2, 5)).shape == (2, 3)
    assert len(G.mlp(5, 7, 3)) == 3  # linear, relu, linear: no activation after the last
    enc, dec = G.conv_encoder(3, 8, 6), G.conv_decoder(4, 8, 3)
    assert enc(torch.zeros(2, 3, 16, 16)).shape == (2, 6)
    out = dec(torch.zeros(2, 4))
    assert out.shape == (2, 3, 16, 16) and out.min() >= 0 and out.max() <= 1


def test_latent_walk_layout():
    # decode writes (z1, z2) into the two channels: the tiles must place z1 along x, z2 up
    decode = lambda z: z[:, :, None, None].expand(-1, 2, 3, 3)
    tiles = G.latent_walk(decode, n=4, lim=1.0)
    assert tiles.shape == (2, 12, 12)
    assert tiles[0, 0, 0] == -1 and tiles[0, 0, -1] == 1      # z1 grows to the right
    assert tiles[1, 0, 0] == 1 and tiles[1, -1, 0] == -1      # z2 is largest at the top


def test_figures_draw():
    fig = G.taxonomy_figure()
    assert "taxonomy" in fig.axes[0].get_title()
    fig = G.sample_grid(torch.rand(5, 1, 4, 4), "grid", ncols=3, titles=list("abcde"))
    assert fig._suptitle.get_text() == "grid"
    matplotlib.pyplot.close("all")
