"""The calculators of lecture 11 against hand-derived and published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import hardware as HW


def test_roofline():
    assert np.allclose(HW.attainable([1, 10, 1000], 100.0, 10.0), [10, 100, 100])


def test_measurements_are_positive_and_plausible():
    torch.set_num_threads(1)
    assert 1e8 < HW.matmul_flops(128, repeat=2) < 1e13
    assert 1e8 < HW.copy_bandwidth(16, repeat=2) < 1e13


def test_memory_zero_stages_match_the_zero_paper():
    # Rajbhandari et al. 2020, Figure 1: 7.5B params on 64 GPUs -> 120, 31.4, 16.6, 1.9 GB
    kw = dict(layers=1, hidden=1, seq=0, dp=64)
    got = [sum(v for k, v in HW.memory_per_gpu(7.5e9, sharding=s, **kw).items() if k != "activations") / 1e9
           for s in ("none", "zero1", "zero2", "fsdp")]
    assert np.allclose(got, [120, 31.4, 16.6, 1.9], atol=0.05)


def test_memory_llama3_layout_is_about_ten_gigabytes():
    mem = HW.memory_per_gpu(405e9, layers=126, hidden=16384, seq=8192, tp=8, pp=16, dp=64, sharding="zero2")
    assert mem["params"] == pytest.approx(810e9 / 128)
    assert 8e9 < sum(mem.values()) < 14e9


def test_hsdp_shards_within_a_node():
    mem = HW.memory_per_gpu(1e9, layers=1, hidden=1, seq=0, dp=64, sharding="hsdp", node=8)
    assert mem["params"] == pytest.approx(2e9 / 8)


def test_mfu_palm():
    # Chowdhery et al. 2022: 238.3K tokens/s on 6144 TPU v4 chips (275 TFLOP/s) -> MFU 46.2%
    m = HW.mfu(238.3e3, 6144 * 275e12, 540.35e9, 118, 18432, 2048)
    assert 0.455 < m < 0.47
    assert HW.hfu(238.3e3, 6144 * 275e12, 540.35e9, 1.0, 118, 18432, 2048) > m


@pytest.mark.parametrize("p,m", [(1, 1), (2, 8), (4, 4), (8, 3)])
def test_gpipe_bubble_matches_formula(p, m):
    tasks = HW.gpipe_schedule(p, m)
    assert len(tasks) == 2 * p * m
    assert math.isclose(HW.bubble_fraction(tasks, p), (p - 1) / (m + p - 1))


def test_peak_memory_counts_live_tensors():
    x = torch.randn(1000)

    def f():
        a = x * 2  # 4000 bytes
        b = a + 1  # 4000 bytes, a still alive
        del a
        return b.sum()

    peak, _ = HW.peak_memory(f)
    assert 8000 <= peak < 9000
