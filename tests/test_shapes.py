"""The procedural world (helpers/shapes.py): shapes, determinism and annotation consistency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.shapes import (
    DYNAMICS_CLASSES,
    MOTION_CLASSES,
    POINT_CLOUD_CLASSES,
    SHAPE_CLASSES,
    load_point_clouds,
    load_shape_clips,
    load_shapes,
)


def tight_box(mask):
    """Reference box of a mask, the slow obvious way: x0, y0, x1, y1 with exclusive ends."""
    ys, xs = np.nonzero(mask)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def check_world(world, n, size):
    """Every field has the promised type and shape, and the annotations agree."""
    assert world.images.shape == (n, size, size, 3) and world.images.dtype == np.uint8
    assert world.labels.shape == (n,) and world.labels.dtype == np.int64
    assert len(world.boxes) == len(world.masks) == len(world.instance_labels) == n
    assert len(world.captions) == n and world.classes == SHAPE_CLASSES
    for i in range(n):
        masks, boxes, inst = world.masks[i], world.boxes[i], world.instance_labels[i]
        k = len(masks)
        assert k >= 1 and masks.shape == (k, size, size) and masks.dtype == bool
        assert boxes.shape == (k, 4) and np.issubdtype(boxes.dtype, np.integer)
        assert inst.shape == (k,) and inst.dtype == np.int64 and inst[0] == world.labels[i]
        assert masks.any(axis=(1, 2)).all(), "every listed object is visible"
        assert not (masks.sum(0) > 1).any(), "visible masks never overlap"
        for mask, box in zip(masks, boxes):
            assert list(box) == tight_box(mask)
        assert SHAPE_CLASSES[world.labels[i]] in world.captions[i]


def test_fields_and_annotations():
    check_world(load_shapes(60, size=32, seed=3), 60, 32)


def test_multiple_objects():
    world = load_shapes(40, size=48, seed=1, max_objects=4)
    check_world(world, 40, 48)
    counts = [len(m) for m in world.masks]
    assert max(counts) > 1 and max(counts) <= 4
    for caption, inst in zip(world.captions, world.instance_labels):
        for label in inst:
            assert SHAPE_CLASSES[label] in caption


def test_masks_are_the_painted_pixels():
    """Inside a mask all pixels share one colour up to the noise; the mask is what was drawn."""
    world = load_shapes(20, size=32, seed=5)
    for image, mask in zip(world.images, world.masks):
        inside = image[mask[0]].astype(float)
        assert inside.std(axis=0).max() < 16  # flat colour plus pixel noise (std <= 14)


def test_deterministic_and_seed_dependent():
    a, b = load_shapes(30, seed=7, max_objects=3), load_shapes(30, seed=7, max_objects=3)
    assert a.images.tobytes() == b.images.tobytes() and a.captions == b.captions
    assert all((x == y).all() for x, y in zip(a.masks, b.masks))
    assert not np.array_equal(a.images, load_shapes(30, seed=8, max_objects=3).images)


def test_prefix_of_a_larger_request():
    """The first n items of a bigger request are the n items of a smaller one."""
    small, big = load_shapes(7, seed=2), load_shapes(1003, seed=2)
    assert np.array_equal(small.images, big.images[:7]) and small.captions == big.captions[:7]
    clips_small, clips_big = load_shape_clips(3, seed=2), load_shape_clips(5, seed=2)
    assert np.array_equal(clips_small.clips, clips_big.clips[:3])


def test_classes_balanced_and_varied():
    world = load_shapes(1000, seed=0)
    assert len(SHAPE_CLASSES) >= 10
    assert np.array_equal(np.bincount(world.labels, minlength=10), np.full(10, 100))
    assert len(set(world.captions)) > 300  # colours, sizes and backgrounds vary
    mean_per_class = [world.images[world.labels == k].mean() for k in range(10)]
    assert np.ptp(mean_per_class) < 20, "brightness alone must not give the class away"


@pytest.mark.parametrize("kwargs", [
    dict(n=0), dict(n=-3), dict(n=2.5), dict(n=True), dict(n=5, size=15), dict(n=5, size=1000),
    dict(n=5, seed=-1), dict(n=5, seed="a"), dict(n=5, max_objects=0), dict(n=5, max_objects=9),
])
def test_shapes_argument_errors(kwargs):
    with pytest.raises(ValueError):
        load_shapes(**kwargs)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 12), size=st.integers(16, 40), seed=st.integers(0, 2**32),
       max_objects=st.integers(1, 4))
def test_shapes_property(n, size, seed, max_objects):
    check_world(load_shapes(n, size=size, seed=seed, max_objects=max_objects), n, size)


def test_numpy_integers_are_accepted():
    world = load_shapes(np.int64(3), size=np.int32(16), seed=np.uint8(1))
    assert world.images.shape == (3, 16, 16, 3)


# ----------------------------------------------------------------------------- clips

@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 10), frames=st.integers(2, 10), size=st.integers(16, 32),
       seed=st.integers(0, 2**32))
def test_clips_property(n, frames, size, seed):
    data = load_shape_clips(n, frames=frames, size=size, seed=seed)
    assert data.clips.shape == (n, frames, size, size, 3) and data.clips.dtype == np.uint8
    assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert data.boxes.shape == (n, frames, 4) and data.classes == MOTION_CLASSES
    assert ((data.boxes[..., 2] > data.boxes[..., 0]) & (data.boxes[..., 3] > data.boxes[..., 1])).all()
    assert data.labels.min() >= 0 and data.labels.max() < len(MOTION_CLASSES)


def test_clips_motion_matches_label():
    """Box centres move the labelled way; sizes grow or shrink as labelled."""
    data = load_shape_clips(160, frames=8, size=32, seed=0)
    assert np.array_equal(np.bincount(data.labels), np.full(len(MOTION_CLASSES), 20))
    b = data.boxes.astype(float)
    dx = (b[:, -1, 0] + b[:, -1, 2] - b[:, 0, 0] - b[:, 0, 2]) / 2
    dy = (b[:, -1, 1] + b[:, -1, 3] - b[:, 0, 1] - b[:, 0, 3]) / 2
    area = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    name = np.array(MOTION_CLASSES)[data.labels]
    assert (dx[name == "moving left"] < -3).all() and (dx[name == "moving right"] > 3).all()
    assert (dy[name == "moving up"] < -3).all() and (dy[name == "moving down"] > 3).all()
    assert (area[name == "growing", -1] > area[name == "growing", 0]).all()
    assert (area[name == "shrinking", -1] < area[name == "shrinking", 0]).all()


def test_clips_deterministic_and_errors():
    a, b = load_shape_clips(4, seed=1), load_shape_clips(4, seed=1)
    assert a.clips.tobytes() == b.clips.tobytes()
    assert not np.array_equal(a.clips, load_shape_clips(4, seed=2).clips)
    for kwargs in (dict(n=0), dict(n=2, frames=1), dict(n=2, size=8), dict(n=2, seed=-1)):
        with pytest.raises(ValueError):
            load_shape_clips(**kwargs)


# ------------------------------------------------------------------------ point clouds

@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 20), num_points=st.integers(4, 300), seed=st.integers(0, 2**32))
def test_point_clouds_property(n, num_points, seed):
    data = load_point_clouds(n, num_points=num_points, seed=seed)
    assert data.points.shape == (n, num_points, 3) and data.points.dtype == np.float32
    assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert np.isfinite(data.points).all() and np.abs(data.points).max() < 1.2
    assert data.classes == POINT_CLOUD_CLASSES


def test_point_clouds_centred_balanced_deterministic():
    data = load_point_clouds(70, seed=0)
    assert np.abs(data.points.mean(axis=1)).max() < 0.01
    assert np.array_equal(np.bincount(data.labels), np.full(7, 10))
    again = load_point_clouds(70, seed=0)
    assert data.points.tobytes() == again.points.tobytes()
    assert not np.array_equal(data.points, load_point_clouds(70, seed=1).points)
    with pytest.raises(ValueError):
        load_point_clouds(0)


def test_point_cloud_shapes_differ():
    """A rotation-invariant statistic (spread of radii) separates sphere from cube from plane."""
    data = load_point_clouds(70, num_points=512, seed=0)
    radii = np.linalg.norm(data.points, axis=2)
    spread = radii.std(axis=1) / radii.mean(axis=1)
    name = np.array(POINT_CLOUD_CLASSES)[data.labels]
    assert spread[name == "sphere"].max() < spread[name == "cube"].min()



# --------------------------------------------------------------------- dynamics clips

def test_dynamics_clips_fields_and_balance():
    data = load_shape_clips(120, frames=8, size=32, seed=0, motions="dynamics")
    assert data.clips.shape == (120, 8, 32, 32, 3) and data.classes == DYNAMICS_CLASSES
    assert np.array_equal(np.bincount(data.labels), np.full(len(DYNAMICS_CLASSES), 20))
    assert data.shape_labels.min() >= 0 and data.shape_labels.max() < len(SHAPE_CLASSES)
    small = load_shape_clips(5, frames=8, size=32, seed=0, motions="dynamics")
    assert np.array_equal(small.clips, data.clips[:5])


def test_dynamics_motion_matches_label():
    """Slides move monotonically one way (fast ones further); bounces turn around once."""
    data = load_shape_clips(240, frames=8, size=32, seed=1, motions="dynamics")
    b = data.boxes.astype(float)
    cx = (b[..., 0] + b[..., 2]) / 2
    step = np.diff(cx, axis=1)
    net = cx[:, -1] - cx[:, 0]
    name = np.array(DYNAMICS_CLASSES)[data.labels]
    left, right = np.char.startswith(name, "sliding left"), np.char.startswith(name, "sliding right")
    assert (step[left] <= 0.5).all() and (step[right] >= -0.5).all()
    assert (net[left] < -2).all() and (net[right] > 2).all()
    slow, fast = np.char.endswith(name, "slowly"), np.char.endswith(name, "fast")
    assert np.abs(net[fast]).min() > np.abs(net[slow]).max()
    bounce = np.char.startswith(name, "bouncing")
    first_half = cx[:, 3] - cx[:, 0]
    assert (first_half[name == "bouncing back from the left"] < 0).all()
    assert (first_half[name == "bouncing back from the right"] > 0).all()
    path = np.abs(step).sum(1)
    assert (path[bounce] >= np.abs(net[bounce]) + 2).all()


def test_dynamics_single_frames_are_alike():
    """Per class, the middle frame's box position and size have nearly the same distribution."""
    data = load_shape_clips(1200, frames=8, size=32, seed=2, motions="dynamics")
    b = data.boxes[:, 4].astype(float)
    cx, w = (b[:, 0] + b[:, 2]) / 2, b[:, 2] - b[:, 0]
    means = np.array([[cx[data.labels == k].mean(), w[data.labels == k].mean()] for k in range(6)])
    assert np.ptp(means[:, 0]) < 3.0 and np.ptp(means[:, 1]) < 1.0


def test_basic_clips_unchanged_and_motion_errors():
    a = load_shape_clips(6, seed=4)
    assert a.clips.tobytes() == load_shape_clips(6, seed=4, motions="basic").clips.tobytes()
    assert a.classes == MOTION_CLASSES
    assert not np.array_equal(a.clips, load_shape_clips(6, seed=4, motions="dynamics").clips)
    for kwargs in (dict(motions="spinning"), dict(frames=2, motions="dynamics")):
        with pytest.raises(ValueError):
            load_shape_clips(3, **kwargs)
