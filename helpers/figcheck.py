"""The course's figure rule, checked on every figure a notebook draws: a title, and labelled axes.

`problems(fig)` lists what a figure lacks. With COURSE_CHECK_FIGURES=1, `H.setup()` calls
`install()`, which checks each figure as it is rendered (inline display, savefig) and appends
its problems to the JSON-lines file COURSE_FIGURE_LOG (or prints them). The lecture tests turn
this on and fail on any problem; students never see it.

The rule, per axes that shows something:
- a title: its own, or the figure's suptitle;
- an axis that shows tick labels (a scale) needs a label (its own, the figure's supxlabel /
  supylabel, or those of another axes it shares that axis with or that sits in the same grid
  column (x) or row (y), as `label_outer` leaves them; a `twinx` labels its own y-axis and
  borrows the title); tick labels that name categories
  count as a label on that axis;
- an image or diagram with its axis turned off, or its ticks removed, needs only the title.
Colorbars, insets and empty axes are left alone.
"""

from __future__ import annotations

import json
import os
import sys


def _shows_something(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images or ax.texts or ax.tables
                or getattr(ax, "containers", None))


def _is_auxiliary(ax) -> bool:
    """A colorbar, or an inset drawn inside another axes."""
    return (getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>"
            or (getattr(ax, "_axes_locator", None) is not None and not ax.get_title()))


def _fig_text(fig, attr: str) -> str:
    """The figure's suptitle / supxlabel / supylabel ("_suptitle", ...), or ""."""
    text = getattr(fig, attr, None)
    return text.get_text().strip() if text is not None else ""


def _axis(ax, which: str):
    return ax.xaxis if which == "x" else ax.yaxis


def _same_box(a, b) -> bool:
    """twinx / twiny: two axes drawn in one box."""
    return all(abs(u - v) < 1e-6 for u, v in zip(a.get_position().bounds, b.get_position().bounds))


def _label(fig, ax, which: str) -> bool:
    if _axis(ax, which).get_label_text().strip() or _fig_text(fig, f"_sup{which}label"):
        return True
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    siblings = [o for o in fig.axes if o is not ax and (group.joined(ax, o) or _aligned(ax, o, which))]
    if any(_axis(o, which).get_label_text().strip() for o in siblings):
        return True
    return any(t.get_text().strip() and not _is_number(t.get_text()) for t in _axis(ax, which).get_ticklabels())


def _aligned(a, b, which: str) -> bool:
    """Same column of a grid (for x) or same row (for y), but not twins: a grid labels its outer
    panels only, as `label_outer` does. Spans that overlap by half count (a colorbar shrinks
    the panels it sits beside)."""
    if _same_box(a, b):
        return False
    pa, pb = a.get_position(), b.get_position()
    lo, hi = ((pa.x0, pa.x1), (pb.x0, pb.x1)) if which == "x" else ((pa.y0, pa.y1), (pb.y0, pb.y1))
    overlap = min(lo[1], hi[1]) - max(lo[0], hi[0])
    return overlap > 0.5 * min(lo[1] - lo[0], hi[1] - hi[0])


def _has_scale(ax, which: str) -> bool:
    """The axis shows tick labels; an image panel with its ticks removed has no scale to name."""
    axis = _axis(ax, which)
    return axis.get_visible() and any(t.get_text().strip() for t in axis.get_ticklabels())


def _titled(fig, ax) -> bool:
    """Its own title, the figure's suptitle, or that of a twin (twinx/twiny: the same box)."""
    if _fig_text(fig, "_suptitle"):
        return True
    return any((o.get_title().strip() or o.get_title("left").strip())
               for o in fig.axes if o is ax or _same_box(o, ax))


def _is_number(text: str) -> bool:
    text = text.replace("\u2212", "-").replace("$", "").replace("\\mathdefault{", "").replace("}", "")
    try:
        float(text.replace("^", "e").replace("{", ""))
        return True
    except ValueError:
        return False


def _name(fig) -> str:
    if _fig_text(fig, "_suptitle"):
        return _fig_text(fig, "_suptitle")
    titles = [ax.get_title().strip() for ax in fig.axes if ax.get_title().strip()]
    return titles[0] if titles else f"untitled figure of {len(fig.axes)} axes"


def problems(fig) -> list[str]:
    """What the figure lacks, one line per axes; empty when it follows the rule."""
    out = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or _is_auxiliary(ax) or not _shows_something(ax):
            continue
        missing = []
        if not _titled(fig, ax):
            missing.append("title")
        if ax.axison:
            missing += [f"{w}-axis label" for w in "xy" if _has_scale(ax, w) and not _label(fig, ax, w)]
        if missing:
            out.append(f"axes {i}: no {', no '.join(missing)}")
    return out


def _report(fig) -> None:
    found = problems(fig)
    if not found:
        return
    record = {"figure": _name(fig), "problems": found}
    log = os.environ.get("COURSE_FIGURE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(record) + "\n")
    else:
        print(f"figure check: {record['figure']!r}: {'; '.join(found)}", file=sys.stderr)


def install() -> None:
    """Check every figure when it is rendered (idempotent: the wrapper marks itself)."""
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_figcheck", False):
        return

    def print_figure(self, *args, **kwargs):
        _report(self.figure)
        return original(self, *args, **kwargs)

    print_figure._figcheck = True
    FigureCanvasBase.print_figure = print_figure
