"""Probes per assignment folder: the graded functions the grader re-checks in its own process.

One module per assignment folder (`a1_classification.py`, ...) with a list `PROBES` of
`assignments.pipeline.integrity.Probe`; the grader loads `probes/<folder>.py` from beside the
source folder. References are computed here, outside the student's kernel, with independent
tools (torch autograd, plain numpy); this folder is never released to students. This module
holds the small torch helpers and probe builders the probe files share.
"""

from __future__ import annotations

import numpy as np

from assignments.pipeline.integrity import Probe


def autograd(fn, *arrays):
    """A scalar loss fn(*tensors) in float64 torch: (its value, its gradient wrt every input)."""
    import torch

    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward()
    return out.detach().numpy(), tuple(t.grad.numpy() for t in tensors)


def vjp(fn, inputs, upstream):
    """out = fn(*inputs) and the gradients of (out * upstream).sum() wrt every input (float64 torch)."""
    import torch

    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out = fn(*tensors)
    (out * torch.tensor(np.asarray(upstream, dtype=np.float64))).sum().backward()
    return out.detach().numpy(), tuple(t.grad.numpy() for t in tensors)


def normal(**shapes):
    """Probe inputs: one standard-normal array per named shape."""
    return lambda rng: {k: rng.standard_normal(s) for k, s in shapes.items()}


def layer(name, notebook, tests, inputs, forward, backward, fn, args, tol=1e-6):
    """Two probes: `forward` (code giving out, cache) and `backward` (code using dout and cache),
    against fn(*tensors) and its vector-Jacobian product with I["dout"] over `args`."""
    fwd = Probe(f"{name}_forward", notebook, tests[:1], inputs, f"O = ({forward})[0]",
                lambda I: vjp(fn, [I[a] for a in args], I["dout"])[0], tol)
    bwd = Probe(f"{name}_backward", notebook, tests[1:] or tests, inputs,
                f"_, cache = {forward}\nO = {backward}",
                lambda I: vjp(fn, [I[a] for a in args], I["dout"])[1], tol)
    return [fwd, bwd]
