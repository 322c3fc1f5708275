"""helpers.flows: the diffusion template's conversions (against exact answers), the networks'
shapes and zero start, guidance, and a rectified flow that really learns a 1-D two-point law."""

import math

import pytest
import torch

from helpers import flows

torch.set_default_dtype(torch.float32)


def _pair(kind, t, n=50, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, eps = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, d, generator=g, dtype=torch.float64)
    t = torch.tensor(t, dtype=torch.float64)
    a, b, da, db = flows.schedule(kind, t)
    return x, eps, a * x + b * eps, da * x + db * eps, t


@pytest.mark.parametrize("kind", flows.SCHEDULES)
@pytest.mark.parametrize("t", [0.05, 0.3, 0.7, 0.95])
def test_conversions_recover_x_and_eps_exactly(kind, t):
    x, eps, x_t, v, t = _pair(kind, t)
    for target, pred in (("x", x), ("eps", eps), ("v", v)):
        xh, eh = flows.to_x_eps(pred, target, x_t, t, kind)
        assert torch.allclose(xh, x, atol=1e-8) and torch.allclose(eh, eps, atol=1e-8)
        for dst, want in (("x", x), ("eps", eps), ("v", v)):
            assert torch.allclose(flows.convert(pred, x_t, t, target, dst, kind), want, atol=1e-8)


def test_schedule_derivatives_match_finite_differences():
    t, h = torch.tensor([0.2, 0.5, 0.8], dtype=torch.float64), 1e-6
    for kind in flows.SCHEDULES:
        a, b, da, db = flows.schedule(kind, t)
        a2, b2, _, _ = flows.schedule(kind, t + h)
        assert torch.allclose((a2 - a) / h, da, rtol=1e-4, atol=1e-6)
        assert torch.allclose((b2 - b) / h, db, rtol=1e-4, atol=1e-6)


def test_rf_velocity_is_eps_minus_x_and_vp_preserves_variance():
    x, eps, _, v, _ = _pair("rf", 0.4)
    assert torch.allclose(v, eps - x)
    a, b, _, _ = flows.schedule("vp", torch.linspace(0, 1, 11))
    assert torch.allclose(a**2 + b**2, torch.ones(11))


@pytest.mark.parametrize("src", flows.SCHEDULES)
@pytest.mark.parametrize("dst", flows.SCHEDULES)
def test_matching_time_gives_same_input_up_to_scale(src, dst):
    x, eps, x_t, _, t = _pair(src, 0.4)
    t2, s = flows.matching_time(t, src, dst)
    a2, b2, _, _ = flows.schedule(dst, t2)
    assert torch.allclose(a2 * x + b2 * eps, s * x_t, atol=1e-8)


def test_score_is_exact_for_gaussian_data():
    # data N(0, 1): x_t ~ N(0, a^2 + b^2), score -x_t / (a^2 + b^2); E[eps | x_t] = b x_t / (a^2 + b^2)
    for kind in flows.SCHEDULES:
        t = torch.tensor(0.5, dtype=torch.float64)
        a, b, _, _ = flows.schedule(kind, t)
        x_t = torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None]
        eps_hat = b * x_t / (a**2 + b**2)
        assert torch.allclose(flows.score(eps_hat, "eps", x_t, t, kind), -x_t / (a**2 + b**2))


def test_networks_start_at_zero_and_keep_shapes():
    net = flows.VelocityNet((3, 8, 8), hidden=32, depth=1, num_classes=4)
    x, t = torch.randn(5, 3, 8, 8), torch.rand(5)
    out = net(x, t, torch.tensor([0, 1, 2, 3, 4]))              # 4 is the null class
    assert out.shape == x.shape and out.abs().max() == 0
    assert flows.VelocityNet((2,), hidden=16, depth=1)(torch.randn(7, 2), torch.rand(7)).shape == (7, 2)


def test_guidance_combines_conditional_and_unconditional():
    torch.manual_seed(0)
    net = flows.VelocityNet((2,), hidden=16, depth=1, num_classes=3)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x, t, y = torch.randn(6, 2), torch.rand(6), torch.tensor([0, 1, 2, 0, 1, 2])
    with torch.no_grad():
        vc, vu = net(x, t, y), net(x, t, None)
        assert torch.allclose(flows.guided_velocity(net, x, t, y, 2.5), vu + 2.5 * (vc - vu), atol=1e-5)
        assert torch.allclose(flows.guided_velocity(net, x, t, y, 0.0), vu)
        assert torch.allclose(flows.guided_velocity(net, x, t, y, 1.0), vc)


def test_sample_t_ranges():
    g = torch.Generator().manual_seed(0)
    for kind in ("uniform", "logit_normal"):
        t = flows.sample_t(10000, kind, g)
        assert 0 < t.min() and t.max() < 1
    assert abs(flows.sample_t(20000, "logit_normal", g).median().item() - 0.5) < 0.02
    with pytest.raises(ValueError):
        flows.sample_t(3, "beta")


def test_euler_path_and_exactness_for_straight_lines():
    class Const(torch.nn.Module):  # v = 1 everywhere: x_0 = x_1 - 1 exactly, whatever the step count
        num_classes = 0

        def forward(self, x, t, labels=None):
            return torch.ones_like(x)

    path = flows.sample_euler(Const(), torch.zeros(4, 2), steps=5, return_path=True)
    assert len(path) == 6 and torch.allclose(path[-1], -torch.ones(4, 2))


def test_rectified_flow_learns_a_two_point_law():
    # data = +-2 with equal probability (1-D); a trained flow should put samples near both points
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = (torch.randint(0, 2, (2000, 1), generator=g) * 4 - 2).float()
    net = flows.VelocityNet((1,), hidden=32, depth=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only wait on each other
    try:
        losses = flows.train_rectified_flow(net, data, steps=300, batch_size=128, lr=3e-3)
    finally:
        torch.set_num_threads(threads)
    assert sum(losses[-50:]) / 50 < sum(losses[:50]) / 50
    x = flows.sample_euler(net, torch.randn(1000, 1, generator=g), steps=30)
    near = ((x - 2).abs() < 0.6) | ((x + 2).abs() < 0.6)
    assert near.float().mean() > 0.7 and (x > 0).float().mean().item() == pytest.approx(0.5, abs=0.1)


def test_predict_matches_conversion_under_other_schedules():
    torch.manual_seed(1)
    net = flows.VelocityNet((2,), hidden=16, depth=1)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x_t, t = torch.randn(5, 2), torch.full((5,), 0.4)
    with torch.no_grad():
        v = net(x_t, t)
    eps_rf = flows.convert(v, x_t, t, "v", "eps", "rf")
    assert torch.allclose(flows.predict(net, x_t, t, target="eps"), eps_rf, atol=1e-5)
    # the same noisy input expressed in VP coordinates gives the same eps
    t_vp, s = flows.matching_time(t, "rf", "vp")
    got = flows.predict(net, x_t * s[:, None], t_vp, target="eps", kind="vp")
    assert torch.allclose(got, eps_rf, atol=1e-4)
    assert math.isfinite(flows.predict(net, x_t, 0.4, target="score").sum().item())
