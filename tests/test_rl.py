"""Replay buffer, episode runner and the point-robot world of lecture 17."""

import gymnasium as gym
import numpy as np
import pytest

from helpers import rl


def test_replay_buffer_wraps_around_and_samples_stored_transitions():
    buf = rl.ReplayBuffer(5, obs_dim=2, seed=0)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1)
    for i in range(8):  # 8 > capacity: the 3 oldest are overwritten
        buf.add([i, -i], i % 2, float(i), [i + 1, -i - 1], i == 7)
    assert len(buf) == 5
    assert sorted(buf.reward.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    obs, act, rew, nxt, done = buf.sample(200)
    assert obs.shape == (200, 2) and act.dtype == np.int64
    assert np.all(nxt[:, 0] == obs[:, 0] + 1) and np.all(obs[:, 0] == rew)  # rows stay aligned
    assert set(done.tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError):
        rl.ReplayBuffer(0, obs_dim=1)


def test_run_episode_on_cartpole_is_deterministic_and_consistent():
    env = gym.make("CartPole-v1")
    always_left = lambda obs: 0  # noqa: E731 - falls within a few dozen steps
    a, b = rl.run_episode(env, always_left, seed=3), rl.run_episode(env, always_left, seed=3)
    assert np.array_equal(a["obs"], b["obs"]) and a["terminated"]
    assert len(a["obs"]) == len(a["actions"]) + 1 == len(a["rewards"]) + 1
    assert a["return"] == len(a["rewards"]) < 100
    cut = rl.run_episode(env, lambda obs: int(obs[2] + 0.5 * obs[3] > 0), seed=0, max_steps=50)
    assert cut["return"] == 50 and not cut["terminated"]


def test_point_robot_outcomes():
    env = rl.PointRobot(horizon=30)
    up = lambda s: np.tile([0.0, 1.0], (len(s), 1))  # noqa: E731 - straight into the obstacle
    out = rl.rollout(env, up, n=7, seed=0)
    assert np.all(out["outcome"] == "collision") and out["success_rate"] == 0.0
    assert out["states"].shape == (7, 31, 2)
    # a step is clipped to max_step, and states stay frozen after the episode ends
    steps = np.diff(out["states"], axis=1)
    assert np.linalg.norm(steps, axis=-1).max() <= env.max_step + 1e-12
    k = out["steps"][0]
    assert np.all(out["states"][0, k:] == out["states"][0, k])
    stay = rl.rollout(env, lambda s: np.zeros_like(s), n=3, seed=0)
    assert np.all(stay["outcome"] == "timeout") and np.all(stay["steps"] == 30)


@pytest.mark.parametrize("side", [1, -1])
def test_expert_reaches_goal_on_its_side_with_chunks_too(side):
    env = rl.PointRobot(noise=0.02)
    out = rl.rollout(env, lambda s: rl.expert_action(s, side, env), n=50, seed=1)
    assert out["success_rate"] == 1.0
    assert np.all(np.sign(out["states"][:, :, 0].sum(1)) == side)
    chunked = lambda s: np.repeat(rl.expert_action(s, side, env)[:, None], 3, axis=1)  # noqa: E731
    assert rl.rollout(env, chunked, n=20, seed=2, execute=2)["success_rate"] > 0.9


def test_demonstrations_pair_states_with_the_expert_actions():
    env = rl.PointRobot()
    S, A, ep = rl.demonstrations(env, np.array([1, -1, 1]), seed=0, chunk=4, branch_y=-0.6, amplitude=0.65)
    assert S.shape == (len(A), 2) and A.shape[1:] == (4, 2) and set(ep.tolist()) == {0, 1, 2}
    first = np.flatnonzero(ep == 1)[0]
    assert np.allclose(A[first, 0], rl.expert_action(S[first:first + 1], -1, env, branch_y=-0.6, amplitude=0.65)[0])
    last = np.flatnonzero(ep == 0)[-1]
    assert np.all(A[last, 1:] == 0)  # past the end of an episode the chunk says "stay"
