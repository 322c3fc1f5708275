"""Numerical gradients by centered finite differences, to check hand-written backward passes.

Same names and behaviour as the CS231n `gradient_check.py` students know. Centered differences
(f(x+h) - f(x-h)) / 2h have error O(h^2) instead of O(h) for one-sided ones, and in float64
with h = 1e-5 agree with a correct analytic gradient to ~1e-8 relative error. In float32 the
rounding error (~1e-7 / h) swamps the signal, hence the insistence on float64.

x is perturbed in place (so f can close over it, as in CS231n) and always restored.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["eval_numerical_gradient", "eval_numerical_gradient_array", "rel_error",
           "grad_check_sparse"]


def _check_input(x) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"gradient checks perturb a numpy array in place; got {type(x).__name__}. Pass a "
            f"float64 numpy array (for torch code use torch.autograd.gradcheck).")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"x has dtype {x.dtype}; finite differences need a floating-point array. "
            f"Use float64: x = x.astype(np.float64).")
    if x.dtype != np.float64:
        warnings.warn(f"x has dtype {x.dtype}: numerical gradients are unreliable below float64; "
                      f"use x.astype(np.float64).", stacklevel=3)


def _nudged(f, x, ix, h, read=float):
    """f at x with x[ix] moved by +h and by -h, read out immediately; x[ix] is always restored."""
    old = x[ix]
    try:
        x[ix] = old + h
        plus = read(f(x))
        x[ix] = old - h
        minus = read(f(x))
    finally:
        x[ix] = old  # restore even if f raises
    return plus, minus


def eval_numerical_gradient(f, x, verbose=False, h=1e-5):
    """Gradient of a scalar function f at x, one coordinate at a time: (f(x+h) - f(x-h)) / 2h."""
    _check_input(x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        fxph, fxmh = _nudged(f, x, ix, h)
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient through an array-valued f: dL/dx where L = sum(f(x) * df) and df = dL/df(x).

    This is how a layer's backward is checked: df plays the upstream gradient `dout`.
    """
    _check_input(x)
    grad = np.zeros_like(x)
    copy = lambda out: np.array(out, dtype=np.float64)  # copy: f may return a view of x
    for ix in np.ndindex(x.shape):
        pos, neg = _nudged(f, x, ix, h, read=copy)
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(x, y):
    """Largest elementwise relative error max |x - y| / max(1e-8, |x| + |y|).

    Rule of thumb in float64: < 1e-7 is right, ~1e-4 is suspicious, > 1e-2 is a bug
    (kinks such as ReLU at 0 can raise it legitimately).
    """
    x, y = (np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
            for a in (x, y))
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=0, verbose=True):
    """Compare analytic_grad with centered differences at `num_checks` random coordinates.

    Cheaper than a full numerical gradient when x is large (e.g. a 3072 x 10 weight matrix).
    Returns the relative errors; prints one line per check when verbose. Uses its own random
    generator, so it does not disturb the global numpy seed.
    """
    _check_input(x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {analytic_grad.shape} but x has {x.shape}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        fxph, fxmh = _nudged(f, x, ix, h)
        numerical = (fxph - fxmh) / (2 * h)
        analytic = float(analytic_grad[ix])
        err = abs(numerical - analytic) / max(1e-8, abs(numerical) + abs(analytic))
        errors.append(err)
        if verbose:
            print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {err:e}")
    return np.array(errors)
