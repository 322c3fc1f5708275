"""A2 probes: the numpy layers (fully connected, normalisation, conv and pool, naive and fast)."""

from __future__ import annotations

from assignments.pipeline.integrity import Probe
from assignments.probes import autograd, layer, vjp

FC, CONV = "FullyConnectedNets.ipynb", "ConvolutionalNetworks.ipynb"


def _torch():
    import torch
    import torch.nn.functional as F

    return torch, F


def _affine(rng):
    return {"x": rng.standard_normal((4, 3, 2)), "w": rng.standard_normal((6, 5)),
            "b": rng.standard_normal(5), "dout": rng.standard_normal((4, 5))}


def _norm(shape, dout_shape=None):
    def make(rng):
        C = shape[1]
        return {"x": 3 * rng.standard_normal(shape) + 2, "gamma": rng.standard_normal(C),
                "beta": rng.standard_normal(C), "dout": rng.standard_normal(dout_shape or shape)}
    return make


def _batchnorm(x, gamma, beta):
    _, F = _torch()
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)


def _layernorm(x, gamma, beta):
    _, F = _torch()
    return F.layer_norm(x, x.shape[1:], gamma, beta, eps=1e-5)


def _groupnorm(x, gamma, beta):
    _, F = _torch()
    return F.group_norm(x, 2, gamma, beta, eps=1e-5)


def _conv_inputs(rng):
    return {"x": rng.standard_normal((2, 3, 9, 7)), "w": rng.standard_normal((4, 3, 3, 3)),
            "b": rng.standard_normal(4), "dout": rng.standard_normal((2, 4, 5, 4))}


def _conv(x, w, b):  # stride 2, pad 1: (9 + 2 - 3) / 2 + 1 = 5 rows, (7 + 2 - 3) / 2 + 1 = 4 columns
    _, F = _torch()
    return F.conv2d(x, w, b, stride=2, padding=1)


def _pool_inputs(rng):
    return {"x": rng.standard_normal((2, 3, 7, 9)), "dout": rng.standard_normal((2, 3, 3, 4))}


def _pool(x):  # 3x3 windows, stride 2 (overlapping): (7 - 3) / 2 + 1 = 3, (9 - 3) / 2 + 1 = 4
    _, F = _torch()
    return F.max_pool2d(x, 3, stride=2)


def _loss(kind):
    def reference(I):
        torch, F = _torch()
        y = torch.tensor(I["y"])
        if kind == "softmax":
            return autograd(lambda x: F.cross_entropy(x, y), I["x"])
        return autograd(lambda x: F.multi_margin_loss(x, y) * x.shape[1], I["x"])
    return lambda I: (lambda v: (v[0], *v[1]))(reference(I))


CONV_PARAM = "{'stride': 2, 'pad': 1}"
POOL_PARAM = "{'pool_height': 3, 'pool_width': 3, 'stride': 2}"
BN = "{'mode': 'train', 'eps': 1e-5}"
PROBES = [
    *layer("affine", FC, ("test_affine_forward", "test_affine_backward"), _affine,
           "affine_forward(I['x'], I['w'], I['b'])", "affine_backward(I['dout'], cache)",
           lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b, ("x", "w", "b")),
    *layer("relu", FC, ("test_relu",), lambda rng: {"x": rng.standard_normal((5, 4)),
                                                    "dout": rng.standard_normal((5, 4))},
           "relu_forward(I['x'])", "relu_backward(I['dout'], cache)", lambda x: x.clamp(min=0), ("x",)),
    Probe("softmax_loss", FC, ("test_softmax_loss",),
          lambda rng: {"x": 3 * rng.standard_normal((7, 5)), "y": rng.integers(0, 5, size=7)},
          "O = softmax_loss(I['x'], I['y'])", _loss("softmax")),
    Probe("svm_loss", FC, ("test_svm_loss",),
          lambda rng: {"x": 3 * rng.standard_normal((7, 5)), "y": rng.integers(0, 5, size=7)},
          "O = svm_loss(I['x'], I['y'])", _loss("svm")),
    *layer("batchnorm", FC, ("test_batchnorm_forward", "test_batchnorm_backward"), _norm((8, 5)),
           f"batchnorm_forward(I['x'], I['gamma'], I['beta'], {BN})", "batchnorm_backward(I['dout'], cache)",
           _batchnorm, ("x", "gamma", "beta")),
    Probe("batchnorm_backward_alt", FC, ("test_batchnorm_backward_alt",), _norm((8, 5)),
          f"_, cache = batchnorm_forward(I['x'], I['gamma'], I['beta'], {BN})\n"
          "O = batchnorm_backward_alt(I['dout'], cache)",
          lambda I: vjp(_batchnorm, [I["x"], I["gamma"], I["beta"]], I["dout"])[1]),
    *layer("layernorm", FC, ("test_layernorm",), _norm((6, 7)),
           "layernorm_forward(I['x'], I['gamma'], I['beta'], {'eps': 1e-5})",
           "layernorm_backward(I['dout'], cache)", _layernorm, ("x", "gamma", "beta")),
    *layer("conv_naive", CONV, ("test_conv_forward_naive", "test_conv_backward_naive"), _conv_inputs,
           f"conv_forward_naive(I['x'], I['w'], I['b'], {CONV_PARAM})", "conv_backward_naive(I['dout'], cache)",
           _conv, ("x", "w", "b")),
    *layer("conv_fast", CONV, ("test_conv_fast",), _conv_inputs,
           f"conv_forward_fast(I['x'], I['w'], I['b'], {CONV_PARAM})", "conv_backward_fast(I['dout'], cache)",
           _conv, ("x", "w", "b")),
    *layer("pool_naive", CONV, ("test_max_pool_naive",), _pool_inputs,
           f"max_pool_forward_naive(I['x'], {POOL_PARAM})", "max_pool_backward_naive(I['dout'], cache)",
           _pool, ("x",)),
    *layer("pool_fast", CONV, ("test_pool_fast",), _pool_inputs,
           f"max_pool_forward_fast(I['x'], {POOL_PARAM})", "max_pool_backward_fast(I['dout'], cache)",
           _pool, ("x",)),
    *layer("spatial_batchnorm", CONV, ("test_spatial_batchnorm",), _norm((3, 4, 5, 2)),
           f"spatial_batchnorm_forward(I['x'], I['gamma'], I['beta'], {BN})",
           "spatial_batchnorm_backward(I['dout'], cache)", _batchnorm, ("x", "gamma", "beta")),
    *layer("spatial_groupnorm", CONV, ("test_spatial_groupnorm",), _norm((3, 4, 5, 2)),
           "spatial_groupnorm_forward(I['x'], I['gamma'], I['beta'], 2, {'eps': 1e-5})",
           "spatial_groupnorm_backward(I['dout'], cache)", _groupnorm, ("x", "gamma", "beta")),
]
