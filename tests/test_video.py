"""helpers.video: clip tensors, Farneback flow, flow colours, FLOP counting, the trainer, long clips."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from helpers import video
from helpers.shapes import load_shape_clips


def test_to_tensor_layout():
    clips = load_shape_clips(3, frames=4, size=16, seed=0).clips
    x = video.to_tensor(clips)
    assert x.shape == (3, 3, 4, 16, 16) and x.dtype == torch.float32
    assert torch.allclose(x[1, 2, 3], torch.tensor((clips[1, 3, :, :, 2] - video.MEAN) / video.STD, dtype=torch.float32))
    with pytest.raises(ValueError):
        video.to_tensor(clips[0])


def test_farneback_follows_a_moving_square():
    frames = np.full((3, 32, 32, 3), 40, np.uint8)
    for t in range(3):
        frames[t, 10:20, 8 + 2 * t:18 + 2 * t] = 220           # moves 2 px right per frame
    flow = video.farneback(frames)
    assert flow.shape == (2, 2, 32, 32)
    inside = flow[:, :, 12:18, 12:16].mean(axis=(2, 3))
    assert (np.abs(inside[0] - 2) < 0.7).all() and (np.abs(inside[1]) < 0.5).all()
    assert video.farneback(frames[None]).shape == (1, 2, 2, 32, 32)


def test_flow_to_rgb():
    flow = np.zeros((2, 4, 4), np.float32)
    flow[0, 0, 0] = 1.0                                          # rightwards: red, full brightness
    rgb = video.flow_to_rgb(flow)
    assert rgb.shape == (4, 4, 3) and np.allclose(rgb[0, 0], [1, 0, 0]) and np.allclose(rgb[1, 1], 0)
    assert np.allclose(video.flow_to_rgb(flow.transpose(1, 2, 0), max_mag=2)[0, 0], [0.5, 0, 0])


def test_flops_and_params():
    conv = nn.Conv3d(2, 4, 3, padding=1)
    assert video.flops(conv, torch.zeros(1, 2, 4, 5, 6)) == 2 * 4 * 5 * 6 * 4 * 2 * 27
    assert video.params(conv) == 4 * 2 * 27 + 4
    lin = nn.Linear(10, 3)
    assert video.flops(lin, torch.zeros(7, 10)) == 2 * 7 * 10 * 3


def test_fit_learns_a_separable_problem():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(256, 5, generator=gen)
    y = (X[:, 0] > 0).long()
    torch.manual_seed(0)
    model = nn.Linear(5, 2)
    hist = video.fit(model, X, y, X, y, epochs=5, lr=0.05, batch=32)
    assert hist["test_acc"] > 0.9 and len(hist["loss"]) == 5 * 8
    assert video.accuracy(model, (X,), y) == hist["test_acc"]
    assert video.predict(model, X, batch=100).shape == (256, 2)


def test_long_clip_segments_and_motion():
    frames, segs = video.long_clip(length=96, seed=3)
    assert frames.shape == (96, 32, 32, 3) and frames.dtype == np.uint8
    assert segs.shape == (3, 2) and (np.diff(segs, axis=1) >= 8).all() and (segs[1:, 0] > segs[:-1, 1]).all()
    assert segs.min() >= 0 and segs.max() <= 96
    diff = (np.abs(np.diff(frames.astype(float), axis=0)).max(-1) > 40).mean(axis=(1, 2))   # changed pixels
    moving = np.zeros(95, bool)
    for s, e in segs:
        moving[s:e - 1] = True
    assert diff[moving].mean() > 0.02 and diff[~moving].mean() < 0.002
    assert np.array_equal(video.long_clip(length=96, seed=3)[0], frames)
    with pytest.raises(ValueError):
        video.long_clip(length=40, actions=3)
