"""A5 probes: boxes, NMS, mAP, the detector's pieces, IoU metrics and Grad-CAM, re-checked here.

References are computed in the grader's process with independent, well-kept code: torchvision's
box_iou, nms, batched_nms and sigmoid_focal_loss, pycocotools (through helpers.boxes.coco_map),
torch's own transposed convolution, plain numpy. Students may not call those in graded cells
(FORBIDDEN below): their notebook says so, and the grader's scan flags a submission that does.
"""

from __future__ import annotations

import numpy as np

from assignments.pipeline.integrity import Probe

DET, SEG = "Detection.ipynb", "Segmentation.ipynb"

FORBIDDEN = {
    "torchvision.ops": "holds box_iou, nms, batched_nms and sigmoid_focal_loss: the answers A5 asks you to write",
    "torch.ops.torchvision": "is torchvision's compiled NMS and IoU, the answers A5 asks you to write",
    "torchvision.models.detection": "implements FCOS's target assignment, box coding and post-processing",
    "pycocotools": "computes the mAP you are asked to write",
    "torchmetrics": "computes the mAP and IoU metrics you are asked to write",
    "helpers.boxes.coco_map": "computes the mAP you are asked to write (the grader's reference)",
    "sklearn.metrics": "computes the IoU (Jaccard) and precision-recall metrics you are asked to write",
    "pytorch_grad_cam": "computes the Grad-CAM you are asked to write",
    "captum": "computes the Grad-CAM you are asked to write",
}


def _torch():
    import torch

    return torch


def _boxes(rng, n, spread=40.0, size=20.0):
    xy = rng.uniform(0, spread, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.1, size, (n, 2))], 1)


# ------------------------------------------------------------------------------ boxes

def _iou_inputs(rng):
    b1 = np.concatenate([_boxes(rng, 9), [[0, 0, 1, 1], [3, 3, 3, 7], [2, 2, 2, 2]]])  # far apart, degenerate
    b2 = np.concatenate([_boxes(rng, 4), [[5, 5, 6, 6], [3, 3, 3, 7], [1, 0, 2, 1]]])  # touching (1, 0, 2, 1)
    return {"b1": b1, "b2": b2}


def _ref_iou(I):
    torch = _torch()
    from torchvision.ops import box_iou

    return np.nan_to_num(box_iou(torch.tensor(I["b1"]), torch.tensor(I["b2"])).numpy(), nan=0.0)


def _nms_inputs(rng):
    n = 80
    return {"boxes": _boxes(rng, n, 50, 25), "scores": rng.integers(0, 5, n) / 4.0,  # many ties
            "thr": np.array(rng.choice([0.3, 0.5, 0.7]))}


def _ref_nms(I):
    torch = _torch()
    from torchvision.ops import nms

    return nms(torch.tensor(I["boxes"]), torch.tensor(I["scores"]), float(I["thr"])).numpy()


def _locations_inputs(rng):
    return {"h": np.array(rng.integers(2, 7)), "w": np.array(rng.integers(2, 9)), "s": np.array(rng.choice([4, 8, 16]))}


def _ref_locations(I):
    ys, xs = np.divmod(np.arange(int(I["h"]) * int(I["w"])), int(I["w"]))
    return np.stack([(xs + 0.5) * int(I["s"]), (ys + 0.5) * int(I["s"])], 1)


def _coding_inputs(rng):
    loc = rng.uniform(0, 30, (13, 2))
    boxes = np.concatenate([loc - rng.uniform(0.5, 9, (13, 2)), loc + rng.uniform(0.5, 9, (13, 2))], 1)
    return {"loc": loc, "boxes": boxes, "deltas": rng.uniform(0.1, 4, (13, 4)), "s": np.array(8.0)}


def _ref_coding(I):
    loc, b, d, s = I["loc"], I["boxes"], I["deltas"], float(I["s"])
    enc = np.concatenate([loc - b[:, :2], b[:, 2:] - loc], 1) / s
    dec = np.concatenate([loc - s * d[:, :2], loc + s * d[:, 2:]], 1)
    return enc, dec


# ------------------------------------------------------------------------------ mAP

def _map_inputs(rng):
    """Ground truth and detections of 10 images, 3 classes, packed as rows with the image index:
    gt (G, 6) = image, label, x0, y0, x1, y1; det (D, 7) = image, label, score, x0, y0, x1, y1.
    Detections: jittered true boxes (some below IoU 0.5), duplicates, false alarms, wrong classes, misses."""
    gt, det = [], []
    for i in range(10):
        k = rng.integers(1, 5)
        boxes, labels = _boxes(rng, k, 60, 30) + [0, 0, 4, 4], rng.integers(0, 3, k)
        found = rng.random(k) < 0.75
        dets = boxes[found] + rng.normal(0, 2.5, (found.sum(), 4))
        extra = rng.integers(0, len(dets) + 1)
        dets = np.concatenate([dets, dets[:extra] + rng.normal(0, 1.0, (extra, 4)), _boxes(rng, 2, 60, 20)])
        dlab = np.concatenate([labels[found], labels[found][:extra], rng.integers(0, 4, 2)])
        dets[:, 2:] = np.maximum(dets[:, 2:], dets[:, :2] + 0.5)
        gt += [[i, lab, *b] for b, lab in zip(boxes, labels)]
        det += [[i, lab, s, *b] for b, lab, s in zip(dets, dlab, rng.random(len(dets)))]
    return {"gt": np.array(gt, float), "det": np.array(det, float), "thr": np.array(rng.choice([0.5, 0.75]))}


def _unpack(I):
    gt, det = I["gt"], I["det"]
    out = ([], [], [], [], [])
    for i in range(10):
        g, d = gt[gt[:, 0] == i], det[det[:, 0] == i]
        for lst, value in zip(out, (g[:, 2:], g[:, 1].astype(np.int64), d[:, 3:], d[:, 2], d[:, 1].astype(np.int64))):
            lst.append(value)
    return out


MAP_CALL = """import numpy as _np
import torch as _t
_gt, _det = I['gt'], I['det']
_args = ([], [], [], [], [])
for _i in range(10):
    _g, _d = _gt[_gt[:, 0] == _i], _det[_det[:, 0] == _i]
    for _l, _v in zip(_args, (_g[:, 2:], _g[:, 1].astype(_np.int64), _d[:, 3:], _d[:, 2], _d[:, 1].astype(_np.int64))):
        _l.append(_t.tensor(_v))
O = float(mean_average_precision(*_args, iou_threshold=float(I['thr'])))"""


def _ref_map(I):
    from helpers.boxes import coco_map

    return np.array(coco_map(*_unpack(I), iou=float(I["thr"])))


# ------------------------------------------------------------------------------ detector

def _assign_inputs(rng):
    loc = _ref_locations({"h": 6, "w": 7, "s": 4})
    gt = np.round(_boxes(rng, 5, 24, 16))
    gt[4] = gt[0] + 1  # equal areas: the lower index wins
    return {"loc": loc, "gt": gt}


def _ref_assign(I):
    gt = I["gt"]
    area = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    out = []
    for x, y in I["loc"]:
        inside = [j for j, (a, b, c, d) in enumerate(gt) if a < x < c and b < y < d]
        out.append(min(inside, key=lambda j: (area[j], j)) if inside else -1)
    return np.array(out)


def _focal_inputs(rng):
    return {"x": rng.standard_normal((6, 9)) * 3, "t": (rng.random((6, 9)) < 0.3).astype(float),
            "w": rng.standard_normal((6, 9)), "alpha": np.array(rng.uniform(0.1, 0.9)), "gamma": np.array(rng.uniform(0, 3))}


FOCAL_CALL = """import torch as _t
_x = _t.tensor(I['x'], requires_grad=True)
_loss = sigmoid_focal_loss(_x, _t.tensor(I['t']), alpha=float(I['alpha']), gamma=float(I['gamma']))
(_loss * _t.tensor(I['w'])).sum().backward()
O = (_loss, _x.grad)"""


def _ref_focal(I):
    torch = _torch()
    from torchvision.ops import sigmoid_focal_loss

    x = torch.tensor(I["x"], requires_grad=True)
    loss = sigmoid_focal_loss(x, torch.tensor(I["t"]), alpha=float(I["alpha"]), gamma=float(I["gamma"]), reduction="none")
    (loss * torch.tensor(I["w"])).sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


def _losses_inputs(rng):
    labels = rng.integers(-1, 4, (2, 10))
    labels[0, :2] = [-1, 3]
    return {"x": rng.standard_normal((2, 10, 4)) * 2, "d": rng.uniform(0, 3, (2, 10, 4)), "labels": labels,
            "targets": rng.uniform(0, 3, (2, 10, 4))}


LOSSES_CALL = """import torch as _t
_x = _t.tensor(I['x'], requires_grad=True)
_d = _t.tensor(I['d'], requires_grad=True)
_c, _b = detection_losses(_x, _d, _t.tensor(I['labels']).long(), _t.tensor(I['targets']))
(_c + 2 * _b).backward()
O = (_c, _b, _x.grad, _d.grad)"""


def _ref_losses(I):
    torch = _torch()
    from torchvision.ops import sigmoid_focal_loss

    x, d = torch.tensor(I["x"], requires_grad=True), torch.tensor(I["d"], requires_grad=True)
    labels = torch.tensor(I["labels"]).long()
    pos = labels >= 0
    onehot = torch.nn.functional.one_hot(labels.clamp(min=0), 4).double() * pos[..., None]
    n = max(int(pos.sum()), 1)
    cls = sigmoid_focal_loss(x, onehot, alpha=0.25, gamma=2.0, reduction="sum") / n
    box = (d - torch.tensor(I["targets"])).abs()[pos].sum() / n
    (cls + 2 * box).backward()
    return cls.detach().numpy(), box.detach().numpy(), x.grad.numpy(), d.grad.numpy()


def _detect_inputs(rng):
    return {"logits": rng.standard_normal((36, 5)) * 2 - 1, "deltas": rng.uniform(0.2, 3.2, (36, 4)),
            "loc": _ref_locations({"h": 6, "w": 6, "s": 4}), "score": np.array(rng.choice([0.05, 0.2])),
            "iou": np.array(rng.choice([0.4, 0.5, 0.6]))}


DETECT_CALL = """import torch as _t
O = detect(_t.tensor(I['logits']), _t.tensor(I['deltas']), _t.tensor(I['loc']), 4,
           score_threshold=float(I['score']), iou_threshold=float(I['iou']), max_detections=100)"""


def _ref_detect(I):
    torch = _torch()
    from torchvision.ops import batched_nms

    p = torch.sigmoid(torch.tensor(I["logits"]))
    loc_i, cls_i = torch.nonzero(p > float(I["score"]), as_tuple=True)
    loc, d = torch.tensor(I["loc"])[loc_i], torch.tensor(I["deltas"])[loc_i]
    boxes = torch.cat([loc - 4 * d[:, :2], loc + 4 * d[:, 2:]], 1)
    keep = batched_nms(boxes, p[loc_i, cls_i], cls_i, float(I["iou"]))[:100]
    return boxes[keep].numpy(), p[loc_i, cls_i][keep].numpy(), cls_i[keep].numpy()


# ------------------------------------------------------------------------------ segmentation

def _convt_inputs(rng):
    rows = []
    while len(rows) < 12:
        n, k, s, p, d = rng.integers(1, 9), rng.integers(1, 6), rng.integers(1, 4), rng.integers(0, 3), rng.integers(1, 3)
        op = rng.integers(0, max(s, d))
        if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 > 0:
            rows.append([n, k, s, p, op, d])
    return {"params": np.array(rows)}


CONVT_CALL = """O = [conv_transpose_output_size(int(n), int(k), stride=int(s), padding=int(p), output_padding=int(op),
                                  dilation=int(d)) for n, k, s, p, op, d in I['params']]"""


def _ref_convt(I):
    torch = _torch()
    F = torch.nn.functional
    return np.array([F.conv_transpose1d(torch.zeros(1, 1, int(n)), torch.zeros(1, 1, int(k)), stride=int(s), padding=int(p),
                                        output_padding=int(op), dilation=int(d)).shape[-1]
                     for n, k, s, p, op, d in I["params"]])


def _iou_map_inputs(rng):
    pred, target = rng.integers(0, 6, (3, 11, 7)), rng.integers(0, 6, (3, 11, 7))
    target[0, 0] = pred[0, 0]
    return {"pred": pred, "target": target}  # classes 6 and 7 appear nowhere (nan)


IOU_CALL = """import torch as _t
_p, _y = _t.tensor(I['pred']), _t.tensor(I['target'])
O = (_t.nan_to_num(per_class_iou(_p, _y, 8), nan=-1.0), float(mean_iou(_p, _y, 8)))"""


def _ref_iou_map(I):
    p, t = I["pred"].ravel(), I["target"].ravel()
    out = np.full(8, -1.0)
    for c in range(8):
        union = np.sum((p == c) | (t == c))
        if union:
            out[c] = np.sum((p == c) & (t == c)) / union
    return out, np.array(out[out >= 0].mean())


def _cam_inputs(rng):
    return {"x": rng.standard_normal((3, 3, 12, 8)), "w0": rng.standard_normal((4, 3, 3, 3)) * 0.5,
            "b0": rng.standard_normal(4) * 0.1, "w1": rng.standard_normal((3, 4, 1, 1)), "b1": rng.standard_normal(3),
            "c": np.array(rng.integers(0, 3))}


CAM_MODEL = """import torch as _t
_m = _t.nn.Sequential(_t.nn.Conv2d(3, 4, 3, padding=1), _t.nn.ReLU(), _t.nn.MaxPool2d(2), _t.nn.Conv2d(4, 3, 1)).double().eval()
with _t.no_grad():
    for _layer, _w, _b in ((_m[0], 'w0', 'b0'), (_m[3], 'w1', 'b1')):
        _layer.weight.copy_(_t.tensor(I[_w]))
        _layer.bias.copy_(_t.tensor(I[_b]))
"""
CAM_CALL = CAM_MODEL + "O = grad_cam(_m, _m[2], _t.tensor(I['x']), int(I['c']))"


def _ref_cam(I):
    torch = _torch()
    F = torch.nn.functional
    scope = {"I": I}
    exec(CAM_MODEL, scope)  # the same small model, built here
    m, x = scope["_m"], torch.tensor(I["x"])
    act = m[:3](x)
    act.retain_grad()
    m[3](act)[:, int(I["c"])].mean(dim=(1, 2)).sum().backward()
    heat = F.relu((act.grad.mean(dim=(2, 3), keepdim=True) * act).sum(1, keepdim=True))
    heat = F.interpolate(heat, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0].detach()
    peak = heat.flatten(1).max(1).values[:, None, None]
    return torch.where(peak > 0, heat / peak.clamp(min=1e-300), torch.zeros_like(heat)).numpy()


PROBES = [
    Probe("box_iou", DET, ("test_box_iou",), _iou_inputs,
          "import torch as _t\nO = box_iou(_t.tensor(I['b1']), _t.tensor(I['b2']))", _ref_iou, tol=1e-9),
    Probe("nms", DET, ("test_nms",), _nms_inputs,
          "import torch as _t\nO = nms(_t.tensor(I['boxes']), _t.tensor(I['scores']), float(I['thr']))", _ref_nms, tol=0.0),
    Probe("feature_locations", DET, ("test_locations",), _locations_inputs,
          "O = feature_locations(int(I['h']), int(I['w']), int(I['s']))", _ref_locations, tol=0.0),
    Probe("box_coding", DET, ("test_encode_decode",), _coding_inputs,
          "import torch as _t\n_l = _t.tensor(I['loc'])\n"
          "O = (encode_boxes(_l, _t.tensor(I['boxes']), float(I['s'])), decode_boxes(_l, _t.tensor(I['deltas']), float(I['s'])))",
          _ref_coding, tol=1e-9),
    Probe("mean_average_precision", DET, ("test_map",), _map_inputs, MAP_CALL, _ref_map, tol=1e-6),
    Probe("assign_targets", DET, ("test_assign_targets",), _assign_inputs,
          "import torch as _t\nO = assign_targets(_t.tensor(I['loc']), _t.tensor(I['gt']))", _ref_assign, tol=0.0),
    Probe("sigmoid_focal_loss", DET, ("test_focal_loss",), _focal_inputs, FOCAL_CALL, _ref_focal, tol=1e-9),
    Probe("detection_losses", DET, ("test_detection_losses",), _losses_inputs, LOSSES_CALL, _ref_losses, tol=1e-9),
    Probe("detect", DET, ("test_detect",), _detect_inputs, DETECT_CALL, _ref_detect, tol=1e-9),
    Probe("conv_transpose_output_size", SEG, ("test_conv_transpose_size",), _convt_inputs, CONVT_CALL, _ref_convt, tol=0.0),
    Probe("per_class_iou", SEG, ("test_iou",), _iou_map_inputs, IOU_CALL, _ref_iou_map, tol=1e-12),
    Probe("grad_cam", SEG, ("test_grad_cam",), _cam_inputs, CAM_CALL, _ref_cam, tol=1e-6),
]
