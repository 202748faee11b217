"""Vectorised random draws shared by the population model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fuwu.population import parameters as P

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def banded(age: Ints, bands: Sequence[tuple[int, Any]]) -> Any:
    """The value of the band each age falls in: bands are (start age, value), ascending; 0 below the first."""
    starts = np.array([b[0] for b in bands])
    values = np.array([np.zeros_like(np.asarray(bands[0][1], dtype=np.float64)), *[b[1] for b in bands]])
    return values[np.searchsorted(starts, age, side="right")]


def calibrated(rng: np.random.Generator, risk: Floats, count: float) -> Bools:
    """Draw yes/no with probability proportional to ``risk`` so that the expected count is ``count``.

    Keeps each published or modelled share exact in expectation whatever the batch's make-up, while
    the risk tables only shape who is chosen.
    """
    total = float(risk.sum())
    p = np.minimum(risk * (count / total if total > 0 else 0.0), 0.95)
    chosen: Bools = rng.random(len(risk)) < p
    return chosen


def categorical(rng: np.random.Generator, probabilities: Floats) -> Ints:
    """One draw per row of an (n, k) matrix of probabilities → index 0..k-1."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    drawn: Ints = np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1).astype(np.int64)
    return drawn


def choice(rng: np.random.Generator, n: int, table: tuple[tuple[int, ...], tuple[float, ...]]) -> Ints:
    values, probs = table
    drawn: Ints = np.asarray(values, dtype=np.int64)[rng.choice(len(values), size=n, p=probs)]
    return drawn


def ages_between(rng: np.random.Generator, n: int, low: int, high: int, cdf: Floats, tilt: float = 0.0) -> Floats:
    """Ages in [low, high) following the pyramid; ``tilt`` > 0 leans towards the older end."""
    weights = np.diff(np.concatenate(([0.0], cdf)))[low:high]
    if tilt:
        weights = weights * (1 + tilt * np.arange(high - low) / 10)
    local = np.cumsum(weights / weights.sum())
    years = low + np.minimum(np.searchsorted(local, rng.random(n), side="right"), high - low - 1)
    ages: Floats = years + rng.random(n)
    return ages


def pyramid_between(rng: np.random.Generator, low: Floats, high: Floats, cdf: Floats) -> Floats:
    """One age per person in [low, high) from the pyramid (uniform within each year of age).

    Relatives' ages drawn this way already follow the pyramid closely, so the rank matching in
    assign_ages hardly moves anyone and the gaps between generations survive it.
    """
    density = np.diff(np.concatenate(([0.0], cdf)))
    below = np.concatenate(([0.0], cdf))

    def continuous_cdf(x: Floats) -> Floats:
        x = np.clip(x, 0.0, P.MAX_AGE + 1.0)
        year = np.minimum(np.floor(x).astype(np.int64), P.MAX_AGE)
        value: Floats = below[year] + (x - year) * density[year]
        return value

    start = continuous_cdf(low)
    end = np.maximum(continuous_cdf(high), start)
    u = start + rng.random(len(start)) * (end - start)
    year = np.minimum(np.searchsorted(cdf, u, side="right"), P.MAX_AGE)
    within = (u - below[year]) / np.maximum(density[year], 1e-12)
    ages: Floats = year + np.clip(within, 0.0, 0.999)
    return ages
