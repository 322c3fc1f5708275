"""helpers.ssl: the tiny encoder, augmentations, EMA, the probe (lecture 12)."""

import copy

import torch
import torch.nn.functional as F

import helpers as H

ssl = H.ssl


def test_patchify_roundtrip_and_layout_matches_unfold():
    x = torch.randn(2, 3, 8, 8)
    t = ssl.patchify(x, 4)
    assert t.shape == (2, 4, 48)
    assert torch.equal(t, F.unfold(x, 4, stride=4).transpose(1, 2))
    assert torch.equal(ssl.unpatchify(t, 4), x)


def test_encoder_on_visible_patches_only():
    torch.manual_seed(0)
    enc = ssl.TinyViT(img=16, patch=4, dim=32, depth=1, heads=2).eval()
    x = torch.randn(3, 3, 16, 16)
    assert enc(x).shape == (3, 32) and enc.tokens(x).shape == (3, 16, 32)
    keep = torch.tensor([0, 5, 10, 15])
    assert enc.tokens(x, keep).shape == (3, 4, 32)
    # dropped patches cannot influence the output: change them and nothing moves
    y = x.clone()
    y[..., 0:4, 4:8] += 5.0  # patch 1, not kept
    assert torch.allclose(enc(x, keep), enc(y, keep), atol=1e-6)
    assert not torch.allclose(enc(x), enc(y), atol=1e-3)
    # per-sample indices work too
    per = torch.stack([keep, keep.flip(0), keep])
    assert enc.tokens(x, per).shape == (3, 4, 32)


def test_augment_is_deterministic_per_generator_and_changes_images():
    x = torch.randn(5, 3, 16, 16)
    a = ssl.augment(x, torch.Generator().manual_seed(1))
    b = ssl.augment(x, torch.Generator().manual_seed(1))
    c = ssl.augment(x, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and torch.isfinite(a).all()
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.allclose(a, x)


def test_ema_update():
    s, t = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    t0 = copy.deepcopy(t)
    ssl.ema_update(t, s, 0.9)
    assert torch.allclose(t.weight, 0.9 * t0.weight + 0.1 * s.weight)
    ssl.ema_update(t, s, 0.0)
    assert torch.equal(t.weight, s.weight)


def test_probe_separable_features_and_chance_on_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(400) % 4
    centres = 3 * torch.randn(4, 8, generator=g)
    Fx = centres[y] + 0.3 * torch.randn(400, 8, generator=g)
    assert ssl.probe_features(Fx[:300], y[:300], Fx[300:], y[300:]) > 0.95
    noise = torch.randn(400, 8, generator=g)
    assert ssl.probe_features(noise[:300], y[:300], noise[300:], y[300:]) < 0.45


def test_fit_reduces_a_simple_loss_and_entropy():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.zeros(3))
    target = torch.tensor([1.0, -2.0, 0.5])
    losses = ssl.fit(lambda idx: ((w - target) ** 2).sum(), [w], steps=200, n=10, batch=5, lr=0.1, weight_decay=0)
    assert losses[-1] < 1e-2 * losses[0]
    assert abs(ssl.entropy(torch.full((4,), 0.25)).item() - torch.log(torch.tensor(4.0)).item()) < 1e-6
    assert ssl.entropy(torch.tensor([1.0, 0.0])).item() == 0.0
