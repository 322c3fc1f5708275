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
