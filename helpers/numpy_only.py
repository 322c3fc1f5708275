"""Tripwire for the numpy assignments: run a student's layer and fail if it reached for torch or scipy.

A2 and A4 ask for forward and backward passes written in numpy; a layer that quietly calls
torch (or scipy) would pass every value check. `check_numpy_only` watches three ways torch can
be reached while the function runs: torch functions and tensor methods (TorchFunctionMode), the
operators underneath, autograd included (TorchDispatchMode), and any Python or C function of the
torch or scipy packages (a profiler hook). It also rejects results that are not numpy arrays.
A test utility, not an answer: it says nothing about how to write a layer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_numpy_only"]


def check_numpy_only(fn, *args, **kwargs):
    """Return fn(*args, **kwargs); fail if fn calls torch or scipy or returns a non-numpy array.

    The tests of the numpy assignments run every graded layer through this check: they must be
    numpy only, so that students write every forward and backward pass themselves.
    """
    import sys

    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    calls = []

    class TorchFunctions(TorchFunctionMode):  # sees torch.* functions and tensor methods
        def __torch_function__(self, func, types, args=(), kwargs=None):
            calls.append(f"torch function {getattr(func, '__qualname__', func)}")
            return func(*args, **(kwargs or {}))

    class TorchOps(TorchDispatchMode):  # sees the operators underneath, autograd included
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            calls.append(f"torch operator {func}")
            return func(*args, **(kwargs or {}))

    def profile(frame, event, arg):  # sees Python and C functions of torch and scipy
        if event == "call":
            module, name = frame.f_globals.get("__name__") or "", frame.f_code.co_name
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__
            name = getattr(arg, "__name__", "?")
        else:
            return
        if module.split(".")[0] in ("torch", "scipy"):
            calls.append(f"{module}.{name}")

    with TorchFunctions(), TorchOps():
        previous = sys.getprofile()
        sys.setprofile(profile)
        try:
            result = fn(*args, **kwargs)
        finally:
            sys.setprofile(previous)
    name = getattr(fn, "__qualname__", repr(fn))
    assert not calls, f"{name} called {calls[0]}: write it with numpy only (no torch, no scipy)"

    def not_numpy(value, depth=0):
        if isinstance(value, np.ndarray | np.generic):
            return None
        if isinstance(value, tuple | list) and depth < 3:
            return next((bad for v in value if (bad := not_numpy(v, depth + 1))), None)
        if isinstance(value, dict) and depth < 3:
            return next((bad for v in value.values() if (bad := not_numpy(v, depth + 1))), None)
        if hasattr(value, "__array__") or hasattr(value, "__dlpack__"):
            return type(value).__module__ + "." + type(value).__name__
        return None

    bad = not_numpy(result)
    assert bad is None, f"{name} returned a {bad}; return numpy arrays"
    return result
