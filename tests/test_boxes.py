"""Box conversions, class maps and pycocotools-backed mAP (helpers/boxes.py)."""

import numpy as np
import pytest
import torch

from helpers import boxes as B

XYXY = np.array([[2.0, 3.0, 10.0, 7.0], [0.0, 0.0, 1.0, 1.0]])


@pytest.mark.parametrize("to, back", [(B.xyxy_to_xywh, B.xywh_to_xyxy), (B.xyxy_to_cxcywh, B.cxcywh_to_xyxy)])
def test_round_trips_numpy_and_torch(to, back):
    assert np.allclose(back(to(XYXY)), XYXY)
    t = torch.tensor(XYXY, requires_grad=True)
    out = back(to(t))
    assert isinstance(out, torch.Tensor) and torch.allclose(out, t)
    out.sum().backward()  # differentiable: regression losses can be written in any format
    assert torch.allclose(t.grad, torch.ones_like(t))


def test_hand_values():
    assert np.allclose(B.xyxy_to_xywh(XYXY[0]), [2, 3, 8, 4])
    assert np.allclose(B.xyxy_to_cxcywh(XYXY[0]), [6, 5, 8, 4])
    assert np.allclose(B.cxcywh_to_xyxy(np.array([6.0, 5, 8, 4])), XYXY[0])


def test_class_map_puts_first_instance_on_top():
    m = np.zeros((2, 4, 4), bool)
    m[0, :2, :2] = True
    m[1, 1:, 1:] = True
    out = B.class_map(m, np.array([3, 5]), 4)
    assert out[0, 0] == 4 and out[1, 1] == 4 and out[3, 3] == 6 and out[0, 3] == 0


def test_coco_map_perfect_and_hand_case():
    gt_b, gt_l = [XYXY[:1], np.array([[0, 0, 10, 10.0]])], [np.array([1]), np.array([2])]
    assert B.coco_map(gt_b, gt_l, gt_b, [np.ones(1), np.ones(1)], gt_l) == pytest.approx(1.0)
    # class 1: a false positive scored above the true positive -> precision 1/2 at every recall;
    # class 2: missed entirely -> AP 0. Mean over the classes: 0.25.
    pred_b = [np.array([[20, 20, 30, 30.0], [2, 3, 10, 7.0]]), np.zeros((0, 4))]
    got = B.coco_map(gt_b, gt_l, pred_b, [np.array([0.9, 0.8]), np.zeros(0)], [np.array([1, 1]), np.zeros(0)])
    assert got == pytest.approx(0.25)
    # IoU threshold: a box shifted to IoU 1/3 counts at 0.3 but not at 0.5
    shifted = [np.array([[6.0, 3, 14, 7]])]  # overlap 16, union 48
    args = ([XYXY[:1]], [np.array([1])], shifted, [np.ones(1)], [np.array([1])])
    assert B.coco_map(*args, iou=0.5) == pytest.approx(0.0)
    assert B.coco_map(*args, iou=0.3) == pytest.approx(1.0)
