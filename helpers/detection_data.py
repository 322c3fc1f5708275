"""Detection and segmentation sets from the procedural world, ready for torch (assignment A5).

`load_detection` turns `shapes.load_shapes(..., max_objects=k)` into what a detector and a
U-Net train on: normalised image tensors, per-image boxes and labels as tensors, and per-pixel
class maps (0 = background, 1 + class elsewhere, built by `boxes.class_map`). Held-out sets
reuse the training statistics (`mean`, `std`), so they are normalised as the model expects.

`show_detections` draws ground truth and predictions side by side.

Nothing here computes a graded answer: no IoU, NMS, box encoding, losses or mAP (A5 asks
for those; `boxes.coco_map` is the reference the grader uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import boxes as _boxes
from . import shapes as _shapes


@dataclass
class DetectionSet:
    """images: float32 tensor (N, 3, S, S), normalised with `mean`/`std` (per channel, (1, 3, 1, 1)).
    raw: uint8 (N, S, S, 3), for drawing. boxes[i]: float32 tensor (k_i, 4) xyxy in pixels;
    labels[i]: int64 tensor (k_i,) in 0..C-1; masks[i]: bool (k_i, S, S) visible pixels.
    seg: int64 tensor (N, S, S), 0 = background, c + 1 = class c. classes: the C class names."""

    images: object
    raw: np.ndarray
    boxes: list
    labels: list
    masks: list
    seg: object
    classes: tuple
    mean: object
    std: object

    def __len__(self):
        return len(self.raw)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def load_detection(n, seed=0, size=32, max_objects=3, mean=None, std=None) -> DetectionSet:
    """n procedural images with 1..max_objects shapes each (see `shapes.load_shapes`).

    mean, std: per-channel statistics to normalise with (pass the training set's for a held-out
    set); computed from these images when omitted.
    """
    import torch

    if (mean is None) != (std is None):
        raise ValueError("load_detection: pass both mean and std, or neither")
    world = _shapes.load_shapes(n, size=size, seed=seed, max_objects=max_objects)
    x = torch.from_numpy(world.images).permute(0, 3, 1, 2).float() / 255
    if mean is None:
        mean, std = x.mean((0, 2, 3), keepdim=True), x.std((0, 2, 3), keepdim=True)
    seg = np.stack([_boxes.class_map(m, lab, size) for m, lab in zip(world.masks, world.instance_labels)])
    return DetectionSet(
        images=(x - mean) / std, raw=world.images,
        boxes=[torch.from_numpy(b).float() for b in world.boxes],
        labels=[torch.from_numpy(lab) for lab in world.instance_labels],
        masks=world.masks, seg=torch.from_numpy(seg), classes=world.classes, mean=mean, std=std)


def show_detections(data: DetectionSet, index, boxes, scores, labels, ax_truth, ax_pred, min_score=0.0):
    """Ground truth of image `index` on ax_truth; predictions with score >= min_score on ax_pred."""
    keep = np.asarray(scores, dtype=float) >= min_score
    _plot().boxes_masks(data.raw[index], data.boxes[index], labels=data.labels[index], classes=data.classes,
                        ax=ax_truth, title=f"image {index}: ground truth")
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)[keep]
    _plot().boxes_masks(data.raw[index], boxes, labels=np.asarray(labels)[keep], classes=data.classes,
                        scores=np.asarray(scores, dtype=float)[keep], ax=ax_pred,
                        title=f"{int(keep.sum())} detections (score >= {min_score:.2f})")


def _plot():
    from . import plot  # matplotlib only when drawing

    return plot
