"""Mesh and octree tools of lecture 18, checked against counts derived by hand and torch."""

import numpy as np
import pytest
import torch

from helpers import recon3d as R


@pytest.mark.parametrize("level", range(5))
def test_icosphere_counts_follow_euler(level):
    V, F = R.icosphere(level)
    E = R.edges(F)
    assert len(V) - len(E) + len(F) == 2                  # a closed genus-0 surface
    assert len(V) == 10 * 4 ** level + 2
    assert np.allclose(np.linalg.norm(V, axis=1), 1)


def test_subdivision_keeps_the_surface_and_adds_one_vertex_per_edge():
    V, F = R.icosphere(1)
    V2, F2 = R.subdivide(V * 2, F)
    assert len(V2) == len(V) + len(R.edges(F)) and len(F2) == 4 * len(F)
    # unprojected midpoints lie on the old edges, inside the sphere of radius 2
    assert np.allclose(np.linalg.norm(V2[: len(V)], axis=1), 2)
    assert (np.linalg.norm(V2[len(V):], axis=1) < 2).all()
    # every face keeps its outward orientation: normals point away from the centre
    a, b, c = (V2[F2[:, i]] for i in range(3))
    assert (np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) > 0).all()


def test_graph_conv_averages_neighbours():
    V, F = R.icosphere(1)
    adj = R.neighbours(F, len(V))
    x = torch.randn(len(V), 2)
    dense = adj.to_dense()
    assert torch.allclose(dense.sum(1), torch.ones(len(V)))
    conv = R.GraphConv(2, 3)
    E = R.edges(F)
    i = 5
    nbrs = np.unique(np.concatenate([E[E[:, 0] == i, 1], E[E[:, 1] == i, 0]]))
    expected = conv.self_w(x[i]) + conv.nbr_w(x[nbrs].mean(0))
    assert torch.allclose(conv(x, adj)[i], expected, atol=1e-6)


def test_surface_samples_lie_on_the_mesh_and_carry_gradients():
    V, F = R.icosphere(3)
    Vt = torch.tensor(V, dtype=torch.float32, requires_grad=True)
    pts = R.sample_surface(Vt, F, 500, generator=torch.Generator().manual_seed(0))
    r = pts.norm(dim=1)
    assert (r <= 1 + 1e-5).all() and (r > 0.98).all()     # on flat faces just inside the sphere
    pts.sum().backward()
    assert Vt.grad.abs().sum() > 0


def test_octree_stores_surface_cells_only():
    n = 16
    empty = np.zeros((n, n, n), bool)
    assert R.octree_cells(empty) == [1, 0, 0, 0, 0]
    half = empty.copy()
    half[: n // 2] = True                                  # a flat wall: every level is uniform
    assert R.octree_cells(half) == [1, 8, 0, 0, 0]
    one = empty.copy()
    one[0, 0, 0] = True                                    # one voxel: one mixed cell per level
    assert R.octree_cells(one) == [1, 8, 8, 8, 8]
    with pytest.raises(ValueError, match="power-of-two"):
        R.octree_cells(np.zeros((6, 6, 6), bool))


def _rays(res=8):
    from helpers import render3d as R3D

    K = R3D.intrinsics(res)
    pose = R3D.orbit_poses(1, radius=3.5)[0]
    o, d = R3D.get_rays(K, pose, res)
    return K, pose, torch.tensor(o, dtype=torch.float32), torch.tensor(d, dtype=torch.float32)


def test_volume_render_empty_is_background_and_opaque_is_colour():
    _, _, o, d = _rays()
    colour = torch.zeros(3, 8, 8, 8)
    colour[0] = 1.0                                            # red everywhere
    empty = R.volume_render(torch.zeros(8, 8, 8), colour, o, d, background=0.25)
    assert torch.allclose(empty, torch.full_like(empty, 0.25))
    dense = torch.full((8, 8, 8), 1000.0, requires_grad=True)
    img = R.volume_render(dense, colour, o, d, near=2.0, far=5.0, background=0.25)
    centre = img[4, 4]                                         # the central ray crosses the cube
    assert torch.allclose(centre, torch.tensor([1.0, 0.0, 0.0]), atol=1e-3)
    img.sum().backward()
    assert dense.grad is not None


def test_splat_matches_the_compositing_formula_and_ignores_input_order():
    K, pose, _, _ = _rays(16)
    means = torch.tensor([[0.0, 0.0, 0.0], [0.3, 0.2, 0.1], [-0.4, 0.1, 0.2]])
    scales = torch.tensor([0.2, 0.3, 0.25])
    colours = torch.eye(3)
    opacity = torch.tensor([0.8, 0.5, 0.6])
    img = R.splat(means, scales, colours, opacity, K, pose, 16, background=1.0)
    perm = torch.tensor([2, 0, 1])
    assert torch.allclose(img, R.splat(means[perm], scales[perm], colours[perm], opacity[perm], K, pose, 16))
    one = R.splat(means[:1], scales[:1], colours[:1], opacity[:1], K, pose, 16, background=0.0)
    # the origin projects to the image centre, half a pixel (in u and v) from the 4 central pixel
    # centres: alpha there is the opacity times exp(-0.5 * 0.5 / sigma^2), sigma = f * scale / z
    sigma = K[0, 0] * 0.2 / 3.5
    expected = 0.8 * np.exp(-0.5 * 0.5 / sigma ** 2)
    assert torch.allclose(one[7:9, 7:9, 0], torch.tensor(expected, dtype=torch.float32), atol=1e-5)
    assert one[..., 1:].abs().max() == 0
