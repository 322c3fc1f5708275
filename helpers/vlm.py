"""Vision-language plumbing for lecture 16: relational captions from the procedural world,
a word vocabulary, tiny image and text encoders, a tiny causal language model, the symmetric
InfoNCE loss of CLIP and retrieval recall@k.

    objs = H.vlm.objects(world, i)              # [{"size", "colour", "shape", "box", "cx", "cy"}, ...]
    rel = H.vlm.relation(objs)                  # ("left of", a, b): a is left of b; or None
    H.vlm.relational_caption(objs, form=0)      # "a red circle left of a blue square"
    H.vlm.relational_caption(objs, swap=True)   # "a blue square left of a red circle" (false)
    loss = H.vlm.info_nce(img_emb, txt_emb, logit_scale)    # CLIP's symmetric loss

Where the ideas come from: CLIP (Radford et al. 2021) for the two-tower contrastive model and
its loss; a text tower read at the end-of-text token as in CLIP; the relational swap probe
follows Winoground (Thrush et al. 2022) and NegCLIP's swapped negatives (Yuksekgonul et al.
2023). Used in: lecture 16.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import shapes
from .text import SPECIALS, Vocab

COLOURS = tuple(shapes.COLOURS)
SHAPES = tuple(shapes.SHAPE_CLASSES)
SIZES = ("small", "medium", "large")
# Each relation with its converse: "a left of b" says the same as "b right of a".
RELATIONS = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}
_PHRASE = re.compile(r"an? (small|medium|large) (\w+) (\w+)$")
_EXTRA_WORDS = "a an the of left right above below and with what colour shape is ? . thing photo"


def objects(world, i) -> list[dict]:
    """The objects of image i of a ShapesWorld, main object first: size, colour and shape words
    (parsed from the caption, whose phrases follow the order of the boxes), box and centre."""
    text = world.captions[i].rsplit(" on a ", 1)[0]
    phrases = re.split(r" with |, | and ", text)
    out = []
    for phrase, box in zip(phrases, world.boxes[i]):
        size, colour, shape = _PHRASE.match(phrase).groups()
        x0, y0, x1, y1 = (float(v) for v in box)
        out.append(dict(size=size, colour=colour, shape=shape, box=box,
                        cx=(x0 + x1) / 2, cy=(y0 + y1) / 2))
    return out


def relation(objs, margin: float = 4.0):
    """(word, a, b) such that "a <word> b" is true, for an image with exactly two objects whose
    centres differ by at least `margin` pixels along the dominant axis; else None."""
    if len(objs) != 2:
        return None
    a, b = objs
    dx, dy = b["cx"] - a["cx"], b["cy"] - a["cy"]
    if max(abs(dx), abs(dy)) < margin:
        return None
    if abs(dx) >= abs(dy):
        return ("left of", a, b) if dx > 0 else ("left of", b, a)
    return ("above", a, b) if dy > 0 else ("above", b, a)


def noun(obj, size: bool = False) -> str:
    """'a red star', 'an orange ring', or with size=True 'a small red star'."""
    words = f"{obj['size'] + ' ' if size else ''}{obj['colour']} {obj['shape']}"
    return ("an " if words[0] in "aeiou" else "a ") + words


def relational_caption(objs, form: int = 0, swap: bool = False, margin: float = 4.0):
    """'a red circle left of a blue square' (form 0) or its converse 'a blue square right of a
    red circle' (form 1); swap=True exchanges the two noun phrases, which makes it false with
    exactly the same words. None when `relation` finds no clear relation."""
    rel = relation(objs, margin)
    if rel is None:
        return None
    word, a, b = rel
    if form == 1:
        word, a, b = RELATIONS[word], b, a
    if swap:
        a, b = b, a
    return f"{noun(a)} {word} {noun(b)}"


def vocabulary() -> Vocab:
    """A word vocabulary that covers every caption, prompt and question of lecture 16."""
    words = set(COLOURS) | set(SHAPES) | set(SIZES) | set(_EXTRA_WORDS.split())
    return Vocab(list(SPECIALS) + sorted(words), level="word")


def info_nce(img, txt, logit_scale, group: int | None = None):
    """Symmetric InfoNCE (CLIP): image i must pick text i among the texts, and text i image i.

    img, txt: (B, d) embeddings (normalised here). logit_scale: the inverse temperature.
    group: compute the loss inside consecutive groups of this many pairs (fewer negatives per
    positive, same gradient steps), the knob of the batch-size experiment; None = whole batch.
    """
    img, txt = F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
    n = len(img)
    g = n if group is None else group
    if n % g:
        raise ValueError(f"batch {n} is not a multiple of the group size {g}")
    img, txt = img.view(n // g, g, -1), txt.view(n // g, g, -1)
    logits = logit_scale * img @ txt.transpose(1, 2)          # (groups, g, g)
    target = torch.arange(g, device=img.device).expand(n // g, g)
    return (F.cross_entropy(logits.flatten(0, 1), target.flatten())
            + F.cross_entropy(logits.transpose(1, 2).flatten(0, 1), target.flatten())) / 2


def recall_at_k(sim, k: int, targets=None) -> float:
    """Share of queries (rows of sim) whose correct item is among their k highest scores.
    targets[q] is the correct column of row q (default: the diagonal)."""
    sim = torch.as_tensor(sim)
    targets = torch.arange(len(sim)) if targets is None else torch.as_tensor(targets)
    true = sim[torch.arange(len(sim)), targets]
    rank = (sim > true[:, None]).sum(1)                       # how many items beat the right one
    return float((rank < k).float().mean())


class ImageEncoder(nn.Module):
    """A tiny CNN for 32x32 images: a 4x4 grid of feature tokens (kept for the captioner,
    the LLaVA bridge, Flamingo) and one embedding from the flattened grid by a small MLP (so it
    knows where things are, which a global average would forget, and can relate two places)."""

    def __init__(self, dim: int = 64, width: int = 64):
        super().__init__()
        self.width = width
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.ReLU(),       # 16x16
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),      # 8x8
            nn.Conv2d(64, width, 3, stride=2, padding=1), nn.ReLU())   # 4x4
        self.head = nn.Sequential(nn.Linear(16 * width, 256), nn.ReLU(), nn.Linear(256, dim))

    def tokens(self, x):
        """(B, 16, width): one token per cell of the 4x4 grid."""
        return self.features(x).flatten(2).transpose(1, 2)

    def forward(self, x):
        return self.head(self.tokens(x).flatten(1))


def _causal_mask(n, device=None):
    return torch.triu(torch.full((n, n), float("-inf"), device=device), diagonal=1)


class TextEncoder(nn.Module):
    """A small transformer over word ids (B, L) padded with `pad`; the embedding is read at the
    last real token (<eos>), as CLIP's text tower does, after causal self-attention."""

    def __init__(self, vocab_size: int, dim: int = 64, width: int = 64, layers: int = 1,
                 heads: int = 4, max_len: int = 16, pad: int = 0):
        super().__init__()
        self.pad = pad
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(0.02 * torch.randn(max_len, width))
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, dim)

    def forward(self, ids):
        n = ids.shape[1]
        h = self.tok(ids) + self.pos[:n]
        h = self.ln(self.blocks(h, mask=_causal_mask(n, ids.device), is_causal=True))
        last = (ids != self.pad).sum(1) - 1                   # index of <eos>
        return self.head(h[torch.arange(len(ids)), last])


class CausalLM(nn.Module):
    """A tiny GPT-style language model. forward(ids, prefix=None, media=None, xattn=None):

    prefix (B, P, width) are embeddings put before the words (the LLaVA bridge's visual
    tokens); xattn is a list of one module per block, called as h = xattn[i](h, media) before
    block i (Flamingo's gated cross-attention). Returns logits (B, P + L, vocab)."""

    def __init__(self, vocab_size: int, width: int = 64, layers: int = 2, heads: int = 4,
                 max_len: int = 40):
        super().__init__()
        self.width = width
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(0.02 * torch.randn(max_len, width))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, batch_first=True,
                                       norm_first=True) for _ in range(layers))
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, ids, prefix=None, media=None, xattn=None):
        h = self.tok(ids)
        if prefix is not None:
            h = torch.cat([prefix, h], dim=1)
        n = h.shape[1]
        h = h + self.pos[:n]
        mask = _causal_mask(n, h.device)
        for i, block in enumerate(self.blocks):
            if xattn is not None:
                h = xattn[i](h, media)
            h = block(h, src_mask=mask, is_causal=True)
        return self.head(self.ln(h))


def to_tensor_images(images, mean=None, std=None):
    """uint8 (N, H, W, 3) -> float (N, 3, H, W), normalised by the given (or own) channel stats."""
    x = torch.tensor(np.asarray(images)).permute(0, 3, 1, 2).float() / 255
    if mean is None:
        mean, std = x.mean((0, 2, 3), keepdim=True), x.std((0, 2, 3), keepdim=True)
    return (x - mean) / std, mean, std
