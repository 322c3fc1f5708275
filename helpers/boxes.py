"""Boxes for detection lectures: format conversions, per-pixel class maps, and mAP by pycocotools.

Three box formats appear in papers and libraries, all in pixels:

* ``xyxy``   — corners x0, y0, x1, y1 (torchvision.ops, the procedural world's annotations);
* ``xywh``   — top-left corner, width, height (COCO's json files and pycocotools);
* ``cxcywh`` — centre, width, height (YOLO, DETR: what regression heads usually predict).

The conversions work on numpy arrays and torch tensors alike, shape (..., 4).

Mean average precision is *not* re-implemented here: `coco_map` hands the boxes to pycocotools,
the reference implementation of the COCO benchmark. IoU, NMS and box encoding are deliberately
absent: the lectures compute them in their own cells and assignment A5 asks for them.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np


def _stack(parts, like):
    if hasattr(like, "detach"):  # a torch tensor: stay in torch, keep the graph
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _split(boxes):
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def xyxy_to_xywh(boxes):
    x0, y0, x1, y1 = _split(boxes)
    return _stack([x0, y0, x1 - x0, y1 - y0], boxes)


def xywh_to_xyxy(boxes):
    x, y, w, h = _split(boxes)
    return _stack([x, y, x + w, y + h], boxes)


def xyxy_to_cxcywh(boxes):
    x0, y0, x1, y1 = _split(boxes)
    return _stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], boxes)


def cxcywh_to_xyxy(boxes):
    cx, cy, w, h = _split(boxes)
    return _stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], boxes)


def class_map(masks, labels, size, background=0):
    """Per-pixel class map (size, size) int64 from one image's instance masks (k, H, W) and labels
    (k,): pixel = label + 1 inside an object's mask, `background` elsewhere. Masks are painted in
    reverse order, so the first instance (the procedural world's main object, on top) wins."""
    out = np.full((size, size), background, np.int64)
    for m, lab in zip(masks[::-1], labels[::-1]):
        out[np.asarray(m, bool)] = int(lab) + 1
    return out


def coco_map(gt_boxes, gt_labels, pred_boxes, pred_scores, pred_labels, iou=0.5, max_dets=100):
    """COCO average precision at one IoU threshold, averaged over the classes present (mAP@iou).

    Every argument is a list with one entry per image: gt_boxes[i] (k, 4) xyxy, gt_labels[i] (k,),
    pred_boxes[i] (m, 4) xyxy, pred_scores[i] (m,), pred_labels[i] (m,). Computed by pycocotools'
    COCOeval (101-point interpolated precision, all object sizes, at most `max_dets` detections
    per image). Returns a float in [0, 1]; -1 if no image has a ground-truth box.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not (len(gt_boxes) == len(gt_labels) == len(pred_boxes) == len(pred_scores) == len(pred_labels)):
        raise ValueError("coco_map: every argument needs one entry per image")
    images, annotations, detections, classes = [], [], [], set()
    for i, (gb, gl, pb, ps, pl) in enumerate(zip(gt_boxes, gt_labels, pred_boxes, pred_scores, pred_labels)):
        images.append({"id": i})
        gb = xyxy_to_xywh(np.asarray(gb, np.float64).reshape(-1, 4))
        for box, lab in zip(gb, np.asarray(gl).reshape(-1)):
            classes.add(int(lab))
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(lab),
                                "bbox": [float(v) for v in box], "area": float(box[2] * box[3]), "iscrowd": 0})
        pb = xyxy_to_xywh(np.asarray(pb, np.float64).reshape(-1, 4))
        for box, score, lab in zip(pb, np.asarray(ps).reshape(-1), np.asarray(pl).reshape(-1)):
            detections.append({"image_id": i, "category_id": int(lab), "bbox": [float(v) for v in box],
                               "score": float(score)})
    if not annotations:
        return -1.0
    classes |= {d["category_id"] for d in detections}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": c} for c in sorted(classes)]}
        gt.createIndex()
        dt = gt.loadRes(detections) if detections else COCO()
        if not detections:
            return 0.0
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = np.array([float(iou)])
        ev.params.maxDets = [max_dets]
        ev.params.areaRng = [[0, 1e10]]
        ev.params.areaRngLbl = ["all"]
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"][0, :, :, 0, 0]  # (recall points, classes)
    per_class = [p[p > -1].mean() for p in precision.T if (p > -1).any()]
    return float(np.mean(per_class)) if per_class else 0.0
