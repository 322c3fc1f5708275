"""The figures every lecture needs: image grids, training curves, confusion matrices, filters,
boxes/masks overlays and plain line plots.

Every function returns the matplotlib Figure and gives it a title and labelled axes, so a
notebook never shows an unlabelled plot. Inputs may be numpy arrays or torch tensors (on any
device, with or without grad). In a notebook, end the call with `;` or assign the result
(`fig = H.plot.image_grid(...)`): the inline backend already shows the figure once.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

__all__ = ["image_grid", "training_curves", "confusion_matrix", "filters", "boxes_masks", "curves"]


def _to_numpy(x) -> np.ndarray:
    """numpy view of an array-like; torch tensors are detached and moved to the CPU first."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _displayable(img: np.ndarray) -> np.ndarray:
    """uint8 images are shown as they are; float images outside [0, 1] are min-max rescaled
    (mean-subtracted data, gradients and saliency maps would otherwise be clipped to black)."""
    if img.dtype == np.uint8:
        return img
    img = img.astype(np.float64)
    lo, hi = img.min(), img.max()
    if lo < 0 or hi > 1:
        img = (img - lo) / max(hi - lo, 1e-12)
    return img


def _grid(n, ncols, figsize, cell=1.3):
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)  # ceil division
    figsize = figsize or (cell * ncols, cell * nrows + 0.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")  # cells stay off; the figure carries the title
    return fig, axes.flat


def image_grid(images, titles=None, ncols=8, title=None, figsize=None):
    """Show a batch of images, one per cell.

    images: (N, H, W, C) with C in {1, 3, 4} (uint8 or float), (N, H, W) grayscale, or a torch
    batch in (N, C, H, W) layout (recognised when C is 1 or 3 and the last axis is not).
    titles: optional list of N strings (e.g. class names) shown above each image.
    """
    images = _to_numpy(images) if not isinstance(images, list | tuple) else np.stack(
        [_to_numpy(im) for im in images])
    if images.ndim == 4 and images.shape[-1] not in (1, 3, 4) and images.shape[1] in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # NCHW (torch) -> NHWC (matplotlib)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3, 4)):
        raise ValueError(
            f"image_grid expects a batch of images shaped (N, H, W, C) with C in 1/3/4, or "
            f"(N, H, W) for grayscale; got shape {images.shape}. For one image pass img[None].")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    fig, axes = _grid(len(images), ncols, figsize)
    for i, (ax, img) in enumerate(zip(axes, images)):
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(_displayable(img), cmap="gray" if img.ndim == 2 else None)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.suptitle(title or f"{len(images)} images")
    fig.tight_layout()
    return fig


def training_curves(history, title="Training"):
    """Loss on the left, accuracies on the right.

    history: dict of lists, e.g. {"loss": [...], "train_acc": [...], "val_acc": [...]} as
    returned by `helpers.solver.train_torch`, or a `Solver` (its *_history lists are used).
    Keys containing "loss" go to the left panel, keys containing "acc" to the right one.
    """
    if hasattr(history, "loss_history"):  # a Solver
        history = {"loss": history.loss_history, "train_acc": history.train_acc_history,
                   "val_acc": history.val_acc_history}
    losses = {k: _to_numpy(v) for k, v in history.items() if "loss" in k and len(v)}
    accs = {k: _to_numpy(v) for k, v in history.items() if "acc" in k and len(v)}
    if not losses and not accs:
        raise ValueError(f"history has no non-empty 'loss' or 'acc' lists; keys: {list(history)}")
    panels = [p for p in (losses, accs) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.5), squeeze=False)
    # Solver records the loss every iteration and accuracies at the start and after each epoch
    # (so they start at epoch 0); train_torch records everything after each epoch (from 1).
    lengths = {len(v) for v in (*losses.values(), *accs.values())}
    start = 1 if len(lengths) == 1 else 0
    for ax, panel in zip(axes.flat, panels):
        is_loss = panel is losses
        per_epoch = not is_loss or (bool(accs) and start == 1)
        for name, ys in panel.items():
            x = np.arange(len(ys)) + (start if per_epoch else 0)
            ax.plot(x, ys, label=name, marker="o" if len(ys) <= 30 else None)
        ax.set_xlabel("epoch" if per_epoch else "iteration")
        ax.set_ylabel("loss" if is_loss else "accuracy")
        ax.set_title("Loss" if is_loss else "Accuracy")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, classes, title="Confusion matrix", normalize=True):
    """Rows are true classes, columns predicted ones; normalize=True shows each row as fractions
    (per-class recall on the diagonal), which stays readable when classes are imbalanced."""
    y_true, y_pred = _to_numpy(y_true).ravel(), _to_numpy(y_pred).ravel()
    k = len(classes)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if len(y) and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"{name} holds labels outside 0..{k - 1} (there are {k} classes)")
    cm = np.bincount(y_true.astype(np.int64) * k + y_pred.astype(np.int64), minlength=k * k)
    cm = cm.reshape(k, k).astype(np.float64)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.45 * k + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of row" if normalize else "count")
    ax.set_xticks(range(k), [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(c) for c in classes])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 20:  # numbers in cells become unreadable beyond that
        for i in range(k):
            for j in range(k):
                text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > 0.6 * cm.max() else "black")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def filters(weights, title="Filters", ncols=8):
    """Show learned filters, each rescaled to [0, 1] on its own (their scales differ a lot).

    weights: torch conv weights (F, C, H, W), or an array (F, H, W, C) / (F, C, H, W) / (F, H, W)
    with C in {1, 3}; C == 1 is shown in grayscale. Linear-classifier templates (D, F) should be
    reshaped by the caller, e.g. `W.T.reshape(10, 32, 32, 3)`.
    """
    is_torch = hasattr(weights, "detach")
    w = _to_numpy(weights).astype(np.float64)
    if w.ndim == 4 and (is_torch or (w.shape[-1] not in (1, 3) and w.shape[1] in (1, 3))):
        w = w.transpose(0, 2, 3, 1)  # (F, C, H, W) -> (F, H, W, C); torch is always FCHW
    elif w.ndim == 3:
        w = w[..., None]
    if w.ndim != 4 or w.shape[-1] not in (1, 3):
        raise ValueError(
            f"filters expects (F, C, H, W) or (F, H, W, C) weights with C = 1 or 3, or (F, H, W); "
            f"got shape {w.shape}. For deeper layers show one input channel at a time, "
            f"e.g. weights[:, :1].")
    lo = w.min(axis=(1, 2, 3), keepdims=True)
    hi = w.max(axis=(1, 2, 3), keepdims=True)
    w = (w - lo) / np.maximum(hi - lo, 1e-12)
    fig, axes = _grid(len(w), ncols, None, cell=1.0)
    for ax, f in zip(axes, w):
        if f.shape[-1] == 1:
            ax.imshow(f[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(f, interpolation="nearest")
    fig.suptitle(f"{title} ({len(w)} filters, {w.shape[1]}x{w.shape[2]})")
    fig.tight_layout()
    return fig


def boxes_masks(image, boxes, masks=None, labels=None, classes=None, title=None, ax=None,
                scores=None):
    """Draw xyxy boxes (with class names and optional scores) and overlay boolean instance masks.

    image: (H, W, 3) or (H, W); boxes: (k, 4) as x0, y0, x1, y1 in pixels; masks: (k, H, W) bool;
    labels: (k,) class ids (names looked up in `classes`) or strings. Each instance gets its own
    colour so touching objects stay distinguishable. Pass `ax` to draw into an existing subplot.
    """
    img = _to_numpy(image)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)  # CHW tensor -> HWC
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3):
        raise ValueError(f"boxes_masks expects one image (H, W, 3) or (H, W); got {img.shape}")
    boxes = _to_numpy(boxes).reshape(-1, 4) if boxes is not None else np.zeros((0, 4))
    k = len(boxes)
    if masks is not None:
        masks = _to_numpy(masks).astype(bool)
        if masks.ndim == 2:
            masks = masks[None]
        if masks.shape[1:] != img.shape[:2]:
            raise ValueError(f"masks must be (k, H, W) = (k, {img.shape[0]}, {img.shape[1]}); "
                             f"got {masks.shape}")
    for name, arr in (("labels", labels), ("scores", scores)):
        if arr is not None and len(arr) != k:
            raise ValueError(f"got {len(arr)} {name} for {k} boxes")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    ax.imshow(_displayable(img), cmap="gray" if img.ndim == 2 else None)
    colours = plt.get_cmap("tab10").colors
    n_inst = max(k, 0 if masks is None else len(masks))
    for i in range(n_inst):
        colour = colours[i % len(colours)]
        if masks is not None and i < len(masks):
            overlay = np.zeros((*masks[i].shape, 4))
            overlay[masks[i]] = (*colour, 0.45)  # semi-transparent so the object stays visible
            ax.imshow(overlay)
        if i < k:
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            # imshow puts pixel centres on integers, so pixel x0 starts at x0 - 0.5
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=colour, lw=2))
            text = ""
            if labels is not None:
                lab = labels[i]
                is_id = classes is not None and not isinstance(lab, str)
                text = str(classes[int(lab)]) if is_id else str(lab)
            if scores is not None:
                text = f"{text} {float(scores[i]):.2f}".strip()
            if text:
                ax.text(x0, y0, text, color="white", fontsize=8, va="bottom",
                        bbox={"facecolor": colour, "alpha": 0.8, "pad": 1, "edgecolor": "none"})
    ax.set_xlim(-0.5, img.shape[1] - 0.5)
    ax.set_ylim(img.shape[0] - 0.5, -0.5)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    default = f"{k} box{'es' * (k != 1)}"
    if masks is not None:
        default += f", {len(masks)} mask{'s' * (len(masks) != 1)}"
    ax.set_title(title or default)
    return fig


def curves(xs_ys, xlabel, ylabel, title, logy=False):
    """Generic line plot: xs_ys maps a legend label to (x, y), or just to y (x = 0, 1, ...)."""
    if not xs_ys:
        raise ValueError("curves needs at least one {label: (x, y)} entry")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, xy in xs_ys.items():
        if isinstance(xy, tuple) and len(xy) == 2:
            x, y = _to_numpy(xy[0]), _to_numpy(xy[1])
        else:
            y = _to_numpy(xy)
            x = np.arange(len(y))
        if x.shape != y.shape:
            raise ValueError(f"curve {label!r}: x has shape {x.shape} but y has {y.shape}")
        ax.plot(x, y, label=str(label))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def decision_regions(predict, X, y, ax=None, title="Decision regions", res=150, margin=0.5):
    """Colour the plane by `predict(points) -> labels` and draw the 2-D points X with labels y."""
    X, y = _to_numpy(X), _to_numpy(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_regions needs 2-D points of shape (N, 2), got {X.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], res), np.linspace(lo[1], hi[1], res))
    Z = _to_numpy(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    k = int(max(y.max(), Z.max())) + 1
    cmap = plt.get_cmap("tab10", 10)
    ax.contourf(gx, gy, Z, levels=np.arange(k + 1) - 0.5, cmap=cmap, vmin=-0.5, vmax=9.5, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=9.5, s=12, edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="feature $x_1$", ylabel="feature $x_2$")
    return ax.figure


def linear_2d(W, b, X, y, point_loss=None, ax=None, title="A linear classifier in 2-D", res=150, margin=0.5):
    """A 2-D linear classifier s = W x + b: coloured decision regions, each class's zero-score
    line (dashed) and weight vector (arrow from the origin), and the training points.

    W: (C, 2); b: (C,); X: (N, 2); y: (N,) in 0..C-1 (C <= 10, coloured like decision_regions).
    point_loss: optional (N,) loss of each point: points with loss > 1e-3 are drawn filled with an
    area that grows with the loss, the others hollow, so you see which points a loss still cares about.
    Used in: lecture 02.
    """
    W, b, X, y = (_to_numpy(a).astype(np.float64) for a in (W, b, X, y))
    y = y.astype(int)
    if W.ndim != 2 or W.shape[1] != 2 or b.shape != (W.shape[0],) or X.shape != (len(y), 2):
        raise ValueError(f"need W (C, 2), b (C,), X (N, 2), y (N,); got {W.shape}, {b.shape}, {X.shape}, {y.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    cmap = plt.get_cmap("tab10", 10)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], res), np.linspace(lo[1], hi[1], res))
    Z = (np.c_[gx.ravel(), gy.ravel()] @ W.T + b).argmax(axis=1).reshape(gx.shape)
    ax.contourf(gx, gy, Z, levels=np.arange(11) - 0.5, cmap=cmap, vmin=-0.5, vmax=9.5, alpha=0.3)
    xs = np.array([lo[0], hi[0]])
    for c in range(len(W)):
        colour = cmap(c)
        if abs(W[c, 1]) > 1e-9:  # the line w_c . x + b_c = 0, as x2 = -(w_c1 x1 + b_c) / w_c2
            ax.plot(xs, -(W[c, 0] * xs + b[c]) / W[c, 1], color=colour, ls="--", lw=1.5)
        norm = np.linalg.norm(W[c])
        if norm > 1e-9:
            ax.annotate("", xy=W[c] / norm * 1.5, xytext=(0, 0),
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 2.5})
    if point_loss is None:
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=9.5, s=12, edgecolors="k", linewidths=0.3)
    else:
        loss = _to_numpy(point_loss).astype(np.float64)
        busy = loss > 1e-3
        colours = cmap(y)
        ax.scatter(X[~busy, 0], X[~busy, 1], s=14, facecolors="none", edgecolors=colours[~busy], linewidths=1.0,
                   label=f"loss 0: {int((~busy).sum())} points")
        ax.scatter(X[busy, 0], X[busy, 1], s=10 + 40 * np.sqrt(loss[busy]), c=colours[busy], edgecolors="k",
                   linewidths=0.4, label=f"loss > 0: {int(busy.sum())} (area ~ loss)")
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title=title, xlabel="feature $x_1$", ylabel="feature $x_2$")
    return ax.figure


def conv_windows(ax, W, F, S, P, max_rows=10):
    """Draw one row of a convolution's input (blue: W input cells, grey: P zero-padding cells on
    each side) and, stacked above it, every F-wide window a stride-S filter visits; input cells
    that no window reaches are hatched red. Returns the number of windows (output positions).
    Used in: lecture 05.
    """
    n = W + 2 * P
    for i in range(n):
        is_pad = i < P or i >= P + W
        ax.add_patch(Rectangle((i, 0), 1, 1, facecolor="0.85" if is_pad else "tab:blue",
                               edgecolor="k", alpha=0.9 if is_pad else 0.5))
    n_out = max(0, (n - F) // S + 1) if F <= n else 0
    colours = plt.get_cmap("tab10").colors
    for o in range(n_out):
        y = 1.4 + 0.4 * (o % max_rows)  # stack the windows so overlaps stay visible
        ax.add_patch(Rectangle((o * S, y), F, 0.3, facecolor=colours[o % 10], alpha=0.75))
        ax.text(o * S + F / 2, y + 0.15, str(o), ha="center", va="center", fontsize=7)
    covered = (n_out - 1) * S + F if n_out else 0
    for i in range(covered, n):  # input cells no window ever reaches
        ax.add_patch(Rectangle((i, 0), 1, 1, fill=False, edgecolor="red", hatch="///", lw=1.5))
    ax.set_xlim(-0.5, max(n, F) + 0.5)
    ax.set_ylim(-0.3, 1.4 + 0.4 * min(max(n_out, 1), max_rows) + 0.3)
    ax.set_yticks([])
    ax.set_xlabel("position along the width (blue: input, grey: zero padding, red: never covered)")
    ax.set_ylabel("windows (one bar\nper output)")
    return n_out


def annotated_kernel(ax, kernel, title=None, cmap="RdBu_r", fmt="{:.2g}", fontsize=None):
    """Show a small 2-D kernel with a symmetric diverging colour scale (white = 0) and its value
    written in every cell, in black or white, whichever contrasts with the cell's colour.
    Used in: lecture 05.
    """
    k = _to_numpy(kernel).astype(float)
    if k.ndim != 2:
        raise ValueError(f"annotated_kernel needs a 2-D kernel, got shape {k.shape}")
    lim = max(np.abs(k).max(), 1e-12)
    im = ax.imshow(k, cmap=cmap, vmin=-lim, vmax=lim)
    size = fontsize or (9 if max(k.shape) <= 3 else 7 if max(k.shape) <= 5 else 5.5)
    for (r, c), v in np.ndenumerate(k):
        red, green, blue, _ = im.cmap(im.norm(v))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # perceived brightness of the cell
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=size,
                color="white" if dark else "black")
    ax.set(xlabel="kernel column", ylabel="kernel row")
    if title:
        ax.set_title(title, fontsize=10)
    return im


def log_ticks(ax, axis="y"):
    """Readable ticks on a log axis: labelled 1-2-5 ticks when the data span at most 3 decades
    (a loss from 0.17 to 3 would otherwise show a single label, "10⁰"), one label per decade
    beyond that; plain numbers ("0.2", "1e-05") and no minor ticks. Call it after plotting.
    Used in: lectures 03, 04."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    if lo <= 0:
        raise ValueError(f"log_ticks needs a log {axis}-axis with positive limits, got ({lo}, {hi})")
    decades = np.log10(hi / lo)
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    target.set_minor_locator(NullLocator())
    return ax


def _graph_node_text(v) -> str:
    """How a node was computed, e.g. 'q = x × y', from its operation and its inputs' labels."""
    if not v._children:
        return v.label
    names = [c.label for c in v._children]
    if v._op in ("exp", "relu", "max"):
        return f"{v.label} = {v._op}({', '.join(names)})"
    if len(names) == 1:
        return f"{v.label} = {names[0]}{v._op}"
    return f"{v.label} = {names[0]} {v._op} {names[1]}"


def computational_graph(root, ax=None, title="Computational graph"):
    """Draw the graph below `root`, inputs on the left and the output on the right: each box shows
    how a node was computed and its forward value, the red number under it its gradient.

    Nodes are duck-typed like micrograd's Value: `.data`, `.grad`, `.label`, `._op` and
    `._children` (the nodes it was computed from). Used in: lecture 04.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.2))
    nodes, depth = [], {}

    def visit(v):  # depth = longest path from an input
        if id(v) not in depth:
            depth[id(v)] = 1 + max((visit(c) for c in v._children), default=-1)
            nodes.append(v)
        return depth[id(v)]

    visit(root)
    columns = {}
    for v in nodes:
        columns.setdefault(depth[id(v)], []).append(v)
    pos = {id(v): (d, (len(col) - 1) / 2 - i) for d, col in columns.items() for i, v in enumerate(col)}
    boxes = {}
    for v in nodes:
        px, py = pos[id(v)]
        boxes[id(v)] = ax.text(px, py, f"{_graph_node_text(v)}\n{v.data:.3g}", ha="center", va="center",
                               fontsize=9, bbox={"boxstyle": "round,pad=0.4", "fc": "honeydew", "ec": "tab:green"})
        ax.text(px, py - 0.3, f"grad {v.grad:.3g}", ha="center", va="top", fontsize=9, color="tab:red",
                fontweight="bold")
    for v in nodes:
        for c in v._children:
            ax.annotate("", xy=pos[id(v)], xytext=pos[id(c)],
                        arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 3, "shrinkB": 3,
                                    "patchA": boxes[id(c)].get_bbox_patch(), "patchB": boxes[id(v)].get_bbox_patch()})
    n_rows = max(len(col) for col in columns.values())
    ax.set(xlim=(-0.6, max(columns) + 0.6), ylim=(-n_rows / 2 - 0.1, n_rows / 2 - 0.2), title=title,
           xlabel="graph depth (forward pass →, backward pass ←)", ylabel="nodes")
    ax.set_xticks(range(max(columns) + 1))
    ax.set_yticks([])
    return ax.figure
