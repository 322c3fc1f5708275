"""helpers/detection_data.py: detection/segmentation sets from the procedural world."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.detection_data import load_detection, show_detections  # noqa: E402
from helpers.shapes import load_shapes  # noqa: E402


def test_fields_agree_with_the_world():
    data = load_detection(12, seed=3, size=32, max_objects=3)
    world = load_shapes(12, size=32, seed=3, max_objects=3)
    assert data.images.shape == (12, 3, 32, 32) and data.images.dtype == torch.float32
    assert data.seg.shape == (12, 32, 32) and data.seg.dtype == torch.int64
    assert len(data) == 12 and data.num_classes == 10
    for i in range(12):
        assert torch.equal(data.boxes[i], torch.from_numpy(world.boxes[i]).float())
        assert torch.equal(data.labels[i], torch.from_numpy(world.instance_labels[i]))
        # every object's visible pixels carry its class in the class map (object 0 on top)
        for mask, lab in zip(world.masks[i], world.instance_labels[i]):
            assert (data.seg[i][torch.from_numpy(mask)] == lab + 1).all()
        assert (data.seg[i][~torch.from_numpy(np.any(world.masks[i], axis=0))] == 0).all()


def test_normalised_with_own_or_given_statistics():
    train = load_detection(40, seed=0)
    per_channel = train.images.mean((0, 2, 3))
    assert per_channel.abs().max() < 1e-4 and (train.images.std((0, 2, 3)) - 1).abs().max() < 1e-3
    held_out = load_detection(10, seed=7, mean=train.mean, std=train.std)
    raw = torch.from_numpy(held_out.raw).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(held_out.images, (raw - train.mean) / train.std)
    with pytest.raises(ValueError, match="both mean and std"):
        load_detection(2, mean=train.mean)


def test_show_detections_filters_by_score():
    data = load_detection(2, seed=1)
    fig, (a, b) = plt.subplots(1, 2)
    show_detections(data, 0, [[1, 1, 9, 9], [2, 2, 20, 20]], [0.9, 0.1], [3, 4], a, b, min_score=0.5)
    assert "1 detections" in b.get_title() and "ground truth" in a.get_title()
    assert len(b.patches) == 1 and len(a.patches) == len(data.boxes[0])
    plt.close(fig)
