"""Shared code for the lectures and assignments of the course.

    import helpers as H
    H.config.fast(); X_train, y_train, X_test, y_test = H.data.load_cifar10()

Submodules load on first use, so `import helpers` stays cheap (torch is imported only by the
modules that need it). Nothing here answers a graded question: solutions live only in the
nbgrader source notebooks.
"""

import importlib

__all__ = ["config", "runtime", "data", "shapes", "cifar", "plot", "gradcheck", "solver", "timing", "toy"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
