"""A1 probes: kNN distances and voting, SVM and softmax losses, the two-layer net's layers."""

from __future__ import annotations

import numpy as np

from assignments.pipeline.integrity import Probe
from assignments.probes import autograd, vjp


def _distances(rng):
    # real-valued, with an exact duplicate row: catches unclipped square roots as well
    X_train = rng.standard_normal((11, 6)) * 3 + 50
    X_test = np.vstack([rng.standard_normal((4, 6)) * 3 + 50, X_train[2:3]])
    return {"X_test": X_test, "X_train": X_train}


def _ref_distances(I):
    diff = I["X_test"][:, None, :] - I["X_train"][None, :, :]
    return np.sqrt((diff * diff).sum(axis=2))


def _votes(rng):
    dists = rng.integers(0, 4, size=(6, 40)).astype(float)  # many ties
    return {"dists": dists, "y": rng.integers(0, 5, size=40), "k": np.array(7)}


def _ref_votes(I):
    out = []
    for row in I["dists"]:
        nearest = I["y"][np.argsort(row, kind="stable")[: int(I["k"])]]
        counts = np.bincount(nearest, minlength=5)
        out.append(int(np.flatnonzero(counts == counts.max())[0]))  # smallest label wins a tie
    return np.array(out)


def _linear(rng):
    return {"W": rng.standard_normal((7, 4)) * 0.1, "X": rng.standard_normal((9, 7)),
            "y": rng.integers(0, 4, size=9), "reg": np.array(0.3)}


def _svm(I):
    import torch

    y = torch.tensor(I["y"])

    def loss(W):
        scores = torch.tensor(I["X"]) @ W
        margins = torch.clamp(scores - scores[torch.arange(len(y)), y][:, None] + 1, min=0)
        margins = margins * (1 - torch.nn.functional.one_hot(y, W.shape[1]).double())
        return margins.sum() / len(y) + float(I["reg"]) * (W * W).sum()

    value, (dW,) = autograd(loss, I["W"])
    return value, dW


def _softmax(I):
    import torch

    def loss(W):
        scores = torch.tensor(I["X"]) @ W
        return torch.nn.functional.cross_entropy(scores, torch.tensor(I["y"])) + float(I["reg"]) * (W * W).sum()

    value, (dW,) = autograd(loss, I["W"])
    return value, dW


def _cross_entropy(I):
    import torch

    value, (dx,) = autograd(lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(I["y"])), I["x"])
    return value, dx


def _affine(rng):
    return {"x": rng.standard_normal((4, 2, 3)), "w": rng.standard_normal((6, 5)),
            "b": rng.standard_normal(5), "dout": rng.standard_normal((4, 5))}


def _affine_fn(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def _two_layer(rng):
    return {"X": rng.standard_normal((5, 6)), "y": rng.integers(0, 3, size=5), "reg": np.array(0.7),
            "W1": rng.standard_normal((6, 4)) * 0.5, "b1": rng.standard_normal(4) * 0.1,
            "W2": rng.standard_normal((4, 3)) * 0.5, "b2": rng.standard_normal(3) * 0.1}


def _ref_two_layer(I):
    import torch

    def loss(W1, b1, W2, b2):
        scores = torch.relu(torch.tensor(I["X"]) @ W1 + b1) @ W2 + b2
        data = torch.nn.functional.cross_entropy(scores, torch.tensor(I["y"]))
        return data + 0.5 * float(I["reg"]) * ((W1 * W1).sum() + (W2 * W2).sum())

    value, grads = autograd(loss, I["W1"], I["b1"], I["W2"], I["b2"])
    return (value, *grads)


LINEAR = "O = {fn}(I['W'], I['X'], I['y'], float(I['reg']))"
PROBES = [
    Probe("compute_distances_two_loops", "knn.ipynb", ("test_two_loops",), _distances,
          "O = compute_distances_two_loops(I['X_test'], I['X_train'])", _ref_distances),
    Probe("compute_distances_one_loop", "knn.ipynb", ("test_one_loop",), _distances,
          "O = compute_distances_one_loop(I['X_test'], I['X_train'])", _ref_distances),
    Probe("compute_distances_no_loops", "knn.ipynb", ("test_no_loops",), _distances,
          "O = compute_distances_no_loops(I['X_test'], I['X_train'])", _ref_distances),
    Probe("predict_labels", "knn.ipynb", ("test_predict_labels",), _votes,
          "O = predict_labels(I['dists'], I['y'], k=int(I['k']))", _ref_votes, tol=0.0),
    Probe("svm_loss_naive", "linear_classifiers.ipynb", ("test_svm_naive",), _linear,
          LINEAR.format(fn="svm_loss_naive"), _svm),
    Probe("svm_loss_vectorized", "linear_classifiers.ipynb", ("test_svm_vectorized",), _linear,
          LINEAR.format(fn="svm_loss_vectorized"), _svm),
    Probe("softmax_loss_naive", "linear_classifiers.ipynb", ("test_softmax_naive",), _linear,
          LINEAR.format(fn="softmax_loss_naive"), _softmax),
    Probe("softmax_loss_vectorized", "linear_classifiers.ipynb", ("test_softmax_vectorized",), _linear,
          LINEAR.format(fn="softmax_loss_vectorized"), _softmax),
    Probe("linear_predict", "linear_classifiers.ipynb", ("test_linear_classifier",), _linear,
          "m = LinearSVM()\nm.W = I['W']\nO = m.predict(I['X'])",
          lambda I: np.argmax(I["X"] @ I["W"], axis=1), tol=0.0),
    Probe("affine_forward", "two_layer_net.ipynb", ("test_affine_forward",), _affine,
          "O = affine_forward(I['x'], I['w'], I['b'])[0]",
          lambda I: _affine_fn(I["x"], I["w"], I["b"])),
    Probe("affine_backward", "two_layer_net.ipynb", ("test_affine_backward",), _affine,
          "_, c = affine_forward(I['x'], I['w'], I['b'])\nO = affine_backward(I['dout'], c)",
          lambda I: vjp(_affine_fn, (I["x"], I["w"], I["b"]), I["dout"])[1]),
    Probe("relu", "two_layer_net.ipynb", ("test_relu",), lambda rng: {"x": rng.standard_normal((4, 5)),
                                                                      "dout": rng.standard_normal((4, 5))},
          "out, c = relu_forward(I['x'])\nO = (out, relu_backward(I['dout'], c))",
          lambda I: (np.maximum(I["x"], 0), I["dout"] * (I["x"] > 0))),
    Probe("softmax_loss", "two_layer_net.ipynb", ("test_softmax_loss",),
          lambda rng: {"x": rng.standard_normal((6, 4)) * 3, "y": rng.integers(0, 4, size=6)},
          "O = softmax_loss(I['x'], I['y'])",
          lambda I: _cross_entropy(I)),
    Probe("two_layer_loss", "two_layer_net.ipynb", ("test_two_layer_loss",), _two_layer,
          "m = TwoLayerNet(6, 4, 3, reg=float(I['reg']))\n"
          "m.params.update({k: I[k].copy() for k in ('W1', 'b1', 'W2', 'b2')})\n"
          "loss, g = m.loss(I['X'], I['y'])\nO = (loss, g['W1'], g['b1'], g['W2'], g['b2'])",
          _ref_two_layer),
]
