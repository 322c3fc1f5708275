"""A6 probes: the pure functions of both notebooks, re-checked in the grader's process.

Each call runs in the student's kernel on fresh random fp32 inputs; the references are float64
numpy computed here (closed forms, explicit loops). The flow functions are called with a toy
velocity model defined by the probe itself (v = a[label] * x_t + b[label] * t), never with one
the notebook provides. FORBIDDEN lists library code that computes a graded answer.
"""

from __future__ import annotations

import numpy as np

from assignments.pipeline.integrity import Probe

VAE_FLOW, SSL_CLIP = "VAE_and_Flow.ipynb", "SimCLR_CLIP.ipynb"
TOL = 1e-4  # fp32 student code against float64 references, relative to the largest value

FORBIDDEN = {
    "helpers.flows.train_rectified_flow": "trains a rectified flow (the training step you are asked to write)",
    "helpers.flows.guided_velocity": "computes the guided velocity you are asked to write",
    "helpers.flows.sample_euler": "is the Euler sampler you are asked to write",
    "helpers.flows.predict": "computes guided predictions (the guidance you are asked to write)",
    "helpers.flows.convert": "converts flow predictions (part of the flow you are asked to write)",
    "helpers.ssl.augment": "is the SimCLR augmentation you are asked to write",
    "helpers.vlm.info_nce": "computes the symmetric InfoNCE (CLIP) loss you are asked to write",
    "helpers.vlm.recall_at_k": "computes the recall@k you are asked to write",
    "torch.distributions.kl_divergence": "computes the KL divergence you are asked to derive",
    "torch.distributions.kl.kl_divergence": "computes the KL divergence you are asked to derive",
    "torch.nn.functional.cosine_similarity": "computes the cosine similarity `sim` asks for",
    "torch.cosine_similarity": "computes the cosine similarity `sim` asks for",
}

TOY = """import torch


class _ProbeToy(torch.nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
        self.num_classes = len(a) - 1

    def forward(self, x, t, labels=None):
        if labels is None:
            labels = torch.full((len(x),), self.num_classes, dtype=torch.long)
        shape = (-1,) + (1,) * (x.dim() - 1)
        return self.a[labels].reshape(shape) * x + self.b[labels].reshape(shape) * t.reshape(shape)


toy = _ProbeToy(I["a"], I["b"])
"""


def tensors(*names: str) -> str:
    return "\n".join(f"{n} = torch.tensor(I[{n!r}], dtype=torch.float32)" for n in names)


def toy_v(a, b, x, t, lab):
    shape = (-1,) + (1,) * (x.ndim - 1)
    return a[lab].reshape(shape) * x + b[lab].reshape(shape) * np.asarray(t).reshape(shape)


# ---------------------------------------------------------------------------- VAE
def ref_kl(mu, lv):
    return 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)


def ref_vae_loss(I):
    x, xh = I["x"], I["xh"]
    bce = -np.sum(x * np.log(xh) + (1 - x) * np.log(1 - xh), axis=(1, 2, 3))
    return np.mean(bce + ref_kl(I["mu"], I["lv"]))


def vae_inputs(rng):
    return {"x": rng.random((5, 3, 4, 4)), "xh": 0.02 + 0.96 * rng.random((5, 3, 4, 4)),
            "mu": rng.standard_normal((5, 3)), "lv": rng.standard_normal((5, 3))}


# ---------------------------------------------------------------------------- flow
def flow_inputs(rng):
    return {"a": rng.standard_normal(5), "b": rng.standard_normal(5), "x": rng.standard_normal((6, 2, 3, 3)),
            "eps": rng.standard_normal((6, 2, 3, 3)), "t": rng.random(6), "lab": rng.integers(0, 4, 6),
            "drop": rng.random(6) < 0.4, "w": np.array(rng.uniform(0.5, 5.0)), "steps": np.array(rng.integers(3, 9))}


def ref_rf_loss(I):
    t = I["t"].reshape(-1, 1, 1, 1)
    lab = np.where(I["drop"], 4, I["lab"])
    xt = (1 - t) * I["x"] + t * I["eps"]
    return np.mean((toy_v(I["a"], I["b"], xt, I["t"], lab) - (I["eps"] - I["x"])) ** 2)


def ref_guided(a, b, x, t, lab, w):
    uncond = toy_v(a, b, x, t, np.full(len(x), len(a) - 1))
    return uncond + w * (toy_v(a, b, x, t, lab) - uncond)


def ref_sample(I):
    x, steps = I["x"].copy(), int(I["steps"])
    grid = np.linspace(1.0, 0.0, steps + 1)
    for k in range(steps):
        v = ref_guided(I["a"], I["b"], x, np.full(len(x), grid[k]), I["lab"], float(I["w"]))
        x = x + (grid[k + 1] - grid[k]) * v
    return x


# ---------------------------------------------------------------------------- SimCLR and CLIP
def unit(z):
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def ref_simclr(I):
    z = unit(np.concatenate([I["left"], I["right"]]))
    n2, tau, total = len(z), float(I["tau"]), 0.0
    for i in range(n2):
        others = [m for m in range(n2) if m != i]
        logits = z[others] @ z[i] / tau
        top = logits.max()
        total += top + np.log(np.exp(logits - top).sum()) - z[(i + n2 // 2) % n2] @ z[i] / tau
    return total / n2


def ref_clip(I):
    L = float(I["scale"]) * unit(I["img"]) @ unit(I["txt"]).T

    def ce(M):
        top = M.max(1, keepdims=True)
        return np.mean(top[:, 0] + np.log(np.exp(M - top).sum(1)) - np.diag(M))

    return 0.5 * (ce(L) + ce(L.T))


def pairs(n, d):
    def make(rng):
        return {"left": rng.standard_normal((n, d)), "right": rng.standard_normal((n, d)),
                "tau": np.array(rng.uniform(0.1, 1.0))}
    return make


PROBES = [
    Probe("reparameterize", VAE_FLOW, ("test_reparameterize",),
          lambda rng: {k: rng.standard_normal((5, 3)) for k in ("mu", "lv", "eps")},
          "import torch\n" + tensors("mu", "lv", "eps") + "\nO = reparameterize(mu, lv, eps)",
          lambda I: I["mu"] + np.exp(I["lv"] / 2) * I["eps"], TOL),
    Probe("kl_divergence", VAE_FLOW, ("test_kl_divergence",),
          lambda rng: {"mu": 2 * rng.standard_normal((6, 4)), "lv": rng.standard_normal((6, 4))},
          "import torch\n" + tensors("mu", "lv") + "\nO = kl_divergence(mu, lv)",
          lambda I: ref_kl(I["mu"], I["lv"]), TOL),
    Probe("vae_loss", VAE_FLOW, ("test_vae_loss",), vae_inputs,
          "import torch\n" + tensors("x", "xh", "mu", "lv") + "\nO = vae_loss(xh, x, mu, lv)", ref_vae_loss, TOL),
    Probe("rf_interpolate_target", VAE_FLOW, ("test_rf_interpolate",), flow_inputs,
          "import torch\n" + tensors("x", "eps", "t") + "\nO = (rf_interpolate(x, eps, t), rf_target(x, eps))",
          lambda I: ((1 - I["t"].reshape(-1, 1, 1, 1)) * I["x"] + I["t"].reshape(-1, 1, 1, 1) * I["eps"],
                     I["eps"] - I["x"]), TOL),
    Probe("rf_loss", VAE_FLOW, ("test_rf_loss",), flow_inputs,
          TOY + tensors("x", "eps", "t") + "\nlab = torch.tensor(I['lab'], dtype=torch.long)\n"
          "drop = torch.tensor(I['drop'], dtype=torch.bool)\nO = rf_loss(toy, x, lab, t, eps, drop)", ref_rf_loss, TOL),
    Probe("guided_velocity", VAE_FLOW, ("test_guided_velocity",), flow_inputs,
          TOY + tensors("x", "t") + "\nlab = torch.tensor(I['lab'], dtype=torch.long)\n"
          "O = guided_velocity(toy, x, t, lab, float(I['w']))",
          lambda I: ref_guided(I["a"], I["b"], I["x"], I["t"], I["lab"], float(I["w"])), TOL),
    Probe("sample_euler", VAE_FLOW, ("test_sample_euler",), flow_inputs,
          TOY + tensors("x") + "\nlab = torch.tensor(I['lab'], dtype=torch.long)\n"
          "O = sample_euler(toy, x, int(I['steps']), labels=lab, w=float(I['w']))", ref_sample, 1e-3),
    Probe("sim", SSL_CLIP, ("test_sim",), lambda rng: {"u": rng.standard_normal(9), "v": 3 * rng.standard_normal(9)},
          "import torch\n" + tensors("u", "v") + "\nO = sim(u, v)",
          lambda I: I["u"] @ I["v"] / (np.linalg.norm(I["u"]) * np.linalg.norm(I["v"])), TOL),
    Probe("simclr_loss_naive", SSL_CLIP, ("test_simclr_loss_naive",), pairs(4, 5),
          "import torch\n" + tensors("left", "right") + "\nO = simclr_loss_naive(left, right, float(I['tau']))",
          ref_simclr, TOL),
    Probe("simclr_loss_vectorized", SSL_CLIP, ("test_simclr_loss_vectorized",), pairs(11, 6),
          "import torch\n" + tensors("left", "right") + "\nO = simclr_loss_vectorized(left, right, float(I['tau']))",
          ref_simclr, TOL),
    Probe("clip_loss", SSL_CLIP, ("test_clip_loss",),
          lambda rng: {"img": rng.standard_normal((7, 5)), "txt": 2 * rng.standard_normal((7, 5)),
                       "scale": np.array(rng.uniform(1.0, 20.0))},
          "import torch\n" + tensors("img", "txt") + "\nO = clip_loss(img, txt, float(I['scale']))", ref_clip, TOL),
    Probe("zero_shot_predict", SSL_CLIP, ("test_zero_shot_recall",),
          lambda rng: {"img": rng.standard_normal((30, 6)),
                       "cls": rng.standard_normal((5, 6)) * rng.uniform(0.1, 10, (5, 1))},
          "import torch\n" + tensors("img", "cls") + "\nO = zero_shot_predict(img, cls)",
          lambda I: np.argmax(unit(I["img"]) @ unit(I["cls"]).T, axis=1).astype(np.float64), 0.0),
    Probe("recall_at_k", SSL_CLIP, ("test_zero_shot_recall",),
          lambda rng: {"s": rng.integers(0, 4, (20, 20)).astype(np.float64), "k": np.array(rng.integers(1, 6))},
          "import torch\n" + tensors("s") + "\nO = recall_at_k(s, int(I['k']))",
          lambda I: np.mean([np.sum(row > row[q]) < int(I["k"]) for q, row in enumerate(I["s"])]), 1e-6),
]
