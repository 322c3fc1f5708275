"""Training loops: the CS231n-style `Solver` for numpy models, and `train_torch` for torch ones.

Solver (after the CS231n assignments' solver.py): a model is any object with a `params` dict of
numpy arrays and a `loss(X, y=None)` method that returns class scores when y is None and
(loss, grads) otherwise, grads having the same keys as params. Solver runs minibatch training,
records loss and accuracies, remembers the parameters with the best validation accuracy and puts
them back into the model when training ends.

Only plain SGD is built in: momentum, RMSProp and Adam are A2 exercises, so you pass your own
`rule(w, dw, config) -> (next_w, config)` as `update_rule`.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

__all__ = ["Solver", "sgd", "train_torch", "evaluate_torch"]


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w -= learning_rate * dw."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


_BUILTIN_RULES = {"sgd": sgd}


def _resolve_rule(update_rule):
    if callable(update_rule):
        return update_rule
    if update_rule in _BUILTIN_RULES:
        return _BUILTIN_RULES[update_rule]
    raise ValueError(
        f"unknown update_rule {update_rule!r}; the only built-in choice is 'sgd'. For momentum, "
        f"RMSProp, Adam, ... pass your own function rule(w, dw, config) -> (next_w, config), "
        f"e.g. Solver(model, data, update_rule=sgd_momentum).")


def _get(data, key):
    """data may be a dict or an object with attributes (e.g. helpers.data.ClassificationData)."""
    try:
        return data[key] if isinstance(data, dict) else getattr(data, key)
    except (KeyError, AttributeError):
        raise KeyError(f"data must provide {key!r} (needs X_train, y_train, X_val, y_val)") from None


class Solver:
    """Minibatch training of a numpy model; see the module docstring for the model contract.

    After `train()`: `loss_history` (one entry per iteration), `train_acc_history` and
    `val_acc_history` (at the first iteration and after every epoch), `best_val_acc`,
    `best_params`; the model holds `best_params`.
    """

    def __init__(self, model, data, *, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000, num_val_samples=None,
                 print_every=100, verbose=True, progress=True):
        self.model = model
        self.X_train, self.y_train = _get(data, "X_train"), _get(data, "y_train")
        self.X_val, self.y_val = _get(data, "X_val"), _get(data, "y_val")
        self.update_rule = _resolve_rule(update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.print_every = print_every
        self.verbose = verbose
        self.progress = progress
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.best_val_acc = -1.0  # so the first check always stores best_params
        self.best_params = {}
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        # Each parameter gets its own config: optimizers keep per-parameter state (velocity, ...).
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self):
        idx = np.random.choice(len(self.X_train), self.batch_size)
        loss, grads = self.model.loss(self.X_train[idx], self.y_train[idx])
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            next_w, self.optim_configs[p] = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of correct predictions, on a random subset of num_samples if given."""
        if num_samples is not None and len(X) > num_samples:
            idx = np.random.choice(len(X), num_samples)
            X, y = X[idx], y[idx]
        preds = [np.argmax(self.model.loss(X[i:i + batch_size]), axis=1)
                 for i in range(0, len(X), batch_size)]
        return float(np.mean(np.concatenate(preds) == y))

    def _log(self, msg):
        if self.verbose:
            tqdm.write(msg)  # print without breaking the progress bar

    def train(self):
        """Run num_epochs epochs of minibatch updates; returns self for chaining."""
        iterations_per_epoch = max(len(self.X_train) // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = tqdm(range(num_iterations), desc="train", disable=not self.progress)
        for t in bar:
            self._step()
            if t % self.print_every == 0:
                self._log(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
            if t == 0 or t == num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._log(f"(Epoch {self.epoch} / {self.num_epochs}) "
                          f"train acc: {train_acc:f}; val_acc: {val_acc:f}")
                if val_acc > self.best_val_acc:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
                bar.set_postfix(loss=f"{self.loss_history[-1]:.3f}", val_acc=f"{val_acc:.3f}")
        bar.close()
        self.model.params = self.best_params
        return self


# ---------------------------------------------------------------- torch training loop

def _as_tensor(x, name, floating):
    import torch

    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if floating:
        if not t.is_floating_point():
            raise TypeError(
                f"{name} has dtype {t.dtype}; train_torch needs float images in (N, C, H, W). "
                f"Convert uint8 NHWC images with "
                f"torch.tensor(X, dtype=torch.float32).permute(0, 3, 1, 2) / 255 (and normalise).")
        if t.ndim == 4 and t.shape[-1] in (1, 3) and t.shape[1] not in (1, 3):
            raise ValueError(
                f"{name} has shape {tuple(t.shape)}, which looks like (N, H, W, C); torch layers "
                f"expect (N, C, H, W): use X.permute(0, 3, 1, 2).")
    else:
        if t.is_floating_point() or t.is_complex():
            raise TypeError(f"{name} must hold integer class labels, got dtype {t.dtype}")
        t = t.long()
    return t


def _make_optimizer(optimizer, params, lr, weight_decay):
    import torch

    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    choices = {
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=weight_decay),
        "adamw": lambda: torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay),
        "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay),
    }
    if optimizer not in choices:
        raise ValueError(f"optimizer must be one of {sorted(choices)} or a torch.optim.Optimizer, "
                         f"got {optimizer!r}")
    return choices[optimizer]()


def _model_device(model):
    import torch

    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def evaluate_torch(model, X, y, batch_size=256, device=None):
    """Accuracy of a classifier (model(X) -> logits) on X, y; leaves the model's train/eval
    mode as it found it. device defaults to where the model's parameters are."""
    import torch

    X, y = _as_tensor(X, "X", floating=True), _as_tensor(y, "y", floating=False)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()  # dropout off, batch norm uses running statistics
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            logits = model(X[i:i + batch_size].to(device))
            correct += (logits.argmax(dim=1).cpu() == y[i:i + batch_size].cpu()).sum().item()
    model.train(was_training)
    return correct / max(len(X), 1)


def train_torch(model, X_train, y_train, X_val, y_val, epochs, batch_size=64, lr=1e-3,
                optimizer="adam", weight_decay=0.0, device=None, progress=True):
    """Train a torch classifier with cross-entropy; returns a history dict of per-epoch lists.

    X: float tensors (or arrays) in (N, C, H, W) (or (N, D) for MLPs); y: integer labels.
    optimizer: "adam", "adamw", "sgd" (momentum 0.9) or a ready torch.optim.Optimizer.
    device: defaults to the GPU when there is one, else the CPU; the model is moved there.
    history["train_acc"] is the running accuracy on the minibatches of each epoch (free to
    compute; with dropout it slightly underestimates the accuracy of the final model).
    Pass X_val=None to skip validation. Shuffling uses torch's global RNG (seed_everything).
    """
    import torch
    import torch.nn.functional as F

    from .runtime import get_device

    device = torch.device(device) if device is not None else get_device(verbose=False)
    X_train = _as_tensor(X_train, "X_train", floating=True)
    y_train = _as_tensor(y_train, "y_train", floating=False)
    if len(X_train) != len(y_train):
        raise ValueError(f"X_train has {len(X_train)} examples but y_train has {len(y_train)}")
    model.to(device)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    history = {"loss": [], "train_acc": [], "val_acc": []}
    steps_per_epoch = -(-len(X_train) // batch_size)
    bar = tqdm(total=epochs * steps_per_epoch, desc="train", disable=not progress)
    for _ in range(epochs):
        model.train()
        total_loss, correct = 0.0, 0
        for idx in torch.randperm(len(X_train)).split(batch_size):
            xb, yb = X_train[idx].to(device), y_train[idx].to(device)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        history["loss"].append(total_loss / len(X_train))
        history["train_acc"].append(correct / len(X_train))
        if X_val is not None:
            history["val_acc"].append(evaluate_torch(model, X_val, y_val, device=device))
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", val_acc=f"{history['val_acc'][-1]:.3f}")
    bar.close()
    return history
