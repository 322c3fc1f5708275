"""Small pieces for reinforcement and imitation learning (lecture 17).

    buf = ReplayBuffer(10_000, obs_dim=4, seed=0); buf.add(s, a, r, s2, done); s, a, r, s2, d = buf.sample(64)
    ep = run_episode(gymnasium.make("CartPole-v1"), policy, seed=0)      # dict of arrays + return
    env = PointRobot(noise=0.02); out = rollout(env, policy, n=100, seed=0)

`PointRobot` is a 2-D point that must get from the bottom of a square to a goal at the top
around a disk-shaped obstacle; `expert_action` is a pure-pursuit controller that tracks a
reference curve around the left or the right of the obstacle. Both sides are valid, which makes
demonstrations bimodal (the situation Diffusion Policy, Chi et al. 2023, was built for), and the
expert can label any state, which DAgger (Ross, Gordon and Bagnell, 2011) needs. Everything is
batched over episodes in numpy so that hundreds of rollouts take milliseconds.
"""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """A fixed-size circular store of transitions (s, a, r, s', done), sampled uniformly.

    Sampling old transitions at random breaks the correlation between consecutive steps that
    would otherwise make Q-learning with a neural network unstable (Mnih et al., 2013).
    """

    def __init__(self, capacity: int, obs_dim: int, seed: int = 0):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.action = np.zeros(capacity, np.int64)
        self.reward = np.zeros(capacity, np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.size = 0
        self._next = 0  # where the next transition goes (overwrites the oldest once full)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward, next_obs, done) -> None:
        i = self._next
        self.obs[i], self.action[i], self.reward[i] = obs, action, reward
        self.next_obs[i], self.done[i] = next_obs, float(done)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int):
        """(obs, action, reward, next_obs, done) arrays of `batch` transitions drawn with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer")
        idx = self.rng.integers(0, self.size, batch)
        return self.obs[idx], self.action[idx], self.reward[idx], self.next_obs[idx], self.done[idx]


def run_episode(env, policy, seed=None, max_steps: int = 10_000) -> dict:
    """Play one episode of a gymnasium environment with `policy(obs) -> action`.

    Returns {"obs": (T+1, d), "actions": (T,), "rewards": (T,), "return": float,
    "terminated": bool}: terminated is True when the environment ended the episode (a failure
    in cart-pole), False when it was cut by time (gymnasium's truncation) or by max_steps.
    """
    obs, _ = env.reset(seed=seed)
    observations, actions, rewards = [obs], [], []
    terminated = False
    for _ in range(max_steps):
        action = policy(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    rewards = np.asarray(rewards, dtype=float)
    return {"obs": np.asarray(observations), "actions": np.asarray(actions), "rewards": rewards,
            "return": float(rewards.sum()), "terminated": bool(terminated)}


class PointRobot:
    """A point in [-1, 1]^2 moved by bounded steps; start at the bottom, goal at the top, a disk
    obstacle in between. Batched: every array has one row per episode.

    An action is a displacement (dx, dy), clipped to length max_step; then Gaussian noise of
    standard deviation `noise` is added (the robot's imprecise actuation). An episode ends in
    success (within goal_radius of the goal), collision (inside the obstacle or out of bounds)
    or timeout (horizon steps).
    """

    def __init__(self, noise: float = 0.0, horizon: int = 40, max_step: float = 0.1,
                 obstacle=(0.0, 0.0), obstacle_radius: float = 0.35, goal=(0.0, 0.85),
                 start_y: float = -0.85, start_spread: float = 0.05, goal_radius: float = 0.1):
        self.noise, self.horizon, self.max_step = noise, horizon, max_step
        self.obstacle, self.obstacle_radius = np.asarray(obstacle, float), obstacle_radius
        self.goal, self.goal_radius = np.asarray(goal, float), goal_radius
        self.start_y, self.start_spread = start_y, start_spread

    def reset(self, n: int, rng) -> np.ndarray:
        """n start states: x uniform in +-start_spread, y = start_y."""
        x = rng.uniform(-self.start_spread, self.start_spread, n)
        return np.c_[x, np.full(n, self.start_y)]

    def clip(self, actions: np.ndarray) -> np.ndarray:
        norm = np.linalg.norm(actions, axis=-1, keepdims=True)
        return actions * np.minimum(1.0, self.max_step / np.maximum(norm, 1e-12))

    def step(self, states, actions, rng) -> np.ndarray:
        moved = states + self.clip(actions)
        return moved + self.noise * rng.standard_normal(states.shape) if self.noise else moved

    def collided(self, states) -> np.ndarray:
        inside = np.linalg.norm(states - self.obstacle, axis=-1) < self.obstacle_radius
        return inside | (np.abs(states) > 1.0).any(-1)

    def reached(self, states) -> np.ndarray:
        return np.linalg.norm(states - self.goal, axis=-1) < self.goal_radius


OUTCOMES = ("success", "collision", "timeout")


def rollout(env: PointRobot, policy, n: int, seed: int = 0, execute: int | None = None) -> dict:
    """Run n episodes at once with `policy(states (m, 2)) -> actions (m, 2)` or an action chunk
    (m, k, 2), of which the first `execute` (default: all k) are played before asking again.

    Returns {"states": (n, horizon+1, 2) (frozen after an episode ends), "outcome": (n,) strings
    from OUTCOMES, "steps": (n,) steps taken, "success_rate": float}.
    """
    rng = np.random.default_rng(seed)
    s = env.reset(n, rng)
    states = np.repeat(s[:, None], env.horizon + 1, axis=1)
    outcome = np.full(n, "timeout", dtype=object)
    steps = np.full(n, env.horizon)
    idx = np.arange(n)  # episodes still running
    t = 0
    while t < env.horizon and len(idx):
        chunk = np.asarray(policy(s[idx]), dtype=float)
        chunk = chunk[:, None] if chunk.ndim == 2 else chunk
        for j in range(min(chunk.shape[1], execute or chunk.shape[1], env.horizon - t)):
            s[idx] = env.step(s[idx], chunk[:, j], rng)
            t += 1
            states[idx, t:] = s[idx, None]
            hit, won = env.collided(s[idx]), env.reached(s[idx])
            outcome[idx[hit]] = "collision"
            outcome[idx[won & ~hit]] = "success"
            ended = hit | won
            steps[idx[ended]] = t
            idx, chunk = idx[~ended], chunk[~ended]   # finished episodes stay frozen
            if not len(idx):
                break
    return {"states": states, "outcome": outcome, "steps": steps,
            "success_rate": float(np.mean(outcome == "success"))}


def reference_path(side: int, env: PointRobot, amplitude: float = 0.6, branch_y: float = -0.85,
                   num: int = 201) -> np.ndarray:
    """The expert's reference curve: straight up from the start to y = branch_y, a half sine
    around the obstacle (side +1 passes right, -1 left) back to x = 0 at y = -branch_y, then
    straight to the goal. Both sides share the straight first part: the choice comes late."""
    y = np.linspace(env.start_y, env.goal[1], num)
    u = np.clip((y - branch_y) / (-2 * branch_y), 0.0, 1.0)
    return np.c_[side * amplitude * np.sin(np.pi * u), y]


def expert_action(states, side, env: PointRobot, lookahead: int = 25, **path_kw) -> np.ndarray:
    """Pure pursuit: aim at the point `lookahead` samples beyond the nearest point of the reference
    curve on `side` (+1 right, -1 left; a scalar or one per state). Defined for every state, so an
    expert can label states it never visited itself (what DAgger asks of it).
    path_kw go to reference_path (amplitude, branch_y)."""
    states = np.asarray(states, float)
    side = np.broadcast_to(np.asarray(side), (len(states),))
    out = np.zeros_like(states)
    for s in (-1, 1):
        rows = np.flatnonzero(side == s)
        if not len(rows):
            continue
        path = reference_path(s, env, **path_kw)
        d = np.linalg.norm(states[rows, None] - path[None], axis=-1)
        target = path[np.minimum(d.argmin(1) + lookahead, len(path) - 1)]
        out[rows] = env.clip(target - states[rows])
    return out


def demonstrations(env: PointRobot, sides, seed: int = 0, chunk: int = 1, **path_kw):
    """Expert episodes, one per entry of `sides` (+1 / -1), turned into training pairs.

    Returns (states (N, 2), actions (N, chunk, 2), episode (N,)): every state the expert visited
    before its episode ended, with the `chunk` actions it commanded from there on (zeros, "stay",
    past the end of the episode).
    """
    sides = np.asarray(sides)
    rng = np.random.default_rng(seed)
    states, actions, episode = [], [], []
    for s in (-1, 1):
        ids = np.flatnonzero(sides == s)
        if not len(ids):
            continue
        out = rollout(env, lambda x, s=s: expert_action(x, s, env, **path_kw), len(ids),
                      seed=int(rng.integers(2**31)))
        for k, ep in enumerate(ids):
            visited = out["states"][k, :out["steps"][k]]
            commanded = np.concatenate([expert_action(visited, s, env, **path_kw), np.zeros((chunk, 2))])
            states.append(visited)
            actions.append(np.stack([commanded[t:t + chunk] for t in range(len(visited))]))
            episode.append(np.full(len(visited), ep))
    return np.concatenate(states), np.concatenate(actions), np.concatenate(episode)
