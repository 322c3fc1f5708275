"""A3 probes: every Triton op wrapper, forward and backward, against float64 torch autograd.

The calls run in the student's kernel (under the Triton interpreter on a CPU), on small fp32
inputs; the references are float64 torch computed in the grader's process.
"""

from __future__ import annotations

from assignments.pipeline.integrity import Probe
from assignments.probes import normal, vjp

NB = "triton_convnet.ipynb"
TOL = 1e-4  # fp32 kernels against float64 references, relative to the largest value


def call(expr: str, names: tuple[str, ...], grads: bool = True) -> str:
    """Kernel-side code: inputs as fp32 tensors, y = expr, then y.backward(dout) if grads."""
    lines = ["import torch"]
    lines += [f"{n} = torch.tensor(I[{n!r}], dtype=torch.float32, requires_grad={grads})" for n in names]
    lines.append(f"y = {expr}")
    if not grads:
        return "\n".join(lines + ["O = y"])
    lines.append("y.backward(torch.tensor(I['dout'], dtype=torch.float32))")
    return "\n".join(lines + ["O = (y, " + ", ".join(f"{n}.grad" for n in names) + ")"])


def reference(fn, names: tuple[str, ...]):
    def ref(I):
        out, grads = vjp(fn, [I[n] for n in names], I["dout"])
        return (out, *grads)
    return ref


def _F():
    import torch.nn.functional as F

    return F


PROBES = [
    Probe("add", NB, ("test_add",), normal(x=(3, 700), y=(3, 700)), call("add(x, y)", ("x", "y"), grads=False),
          lambda I: I["x"] + I["y"], TOL),
    Probe("bias_relu_4d", NB, ("test_bias_relu_forward", "test_bias_relu_backward"),
          normal(x=(5, 3, 4, 6), b=(3,), dout=(5, 3, 4, 6)), call("bias_relu(x, b)", ("x", "b")),
          reference(lambda x, b: (x + b[None, :, None, None]).clamp(min=0), ("x", "b")), TOL),
    Probe("bias_relu_2d", NB, ("test_bias_relu_forward", "test_bias_relu_backward"),
          normal(x=(300, 7), b=(7,), dout=(300, 7)), call("bias_relu(x, b)", ("x", "b")),
          reference(lambda x, b: (x + b).clamp(min=0), ("x", "b")), TOL),
    Probe("softmax", NB, ("test_softmax_forward", "test_softmax_backward"),
          lambda rng: {"x": 3 * rng.standard_normal((7, 19)), "dout": rng.standard_normal((7, 19))},
          call("softmax(x)", ("x",)), reference(lambda x: x.softmax(dim=1), ("x",)), TOL),
    Probe("matmul", NB, ("test_matmul_fp32", "test_matmul_backward"),
          normal(a=(33, 20), b=(20, 17), dout=(33, 17)), call("matmul(a, b)", ("a", "b")),
          reference(lambda a, b: a @ b, ("a", "b")), TOL),
    Probe("max_pool2d", NB, ("test_max_pool2d_forward", "test_max_pool2d_backward"),
          normal(x=(2, 3, 7, 9), dout=(2, 3, 3, 4)), call("max_pool2d(x, 3, 2)", ("x",)),
          reference(lambda x: _F().max_pool2d(x, 3, stride=2), ("x",)), TOL),
    Probe("conv2d", NB, ("test_conv2d_forward", "test_conv2d_backward"),
          normal(x=(2, 3, 9, 7), w=(4, 3, 3, 3), b=(4,), dout=(2, 4, 5, 4)),
          call("conv2d(x, w, b, stride=2, padding=1)", ("x", "w", "b")),
          reference(lambda x, w, b: _F().conv2d(x, w, b, stride=2, padding=1), ("x", "w", "b")), TOL),
]
