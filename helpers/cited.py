"""Figures built from cited numbers: what a laptop cannot measure (a leaderboard climb, a
history of ideas) is drawn from a table of (year, name, value) entries typed in from papers.

    from helpers import cited
    cited.by_year([(2012, "AlexNet", 16.4, "deep"), ...], ylabel="top-5 error (%)", title=...)
    cited.timeline([(1959, "Hubel & Wiesel: simple cells", "biology"), ...], title=...)

The lecture keeps the table (with its sources) in its own cell, so the reader sees what is
cited; these functions only draw it, with every label inside the axes. Used in: lecture 01
(and every later lecture that charts cited results).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

_SIDES = {"right": ((8, 0), "left", "center"), "left": ((-8, 0), "right", "center"),
          "above": ((0, 8), "center", "bottom"), "below": ((0, -8), "center", "top")}


def _colours(groups, colours):
    palette = plt.get_cmap("tab10").colors
    order = list(dict.fromkeys(groups))
    colours = dict(colours or {})
    for i, g in enumerate(order):
        colours.setdefault(g, palette[i % len(palette)])
    return colours


def by_year(entries, *, ylabel, title, reference=None, colours=None, fmt="{:g}%", ax=None):
    """Scatter cited results by year, each point labelled with its name and value.

    entries: (year, name, value, group[, side]) tuples; a group shares a colour (colours maps a
    group to a colour; the others come from tab10) and appears once in the legend; side is where
    the label goes ("right" by default, or "left", "above", "below"), for points that crowd.
    reference: optional (value, label), a dashed horizontal line (e.g. human error).
    """
    if not entries:
        raise ValueError("by_year needs at least one (year, name, value, group) entry")
    rows = [tuple(e) + ("right",) * (5 - len(e)) for e in entries]
    for r in rows:
        if len(r) != 5 or r[4] not in _SIDES:
            raise ValueError(f"bad entry {r[:5]}: need (year, name, value, group[, side in {sorted(_SIDES)}])")
    colours = _colours([r[3] for r in rows], colours)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.6))
    seen = set()
    for year, name, value, group, side in rows:
        ax.scatter([year], [value], color=colours[group], s=60, zorder=3,
                   label=None if group in seen else group)
        seen.add(group)
        offset, ha, va = _SIDES[side]
        ax.annotate(f"{name}\n{fmt.format(value)}", (year, value), textcoords="offset points",
                    xytext=offset, ha=ha, va=va, fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
    if reference is not None:
        value, label = reference
        ax.axhline(value, ls="--", color="tab:red", label=label)
    years = np.array([r[0] for r in rows], dtype=float)
    values = np.array([r[2] for r in rows], dtype=float)
    ax.set_xlim(years.min() - 0.8, years.max() + 1.2)  # room for labels on both sides
    below = any(r[4] == "below" for r in rows)  # labels under the lowest points need room under 0
    ax.set_ylim(-0.12 * values.max() if below else 0, values.max() * 1.18)
    ax.set_xticks(np.arange(int(years.min()), int(years.max()) + 1))
    ax.set_xlabel("year")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    return ax.figure


def timeline(events, *, title, colours=None, levels=4, ax=None):
    """A horizontal time axis with one labelled stem per event, stems staggered over `levels`
    heights above and below the axis so that neighbouring labels do not collide.

    events: (year, text, group) tuples, drawn in year order; a group shares a colour and a
    legend entry (colours maps a group to a colour; the others come from tab10).
    """
    if not events:
        raise ValueError("timeline needs at least one (year, text, group) event")
    if levels < 1:
        raise ValueError("levels must be at least 1")
    events = sorted(events, key=lambda e: e[0])
    colours = _colours([e[2] for e in events], colours)
    if ax is None:
        _, ax = plt.subplots(figsize=(13, 5.2))
    heights = [(1 + (i // 2) % levels) * (1 if i % 2 == 0 else -1) for i in range(len(events))]
    seen = set()
    for (year, text, group), h in zip(events, heights):
        c = colours[group]
        ax.vlines(year, 0, h, color=c, lw=1)
        ax.scatter([year], [0], color=c, s=30, zorder=3, label=None if group in seen else group)
        seen.add(group)
        ax.text(year, h, f"{year}: {text}", ha="center", va="bottom" if h > 0 else "top", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": c, "pad": 2, "alpha": 0.95})
    years = np.array([e[0] for e in events], dtype=float)
    span = max(years.max() - years.min(), 1.0)
    ax.axhline(0, color="k", lw=1)
    ax.set_xlim(years.min() - 0.08 * span, years.max() + 0.08 * span)
    ax.set_ylim(-levels - 1, levels + 1)
    ax.set_yticks([])
    ax.set_xlabel("year")
    ax.set_ylabel("events")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, ncol=len(seen))
    return ax.figure
