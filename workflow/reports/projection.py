"""The forecast's model, without a database: a semi-Markov model of the steps, estimated
from stays, and what it says about the cases in the pipeline (docs/forecast.md).

A case waits in each state for a number of whole days and then leaves it for one of
the states after it (or goes back, or closes). Per state, the history gives:

- the *cause-specific hazards* h_{s→s'}(d): of the stays in s still going on day d,
  the share that left for s' on that day. The stays that ended in the estimation
  window are the events; the cases still waiting on the forecast's day are *censored*
  at the age they have reached (Kaplan–Meier: they count as at risk up to their age,
  so long waits are not lost from the estimate just because they have not ended yet);
- from these, the probability f_{s→s'}(d) that a stay lasts exactly d days and ends in
  s' (Aalen–Johansen).

`Model.first_passage(h)` gives, for a case entering each state, the probability of
reaching the goal (`probationary`: the ceremony) within 0…h days — a discrete-time
renewal equation solved day by day. `Model.reach(state, ages, h)` conditions it on the
days a case has already waited. The count of admissions is then a sum of independent
Bernoullis: `interval` gives its exact (Poisson-binomial) quantiles, or a normal
approximation over `EXACT_LIMIT` uncertain cases.

Deterministic: no random numbers anywhere; the same stays give the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

EXACT_LIMIT = 5_000  # uncertain cases up to which the count's quantiles are exact
Z_80 = 1.2815515655446004  # the normal distribution's 90th percentile


@dataclass
class Observations:
    """What the history says about the states: per state, the stays that ended
    ({(next state, days): count}) and the stays still going ({age in days: count})."""

    ended: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)
    waiting: dict[str, dict[int, int]] = field(default_factory=dict)

    def add_ended(self, state: str, next_state: str, days: int, count: int) -> None:
        into = self.ended.setdefault(state, {})
        key = (next_state, max(days, 0))
        into[key] = into.get(key, 0) + count

    def add_waiting(self, state: str, age: int, count: int) -> None:
        into = self.waiting.setdefault(state, {})
        into[max(age, 0)] = into.get(max(age, 0), 0) + count

    def stays_ended(self, state: str) -> int:
        return sum(self.ended.get(state, {}).values())

    def ended_in(self, next_state: str) -> int:
        """Stays, whatever their state, that ended by entering `next_state`."""
        return sum(n for by in self.ended.values() for (to, _), n in by.items() if to == next_state)


@dataclass(frozen=True)
class StateLaw:
    """One state's law: `density[k, d]`, the probability that a stay lasts d days and
    ends in `exits[k]`; `survival[d]`, that it lasts more than d days."""

    exits: tuple[str, ...]
    density: Array  # (len(exits), length)
    survival: Array  # (length,)

    def survival_at(self, day: int) -> float:
        if day < 0:
            return 1.0
        return float(self.survival[min(day, len(self.survival) - 1)])


def estimate(state: str, observations: Observations) -> StateLaw:
    """Kaplan–Meier / Aalen–Johansen from the ended and the still-waiting stays."""
    ended = observations.ended.get(state, {})
    waiting = observations.waiting.get(state, {})
    exits = tuple(sorted({to for to, _ in ended}))
    length = max([d for _, d in ended] + list(waiting) + [0]) + 1
    events = np.zeros((len(exits), length))
    for (to, days), n in ended.items():
        events[exits.index(to), days] += n
    censored = np.zeros(length)
    for age, n in waiting.items():
        censored[age] += n
    leaving = events.sum(axis=0) + censored
    at_risk = np.cumsum(leaving[::-1])[::-1]  # stays lasting at least d days
    with np.errstate(divide="ignore", invalid="ignore"):
        hazards = np.where(at_risk > 0, events / np.where(at_risk > 0, at_risk, 1), 0.0)
    survival = np.cumprod(1.0 - hazards.sum(axis=0))
    before = np.concatenate(([1.0], survival[:-1]))
    return StateLaw(exits, hazards * before, survival)


class Model:
    """The states a case can still be in before the goal, each with its law."""

    def __init__(self, states: Sequence[str], goal: str, observations: Observations) -> None:
        self.states = tuple(states)
        self.goal = goal
        self.laws = {s: estimate(s, observations) for s in self.states}
        self._index = {s: i for i, s in enumerate(self.states)}
        self._cache: dict[int, Array] = {}

    def _kernels(self, length: int) -> tuple[Array, Array]:
        """(moves[d, i, j]: f_{i→j}(d) between model states, to_goal[d, i]: f_{i→goal}(d))
        for d < length."""
        size = len(self.states)
        moves = np.zeros((length, size, size))
        to_goal = np.zeros((length, size))
        for i, state in enumerate(self.states):
            law = self.laws[state]
            span = min(length, law.density.shape[1])
            for k, exit_state in enumerate(law.exits):
                if exit_state == self.goal:
                    to_goal[:span, i] += law.density[k, :span]
                elif exit_state in self._index:
                    moves[:span, i, self._index[exit_state]] += law.density[k, :span]
        return moves, to_goal

    def first_passage(self, horizon: int) -> Array:
        """F[i, t]: the probability that a case entering state i reaches the goal within
        t days, for t = 0 … horizon.

        F_i(t) = Σ_d f_{i→goal}(d) [d ≤ t] + Σ_j Σ_{d≤t} f_{i→j}(d) F_j(t − d). The
        same-day moves (d = 0) are solved exactly at each t: F(t) = (I − M₀)⁻¹ (…)."""
        longest = max(self._cache, default=-1)
        if horizon <= longest:  # F(t) does not depend on the horizon: a prefix serves
            return self._cache[longest][:, : horizon + 1]
        size = len(self.states)
        moves, to_goal = self._kernels(horizon + 1)
        reach_goal = np.cumsum(to_goal, axis=0)  # [t, i]: directly to the goal by t
        solve = np.linalg.inv(np.eye(size) - moves[0])
        # moves as one matrix [i, d·size + j], and F kept newest-first in `reverse`, so
        # Σ_{d=1..t} M_d F(t − d) is one matrix-vector product of two contiguous slices.
        flat = moves.transpose(1, 0, 2).reshape(size, (horizon + 1) * size)
        reverse = np.zeros((horizon + 1) * size)
        history = np.zeros((horizon + 1, size))  # [t, j] = F_j(t)
        for t in range(horizon + 1):
            later = flat[:, size : (t + 1) * size] @ reverse[(horizon - t + 1) * size :]
            history[t] = solve @ (reach_goal[t] + later)
            reverse[(horizon - t) * size : (horizon - t + 1) * size] = history[t]
        result: Array = np.clip(history.T, 0.0, 1.0)
        self._cache = {horizon: result}
        return result

    def reach(self, state: str, ages: Sequence[int], horizon: int) -> Array:
        """For cases in `state` that have waited `ages` days (and not left): the
        probability of reaching the goal within `horizon` more days."""
        if horizon <= 0 or state not in self._index:
            return np.zeros(len(ages))
        passage = self.first_passage(horizon)
        law = self.laws[state]
        top = max(ages) + horizon + 1
        density = np.zeros((len(law.exits), top))
        span = min(top, law.density.shape[1])
        density[:, :span] = law.density[:, :span]
        chances = np.zeros(len(ages))
        for k, exit_state in enumerate(law.exits):
            if exit_state == self.goal:
                after = np.ones(horizon)
            elif exit_state in self._index:
                after = passage[self._index[exit_state], horizon - 1 :: -1][:horizon]
            else:
                continue
            # Σ_{u=1..h} f(a + u) · F_exit(h − u), for every age a at once.
            by_age = np.correlate(density[k, 1:], after, mode="valid")
            chances += by_age[np.asarray(ages)]
        alive = np.array([law.survival_at(a) for a in ages])
        with np.errstate(divide="ignore", invalid="ignore"):
            result: Array = np.clip(np.where(alive > 0, chances / alive, 0.0), 0.0, 1.0)
        return result

    def fresh(self, state: str, horizon: int) -> float:
        """The probability that a case entering `state` today reaches the goal within
        `horizon` days (a nomination made today: state `nominated`)."""
        if horizon < 0 or state not in self._index:
            return 0.0
        return float(self.first_passage(horizon)[self._index[state], horizon])

    def usual_days(self, state: str, span: int) -> int | None:
        """The median time, in days, from entering `state` to the goal among the cases
        that reach it within `span` days (the usual time from a nomination to the
        ceremony); None when none does."""
        if state not in self._index:
            return None
        passage = self.first_passage(span)[self._index[state]]
        reached = float(passage[-1])
        if reached <= 0:
            return None
        return int(np.searchsorted(passage, reached / 2))

    def from_pace(self, state: str, per_day: float, horizon: int) -> float:
        """Expected goals by the horizon from cases entering `state` at `per_day` a day
        from tomorrow on: Σ_{u=1..h} per_day · F(h − u)."""
        if horizon <= 0 or per_day <= 0 or state not in self._index:
            return 0.0
        passage = self.first_passage(horizon)[self._index[state]]
        return float(per_day * passage[:horizon].sum())


@dataclass(frozen=True)
class Interval:
    """The 10th and 90th percentiles of a count, and how they were found."""

    low: int
    high: int
    exact: bool


def interval(groups: Iterable[tuple[float, int]], level: float = 0.8) -> Interval:
    """The central `level` interval of a sum of independent Bernoullis, given as
    (probability, how many cases share it): low is the smallest k with P(X ≤ k) ≥ 10 %,
    high the smallest with P(X ≤ k) ≥ 90 %, so P(low ≤ X ≤ high) ≥ 80 %.

    Exact (the Poisson-binomial law, convolved case by case) up to EXACT_LIMIT cases
    whose outcome is uncertain; beyond, the normal approximation with a continuity
    correction, which is then very close (the variance is in the hundreds)."""
    tail = (1.0 - level) / 2
    certain, uncertain = 0, []
    for p, n in groups:
        if p >= 1.0:
            certain += n
        elif p > 0.0:
            uncertain += [p] * n
    if len(uncertain) <= EXACT_LIMIT:
        law = np.ones(1)
        for p in uncertain:
            law = np.concatenate((law * (1 - p), [0.0])) + np.concatenate(([0.0], law * p))
        cumulative = np.cumsum(law)
        low = int(np.searchsorted(cumulative, tail - 1e-12))
        high = int(np.searchsorted(cumulative, 1 - tail - 1e-12))
        return Interval(certain + low, certain + min(high, len(uncertain)), True)
    probabilities = np.asarray(uncertain)
    mean = float(probabilities.sum())
    spread = math.sqrt(float((probabilities * (1 - probabilities)).sum()))
    z = Z_80 if level == 0.8 else _normal_quantile(1 - tail)
    low = max(0, math.ceil(mean - z * spread - 0.5))
    high = min(len(uncertain), math.floor(mean + z * spread + 0.5))
    return Interval(certain + low, certain + high, False)


def _normal_quantile(p: float) -> float:
    """The standard normal quantile by bisection on erf (levels other than 80 %)."""
    low, high = -10.0, 10.0
    for _ in range(100):
        middle = (low + high) / 2
        if 0.5 * (1 + math.erf(middle / math.sqrt(2))) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def poisson_interval(mean: float, level: float = 0.8) -> Interval:
    """The central interval of a Poisson count (admissions from future nominations)."""
    tail = (1.0 - level) / 2
    if mean <= 0:
        return Interval(0, 0, True)
    if mean > 1_000:
        spread = math.sqrt(mean)
        z = _normal_quantile(1 - tail)
        return Interval(
            max(0, math.ceil(mean - z * spread - 0.5)), math.floor(mean + z * spread + 0.5), False
        )
    k, term = 0, math.exp(-mean)
    total, low = term, None
    while total < 1 - tail - 1e-12:
        if low is None and total >= tail - 1e-12:
            low = k
        k += 1
        term *= mean / k
        total += term
    return Interval(k if low is None else low, k, True)
