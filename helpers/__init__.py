"""Shared code for the lectures and assignments of the course.

    import helpers as H
    H.config.fast(); X_train, y_train, X_test, y_test = H.data.load_cifar10()

Submodules load on first use, so `import helpers` stays cheap (torch is imported only by the
modules that need it). Nothing here answers a graded question: solutions live only in the
nbgrader source notebooks.
"""

import importlib
from pathlib import Path

# Every module file in this folder is a submodule: a lecture's new helper module needs no edit here.
__all__ = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))
# shortcuts used at the top of every lecture: `device = H.setup(seed=0)`, `H.claim(...)`
_SHORTCUTS = {"setup": ("runtime", "setup"), "claim": ("claims", "claim")}


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _SHORTCUTS:
        module, attr = _SHORTCUTS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
