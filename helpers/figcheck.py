"""The course's figure rule, checked on every figure a notebook draws: a title, and labelled axes.

`problems(fig)` lists what a figure lacks. With COURSE_CHECK_FIGURES=1, `H.setup()` calls
`install()`, which checks each figure as it is rendered (inline display, savefig) and appends
its problems to the JSON-lines file COURSE_FIGURE_LOG (or prints them). The lecture tests turn
this on and fail on any problem; students never see it.

The rule, per axes that shows something:
- a title: its own, or the figure's suptitle;
- a plot with visible axis lines needs both axis labels (its own, the figure's supxlabel /
  supylabel, or those of another axes it shares that axis with, as in `sharex` grids; a
  `twinx` labels its own y-axis and borrows the title); tick labels that name categories count as a label on that axis;
- an image or diagram with its axis turned off needs only the title.
Colorbars, insets and empty axes are left alone.
"""

from __future__ import annotations

import json
import os
import sys

_INSTALLED = False


def _shows_something(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images or ax.texts or ax.tables
                or getattr(ax, "containers", None))


def _is_auxiliary(ax) -> bool:
    """A colorbar, or an inset drawn inside another axes."""
    return getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>" or \
        getattr(ax, "_axes_locator", None) is not None and not ax.get_title()


def _label(fig, ax, which: str) -> bool:
    if (ax.get_xlabel() if which == "x" else ax.get_ylabel()).strip():
        return True
    sup = getattr(fig, "_supxlabel" if which == "x" else "_supylabel", None)
    if sup is not None and sup.get_text().strip():
        return True
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    siblings = [o for o in fig.axes if o is not ax and group.joined(ax, o)]
    if any((o.get_xlabel() if which == "x" else o.get_ylabel()).strip() for o in siblings):
        return True
    ticks = ax.get_xticklabels() if which == "x" else ax.get_yticklabels()
    return any(t.get_text().strip() and not _is_number(t.get_text()) for t in ticks)


def _titled(fig, ax) -> bool:
    """Its own title, the figure's suptitle, or that of a twin (twinx/twiny: the same box)."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        return True
    box = ax.get_position().bounds
    return any((o.get_title().strip() or o.get_title("left").strip())
               for o in fig.axes if o is ax or o.get_position().bounds == box)


def _is_number(text: str) -> bool:
    text = text.replace("\u2212", "-").replace("$", "").replace("\\mathdefault{", "").replace("}", "")
    try:
        float(text.replace("^", "e").replace("{", ""))
        return True
    except ValueError:
        return False


def _name(fig) -> str:
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        return sup.get_text().strip()
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
            missing += [f"{w}-axis label" for w in "xy" if not _label(fig, ax, w)]
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
    """Check every figure when it is rendered (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure

    def print_figure(self, *args, **kwargs):
        _report(self.figure)
        return original(self, *args, **kwargs)

    FigureCanvasBase.print_figure = print_figure
    _INSTALLED = True
