"""Interactive controls that also leave a plain figure behind.

    H.widgets.explore(draw, lr=H.widgets.slider(1e-4, 1.0, 0.1, log=True), method=H.widgets.choice(["sgd", "adam"]))

`explore` first calls draw(**defaults) and shows that figure as an ordinary output, so readers
of the HTML, nbviewer or GitHub see it; then it shows the controls, and moving one redraws
below them. Under COURSE_CHECK_WIDGETS=1 (set by `make test`), it also calls draw at both ends
of every control's range (the others at their defaults), so a control that breaks at an
extreme fails the build. Used in: lectures 01-18.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np


@dataclass(frozen=True)
class Control:
    default: object
    ends: tuple  # the values `make test` tries
    kind: str  # "slider", "log", "int", "choice"
    options: tuple = field(default=())
    step: float | None = None

    def widget(self, name: str):
        import ipywidgets as w

        style = {"description_width": "initial"}
        common = {"description": name, "continuous_update": False, "style": style}
        if self.kind == "choice":
            return w.Dropdown(options=list(self.options), value=self.default, description=name, style=style)
        if self.kind == "int":
            return w.IntSlider(value=self.default, min=self.ends[0], max=self.ends[1], step=self.step or 1, **common)
        if self.kind == "log":
            lo, hi = np.log10(self.ends[0]), np.log10(self.ends[1])
            return w.FloatLogSlider(value=self.default, base=10, min=lo, max=hi, step=(hi - lo) / 50, **common)
        step = self.step or (self.ends[1] - self.ends[0]) / 100
        return w.FloatSlider(value=self.default, min=self.ends[0], max=self.ends[1], step=step, **common)


def slider(low, high, default, step=None, log: bool = False) -> Control:
    """A number between low and high (log-spaced if log=True); integers give an integer slider."""
    if not low <= default <= high:
        raise ValueError(f"default {default} is outside [{low}, {high}]")
    is_int = all(isinstance(v, (int, np.integer)) for v in (low, high, default)) and not log
    return Control(default, (low, high), "log" if log else "int" if is_int else "slider", step=step)


def choice(options, default=None) -> Control:
    options = tuple(options)
    default = options[0] if default is None else default
    if default not in options:
        raise ValueError(f"default {default!r} is not one of {options}")
    return Control(default, (options[0], options[-1]) if len(options) > 1 else options, "choice", options)


def _show(draw, kwargs) -> None:
    draw(**kwargs)
    plt.show()


def extremes(controls: dict) -> list[dict]:
    """Every control at each end of its range, the others at their defaults."""
    defaults = {k: c.default for k, c in controls.items()}
    out = []
    for name, c in controls.items():
        values = c.options if c.kind == "choice" else c.ends
        out += [{**defaults, name: v} for v in values]
    return out


def explore(draw, **controls: Control) -> None:
    """Static figure at the defaults, then live controls (see the module docstring)."""
    defaults = {k: c.default for k, c in controls.items()}
    _show(draw, defaults)
    if os.environ.get("COURSE_CHECK_WIDGETS") == "1":
        for kwargs in extremes(controls):
            draw(**kwargs)
            plt.close("all")
        print(f"(checked {draw.__name__} at both ends of {len(controls)} control(s))")
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError:  # plain Python: the static figure is all there is
        return
    boxes = {name: c.widget(name) for name, c in controls.items()}
    out = w.Output()

    def redraw(_change=None):
        with out:
            out.clear_output(wait=True)
            _show(draw, {name: b.value for name, b in boxes.items()})

    for b in boxes.values():
        b.observe(redraw, names="value")
    display(w.VBox([w.HTML("<i>Move a control to redraw the figure above with new settings:</i>"),
                    *boxes.values(), out]))
