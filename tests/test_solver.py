"""helpers.solver: the CS231n-style Solver on a tiny numpy model, and the torch training loop."""

import numpy as np
import pytest
import torch

from helpers.solver import Solver, evaluate_torch, sgd, train_torch


class TinySoftmax:
    """Linear softmax classifier with the Solver model contract (params + loss)."""

    def __init__(self, dim, num_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 1e-3 * rng.normal(size=(dim, num_classes)), "b": np.zeros(num_classes)}

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = len(X)
        loss = -np.log(probs[np.arange(n), y]).mean()
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def tiny_data(n_train=20, n_val=10, dim=30, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_val, dim))
    y = rng.integers(0, classes, n_train + n_val)
    return {"X_train": X[:n_train], "y_train": y[:n_train], "X_val": X[n_train:], "y_val": y[n_train:]}


def test_solver_overfits_tiny_set_and_records_history():
    np.random.seed(0)
    data = tiny_data()
    model = TinySoftmax(30, 3)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.5},
                    batch_size=10, num_epochs=15, verbose=False, progress=False)
    solver.train()
    iters = 15 * (20 // 10)
    assert len(solver.loss_history) == iters
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 15 + 1
    assert solver.train_acc_history[-1] == 1.0  # 20 points in 30 dims are separable
    assert solver.loss_history[-1] < 0.3 * solver.loss_history[0]
    assert solver.check_accuracy(data["X_train"], data["y_train"]) >= 0.9
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert model.params is solver.best_params  # best parameters swapped into the model


def test_callable_update_rule_gets_per_parameter_config_and_lr_decay():
    np.random.seed(1)
    calls = []

    def my_rule(w, dw, config):
        calls.append(config["learning_rate"])
        config.setdefault("steps", 0)
        config["steps"] += 1
        return w - config["learning_rate"] * dw, config

    model = TinySoftmax(30, 3)
    solver = Solver(model, tiny_data(), update_rule=my_rule, optim_config={"learning_rate": 0.1},
                    lr_decay=0.5, batch_size=10, num_epochs=3, verbose=False, progress=False)
    solver.train()
    assert len(calls) == 3 * 2 * 2  # epochs * iterations per epoch * params
    assert {c["steps"] for c in solver.optim_configs.values()} == {6}  # state kept per parameter
    assert calls[0] == pytest.approx(0.1) and calls[-1] == pytest.approx(0.1 * 0.5 ** 2)


def test_unknown_update_rule_names_choices():
    with pytest.raises(ValueError, match=r"'sgd'.*your own function"):
        Solver(TinySoftmax(30, 3), tiny_data(), update_rule="adam")


def test_missing_data_key_is_clear():
    data = tiny_data()
    del data["y_val"]
    with pytest.raises(KeyError, match="y_val"):
        Solver(TinySoftmax(30, 3), data)


def test_sgd_rule_and_verbose_output(capsys):
    w, config = sgd(np.ones(2), np.ones(2), {"learning_rate": 0.25})
    np.testing.assert_allclose(w, [0.75, 0.75])
    assert sgd(np.ones(1), np.ones(1))[1]["learning_rate"] == 1e-2
    np.random.seed(0)
    Solver(TinySoftmax(30, 3), tiny_data(), batch_size=10, num_epochs=1, print_every=1,
           progress=True).train()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 2) loss:" in out and "(Epoch 1 / 1) train acc:" in out


def torch_blobs(n=96, dim=10, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = 3 * torch.randn(classes, dim, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    X = centers[y] + torch.randn(n, dim, generator=g)
    return X, y


def test_train_torch_reduces_loss():
    torch.manual_seed(0)
    X, y = torch_blobs()
    model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    hist = train_torch(model, X[:64], y[:64], X[64:].numpy(), y[64:].numpy(), epochs=8,
                       batch_size=16, lr=1e-2, device="cpu", progress=False)
    assert set(hist) == {"loss", "train_acc", "val_acc"}
    assert all(len(v) == 8 for v in hist.values())
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert hist["val_acc"][-1] >= 0.9
    assert evaluate_torch(model, X[64:], y[64:]) == pytest.approx(hist["val_acc"][-1])


def test_train_torch_optimizers_and_no_validation():
    X, y = torch_blobs(n=32)
    model = torch.nn.Linear(10, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = train_torch(model, X.numpy(), y.numpy(), None, None, epochs=2, optimizer=opt,
                       device="cpu", progress=True)
    assert hist["val_acc"] == [] and len(hist["loss"]) == 2
    for name in ("sgd", "adamw"):
        train_torch(model, X, y, X, y, epochs=1, optimizer=name, device="cpu", progress=False)
    with pytest.raises(ValueError, match="adam"):
        train_torch(model, X, y, X, y, epochs=1, optimizer="lbfgs", progress=False)


def test_train_torch_rejects_uint8_and_nhwc_images():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 3, 2))
    y = np.zeros(4, np.int64)
    with pytest.raises(TypeError, match=r"float.*\(N, C, H, W\)"):
        train_torch(model, np.zeros((4, 8, 8, 3), np.uint8), y, None, None, epochs=1, progress=False)
    with pytest.raises(ValueError, match="permute"):
        train_torch(model, torch.zeros(4, 8, 8, 3), y, None, None, epochs=1, progress=False)
    with pytest.raises(TypeError, match="integer class labels"):
        train_torch(model, torch.zeros(4, 3, 8, 8), y.astype(float), None, None, epochs=1,
                    progress=False)


def test_evaluate_torch_restores_mode():
    model = torch.nn.Sequential(torch.nn.Linear(10, 3), torch.nn.Dropout(0.5))
    X, y = torch_blobs(n=20)
    model.train()
    acc = evaluate_torch(model, X, y, batch_size=7)
    assert 0.0 <= acc <= 1.0 and model.training
    model.eval()
    evaluate_torch(model, X, y)
    assert not model.training
