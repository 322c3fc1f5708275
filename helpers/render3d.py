"""A small multi-view renderer of procedural 3D scenes, in numpy (lectures 15 and 18).

    scene = H.render3d.random_scene(seed=0)                     # 1-3 coloured primitives
    K = H.render3d.intrinsics(32, fov_deg=40)                    # 3x3 pinhole intrinsics
    poses = H.render3d.orbit_poses(8, radius=4.0, elevation_deg=25)   # (8, 4, 4) camera-to-world
    views = H.render3d.render_views(scene, K, poses, res=32)     # .rgb (8, 32, 32, 3), .depth, .mask
    o, d = H.render3d.get_rays(K, poses[0], 32)                  # per-pixel rays for a NeRF

Shapes are signed distance functions (SDFs): `sdf(p) < 0` inside, `> 0` outside, `= 0` on the
surface, and |sdf(p)| is (at most) the distance to the surface. Images are made by **sphere
tracing**: march each ray forward by the SDF value until it is (almost) zero. Anything with an
`sdf(points)` method, or a plain function `points (N, 3) -> (N,)`, can be rendered, so a lecture
can render its own CSG combination or a learned SDF with the same code.

Conventions (OpenCV style):
- a camera-to-world pose is a 4x4 matrix [R | t; 0 0 0 1]; the columns of R are the camera's
  x (right), y (down) and z (forward, the viewing direction) axes in world coordinates, t is the
  camera centre. World "up" is +z. Poses from `look_at` always look at their target.
- pixel (row v, column u) has its centre at (u + 0.5, v + 0.5); K = [[f, 0, c], [0, f, c], [0, 0, 1]].
- `depth` is the z-depth (distance along the camera's forward axis), as a depth sensor reports;
  `t` is the distance along the unit ray (NeRF's t). t = depth * |K^-1 [u, v, 1]|. Background
  pixels have depth = t = inf and mask = False.
- rgb is float32 in [0, 1], Lambertian shading under one fixed world light (so a surface point
  has the same colour from every view: what NeRF and splatting assume) plus ambient light.

Everything is deterministic: same arguments (and seed), same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("sphere", "box", "torus", "cylinder", "cone")
LIGHT = np.array([0.45, -0.35, 0.82]) / np.linalg.norm([0.45, -0.35, 0.82])  # towards the light
PALETTE = np.array([[0.90, 0.25, 0.20], [0.20, 0.55, 0.90], [0.25, 0.75, 0.30], [0.95, 0.75, 0.15],
                    [0.65, 0.35, 0.85], [0.95, 0.50, 0.70], [0.20, 0.75, 0.75], [0.60, 0.45, 0.30]])


# ---------------------------------------------------------------- signed distance functions
def sdf_sphere(p, radius=1.0):
    """Exact SDF of a sphere centred at the origin. p: (..., 3)."""
    return np.linalg.norm(p, axis=-1) - radius


def sdf_box(p, half=(1.0, 1.0, 1.0)):
    """Exact SDF of an axis-aligned box with half-extents `half`, centred at the origin."""
    q = np.abs(p) - np.asarray(half, float)
    return np.linalg.norm(np.maximum(q, 0), axis=-1) + np.minimum(q.max(-1), 0)


def sdf_torus(p, major=0.7, minor=0.28):
    """Exact SDF of a torus around the z axis: ring radius `major`, tube radius `minor`."""
    ring = np.hypot(p[..., 0], p[..., 1]) - major
    return np.hypot(ring, p[..., 2]) - minor


def _revolve_box(rho, z, radius, half_height):
    q0, q1 = rho - radius, np.abs(z) - half_height
    return np.hypot(np.maximum(q0, 0), np.maximum(q1, 0)) + np.minimum(np.maximum(q0, q1), 0)


def sdf_cylinder(p, radius=0.6, half_height=0.8):
    """Exact SDF of a capped cylinder around the z axis, |z| <= half_height."""
    return _revolve_box(np.hypot(p[..., 0], p[..., 1]), p[..., 2], radius, half_height)


def sdf_cone(p, radius=0.7, half_height=0.8):
    """Exact SDF of a solid cone around the z axis: base disc of `radius` at z = -half_height,
    apex at z = +half_height (the 2-D distance to its triangular cross-section, revolved)."""
    rho, z = np.hypot(p[..., 0], p[..., 1]), p[..., 2]
    h2 = 2 * half_height
    # cross-section in the (rho, z) half-plane: triangle (0,-h), (r,-h), (0,h); distance to its edges
    a = np.array([[0.0, -half_height], [radius, -half_height]])
    b = np.array([[radius, -half_height], [0.0, half_height]])
    q = np.stack([rho, z], -1)
    d2 = np.full(rho.shape, np.inf)
    for s, e in zip(a, b):
        edge = e - s
        w = q - s
        h = np.clip((w @ edge) / (edge @ edge), 0, 1)
        d2 = np.minimum(d2, ((w - h[..., None] * edge) ** 2).sum(-1))
    inside = (z > -half_height) & (rho < radius * (half_height - z) / h2)
    return np.where(inside, -1.0, 1.0) * np.sqrt(d2)


_SDFS = {"sphere": sdf_sphere, "box": sdf_box, "torus": sdf_torus, "cylinder": sdf_cylinder, "cone": sdf_cone}


def smooth_min(a, b, k):
    """Polynomial smooth minimum: min(a, b) when |a - b| >= k, a blend (always <= min) inside.
    k = 0 gives the plain minimum (a hard CSG union)."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0, 1)
    return b + (a - b) * h - k * h * (1 - h)


def rotation(yaw=0.0, pitch=0.0, roll=0.0):
    """3x3 rotation R = Rz(yaw) @ Ry(pitch) @ Rx(roll), angles in radians."""
    cz, sz, cy, sy, cx, sx = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return rz @ ry @ rx


@dataclass
class Shape:
    """One primitive: kind in KINDS, its SDF parameters (`params`, keyword arguments of the
    sdf_* function), a pose (centre, 3x3 rotation: local -> world) and an RGB colour in [0, 1]."""

    kind: str
    params: dict = field(default_factory=dict)
    center: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))
    color: np.ndarray = field(default_factory=lambda: np.array([0.8, 0.8, 0.8]))

    def sdf(self, p):
        local = (np.asarray(p, float) - self.center) @ self.rot      # R^T (p - c), row-vector form
        return _SDFS[self.kind](local, **self.params)


@dataclass
class Scene:
    """A union of shapes; `blend` > 0 merges them with a smooth minimum of that width."""

    shapes: list
    blend: float = 0.0

    def sdf(self, p, return_ids=False):
        """Signed distance at points p (..., 3); with return_ids also the index of the nearest shape."""
        ds = np.stack([s.sdf(p) for s in self.shapes])
        d = ds[0]
        for other in ds[1:]:
            d = smooth_min(d, other, self.blend)
        return (d, ds.argmin(0)) if return_ids else d

    def color(self, p):
        """Albedo at points p (..., 3): the colour of the nearest shape (blended near seams if blend > 0)."""
        ds = np.stack([s.sdf(p) for s in self.shapes])
        cols = np.stack([s.color for s in self.shapes])
        if self.blend > 0:
            w = np.exp(-(ds - ds.min(0)) / (0.25 * self.blend))
            return np.einsum("k...,kc->...c", w / w.sum(0), cols)
        return cols[ds.argmin(0)]


def primitive(kind, seed=0, color=None, scale=1.0):
    """One shape of `kind`, centred, randomly rotated and sized (fits in a radius-~1 ball)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.85, 1.15, 3) * scale
    params = {"sphere": {"radius": 0.8 * u[0]},
              "box": {"half": tuple(0.55 * u)},
              "torus": {"major": 0.65 * u[0], "minor": 0.25 * u[1]},
              "cylinder": {"radius": 0.55 * u[0], "half_height": 0.7 * u[1]},
              "cone": {"radius": 0.65 * u[0], "half_height": 0.75 * u[1]}}[kind]
    col = PALETTE[rng.integers(len(PALETTE))] if color is None else np.asarray(color, float)
    return Shape(kind, params, np.zeros(3), rotation(*rng.uniform(0, 2 * np.pi, 3)), col)


def random_scene(seed=0, n_shapes=(1, 3), kinds=KINDS, extent=0.6):
    """1-3 (or n_shapes = (lo, hi)) random primitives of random kinds, sizes, poses and colours,
    placed (centres within `extent` of the origin) so that they stay in view of the default
    cameras (radius 4, 40 degrees). Same seed, same scene."""
    rng = np.random.default_rng(seed)
    lo, hi = (n_shapes, n_shapes) if np.isscalar(n_shapes) else n_shapes
    n = int(rng.integers(lo, hi + 1))
    shapes = []
    for _ in range(n):
        s = primitive(kinds[rng.integers(len(kinds))], seed=int(rng.integers(2**31)),
                      scale=0.6 if n > 1 else 1.0)
        s.center = rng.uniform(-extent, extent, 3) * (n > 1) * np.array([1, 1, 0.6])
        shapes.append(s)
    return Scene(shapes)


# ---------------------------------------------------------------- cameras
def intrinsics(res, fov_deg=40.0):
    """3x3 pinhole intrinsics of a square res x res image with horizontal field of view fov_deg."""
    f = 0.5 * res / np.tan(np.radians(fov_deg) / 2)
    return np.array([[f, 0, res / 2], [0, f, res / 2], [0, 0, 1.0]])


def look_at(eye, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)):
    """4x4 camera-to-world pose of a camera at `eye` looking at `target` (OpenCV axes: x right,
    y down, z forward), with the world's `up` pointing up in the image."""
    eye, target, up = (np.asarray(v, float) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-8:                 # looking straight along `up`: any right vector
        x = np.cross(z, [0.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, y, z], 1)
    pose[:3, 3] = eye
    return pose


def orbit_poses(n, radius=4.0, elevation_deg=25.0, start_deg=0.0):
    """n poses evenly spaced in azimuth on a circle at the given elevation, looking at the origin."""
    az = np.radians(start_deg) + 2 * np.pi * np.arange(n) / n
    el = np.radians(elevation_deg)
    return np.stack([look_at(radius * np.array([np.cos(a) * np.cos(el), np.sin(a) * np.cos(el), np.sin(el)]))
                     for a in az])


def random_poses(n, radius=4.0, seed=0, min_elevation_deg=-10.0, max_elevation_deg=70.0):
    """n poses at random azimuths and elevations (uniform on that band of the sphere)."""
    rng = np.random.default_rng(seed)
    az = rng.uniform(0, 2 * np.pi, n)
    s = rng.uniform(np.sin(np.radians(min_elevation_deg)), np.sin(np.radians(max_elevation_deg)), n)
    el = np.arcsin(s)
    return np.stack([look_at(radius * np.array([np.cos(a) * np.cos(e), np.sin(a) * np.cos(e), np.sin(e)]))
                     for a, e in zip(az, el)])


def get_rays(K, pose, res):
    """Per-pixel rays: origins and unit directions in world coordinates, each (res, res, 3)
    (row v, column u), through the pixel centres."""
    v, u = np.meshgrid(np.arange(res) + 0.5, np.arange(res) + 0.5, indexing="ij")
    cam = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K).T        # K^-1 [u, v, 1]
    dirs = cam @ pose[:3, :3].T
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    return np.broadcast_to(pose[:3, 3], dirs.shape).copy(), dirs


def project(points, K, pose):
    """World points (N, 3) -> pixel coordinates (N, 2) as (u, v) and z-depth (N,)."""
    cam = (np.asarray(points, float) - pose[:3, 3]) @ pose[:3, :3]           # R^T (p - t)
    uvw = cam @ K.T
    return uvw[:, :2] / uvw[:, 2:3], cam[:, 2]


def depth_to_points(depth, K, pose):
    """Back-project a z-depth map (res, res) into world points (M, 3), one per finite pixel
    (row-major order)."""
    res = depth.shape[0]
    v, u = np.meshgrid(np.arange(res) + 0.5, np.arange(res) + 0.5, indexing="ij")
    ok = np.isfinite(depth)
    cam = np.stack([u[ok], v[ok], np.ones(ok.sum())], -1) @ np.linalg.inv(K).T * depth[ok][:, None]
    return cam @ pose[:3, :3].T + pose[:3, 3]


# ---------------------------------------------------------------- rendering
def _sdf_of(scene):
    return scene.sdf if hasattr(scene, "sdf") else scene


def sphere_trace(sdf, origins, dirs, near=0.0, far=10.0, steps=80, eps=1e-3, relax=1.0, refine=2):
    """March rays (N, 3) by the SDF value; returns t (N,) (inf where nothing was hit) and the
    number of SDF evaluations (rays x steps actually computed). Only rays still marching are
    evaluated at each step. A ray stops when |sdf| < eps * max(t, 1). For a function that may
    overestimate the distance (a learned SDF), pass relax < 1 to take shorter steps. Hits are then
    polished by `refine` Newton steps along the ray, t <- t - sdf / (grad sdf . dir)."""
    sdf = _sdf_of(sdf)
    t = np.full(len(origins), float(near))
    hit = np.zeros(len(origins), bool)
    active = np.arange(len(origins))
    evals = 0
    for _ in range(steps):
        if len(active) == 0:
            break
        d = sdf(origins[active] + t[active, None] * dirs[active])
        evals += len(active)
        done = np.abs(d) < eps * np.maximum(t[active], 1.0)
        hit[active[done]] = True
        t[active[~done]] += relax * d[~done]
        active = active[~done & (t[active] < far)]
    idx = np.flatnonzero(hit)
    p = origins[idx] + t[idx, None] * dirs[idx]
    d = sdf(p)
    for _ in range(refine):                                    # kept only where |sdf| shrinks
        slope = (normals(sdf, p) * dirs[idx]).sum(-1)          # d sdf / dt, negative when entering
        t_new = t[idx] - np.clip(d / np.minimum(slope, -0.2), -0.05, 0.05)
        p_new = origins[idx] + t_new[:, None] * dirs[idx]
        d_new = sdf(p_new)
        better = np.abs(d_new) < np.abs(d)
        t[idx[better]], p[better], d[better] = t_new[better], p_new[better], d_new[better]
        evals += 8 * len(idx)
    t[~hit] = np.inf
    return t, evals


def normals(sdf, points, h=1e-3):
    """Unit surface normals at points (N, 3): the normalised central-difference gradient of the SDF."""
    sdf = _sdf_of(sdf)
    e = np.eye(3) * h
    g = np.stack([sdf(points + e[i]) - sdf(points - e[i]) for i in range(3)], -1)
    return g / np.maximum(np.linalg.norm(g, axis=-1, keepdims=True), 1e-12)


@dataclass
class Views:
    """Rendered views: rgb float32 (V, H, W, 3) in [0, 1]; depth and t float32 (V, H, W), inf on
    the background; mask bool (V, H, W); normals float32 (V, H, W, 3) in world coordinates (0 on
    the background); the poses (V, 4, 4) and K (3, 3) they were rendered with."""

    rgb: np.ndarray
    depth: np.ndarray
    t: np.ndarray
    mask: np.ndarray
    normals: np.ndarray
    poses: np.ndarray
    K: np.ndarray

    def __len__(self):
        return len(self.rgb)


def shade(albedo, n, ambient=0.35):
    """Lambertian shading under the fixed world light LIGHT, plus ambient light."""
    return albedo * (ambient + (1 - ambient) * np.clip(n @ LIGHT, 0, 1)[:, None])


def render_views(scene, K, poses, res, background=(1.0, 1.0, 1.0), near=0.5, far=10.0, steps=80, relax=1.0):
    """Render every pose of `poses` (V, 4, 4) (or one (4, 4) pose) at res x res; returns Views.

    `scene`: a Scene, or anything with .sdf(points) (and optionally .color(points)), or a plain
    function points -> signed distance (then the surface is light grey). All views are traced
    together, in one vectorised loop.
    """
    poses = np.asarray(poses, float)
    poses = poses[None] if poses.ndim == 2 else poses
    rays = [get_rays(K, p, res) for p in poses]
    o = np.concatenate([r[0].reshape(-1, 3) for r in rays])
    d = np.concatenate([r[1].reshape(-1, 3) for r in rays])
    t, _ = sphere_trace(scene, o, d, near, far, steps, relax=relax)
    hit = np.isfinite(t)
    p = o[hit] + t[hit, None] * d[hit]
    n = normals(scene, p)
    albedo = scene.color(p) if hasattr(scene, "color") else np.full((len(p), 3), 0.8)
    rgb = np.tile(np.asarray(background, float), (len(o), 1))
    rgb[hit] = shade(albedo, n)
    nrm = np.zeros((len(o), 3))
    nrm[hit] = n
    cos = np.einsum("vc,vhwc->vhw", poses[:, :3, 2], d.reshape(len(poses), res, res, 3))   # forward . ray
    shape = (len(poses), res, res)
    return Views(rgb.reshape(*shape, 3).astype(np.float32), (t.reshape(shape) * cos).astype(np.float32),
                 t.reshape(shape).astype(np.float32), hit.reshape(shape), nrm.reshape(*shape, 3).astype(np.float32),
                 poses, np.asarray(K, float))


def render(scene, K, pose, res, **kw):
    """One view: (rgb (H, W, 3), depth (H, W), mask (H, W)). See render_views."""
    v = render_views(scene, K, pose, res, **kw)
    return v.rgb[0], v.depth[0], v.mask[0]


def occupancy_grid(scene, res=32, bound=1.5):
    """Occupancy (res, res, res) bool of `scene` on a grid over [-bound, bound]^3 (indexed x, y, z),
    and the SDF values float32 on the same grid (for marching cubes)."""
    g = (np.arange(res) + 0.5) / res * 2 * bound - bound
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    d = _sdf_of(scene)(pts).reshape(res, res, res).astype(np.float32)
    return d < 0, d


def surface_points(scene, n, seed=0, bound=1.5, shell=0.03, iters=5):
    """n points on the surface of `scene` (n, 3), nearly uniform over its area: uniform random
    points of the thin shell |sdf| < shell, each projected onto the zero level set by a few steps
    of p <- p - sdf(p) grad(p). Deterministic per seed."""
    rng = np.random.default_rng(seed)
    sdf = _sdf_of(scene)
    kept = []
    for _ in range(200):
        p = rng.uniform(-bound, bound, (200_000, 3))
        kept.append(p[np.abs(sdf(p)) < shell])
        if sum(len(k) for k in kept) >= 1.2 * n + 10:
            break
    p = np.concatenate(kept)
    for _ in range(iters):
        p = p - sdf(p)[:, None] * normals(sdf, p)
    p = p[np.abs(sdf(p)) < 1e-4]
    if len(p) < n:
        raise ValueError(f"found only {len(p)} surface points; is the shape inside [-bound, bound]^3?")
    return p[rng.permutation(len(p))[:n]]


def load_multiview(n, views=6, res=32, seed=0, kinds=KINDS, radius=3.5, fov_deg=40.0, random_views=False):
    """n single-primitive objects (labels index `kinds`), each rendered from `views` cameras.

    Returns a dict: rgb (n, V, res, res, 3) float32, depth (n, V, res, res), mask (n, V, res, res),
    labels (n,) int64, poses (n, V, 4, 4), K (3, 3), shapes (the n Shape objects), classes.
    The cameras orbit at 25 degrees elevation from a random start azimuth (or random poses if
    random_views); objects are randomly rotated, so the class is what is shared.
    """
    rng = np.random.default_rng(seed)
    K = intrinsics(res, fov_deg)
    labels = np.arange(n) % len(kinds)
    rng.shuffle(labels)
    out = {k: [] for k in ("rgb", "depth", "mask", "poses")}
    shapes = []
    for i in range(n):
        s = primitive(kinds[labels[i]], seed=int(rng.integers(2**31)))
        pose = (random_poses(views, radius, seed=int(rng.integers(2**31))) if random_views
                else orbit_poses(views, radius, 25.0, start_deg=rng.uniform(0, 360)))
        v = render_views(Scene([s]), K, pose, res)
        for k in out:
            out[k].append(getattr(v, k))
        shapes.append(s)
    out = {k: np.stack(val) for k, val in out.items()}
    out.update(labels=labels.astype(np.int64), K=K, shapes=shapes, classes=tuple(kinds))
    return out
