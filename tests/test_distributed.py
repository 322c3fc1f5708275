"""Lecture 11's parallel strategies really run on 2 processes (torch.distributed, gloo) and give
the single-process result: one launch runs every demo (process start-up costs seconds)."""

from __future__ import annotations

import pytest
import torch

from helpers import distributed as D

CFG = {**D.DEFAULTS, "steps": 3}


@pytest.fixture(scope="module")
def results():
    return D.launch(D.run_all, world_size=2, timeout=180, cfg=CFG)


def test_collectives(results):
    r0, r1 = (r["collectives"] for r in results)
    assert torch.equal(r0["all_reduce"], r0["input"] + r1["input"])
    assert torch.equal(r0["all_gather"], torch.cat([r0["input"], r1["input"]]))
    assert torch.equal(torch.cat([r0["reduce_scatter"], r1["reduce_scatter"]]), r0["all_reduce"])


def test_ddp_equals_single_process(results):
    single = D.train_single(CFG)
    for r in results:
        assert D.max_diff(r["ddp"]["state"], single) < 1e-5


def test_fsdp_equals_ddp_and_halves_memory(results):
    for r in results:
        assert D.max_diff(r["fsdp"]["state"], r["ddp"]["state"]) < 1e-5
        ddp, fsdp = r["ddp"]["memory"], r["fsdp"]["memory"]
        for part in ("params", "grads", "adam"):
            assert fsdp[part] <= ddp[part] / 2 + 16  # half, up to the padding of a layer
    layers = CFG["depth"]
    assert results[0]["fsdp"]["calls"] == {"all_gather": 2 * layers * CFG["steps"],
                                           "reduce_scatter": layers * CFG["steps"]}


def test_fully_shard_equals_ddp_when_it_runs(results):
    fs = results[0]["fully_shard"]
    if fs["error"] is not None:
        pytest.skip(f"fully_shard does not run here: {fs['error']}")
    assert D.max_diff(fs["state"], results[0]["ddp"]["state"]) < 1e-5


def test_tensor_parallel_mlp_equals_unsharded(results):
    w1, b1, w2, b2, x = D.tp_weights(CFG["tp_d"], CFG["tp_hidden"], CFG["seed"])
    for r in results:
        assert torch.allclose(r["tp"]["y"], D.mlp_reference(w1, b1, w2, b2, x), atol=1e-5)
        assert r["tp"]["all_reduces"] == 1


def test_ring_attention_equals_full_attention(results):
    full = D.attention_reference(*D.qkv(CFG["seq"], CFG["head_dim"], CFG["seed"]))
    for rank, r in enumerate(results):
        assert torch.allclose(r["ring"]["out"], full, atol=1e-5)
        assert sorted(r["ring"]["blocks_seen"]) == [0, 1] and r["ring"]["blocks_seen"][0] == rank


def test_ulysses_equals_multi_head_attention(results):
    q, k, v = (t.view(CFG["seq"], CFG["heads"], -1) for t in D.mh_qkv(CFG))
    full = D.mha_reference(q, k, v)
    for r in results:
        assert torch.allclose(r["ulysses"]["out"], full, atol=1e-5)


def _fails(rank, world_size):
    if rank == 1:
        raise ValueError("boom")
    return rank


def test_a_failing_worker_is_named():
    with pytest.raises(RuntimeError, match="rank 1 of _fails failed first: ValueError: boom"):
        D.launch(_fails, world_size=2, timeout=60)
