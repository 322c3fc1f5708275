"""3D reconstruction tools for lecture 18: triangle meshes for template deformation, octrees.

    V, F = icosphere(2)                 # 162 vertices, 320 faces on the unit sphere
    V, F = subdivide(V, F)              # 642 vertices: every edge gets a midpoint
    conv = GraphConv(3, 64); h = conv(x, neighbours(F, len(V)))

Meshes are (V, F): float vertices (n, 3) and int64 faces (m, 3), counter-clockwise seen from
outside. Used in: lecture 18.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["icosphere", "subdivide", "edges", "neighbours", "GraphConv", "sample_surface",
           "laplacian", "octree_cells", "volume_render", "splat"]


def _icosahedron():
    t = (1 + 5 ** 0.5) / 2
    V = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                  [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    F = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9],
                  [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2],
                  [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10],
                  [8, 6, 7], [9, 8, 1]])
    return V / np.linalg.norm(V, axis=1, keepdims=True), F


def edges(F) -> np.ndarray:
    """Unique undirected edges (E, 2), smaller index first, of a triangle mesh."""
    F = np.asarray(F)
    e = np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]])
    return np.unique(np.sort(e, axis=1), axis=0)


def subdivide(V, F, project=False):
    """Split every triangle into 4 by edge midpoints: V' = V + E vertices, F' = 4F faces.

    This is how a template is refined coarse-to-fine: the new vertices start exactly on the
    old surface, so the refined mesh has the same shape and more freedom to deform.
    project=True pushes the new vertices onto the unit sphere (for building an icosphere).
    """
    V, F = np.asarray(V, float), np.asarray(F)
    E = edges(F)
    mid = (V[E[:, 0]] + V[E[:, 1]]) / 2
    if project:
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
    index = {tuple(e): len(V) + i for i, e in enumerate(E)}
    m = np.array([[index[tuple(sorted((f[a], f[b])))] for a, b in ((0, 1), (1, 2), (2, 0))] for f in F])
    a, b, c = F.T
    ab, bc, ca = m.T
    F2 = np.concatenate([np.stack(t, 1) for t in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))])
    return np.concatenate([V, mid]), F2


def icosphere(level: int):
    """Unit sphere mesh: an icosahedron subdivided `level` times (12, 42, 162, 642, 2562 vertices)."""
    if not 0 <= int(level) <= 6:
        raise ValueError(f"level must be between 0 and 6 (got {level}); level 6 already has 40962 vertices")
    V, F = _icosahedron()
    for _ in range(int(level)):
        V, F = subdivide(V, F, project=True)
    return V, F


def neighbours(F, n: int) -> torch.Tensor:
    """Row-normalised adjacency (n, n) as a sparse tensor: row i averages the neighbours of i."""
    E = edges(F)
    i = np.concatenate([E[:, 0], E[:, 1]])
    j = np.concatenate([E[:, 1], E[:, 0]])
    deg = np.bincount(i, minlength=n).astype(np.float32)
    vals = torch.tensor(1.0 / deg[i], dtype=torch.float32)
    return torch.sparse_coo_tensor(torch.tensor(np.stack([i, j])), vals, (n, n),
                                   check_invariants=True).coalesce()


class GraphConv(nn.Module):
    """f_i' = W0 f_i + W1 mean_{j in N(i)} f_j — a convolution whose "window" is a vertex's ring."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.self_w = nn.Linear(d_in, d_out)
        self.nbr_w = nn.Linear(d_in, d_out, bias=False)

    def forward(self, x, adj):
        return self.self_w(x) + self.nbr_w(torch.sparse.mm(adj, x))


def sample_surface(V, F, n: int, generator=None) -> torch.Tensor:
    """n points uniformly on the surface of mesh (V torch (nv, 3), F int64 (m, 3)), differentiable in V.

    Triangles are picked with probability proportional to area, points by uniform barycentric
    coordinates; gradients flow to the vertices, so a loss on the samples moves the mesh.
    """
    F = torch.as_tensor(F, dtype=torch.long)
    a, b, c = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    area = torch.linalg.cross(b - a, c - a).norm(dim=1).detach()
    tri = torch.multinomial(area / area.sum(), n, replacement=True, generator=generator)
    u, v = torch.rand(2, n, 1, generator=generator)
    flip = (u + v) > 1                                  # fold the square onto the triangle
    u, v = torch.where(flip, 1 - u, u), torch.where(flip, 1 - v, v)
    return a[tri] + u * (b[tri] - a[tri]) + v * (c[tri] - a[tri])


def laplacian(V, adj) -> torch.Tensor:
    """Mean squared distance of each vertex from the mean of its neighbours (a smoothness penalty)."""
    return (V - torch.sparse.mm(adj, V)).pow(2).sum(1).mean()


def octree_cells(occupied: np.ndarray) -> list[int]:
    """Cells an octree stores per level for a boolean grid (2^k)^3: the root, then the children
    of every *mixed* cell (one that holds both occupied and empty voxels).

    A full grid stores every voxel; an octree stops splitting where a cell is all-empty or
    all-full, so its size grows with the surface area, not the volume.
    """
    occ = np.asarray(occupied, bool)
    n = occ.shape[0]
    if occ.shape != (n, n, n) or n & (n - 1):
        raise ValueError(f"need a cubic grid with a power-of-two side, got shape {occ.shape}")
    counts, size = [1], n
    while size > 1:
        # a cell of side `size` is mixed if it has some but not all voxels occupied
        k = n // size
        blocks = occ.reshape(k, size, k, size, k, size).sum((1, 3, 5))
        is_mixed = (blocks > 0) & (blocks < size ** 3)
        counts.append(int(8 * is_mixed.sum()))
        size //= 2
    return counts


def volume_render(density, colour, origins, dirs, near=2.0, far=5.0, samples=32, bound=1.3, background=1.0):
    """NeRF's volume-rendering equation on a voxel grid, differentiable in density and colour.

    density (D, D, D) >= 0 and colour (3, D, D, D) in [0, 1] live on the cube [-bound, bound]^3,
    indexed (x, y, z); rays are origins, dirs (..., 3) torch tensors (unit directions). Each ray is
    sampled at `samples` evenly spaced t in [near, far]; the grids are read by trilinear
    interpolation (density zero outside the cube), and
        C = sum_i T_i (1 - exp(-sigma_i delta)) c_i + T_N background,  T_i = prod_{j<i} exp(-sigma_j delta).
    Returns the image (..., 3).
    """
    shape = origins.shape[:-1]
    o, d = origins.reshape(-1, 3), dirs.reshape(-1, 3)
    t = torch.linspace(near, far, samples)
    pts = o[:, None] + t[None, :, None] * d[:, None]                       # (R, S, 3)
    grid = (pts / bound).reshape(1, 1, -1, samples, 3)                     # (x, y, z) in [-1, 1]
    vol = torch.cat([density[None], colour]).permute(0, 3, 2, 1)[None]     # (1, 4, z, y, x): grid_sample's (D, H, W)
    vals = F.grid_sample(vol, grid, align_corners=False, padding_mode="border")[0, :, 0]  # (4, R, S)
    inside = (pts.abs() <= bound).all(-1)                                  # empty space outside the cube
    alpha = (1 - torch.exp(-vals[0] * (far - near) / samples)) * inside
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1] + 1e-10], 1), 1)
    w = trans * alpha                                                      # (R, S) weights along each ray
    rgb = (w[..., None] * vals[1:].permute(1, 2, 0)).sum(1) + (1 - w.sum(1, keepdim=True)) * background
    return rgb.reshape(*shape, 3)


def splat(means, scales, colours, opacity, K, pose, res, background=1.0):
    """3D Gaussian splatting in miniature: isotropic 3D Gaussians, projected and alpha-blended.

    means (N, 3), scales (N,) world-unit standard deviations, colours (N, 3), opacity (N,) in
    [0, 1], all torch; K (3, 3) and pose (4, 4) numpy (render3d conventions). Each Gaussian
    projects to a 2D Gaussian of standard deviation f * scale / z; sorted front to back, they
    are blended with the same compositing equation as `volume_render`, but over a few discrete
    blobs per pixel instead of many samples along a ray. Returns the image (res, res, 3).
    """
    Rm, tv = torch.tensor(pose[:3, :3], dtype=means.dtype), torch.tensor(pose[:3, 3], dtype=means.dtype)
    cam = (means - tv) @ Rm                                                # camera axes
    order = torch.argsort(cam[:, 2])
    cam, scales, colours, opacity = cam[order], scales[order], colours[order], opacity[order]
    f, c = float(K[0, 0]), float(K[0, 2])
    uv = f * cam[:, :2] / cam[:, 2:3] + c
    sigma = f * scales / cam[:, 2]
    v, u = torch.meshgrid(torch.arange(res) + 0.5, torch.arange(res) + 0.5, indexing="ij")
    pix = torch.stack([u, v], -1).reshape(-1, 1, 2)                       # (P, 1, 2)
    d2 = ((pix - uv[None]) ** 2).sum(-1)                                   # (P, N)
    alpha = (opacity * torch.exp(-0.5 * d2 / sigma ** 2)).clamp(max=0.99)
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1]], 1), 1)
    w = trans * alpha
    img = w @ colours + (1 - w.sum(1, keepdim=True)) * background
    return img.reshape(res, res, 3)
