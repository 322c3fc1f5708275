"""A4 probes: the numpy RNN/LSTM layers and the captioning RNN, against float64 torch autograd.

Every probe feeds the student's function fresh random float64 inputs, of shapes the notebook does
not use, and compares with a torch computation written here (nn.RNNCell / nn.LSTMCell and plain
autograd), in the grader's own process.
"""

from __future__ import annotations

import numpy as np

from assignments.pipeline.integrity import Probe
from assignments.probes import autograd, layer, normal, vjp

RNN = "RNN_Captioning.ipynb"


def _torch():
    import torch

    return torch


def _rnn_step(x, h, Wx, Wh, b):
    torch = _torch()
    return torch.tanh(x @ Wx + h @ Wh + b)


def _rnn_seq(x, h0, Wx, Wh, b):
    torch = _torch()
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = _rnn_step(x[:, t], h, Wx, Wh, b)
        hs.append(h)
    return torch.stack(hs, 1)


def _lstm_step(x, h, c, Wx, Wh, b):
    """Gates i, f, o, g (the notebook's order) -> (next_h, next_c)."""
    torch = _torch()
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    i, f, o = (torch.sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
    c = f * c + i * torch.tanh(a[:, 3 * H:])
    return o * torch.tanh(c), c


def _lstm_seq(x, h0, Wx, Wh, b):
    torch = _torch()
    h, c, hs = h0, torch.zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c = _lstm_step(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
    return torch.stack(hs, 1)


def _lstm_cell_reference(I):
    """next_h, next_c from torch.nn.LSTMCell with the gate blocks reordered (i, f, o, g -> i, f, g, o)."""
    torch = _torch()
    H = I["h"].shape[1]
    order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
    cell = torch.nn.LSTMCell(I["x"].shape[1], H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(I["Wx"][:, order].T))
        cell.weight_hh.copy_(torch.tensor(I["Wh"][:, order].T))
        cell.bias_ih.copy_(torch.tensor(I["b"][order]))
        cell.bias_hh.zero_()
        h, c = cell(torch.tensor(I["x"]), (torch.tensor(I["h"]), torch.tensor(I["c"])))
    return h.numpy(), c.numpy()


def _lstm_step_grads(I):
    torch = _torch()
    names = ("x", "h", "c", "Wx", "Wh", "b")
    ts = [torch.tensor(I[n], requires_grad=True) for n in names]
    h, c = _lstm_step(*ts)
    ((h * torch.tensor(I["dout"])).sum() + (c * torch.tensor(I["dc"])).sum()).backward()
    return tuple(t.grad.numpy() for t in ts)


def _softmax_inputs(rng):
    N, T, V = 6, 7, 11
    mask = rng.random((N, T)) > 0.35
    mask[0] = True
    return {"x": 3 * rng.standard_normal((N, T, V)) + 40, "y": rng.integers(0, V, size=(N, T)), "mask": mask}


def _softmax_reference(I):
    torch = _torch()
    N, T, V = I["x"].shape
    y, mask = torch.tensor(I["y"]).reshape(-1), torch.tensor(I["mask"].reshape(-1).astype(np.float64))

    def loss(x):
        per = torch.nn.functional.cross_entropy(x.reshape(-1, V), y, reduction="none")
        return (per * mask).sum() / N
    value, (dx,) = autograd(loss, I["x"])
    return value, dx


VOCAB = "{w: i for i, w in enumerate(['<NULL>', '<START>', '<END>', 'a', 'b', 'c', 'd'])}"
PARAM_NAMES = ("W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab")


def _captioner_inputs(gates):
    def make(rng):
        N, D, W, H, T, V = 5, 6, 4, 7, 9, 7
        caps = rng.integers(1, V, size=(N, T))
        caps[0, 5:] = 0
        caps[3, 3:] = 0
        shapes = {"W_embed": (V, W), "W_proj": (D, H), "b_proj": (H,), "Wx": (W, gates * H),
                  "Wh": (H, gates * H), "b": (gates * H,), "W_vocab": (H, V), "b_vocab": (V,)}
        out = {k: 0.5 * rng.standard_normal(s) for k, s in shapes.items()}
        out.update(features=rng.standard_normal((N, D)), captions=caps)
        return out
    return make


def _captioner_call(cell):
    return (f"import numpy as _np\nm = CaptioningRNN({VOCAB}, input_dim=6, wordvec_dim=4, hidden_dim=7, cell_type={cell!r}, "
            "dtype=_np.float64)\n"
            f"m.params = {{k: I[k].copy() for k in {PARAM_NAMES!r}}}\n"
            "loss, g = m.loss(I['features'], I['captions'])\n"
            f"O = (loss, *[g[k] for k in {PARAM_NAMES!r}])")


def _captioner_reference(cell):
    def ref(I):
        torch = _torch()

        def loss(*params):
            P = dict(zip(PARAM_NAMES, params))
            h0 = torch.tensor(I["features"]) @ P["W_proj"] + P["b_proj"]
            x = P["W_embed"][torch.tensor(I["captions"][:, :-1])]
            h = (_rnn_seq if cell == "rnn" else _lstm_seq)(x, h0, P["Wx"], P["Wh"], P["b"])
            scores = h @ P["W_vocab"] + P["b_vocab"]
            target = torch.tensor(I["captions"][:, 1:]).reshape(-1)
            per = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), target, reduction="none")
            return (per * (target != 0).double()).sum() / len(I["captions"])
        value, grads = autograd(loss, *[I[k] for k in PARAM_NAMES])
        return (value, *grads)
    return ref


def _greedy_reference(I):
    torch = _torch()
    P = {k: torch.tensor(I[k]) for k in PARAM_NAMES}
    h = torch.tensor(I["features"]) @ P["W_proj"] + P["b_proj"]
    word, out = torch.full((len(h),), 1), []
    for _ in range(8):
        h = torch.tanh(P["W_embed"][word] @ P["Wx"] + h @ P["Wh"] + P["b"])
        word = (h @ P["W_vocab"] + P["b_vocab"]).argmax(1)
        out.append(word)
    return torch.stack(out, 1).numpy()


SEQ_ARGS = ("x", "h0", "Wx", "Wh", "b")  # rnn_forward and lstm_forward
PROBES = [
    *layer("rnn_step", RNN, ("test_rnn_step_forward", "test_rnn_step_backward"),
           normal(x=(5, 3), h=(5, 6), Wx=(3, 6), Wh=(6, 6), b=(6,), dout=(5, 6)),
           "rnn_step_forward(I['x'], I['h'], I['Wx'], I['Wh'], I['b'])", "rnn_step_backward(I['dout'], cache)",
           _rnn_step, ("x", "h", "Wx", "Wh", "b")),
    *layer("rnn", RNN, ("test_rnn_forward", "test_rnn_backward"),
           normal(x=(3, 8, 2), h0=(3, 5), Wx=(2, 5), Wh=(5, 5), b=(5,), dout=(3, 8, 5)),
           "rnn_forward(I['x'], I['h0'], I['Wx'], I['Wh'], I['b'])", "rnn_backward(I['dout'], cache)",
           _rnn_seq, SEQ_ARGS),
    Probe("word_embedding", RNN, ("test_word_embedding",),
          lambda rng: {"x": rng.integers(0, 4, size=(6, 5)), "W": rng.standard_normal((4, 3)),
                       "dout": rng.standard_normal((6, 5, 3))},
          "out, c = word_embedding_forward(I['x'], I['W'])\nO = (out, word_embedding_backward(I['dout'], c))",
          lambda I: (I["W"][I["x"]], np.einsum("ntv,ntd->vd", np.eye(4)[I["x"]], I["dout"]))),
    Probe("temporal_affine", RNN, ("test_temporal_affine",), normal(x=(3, 6, 4), w=(4, 7), b=(7,), dout=(3, 6, 7)),
          "out, c = temporal_affine_forward(I['x'], I['w'], I['b'])\nO = (out, *temporal_affine_backward(I['dout'], c))",
          lambda I: (lambda v: (v[0], *v[1]))(vjp(lambda x, w, b: x @ w + b, [I["x"], I["w"], I["b"]], I["dout"]))),
    Probe("temporal_softmax_loss", RNN, ("test_temporal_softmax_loss",), _softmax_inputs,
          "O = temporal_softmax_loss(I['x'], I['y'], I['mask'].astype(bool))", _softmax_reference),
    Probe("captioning_rnn_loss", RNN, ("test_captioning_rnn_loss",), _captioner_inputs(1),
          _captioner_call("rnn"), _captioner_reference("rnn")),
    Probe("captioning_rnn_sample", RNN, ("test_captioning_rnn_sample",), _captioner_inputs(1),
          f"import numpy as _np\nm = CaptioningRNN({VOCAB}, input_dim=6, wordvec_dim=4, hidden_dim=7, cell_type='rnn', "
          "dtype=_np.float64)\n"
          f"m.params = {{k: I[k].copy() for k in {PARAM_NAMES!r}}}\n"
          "O = m.sample(I['features'], max_length=8)", _greedy_reference, tol=0.0),
    Probe("lstm_step_forward", RNN, ("test_lstm_step_forward",),
          normal(x=(4, 3), h=(4, 5), c=(4, 5), Wx=(3, 20), Wh=(5, 20), b=(20,)),
          "h, c, _ = lstm_step_forward(I['x'], I['h'], I['c'], I['Wx'], I['Wh'], I['b'])\nO = (h, c)",
          _lstm_cell_reference),
    Probe("lstm_step_backward", RNN, ("test_lstm_step_backward",),
          normal(x=(4, 3), h=(4, 5), c=(4, 5), Wx=(3, 20), Wh=(5, 20), b=(20,), dout=(4, 5), dc=(4, 5)),
          "_, _, k = lstm_step_forward(I['x'], I['h'], I['c'], I['Wx'], I['Wh'], I['b'])\n"
          "O = lstm_step_backward(I['dout'], I['dc'], k)", _lstm_step_grads),
    *layer("lstm", RNN, ("test_lstm_forward", "test_lstm_backward"),
           normal(x=(2, 6, 3), h0=(2, 4), Wx=(3, 16), Wh=(4, 16), b=(16,), dout=(2, 6, 4)),
           "lstm_forward(I['x'], I['h0'], I['Wx'], I['Wh'], I['b'])", "lstm_backward(I['dout'], cache)",
           _lstm_seq, SEQ_ARGS),
]


# ---------------------------------------------------------------- Transformer_Captioning.ipynb

TF = "Transformer_Captioning.ipynb"
FORBIDDEN = {
    "torch.nn.MultiheadAttention": "computes the multi-head attention you are asked to write",
    "torch.nn.TransformerDecoderLayer": "is the decoder layer you are asked to write",
    "torch.nn.TransformerEncoderLayer": "is the encoder layer you are asked to write",
    "torch.nn.TransformerDecoder": "stacks the decoder layers you are asked to write",
    "torch.nn.TransformerEncoder": "stacks the encoder layers you are asked to write",
    "torch.nn.Transformer": "is the transformer you are asked to write",
    "torch.nn.functional.scaled_dot_product_attention": "computes the attention you are asked to write",
    "torch.nn.functional.multi_head_attention_forward": "computes the multi-head attention you are asked to write",
}


def _mha_params(prefix, E, rng):
    return {f"p_{prefix}{name}__{kind}": rng.standard_normal((E, E) if kind == "weight" else (E,)) * 0.5
            for name in ("query", "key", "value", "proj") for kind in ("weight", "bias")}


def _ff_params(E, F, norms, rng):
    out = {"p_linear1__weight": rng.standard_normal((F, E)) * 0.5, "p_linear1__bias": rng.standard_normal(F),
           "p_linear2__weight": rng.standard_normal((E, F)) * 0.5, "p_linear2__bias": rng.standard_normal(E)}
    for n in norms:
        out[f"p_{n}__weight"] = 1 + 0.3 * rng.standard_normal(E)
        out[f"p_{n}__bias"] = 0.3 * rng.standard_normal(E)
    return out


def _load(module_expr):
    """Kernel-side: build a module in float64, eval mode, with the state dict from I's p_ arrays."""
    return ("import torch\n"
            f"m = {module_expr}.double().eval()\n"
            "m.load_state_dict({k[2:].replace('__', '.'): torch.tensor(v) for k, v in I.items() if k.startswith('p_')})\n")


def _copy_mha(dst, I, prefix):
    torch = _torch()
    w = {n: [torch.tensor(I[f"p_{prefix}{n}__{k}"]) for k in ("weight", "bias")] for n in ("query", "key", "value", "proj")}
    with torch.no_grad():
        dst.in_proj_weight.copy_(torch.cat([w["query"][0], w["key"][0], w["value"][0]]))
        dst.in_proj_bias.copy_(torch.cat([w["query"][1], w["key"][1], w["value"][1]]))
        dst.out_proj.weight.copy_(w["proj"][0])
        dst.out_proj.bias.copy_(w["proj"][1])


def _copy_plain(dst, I, names):
    torch = _torch()
    with torch.no_grad():
        for n in names:
            getattr(dst, n).weight.copy_(torch.tensor(I[f"p_{n}__weight"]))
            getattr(dst, n).bias.copy_(torch.tensor(I[f"p_{n}__bias"]))


def _mha_inputs(rng):
    N, S, T, E = 3, 5, 6, 12
    mask = (rng.random((S, T)) > 0.4).astype(np.int64)
    mask[:, 0] = 1
    return {**_mha_params("", E, rng), "q": rng.standard_normal((N, S, E)), "k": rng.standard_normal((N, T, E)),
            "v": rng.standard_normal((N, T, E)), "mask": mask}


def _mha_reference(I):
    torch = _torch()
    ref = torch.nn.MultiheadAttention(12, 3, dropout=0.0, batch_first=True).double().eval()
    _copy_mha(ref, I, "")
    q, k, v = (torch.tensor(I[n]) for n in ("q", "k", "v"))
    with torch.no_grad():
        return (ref(q, k, v, need_weights=False)[0].numpy(),
                ref(q, k, v, attn_mask=torch.tensor(I["mask"]) == 0, need_weights=False)[0].numpy())


def _positional_reference(I):
    E, L = 10, 40
    t = np.arange(L)[:, None]
    pe = np.zeros((L, E))
    pe[:, 0::2] = np.sin(t * 10000.0 ** (-np.arange(0, E, 2) / E))
    pe[:, 1::2] = np.cos(t * 10000.0 ** (-np.arange(0, E, 2) / E))
    return I["x"] + pe[: I["x"].shape[1]]


def _decoder_inputs(rng):
    E, F = 12, 10
    return {**_mha_params("self_attn__", E, rng), **_mha_params("multihead_attn__", E, rng),
            **_ff_params(E, F, ("norm1", "norm2", "norm3"), rng),
            "tgt": rng.standard_normal((2, 7, E)), "memory": rng.standard_normal((2, 3, E))}


def _decoder_reference(I):
    torch = _torch()
    ref = torch.nn.TransformerDecoderLayer(12, 3, 10, dropout=0.0, batch_first=True).double().eval()
    _copy_mha(ref.self_attn, I, "self_attn__")
    _copy_mha(ref.multihead_attn, I, "multihead_attn__")
    _copy_plain(ref, I, ("linear1", "linear2", "norm1", "norm2", "norm3"))
    causal = torch.tril(torch.ones(7, 7, dtype=torch.bool))
    with torch.no_grad():
        return ref(torch.tensor(I["tgt"]), torch.tensor(I["memory"]), tgt_mask=~causal).numpy()


def _encoder_inputs(rng):
    E, F = 8, 14
    return {**_mha_params("self_attn__", E, rng), **_ff_params(E, F, ("norm1", "norm2"), rng),
            "x": rng.standard_normal((3, 9, E))}


def _encoder_reference(I):
    torch = _torch()
    ref = torch.nn.TransformerEncoderLayer(8, 2, 14, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True).double().eval()
    _copy_mha(ref.self_attn, I, "self_attn__")
    _copy_plain(ref, I, ("linear1", "linear2", "norm1", "norm2"))
    with torch.no_grad():
        return ref(torch.tensor(I["x"])).numpy()


def _patch_reference(I):
    torch = _torch()
    w, b = torch.tensor(I["p_proj__weight"]), torch.tensor(I["p_proj__bias"])
    out = torch.nn.functional.conv2d(torch.tensor(I["x"]), w.reshape(5, 2, 3, 3), b, stride=3)
    return out.flatten(2).transpose(1, 2).numpy()


PROBES += [
    Probe("multi_head_attention", TF, ("test_mha",), _mha_inputs,
          _load("MultiHeadAttention(12, 3, dropout=0.0)")
          + "q, k, v = (torch.tensor(I[n]) for n in ('q', 'k', 'v'))\n"
            "with torch.no_grad():\n"
            "    O = (m(q, k, v), m(q, k, v, torch.tensor(I['mask'])))",
          _mha_reference),
    Probe("positional_encoding", TF, ("test_positional_encoding",), normal(x=(2, 23, 10)),
          "import torch\nm = PositionalEncoding(10, dropout=0.0, max_len=40).eval()\n"
          "with torch.no_grad():\n    O = m(torch.tensor(I['x'], dtype=torch.float32))",
          _positional_reference, tol=1e-5),
    Probe("decoder_layer", TF, ("test_decoder_layer",), _decoder_inputs,
          _load("TransformerDecoderLayer(12, 3, 10, dropout=0.0)")
          + "with torch.no_grad():\n"
            "    O = m(torch.tensor(I['tgt']), torch.tensor(I['memory']), torch.tril(torch.ones(7, 7)))",
          _decoder_reference),
    Probe("patch_embedding", TF, ("test_patch_embedding",),
          lambda rng: {"x": rng.standard_normal((2, 2, 9, 9)), "p_proj__weight": rng.standard_normal((5, 18)),
                       "p_proj__bias": rng.standard_normal(5)},
          _load("PatchEmbedding(9, 3, 2, 5)") + "with torch.no_grad():\n    O = m(torch.tensor(I['x']))",
          _patch_reference),
    Probe("encoder_layer", TF, ("test_encoder_layer",), _encoder_inputs,
          _load("TransformerEncoderLayer(8, 2, 14, dropout=0.0)")
          + "with torch.no_grad():\n    O = m(torch.tensor(I['x']))",
          _encoder_reference),
]
