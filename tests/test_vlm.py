"""Captions, loss and metrics of helpers/vlm.py (lecture 16)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import helpers as H
from helpers import vlm


@pytest.fixture(scope="module")
def world():
    return H.data.load_shapes(300, size=32, seed=0, max_objects=2)


def test_objects_follow_boxes_and_labels(world):
    for i in range(len(world)):
        objs = vlm.objects(world, i)
        assert [vlm.SHAPES.index(o["shape"]) for o in objs] == world.instance_labels[i].tolist()
        assert all(o["colour"] in vlm.COLOURS and o["size"] in vlm.SIZES for o in objs)


def test_relational_caption_and_its_swap(world):
    a = dict(colour="red", shape="star", size="large", cx=5.0, cy=16.0)
    b = dict(colour="blue", shape="ring", size="small", cx=25.0, cy=18.0)
    assert vlm.relational_caption([b, a]) == "a red star left of a blue ring"
    assert vlm.relational_caption([a, b], form=1) == "a blue ring right of a red star"
    assert vlm.relational_caption([a, b], swap=True) == "a blue ring left of a red star"
    assert vlm.relational_caption([a, dict(b, cx=6.0, cy=30.0)]) == "a red star above a blue ring"
    assert vlm.relational_caption([a, dict(b, cx=6.0, cy=17.0)]) is None   # too close to tell
    for i in range(len(world)):
        objs = vlm.objects(world, i)
        true, swap = vlm.relational_caption(objs), vlm.relational_caption(objs, swap=True)
        if true is not None:
            assert sorted(true.split()) == sorted(swap.split())       # same words
    vocab = vlm.vocabulary()
    assert all(w in vocab for w in "a red star left of right above below what colour is the ?".split())


def test_info_nce_matches_cross_entropy_and_groups():
    torch.manual_seed(0)
    img, txt = torch.randn(8, 5), torch.randn(8, 5)
    logits = 3.0 * F.normalize(img, dim=1) @ F.normalize(txt, dim=1).T
    t = torch.arange(8)
    want = (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2
    assert torch.allclose(vlm.info_nce(img, txt, 3.0), want)
    groups = [vlm.info_nce(img[j:j + 4], txt[j:j + 4], 3.0) for j in (0, 4)]
    assert torch.allclose(vlm.info_nce(img, txt, 3.0, group=4), sum(groups) / 2)
    assert vlm.info_nce(img, img, 50.0) < 0.01                        # perfect pairs: loss ~ 0
    with pytest.raises(ValueError):
        vlm.info_nce(img, txt, 1.0, group=3)


def test_recall_at_k_hand_case():
    sim = np.array([[0.9, 0.1, 0.3], [0.8, 0.2, 0.1], [0.1, 0.5, 0.4]])
    assert vlm.recall_at_k(sim, 1) == pytest.approx(1 / 3)
    assert vlm.recall_at_k(sim, 2) == 1.0
    assert vlm.recall_at_k(sim, 1, targets=[0, 0, 1]) == 1.0


def test_encoders_shapes_and_padding():
    torch.manual_seed(0)
    enc = vlm.ImageEncoder()
    assert enc.tokens(torch.randn(2, 3, 32, 32)).shape == (2, 16, 64)
    assert enc(torch.randn(2, 3, 32, 32)).shape == (2, 64)
    text = vlm.TextEncoder(20)
    ids = torch.tensor([[1, 5, 6, 2, 0, 0]])
    assert torch.allclose(text(ids), text(ids[:, :4]), atol=1e-5)     # padding after <eos> is ignored
    lm = vlm.CausalLM(20)
    assert lm(ids, prefix=torch.zeros(1, 3, 64)).shape == (1, 9, 20)
    a, b = lm(ids), lm(torch.tensor([[1, 5, 6, 9, 9, 9]]))
    assert torch.allclose(a[:, :3], b[:, :3], atol=1e-5)                # causal: the future is not seen
