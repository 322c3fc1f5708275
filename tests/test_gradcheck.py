"""helpers.gradcheck against analytic gradients and torch autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from helpers.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)

# Pairs of the same function in numpy and torch, so autograd is the independent oracle.
OPS = {
    "tanh": (np.tanh, torch.tanh),
    "sin": (np.sin, torch.sin),
    "square": (np.square, torch.square),
    "softplus": (lambda a: np.log1p(np.exp(a)), torch.nn.functional.softplus),
}


def test_analytic_gradient_of_quadratic():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    f = lambda v: v @ A @ v
    grad = eval_numerical_gradient(f, x)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_array_gradient_of_affine_layer():
    rng = np.random.default_rng(1)
    x, w, dout = rng.normal(size=(3, 5)), rng.normal(size=(5, 2)), rng.normal(size=(3, 2))
    dx = eval_numerical_gradient_array(lambda v: v @ w, x, dout)
    dw = eval_numerical_gradient_array(lambda v: x @ v, w, dout)
    assert rel_error(dx, dout @ w.T) < 1e-8
    assert rel_error(dw, x.T @ dout) < 1e-8


def test_array_gradient_when_f_returns_a_view_of_x():
    x = np.random.default_rng(2).normal(size=(2, 3))
    dout = np.ones_like(x)
    assert rel_error(eval_numerical_gradient_array(lambda v: v, x, dout), dout) < 1e-8


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_matches_torch_autograd(shape, op, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    c = rng.normal(size=shape)
    np_op, torch_op = OPS[op]
    xt = torch.tensor(x, requires_grad=True)
    (torch_op(xt) * torch.tensor(c)).sum().backward()
    expected = xt.grad.numpy()

    x_before = x.copy()
    num = eval_numerical_gradient(lambda v: np.sum(np_op(v) * c), x)
    assert np.array_equal(x, x_before)  # x restored exactly
    assert np.allclose(num, expected, rtol=1e-5, atol=1e-7)

    dout = rng.normal(size=shape)
    xt.grad = None
    (torch_op(xt) * torch.tensor(dout)).sum().backward()
    num_arr = eval_numerical_gradient_array(np_op, x, dout)
    assert np.array_equal(x, x_before)
    assert np.allclose(num_arr, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_x_restored_even_when_f_raises():
    x = np.arange(4.0)

    def f(v):
        if v[0] != 0:
            raise RuntimeError("boom")
        return v.sum()

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(f, x)
    assert np.array_equal(x, np.arange(4.0))


@pytest.mark.parametrize("fn", [
    lambda x: eval_numerical_gradient(np.sum, x),
    lambda x: eval_numerical_gradient_array(lambda v: v, x, np.ones(x.shape)),
    lambda x: grad_check_sparse(np.sum, x, np.ones(x.shape), verbose=False),
])
def test_integer_input_rejected_with_float64_hint(fn):
    with pytest.raises(TypeError, match="float64"):
        fn(np.arange(6).reshape(2, 3))


def test_non_array_rejected_and_float32_warns():
    with pytest.raises(TypeError, match="numpy"):
        eval_numerical_gradient(lambda v: v.sum(), [1.0, 2.0])
    with pytest.warns(UserWarning, match="float64"):
        eval_numerical_gradient(np.sum, np.ones(3, np.float32))


def test_verbose_prints_each_coordinate(capsys):
    eval_numerical_gradient(np.sum, np.zeros(3), verbose=True)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0
    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) == pytest.approx(1e-4)
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(torch.ones(2, requires_grad=True), np.ones(2)) == 0


def test_grad_check_sparse(capsys):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(6, 4))
    X = rng.normal(size=(5, 6))
    f = lambda w: np.sum(np.tanh(X @ w))
    analytic = X.T @ (1 - np.tanh(X @ W) ** 2)
    W_before = W.copy()
    state = np.random.get_state()[1].copy()

    errs = grad_check_sparse(f, W, analytic, num_checks=7)
    assert errs.shape == (7,) and errs.max() < 1e-7
    assert np.array_equal(W, W_before)
    assert np.array_equal(np.random.get_state()[1], state)  # global RNG untouched
    assert len(capsys.readouterr().out.strip().splitlines()) == 7
    np.testing.assert_array_equal(errs, grad_check_sparse(f, W, analytic, num_checks=7,
                                                          verbose=False))
    assert capsys.readouterr().out == ""

    wrong = analytic.copy()
    wrong *= 1.5
    assert grad_check_sparse(f, W, wrong, verbose=False).min() > 0.1
    with pytest.raises(ValueError, match="shape"):
        grad_check_sparse(f, W, analytic.T, verbose=False)
