"""Probes per assignment folder: the graded functions the grader re-checks in its own process.

One module per assignment folder (`a1_classification.py`, ...) with a list `PROBES` of
`assignments.pipeline.integrity.Probe`; the grader loads `probes/<folder>.py` from beside the
source folder. References are computed here, outside the student's kernel, with independent
tools (torch autograd, plain numpy); this folder is never released to students. This module
holds the small torch helpers the probe files share.
"""

from __future__ import annotations

import numpy as np


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
