"""The procedural shapes world: the course's embedded default dataset.

Why it exists: every lecture must run anywhere, offline, in seconds. Real datasets are
downloaded only on request, so the course carries its own world instead — coloured shapes on
textured backgrounds, with labels, boxes, instance masks and captions (classification,
detection, segmentation, vision-language), plus short clips of moving shapes (video) and point
clouds of 3D primitives (3D vision).

How it stays fast (10,000 images in well under 2 s on one core): nothing is drawn pixel by
pixel. Each shape is an implicit function f(x, y) <= 0 evaluated on the pixel grid for a whole
batch of objects at once; each object's position, scale and rotation enter only through an
affine change of coordinates, computed for the batch by broadcasting. Backgrounds are
vectorized sinusoid patterns. Masks are hard (no anti-aliasing), so every mask is exactly the
set of pixels painted in that object's colour, and every box is the mask's tight box.

How hard it is (numbers in datasets/README.md, measured by datasets/difficulty.py): every
object gets a random scale, position and rotation (within +-30 degrees), background texture
and colours, so no pixel template finds the shape. Like CIFAR-10 (blue sky behind planes),
the world has one bias that pixels alone can exploit: a shape wears its class's favourite
colour 45% of the time. So a linear classifier on raw pixels gets about a third right (mostly
by colour), while a small CNN, which sees the outline, gets most right. The knobs are the
module constants below.

Determinism: items are made in chunks of `CHUNK`, each from its own generator seeded with
(stream, seed, chunk index); so the same arguments always give byte-identical arrays, and the
first n items of a bigger request are the n items of a smaller one.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

SHAPE_CLASSES = ("circle", "square", "triangle", "star", "cross",
                 "ring", "diamond", "hexagon", "crescent", "heart")
MOTION_CLASSES = ("moving left", "moving right", "moving up", "moving down",
                  "rotating clockwise", "rotating counterclockwise", "growing", "shrinking")
# Classes defined by *how* a shape moves (load_shape_clips(..., motions="dynamics")): direction,
# speed and bouncing vs sliding. Any one frame, and even the first-to-last displacement of a bounce,
# is ambiguous; only the order and size of the frame-to-frame changes tell them apart.
DYNAMICS_CLASSES = ("sliding left slowly", "sliding left fast", "sliding right slowly",
                    "sliding right fast", "bouncing back from the left", "bouncing back from the right")
POINT_CLOUD_CLASSES = ("sphere", "cube", "cylinder", "cone", "torus", "plane", "pyramid")
BACKGROUNDS = ("plain", "striped", "checkered", "dotted", "wavy")
COLOURS = {
    "red": (220, 40, 40), "orange": (245, 140, 30), "yellow": (235, 215, 40),
    "green": (40, 160, 60), "cyan": (40, 200, 215), "blue": (40, 70, 215),
    "purple": (135, 55, 185), "pink": (245, 130, 190), "brown": (125, 75, 35),
    "white": (240, 240, 240), "gray": (125, 125, 125), "black": (25, 25, 25),
}
_COLOUR_NAMES = tuple(COLOURS)
_PALETTE = np.array(list(COLOURS.values()), np.float32)
# Background colours must differ clearly from the object's: _DISTINCT[i, j] says j may sit under i.
_DISTINCT = np.linalg.norm(_PALETTE[:, None] - _PALETTE[None], axis=2) > 110
# Difficulty knobs, measured by datasets/difficulty.py (numbers in datasets/README.md).
MAIN_SCALE = (0.45, 0.8)  # circumradius as a fraction of half the image side
TEXTURE_CONTRAST = (0.2, 0.5)  # how far a texture's second colour moves from its first
NOISE_STD = (3.0, 12.0)  # per-image pixel noise, in grey levels
MAX_ROTATION = np.radians(30)  # rotations are uniform in [-MAX_ROTATION, MAX_ROTATION]
# Like CIFAR-10's blue skies behind planes, a class-colour bias that pixels alone can exploit:
# each shape wears its class's favourite colour with this probability, else a random one.
FAVOURITE_P = 0.45
FAVOURITE_COLOUR = ("blue", "green", "orange", "yellow", "cyan",
                    "purple", "pink", "brown", "white", "red")
CHUNK = 1000
CLIP_CHUNK = 120  # a multiple of the 8 motions (and of the 6 dynamics) keeps chunks balanced
_STREAM = {"shapes": 1, "clips": 2, "points": 3, "dynamics": 4}
# Shapes whose rotation is visible in a clip (a circle or ring looks the same when turned).
_ROTATABLE = tuple(SHAPE_CLASSES.index(k) for k in SHAPE_CLASSES if k not in ("circle", "ring"))


# ----------------------------------------------------------------------------- shapes
# Each takes local coordinates (object centred at 0, circumradius about 1, y pointing down)
# and says which points are inside. Classes are chosen to stay distinct under rotation
# (hence a long rhombus for "diamond": a square turned by 45 degrees is still a square).

def _circle(x, y):
    return x * x + y * y <= 1.0


def _square(x, y):
    return np.maximum(np.abs(x), np.abs(y)) <= 0.78


def _triangle(x, y):
    return (y >= -0.55) & (y <= 1.1 - np.sqrt(3.0) * np.abs(x))


def _star(x, y, points=5, inner=0.48):
    """Fold the plane into one spike's half-sector, then test one edge line."""
    sector = 2 * np.pi / points
    phi = np.abs(np.mod(np.arctan2(y, x), sector) - sector / 2)
    rho = np.sqrt(x * x + y * y)
    px, py = rho * np.cos(phi), rho * np.sin(phi)
    ix, iy = inner * np.cos(sector / 2), inner * np.sin(sector / 2)
    return (ix - 1.0) * py - iy * (px - 1.0) >= 0


def _cross(x, y):
    ax, ay = np.abs(x), np.abs(y)
    return (np.minimum(ax, ay) <= 0.3) & (np.maximum(ax, ay) <= 0.95)


def _ring(x, y):
    r2 = x * x + y * y
    return (r2 <= 1.0) & (r2 >= 0.36)


def _diamond(x, y):
    return np.abs(x) + np.abs(y) * (1 / 0.55) <= 1.05


def _hexagon(x, y):
    ax, ay = np.abs(x), np.abs(y)
    return (ay <= 0.866) & (0.866 * ax + 0.5 * ay <= 0.866)


def _crescent(x, y):
    return (x * x + y * y <= 1.0) & ((x - 0.55) ** 2 + y * y >= 0.6)


def _heart(x, y):
    x, y = 1.15 * x, 0.15 - 1.15 * y
    q = x * x + y * y - 1.0
    return q * q * q <= x * x * y * y * y


_SHAPE_FNS = (_circle, _square, _triangle, _star, _cross,
              _ring, _diamond, _hexagon, _crescent, _heart)


def _grid(size):
    """Pixel-centre coordinates in [-1, 1]: u along columns (1, 1, W), v along rows (1, H, 1)."""
    c = ((np.arange(size, dtype=np.float32) + 0.5) / size) * 2 - 1
    return c[None, None, :], c[None, :, None]


def _local_coords(u, v, cx, cy, scale, angle):
    """Object-frame coordinates (M, H, W) of every pixel, for M objects at once.

    x' = R(-angle)(p - c) / scale is affine in (u, v), so each term is a cheap outer product.
    """
    c, s = np.cos(angle) / scale, np.sin(angle) / scale
    c, s = c.astype(np.float32)[:, None, None], s.astype(np.float32)[:, None, None]
    cx, cy = cx.astype(np.float32)[:, None, None], cy.astype(np.float32)[:, None, None]
    x = (c * u - c * cx - s * cy) + s * v
    y = (-s * u + s * cx - c * cy) + c * v
    return x, y


def render_masks(size, kinds, cx, cy, scale, angle):
    """Boolean masks (M, size, size) of M objects; class by class, each class as one batch."""
    u, v = _grid(size)
    masks = np.empty((len(kinds), size, size), bool)
    for k in np.unique(kinds):
        idx = np.flatnonzero(kinds == k)
        x, y = _local_coords(u, v, cx[idx], cy[idx], scale[idx], angle[idx])
        masks[idx] = _SHAPE_FNS[k](x, y)
    return masks


def masks_to_boxes(masks):
    """Tight boxes (M, 4) int64 of non-empty masks (M, H, W), as x0, y0, x1, y1 with x1, y1
    exclusive: the box covers mask[y0:y1, x0:x1] (in pixel-edge coordinates: pixel i spans
    [i, i + 1))."""
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    h, w = masks.shape[1:]
    y0, y1 = rows.argmax(1), h - rows[:, ::-1].argmax(1)
    x0, x1 = cols.argmax(1), w - cols[:, ::-1].argmax(1)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int64)


# ------------------------------------------------------------------------- backgrounds
# Images are built channel-first with flat pixels, (M, 3, H*W) float32, so numpy's inner
# loops run over whole images instead of over 3 colour channels; they become (M, H, W, 3)
# uint8 only at the end.

def _texture(size, kind, freq, angle, phase):
    """Texture intensity in [0, 1], shape (M, H, W), for M backgrounds of one kind."""
    u, v = _grid(size)
    zero = np.zeros_like(freq)
    p, q = _local_coords(u, v, zero, zero, 1 / freq, angle)
    ph = phase.astype(np.float32)[:, None, None]
    if kind == "plain":  # a gentle linear gradient
        return 0.5 + 0.06 * p
    if kind == "striped":
        return 0.5 + 0.5 * np.sin(p + ph)
    if kind == "checkered":
        return ((np.sin(p + ph) > 0) ^ (np.sin(q) > 0)).astype(np.float32)
    if kind == "dotted":
        return (np.cos(p + ph) * np.cos(q) > 0.4).astype(np.float32)
    return 0.5 + 0.5 * np.sin(0.6 * p + ph + 1.8 * np.sin(0.7 * q))  # "wavy": warped waves


def _background_params(rng, m, fg):
    """Texture kind and parameters, and two colours: a base colour clearly unlike the
    object's, and a second one part of the way towards another colour (a soft texture)."""
    c1 = np.argmax(rng.random((m, len(_PALETTE))) * _DISTINCT[fg], axis=1)
    other = _PALETTE[rng.integers(len(_PALETTE), size=m)]
    base = _PALETTE[c1] + rng.uniform(-25, 25, (m, 3)).astype(np.float32)
    mix = rng.uniform(*TEXTURE_CONTRAST, (m, 1)).astype(np.float32)
    return dict(kind=rng.integers(len(BACKGROUNDS), size=m), freq=rng.uniform(5.0, 14.0, m),
                angle=rng.uniform(0, np.pi, m), phase=rng.uniform(0, 2 * np.pi, m),
                c1=base, c2=base + mix * (other - base))


def _paint_backgrounds(size, bg):
    """Blend each background's two colours by its texture: (M, 3, H*W) float32."""
    t = np.empty((len(bg["kind"]), size * size), np.float32)
    for k in np.unique(bg["kind"]):
        idx = np.flatnonzero(bg["kind"] == k)
        tex = _texture(size, BACKGROUNDS[k], bg["freq"][idx], bg["angle"][idx], bg["phase"][idx])
        t[idx] = tex.reshape(len(idx), -1)
    c1, c2 = bg["c1"], bg["c2"]
    return c1[:, :, None] + t[:, None, :] * (c2 - c1)[:, :, None]


def _paint_objects(img, masks, rgb, idx=None):
    """Paint objects of colour rgb (M, 3) into img (or img[idx]) where masks (M, H, W) hold."""
    where = masks.reshape(len(masks), 1, -1)
    if idx is None:
        np.copyto(img, rgb[:, :, None], where=where)
    else:
        img[idx] = np.where(where, rgb[:, :, None], img[idx])


def _finish(img, rng, sigma, size):
    """Add uniform pixel noise of per-image std `sigma`, quantize, go to (M, H, W, 3) uint8.

    Random bytes are the cheapest noise numpy makes (Gaussian noise costs 20 times more).
    """
    noise = np.frombuffer(rng.bytes(img.size), np.uint8).reshape(img.shape)
    gain = (sigma / 73.9).astype(np.float32)[:, None, None]  # std of U{0..255} is 73.9
    img += (noise.astype(np.float32) - 127.5) * gain
    np.clip(img, 0, 255, out=img)
    out = img.astype(np.uint8).reshape(len(img), 3, size, size)
    return np.ascontiguousarray(out.transpose(0, 2, 3, 1))


# ------------------------------------------------------------------------ still images

@dataclass
class ShapesWorld:
    """Images of the procedural world with every annotation a vision task needs.

    images: uint8 (N, H, W, 3). labels: int64 (N,), class of the main (largest, topmost)
    object. Per image i: boxes[i] int64 (k, 4) tight x0, y0, x1, y1 (x1, y1 exclusive);
    masks[i] bool (k, H, W) of the *visible* pixels; instance_labels[i] int64 (k,). Object 0
    is the main object. captions: one sentence per image. classes: the class names.
    """

    images: np.ndarray
    labels: np.ndarray
    boxes: list
    masks: list
    instance_labels: list
    captions: list
    classes: tuple = SHAPE_CLASSES

    def __len__(self):
        return len(self.images)


def _int_arg(name, value, low, high=None):
    """Check an integer argument and say clearly what was wrong."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _chunks(stream, seed, n, chunk=CHUNK):
    """(generator, count) per chunk; a chunk's generator depends only on (stream, seed, index).

    Every random draw in a chunk is made for a full CHUNK and then cut to `count`, so a
    request for n items reproduces the first n items of any larger request.
    """
    for start in range(0, n, chunk):
        rng = np.random.default_rng([_STREAM[stream], seed, start // chunk])
        yield rng, min(chunk, n - start)


def _object_params(rng, m, scale_range, margin, kinds=None):
    """Random class, colour, scale, rotation and position for m objects.

    Centres stay `margin` * scale inside the image, so most of every object is visible.
    """
    kinds = np.arange(len(SHAPE_CLASSES)) if kinds is None else np.asarray(kinds)
    kind = kinds[_balanced(rng, m, len(kinds))]
    scale = rng.uniform(*scale_range, m)
    reach = np.maximum(1 - margin * scale, 0.0)
    cx, cy = rng.uniform(-1, 1, (2, m)) * reach
    favourite = np.array([_COLOUR_NAMES.index(c) for c in FAVOURITE_COLOUR])[kind]
    colour = np.where(rng.random(m) < FAVOURITE_P, favourite, rng.integers(len(_PALETTE), size=m))
    rgb = _PALETTE[colour] + rng.uniform(-20, 20, (m, 3)).astype(np.float32)
    return dict(kind=kind, colour=colour, rgb=rgb, scale=scale,
                angle=rng.uniform(-MAX_ROTATION, MAX_ROTATION, m), cx=cx, cy=cy)


def _balanced(rng, m, num_classes):
    """Labels in shuffled blocks of one of each class: any prefix is balanced to within one."""
    blocks = -(-m // num_classes)
    return np.argsort(rng.random((blocks, num_classes)), axis=1).ravel()[:m]


def _select(params, idx):
    """The same items (a slice or an index array) of every parameter array."""
    return {k: v[idx] for k, v in params.items()}


def _render(size, p):
    return render_masks(size, p["kind"], p["cx"], p["cy"], p["scale"], p["angle"])


def _shapes_chunk(rng, m, size, max_objects):
    """One chunk: images and the layers drawn, bottom first (the main object is on top)."""
    main = _object_params(rng, CHUNK, MAIN_SCALE, 0.6)
    extras = [_object_params(rng, CHUNK, (0.16, 0.3), 0.3) for _ in range(max_objects - 1)]
    n_extra = rng.integers(0, max_objects, CHUNK)[:m]
    bg = _select(_background_params(rng, CHUNK, main["colour"]), slice(m))
    sigma = rng.uniform(*NOISE_STD, CHUNK)[:m]
    img = _paint_backgrounds(size, bg)
    layers = []
    for j, extra in enumerate(extras):
        idx = np.flatnonzero(n_extra > j)
        if len(idx) == 0:
            continue
        p = _select(extra, idx)
        masks = _render(size, p)
        _paint_objects(img, masks, p["rgb"], idx)
        layers.append((idx, p, masks))
    main = _select(main, slice(m))
    masks = _render(size, main)
    _paint_objects(img, masks, main["rgb"])
    layers.append((np.arange(m), main, masks))
    return _finish(img, rng, sigma, size), layers, bg["kind"]


def _phrases(p):
    """'a small red star' for every object of a layer."""
    size = np.where(p["scale"] < 0.56, "small", np.where(p["scale"] < 0.68, "medium", "large"))
    return [f"a {s} {_COLOUR_NAMES[c]} {SHAPE_CLASSES[k]}"
            for s, c, k in zip(size, p["colour"], p["kind"])]


def _caption(phrases, background):
    """'a large red star with a small blue ring and a ... on a striped background'."""
    text = phrases[0]
    if len(phrases) > 1:
        text += " with " + ", ".join(phrases[1:-1]) + (" and " if len(phrases) > 2 else "")
        text += phrases[-1]
    return f"{text} on a {BACKGROUNDS[background]} background"


def _annotate(layers, bg_kind):
    """Per image: visible masks, boxes, instance labels, caption — main object first."""
    idx, main, masks = layers[-1]
    phrases = _phrases(main)
    if len(layers) == 1:  # one object per image: nothing is hidden, vectorize everything
        boxes = masks_to_boxes(masks)
        return (list(masks[:, None]), list(boxes[:, None]), list(main["kind"][:, None]),
                [_caption([ph], b) for ph, b in zip(phrases, bg_kind)])
    covered = np.zeros_like(masks)
    objects = [[] for _ in range(len(masks))]
    for idx, p, masks in reversed(layers):  # topmost first: it hides what lies below
        visible = masks & ~covered[idx]
        covered[idx] |= masks
        keep = np.flatnonzero(visible.any(axis=(1, 2)))
        boxes = masks_to_boxes(visible[keep])
        phrases = _phrases(p)
        for j, box in zip(keep, boxes):
            objects[idx[j]].append((visible[j], box, p["kind"][j], phrases[j]))
    return ([np.stack([o[0] for o in objs]) for objs in objects],
            [np.stack([o[1] for o in objs]) for objs in objects],
            [np.array([o[2] for o in objs], np.int64) for objs in objects],
            [_caption([o[3] for o in objs], b) for objs, b in zip(objects, bg_kind)])


def load_shapes(n, size=32, seed=0, max_objects=1):
    """n images of the procedural world (see `ShapesWorld` for the fields).

    size: image side in pixels (16..512). seed: non-negative int; same arguments, same bytes.
    max_objects: 1 gives one shape per image; k > 1 adds 0..k-1 smaller shapes behind the
    main one (each with its own mask, box and instance label), for detection and segmentation.
    """
    n = _int_arg("n", n, 1)
    size = _int_arg("size", size, 16, 512)
    seed = _int_arg("seed", seed, 0)
    max_objects = _int_arg("max_objects", max_objects, 1, 8)
    images, labels, fields = [], [], ([], [], [], [])
    for rng, m in _chunks("shapes", seed, n):
        imgs, layers, bg_kind = _shapes_chunk(rng, m, size, max_objects)
        images.append(imgs)
        labels.append(layers[-1][1]["kind"].astype(np.int64))
        for field, values in zip(fields, _annotate(layers, bg_kind)):
            field += values
    masks, boxes, inst, captions = fields
    return ShapesWorld(np.concatenate(images), np.concatenate(labels), boxes, masks, inst,
                       captions, SHAPE_CLASSES)


# ------------------------------------------------------------------------------- video

@dataclass
class ShapeClips:
    """Short clips of one moving shape; the label is the motion, not the shape.

    clips: uint8 (N, T, H, W, 3). labels: int64 (N,) into `classes` (MOTION_CLASSES, or
    DYNAMICS_CLASSES for motions="dynamics").
    boxes: int64 (N, T, 4) tight box per frame (x1, y1 exclusive). shape_labels: int64 (N,)
    which shape moves (into SHAPE_CLASSES), a nuisance variable here.
    """

    clips: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    shape_labels: np.ndarray
    classes: tuple = MOTION_CLASSES

    def __len__(self):
        return len(self.clips)


def _trajectories(rng, m, frames):
    """Per-frame centre, scale and angle (m, T) for each motion kind.

    The clip's middle frame is random and the motion is symmetric around it, so the position,
    size or angle in any single frame says nothing about the label: only change does.
    """
    motion = _balanced(rng, m, len(MOTION_CLASSES))
    p = _object_params(rng, m, (0.38, 0.55), 0.0, kinds=np.array(_ROTATABLE))
    tau = np.linspace(-0.5, 0.5, frames)[None, :]
    direction = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]] + [[0, 0]] * 4, float)[motion]
    spin = np.array([0, 0, 0, 0, 1, -1, 0, 0], float)[motion]  # +angle is clockwise (y down)
    grow = np.array([0, 0, 0, 0, 0, 0, 1, -1], float)[motion]
    distance = rng.uniform(0.5, 0.9, m)
    turn = rng.uniform(np.radians(10), np.radians(16), m) * (frames - 1)
    growth = np.log(rng.uniform(1.7, 2.3, m))
    scale = p["scale"][:, None] * np.exp((grow * growth)[:, None] * tau)
    reach = np.maximum(1 - 0.8 * scale.max(1)[:, None] - np.abs(direction) * distance[:, None] / 2, 0)
    centre = rng.uniform(-1, 1, (m, 2)) * reach
    cx, cy = (centre[:, :, None] + (direction * distance[:, None])[:, :, None] * tau).transpose(1, 0, 2)
    angle = p["angle"][:, None] + (spin * turn)[:, None] * tau
    return motion, p, dict(kind=np.repeat(p["kind"], frames), cx=cx.ravel(), cy=cy.ravel(),
                           scale=scale.ravel(), angle=angle.ravel())


# Speeds of the dynamics classes: the path length over the clip, in half-image units.
SLOW_PATH, FAST_PATH = (0.25, 0.35), (0.65, 0.85)
_DYN_SCALE = (0.28, 0.42)


def _dynamics(rng, m, frames):
    """Per-frame parameters (m, T) for the DYNAMICS_CLASSES: horizontal slides and bounces.

    Every class is drawn with the same shapes, sizes, colours and (uniform) placement, and a
    bounce covers the same path lengths as the slides (half slow, half fast), and the middle
    of every path is placed the same way, so neither a single frame nor the speed alone gives
    the class away (only the first and last frames of fast slides lean to one side). A bounce reverses at a random time
    near the middle of the clip; the row of the shape drifts by a pixel or two for every class.
    """
    motion = _balanced(rng, m, len(DYNAMICS_CLASSES))
    p = _object_params(rng, m, _DYN_SCALE, 0.0)
    tau = np.linspace(-0.5, 0.5, frames)[None, :]
    fast = np.where(motion < 4, motion % 2 == 1, rng.random(m) < 0.5)
    path = np.where(fast, rng.uniform(*FAST_PATH, m), rng.uniform(*SLOW_PATH, m))
    sign = np.array([-1, -1, 1, 1, -1, 1], float)[motion]  # first direction of travel
    turn = rng.uniform(-0.2, 0.2, m)[:, None]
    bounce = (motion >= 4)[:, None]
    # a bounce: out by path/2 until `turn`, then back; |tau - turn| has range up to 0.5 + |turn|
    shape = np.where(bounce, -(np.abs(tau - turn) - np.abs(tau - turn).mean(1, keepdims=True)), tau)
    x = sign[:, None] * path[:, None] * shape
    # every path, averaged over time, is placed the same way for every class, and even the fastest
    # path of the largest shape stays inside the image
    reach = 1 - 0.8 * _DYN_SCALE[1] - FAST_PATH[1] / 2
    cx = rng.uniform(-reach, reach, m) - x.mean(1)      # every path is centred on its time average
    cy = rng.uniform(-1, 1, m) * (1 - 0.8 * p["scale"] - 0.1)
    drift = rng.uniform(-0.1, 0.1, m)
    return motion, p, dict(kind=np.repeat(p["kind"], frames), cx=(cx[:, None] + x).ravel(),
                           cy=(cy[:, None] + drift[:, None] * tau).ravel(),
                           scale=np.repeat(p["scale"], frames), angle=np.repeat(p["angle"], frames))


def load_shape_clips(n, frames=8, size=32, seed=0, motions="basic"):
    """n clips of `frames` frames: one shape moving on a still textured background.

    motions="basic" (MOTION_CLASSES): moving left/right/up/down, rotating clockwise/
    counterclockwise, growing, shrinking. Circles and rings never appear (their rotation would
    be invisible). motions="dynamics" (DYNAMICS_CLASSES): horizontal motions that differ in
    direction, speed and bouncing vs sliding, with every shape (see `_dynamics`); a different
    random stream, so these clips are not the basic ones relabelled.
    """
    n = _int_arg("n", n, 1)
    frames = _int_arg("frames", frames, 2, 64)
    size = _int_arg("size", size, 16, 256)
    seed = _int_arg("seed", seed, 0)
    if motions not in ("basic", "dynamics"):
        raise ValueError(f"motions must be 'basic' or 'dynamics', got {motions!r}")
    if motions == "dynamics" and frames < 3:
        raise ValueError(f"a bounce needs at least 3 frames, got frames={frames}")
    trajectories = _trajectories if motions == "basic" else _dynamics
    stream = "clips" if motions == "basic" else "dynamics"
    clips, labels, boxes, shapes = [], [], [], []
    for rng, m in _chunks(stream, seed, n, CLIP_CHUNK):  # ~1000 frames: arrays stay in cache
        motion, p, per_frame = trajectories(rng, CLIP_CHUNK, frames)
        bg = _select(_background_params(rng, CLIP_CHUNK, p["colour"]), slice(m))
        sigma = np.repeat(rng.uniform(3, 10, CLIP_CHUNK)[:m], frames)
        per_frame = _select(per_frame, slice(m * frames))
        img = np.repeat(_paint_backgrounds(size, bg), frames, axis=0)
        masks = _render(size, per_frame)
        _paint_objects(img, masks, np.repeat(p["rgb"][:m], frames, axis=0))
        clips.append(_finish(img, rng, sigma, size).reshape(m, frames, size, size, 3))
        boxes.append(masks_to_boxes(masks).reshape(m, frames, 4))
        labels.append(motion[:m])
        shapes.append(p["kind"][:m])
    return ShapeClips(np.concatenate(clips), np.concatenate(labels).astype(np.int64),
                      np.concatenate(boxes), np.concatenate(shapes).astype(np.int64),
                      MOTION_CLASSES if motions == "basic" else DYNAMICS_CLASSES)


# -------------------------------------------------------------------------- 3D points
# Each sampler draws points (m, P, 3) on the surface of one primitive in a canonical pose;
# surfaces made of parts (caps, faces) pick a part with probability proportional to its area.

def _sphere(rng, m, p):
    g = rng.standard_normal((m, p, 3))
    return g / np.linalg.norm(g, axis=2, keepdims=True)


def _cube(rng, m, p):
    pts = rng.uniform(-1, 1, (m, p, 3))
    axis = rng.integers(3, size=(m, p, 1))
    np.put_along_axis(pts, axis, rng.choice([-1.0, 1.0], (m, p, 1)), axis=2)
    return pts


def _on_circle(rng, m, p, radius):
    theta = rng.uniform(0, 2 * np.pi, (m, p))
    return radius * np.cos(theta), radius * np.sin(theta)


def _cylinder(rng, m, p, radius=0.6):
    side = rng.random((m, p)) < 2.0 / (2.0 + radius)  # side area 2*pi*r*2, caps 2*pi*r^2
    r = np.where(side, radius, radius * np.sqrt(rng.random((m, p))))
    z = np.where(side, rng.uniform(-1, 1, (m, p)), rng.choice([-1.0, 1.0], (m, p)))
    x, y = _on_circle(rng, m, p, r)
    return np.stack([x, y, z], axis=2)


def _cone(rng, m, p, radius=0.8):
    slant = np.hypot(radius, 2.0)
    lateral = rng.random((m, p)) < slant / (slant + radius)  # pi*r*slant vs pi*r^2
    h = np.sqrt(rng.random((m, p)))  # distance from the apex; area grows like h^2
    r = np.where(lateral, radius * h, radius * np.sqrt(rng.random((m, p))))
    z = np.where(lateral, 1 - 2 * h, -1.0)
    x, y = _on_circle(rng, m, p, r)
    return np.stack([x, y, z], axis=2)


def _torus(rng, m, p, big=0.7, small=0.28):
    x, y = _on_circle(rng, m, p, 1.0)
    phi = rng.uniform(0, 2 * np.pi, (m, p))
    ring = big + small * np.cos(phi)
    return np.stack([ring * x, ring * y, small * np.sin(phi)], axis=2)


def _plane(rng, m, p):
    return np.concatenate([rng.uniform(-1, 1, (m, p, 2)), np.zeros((m, p, 1))], axis=2)


def _pyramid(rng, m, p):
    """Square base at z=-1, apex at (0, 0, 1): four triangles and the base."""
    side = np.hypot(1.0, 2.0) * 2 / 2  # each triangle: base 2, slant height sqrt(5)
    face = rng.choice(5, size=(m, p), p=np.array([side] * 4 + [4.0]) / (4 * side + 4))
    corners = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1]], float)
    a, b, c = np.array([0, 0, 1.0]), corners[face % 4], corners[(face + 1) % 4]
    s, t = rng.random((2, m, p, 1))
    flip = s + t > 1
    s, t = np.where(flip, 1 - s, s), np.where(flip, 1 - t, t)
    tri = a + s * (b - a) + t * (c - a)
    base = np.concatenate([rng.uniform(-1, 1, (m, p, 2)), -np.ones((m, p, 1))], axis=2)
    return np.where((face == 4)[..., None], base, tri)


_SAMPLERS = (_sphere, _cube, _cylinder, _cone, _torus, _plane, _pyramid)


def _random_rotations(rng, m):
    """Uniform random rotation matrices (m, 3, 3), from normalized Gaussian quaternions."""
    q = rng.standard_normal((m, 4))
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                     2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                     2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
                    axis=1).reshape(m, 3, 3)


@dataclass
class PointClouds:
    """Point clouds of 3D primitives: points float32 (N, P, 3), labels int64 (N,)."""

    points: np.ndarray
    labels: np.ndarray
    classes: tuple = POINT_CLOUD_CLASSES

    def __len__(self):
        return len(self.points)


def _point_chunk(rng, m, num_points):
    """Surface samples, centred, scaled to radius 1, rotated, rescaled, with a little noise."""
    labels = _balanced(rng, CHUNK, len(POINT_CLOUD_CLASSES))[:m]
    pts = np.empty((m, num_points, 3))
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        pts[idx] = _SAMPLERS[k](rng, len(idx), num_points)
    pts -= pts.mean(axis=1, keepdims=True)
    pts /= np.linalg.norm(pts, axis=2).max(axis=1)[:, None, None]
    pts = np.einsum("mij,mpj->mpi", _random_rotations(rng, m), pts)
    pts *= rng.uniform(0.6, 1.0, (m, 1, 1))
    pts += 0.01 * rng.standard_normal(pts.shape)
    return pts.astype(np.float32), labels.astype(np.int64)


def load_point_clouds(n, num_points=256, seed=0):
    """n point clouds of 3D primitives (sphere, cube, cylinder, cone, torus, plane, pyramid).

    Each is sampled uniformly on the surface, centred, randomly rotated and scaled, and
    jittered with small Gaussian noise. Same arguments, same bytes.
    """
    n = _int_arg("n", n, 1)
    num_points = _int_arg("num_points", num_points, 4, 100_000)
    seed = _int_arg("seed", seed, 0)
    chunks = [_point_chunk(rng, m, num_points) for rng, m in _chunks("points", seed, n)]
    return PointClouds(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))
