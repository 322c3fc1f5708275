"""The multi-view renderer of helpers/render3d.py: SDFs, cameras, rays, depth, determinism."""

import numpy as np
import pytest

import helpers as H

R = H.render3d


def test_sdfs_are_exact_on_known_points():
    p = np.array([[2.0, 0, 0], [0, 0, 0], [0.7, 0, 0.5], [0, 0, 3.0]])
    assert np.allclose(R.sdf_sphere(p, 1.0), [1, -1, np.hypot(0.7, 0.5) - 1, 2])
    assert np.allclose(R.sdf_box(p, (1, 1, 1)), [1, -1, -0.3, 2])
    assert np.allclose(R.sdf_torus(p, 0.7, 0.2), [np.hypot(1.3, 0) - 0.2, 0.5, 0.3, np.hypot(0.7, 3) - 0.2])
    assert np.allclose(R.sdf_cylinder(p, 0.5, 1.0), [1.5, -0.5, 0.2, 2])
    # cone: base radius 1 at z=-1, apex at z=+1; the apex is at distance 2 above along z
    assert np.allclose(R.sdf_cone(np.array([[0, 0, 3.0], [0, 0, -2.0], [0, 0, 0]]), 1.0, 1.0)[:2], [2, 1])
    assert R.sdf_cone(np.zeros((1, 3)), 1.0, 1.0)[0] < 0


@pytest.mark.parametrize("kind", R.KINDS)
def test_sdf_has_unit_gradient_near_the_surface(kind):
    shape = R.primitive(kind, seed=3)
    pts = R.surface_points(R.Scene([shape]), 200, seed=1)
    assert len(pts) > 150 and np.abs(shape.sdf(pts)).max() < 1e-3
    h = 1e-4
    g = np.stack([shape.sdf(pts + h * e) - shape.sdf(pts - h * e) for e in np.eye(3)], -1) / (2 * h)
    assert np.mean(np.abs(np.linalg.norm(g, axis=1) - 1) < 1e-2) > 0.9   # all but edges and rims


def test_smooth_min_is_min_far_apart_and_below_min_close():
    a, b = np.array([0.0, 0.0, 1.0]), np.array([2.0, 0.0, 1.05])
    m = R.smooth_min(a, b, 0.5)
    assert m[0] == 0 and m[1] < 0 and m[2] < 1
    assert np.array_equal(R.smooth_min(a, b, 0), np.minimum(a, b))


def test_poses_are_rigid_and_look_at_the_origin():
    for poses in (R.orbit_poses(7, 3.0, 30), R.random_poses(9, 4.0, seed=2)):
        rot = poses[:, :3, :3]
        assert np.allclose(rot @ rot.transpose(0, 2, 1), np.eye(3), atol=1e-12)
        assert np.allclose(np.linalg.det(rot), 1)
        assert np.allclose(poses[:, 3], [0, 0, 0, 1])
        fwd, eye = rot[:, :, 2], poses[:, :3, 3]
        assert np.allclose(fwd, -eye / np.linalg.norm(eye, axis=1, keepdims=True))
        assert np.allclose(rot[:, 2, 0], 0)                 # x axis horizontal: no roll
    assert np.allclose(np.linalg.norm(R.orbit_poses(5, 3.0)[:, :3, 3], axis=1), 3.0)


def test_rays_project_back_to_their_pixels():
    K, pose = R.intrinsics(16, 50), R.random_poses(1, seed=4)[0]
    o, d = R.get_rays(K, pose, 16)
    assert np.allclose(np.linalg.norm(d, axis=-1), 1)
    uv, z = R.project((o + 2.5 * d).reshape(-1, 3), K, pose)
    v, u = np.meshgrid(np.arange(16) + 0.5, np.arange(16) + 0.5, indexing="ij")
    assert np.allclose(uv, np.stack([u, v], -1).reshape(-1, 2)) and (z > 0).all()


def test_depth_of_a_sphere_matches_ray_geometry():
    scene = R.Scene([R.Shape("sphere", {"radius": 1.0})])
    K, pose = R.intrinsics(33, 40), R.look_at([0, -4.0, 0])
    v = R.render_views(scene, K, pose, 33)
    assert abs(v.depth[0, 16, 16] - 3.0) < 2e-3 and abs(v.t[0, 16, 16] - 3.0) < 2e-3   # centre pixel
    o, d = R.get_rays(K, pose, 33)
    m = v.mask[0]
    # analytic ray-sphere intersection for every hit pixel
    b = (o * d).sum(-1)
    with np.errstate(invalid="ignore"):
        t_true = -b - np.sqrt(b ** 2 - (o ** 2).sum(-1) + 1)
    both = m & np.isfinite(t_true)
    assert (m != np.isfinite(t_true)).sum() <= 4          # at most a few silhouette pixels disagree
    assert np.median(np.abs(v.t[0][both] - t_true[both])) < 1e-3
    assert np.abs(v.t[0][both] - t_true[both]).max() < 5e-2     # grazing rays at the rim
    cos = d @ pose[:3, 2]
    assert np.allclose(v.depth[0][m], v.t[0][m] * cos[m], atol=1e-4)
    assert np.isinf(v.depth[0][~m]).all() and (v.rgb[0][~m] == 1).all()
    # back-projected depth lands on the surface; normals point outwards
    pts = R.depth_to_points(v.depth[0], K, pose)
    assert np.abs(np.linalg.norm(pts, axis=1) - 1).max() < 5e-3
    assert np.allclose(v.normals[0][m], pts / np.linalg.norm(pts, axis=1, keepdims=True), atol=1e-2)


def test_render_is_deterministic_fast_and_within_range():
    import time

    a, b = R.random_scene(seed=5), R.random_scene(seed=5)
    assert [s.kind for s in a.shapes] == [s.kind for s in b.shapes]
    K, poses = R.intrinsics(32), R.orbit_poses(4)
    t0 = time.perf_counter()
    va = R.render_views(a, K, poses, 32)
    assert time.perf_counter() - t0 < 1.0                 # 4 views of 32x32 (about 30 ms here)
    vb = R.render_views(b, K, poses, 32)
    assert np.array_equal(va.rgb, vb.rgb) and np.array_equal(va.depth, vb.depth)
    assert va.rgb.dtype == np.float32 and 0 <= va.rgb.min() and va.rgb.max() <= 1
    assert va.mask.any(axis=(1, 2)).all()                  # the scene is in view of every camera


def test_plain_function_scene_and_occupancy():
    sdf = lambda p: R.sdf_box(p, (0.5, 0.5, 0.5))
    rgb, depth, mask = R.render(sdf, R.intrinsics(16), R.look_at([3.0, 0, 0]), 16)
    assert mask[8, 8] and abs(depth[8, 8] - 2.5) < 2e-3
    occ, d = R.occupancy_grid(sdf, res=20, bound=1.0)
    assert occ.shape == (20, 20, 20) and abs(occ.mean() - 0.125) < 0.01


def test_load_multiview_shapes_labels_and_seed():
    a = R.load_multiview(10, views=3, res=16, seed=1)
    b = R.load_multiview(10, views=3, res=16, seed=1)
    assert a["rgb"].shape == (10, 3, 16, 16, 3) and a["depth"].shape == (10, 3, 16, 16)
    assert np.array_equal(a["rgb"], b["rgb"]) and np.array_equal(a["labels"], b["labels"])
    assert set(a["labels"]) == set(range(len(R.KINDS))) and a["mask"].any(axis=(2, 3)).all()
