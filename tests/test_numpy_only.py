"""The numpy-only tripwire used by the A2 and A4 tests: honest numpy passes, any torch or scipy use fails."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.numpy_only import check_numpy_only


def relu_numpy(x):
    return np.maximum(x, 0), {"x": x}


def relu_torch_inside(x):
    import torch

    return torch.relu(torch.from_numpy(x)).numpy(), None


def tanh_tensor_method(x):
    import torch

    return torch.tensor(x).tanh().numpy()


def softmax_scipy(x):
    from scipy.special import softmax

    return softmax(x, axis=1)


class ArrayLike:  # converts to numpy, but is not a numpy array (as a tensor made before the call)
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


def returns_array_like(x):
    return ArrayLike()


def test_numpy_layer_passes_and_returns_its_value():
    x = np.array([[-1.0, 2.0]])
    out, cache = check_numpy_only(relu_numpy, x)
    assert out.tolist() == [[0.0, 2.0]] and cache["x"] is x


@pytest.mark.parametrize("fn", [relu_torch_inside, tanh_tensor_method, softmax_scipy])
def test_torch_or_scipy_inside_fails_with_a_clear_message(fn):
    with pytest.raises(AssertionError, match="numpy only"):
        check_numpy_only(fn, np.ones((2, 3)))


def test_non_numpy_result_fails():
    with pytest.raises(AssertionError, match="return numpy arrays"):
        check_numpy_only(returns_array_like, np.ones(3))
