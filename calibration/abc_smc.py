"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), on numpy/scipy.

The variant is Adaptive Population Monte Carlo ABC (Lenormand, Jabot & Deffuant 2013,
*Computational Statistics* 28:2777), chosen because it works in fixed-size batches, which
is how the sweep engine runs simulations in parallel:

1. generation 0: draw ``batch`` points from the prior, simulate each once, keep the
   ``population`` closest to the data; the tolerance is the largest distance kept;
2. generation t: draw ``batch`` new points from the previous population (weighted),
   each moved by a Gaussian kernel (variance ``kernel_scale`` x the population's weighted
   variance, Beaumont et al. 2009, truncated to the prior's support); simulate them;
   give each the importance weight prior / proposal density; pool them with the previous
   population and keep the ``population`` closest; the tolerance shrinks to the largest
   distance kept;
3. stop after ``generations`` or when fewer than ``min_acceptance`` of the new points
   make it into the population (the tolerance no longer moves).

The final weighted population approximates the posterior given the distance and
tolerance. Parameters live in the unit cube here (the prior is uniform over each
parameter's range, see :mod:`calibration.settings`); the caller maps them to values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

#: simulate(unit points, generation) -> (distance of each point, the runs' table rows)
Simulator = Callable[[np.ndarray, int], tuple[np.ndarray, pd.DataFrame]]


@dataclass
class Generation:
    """One SMC generation: the population kept and how it was reached."""

    index: int
    epsilon: float                 # tolerance: the largest distance in the population
    points: np.ndarray             # (population x parameters), unit cube
    weights: np.ndarray            # normalised importance weights
    distances: np.ndarray
    rows: pd.DataFrame             # the simulation behind each particle
    simulated: int                 # simulations run in this generation
    acceptance: float              # share of this generation's new points kept
    raw_total: float = 1.0         # sum of the kept raw importance weights (to pool with the next batch)

    @property
    def ess(self) -> float:
        """Effective sample size of the weighted population."""
        return float(self.weights.sum() ** 2 / (self.weights ** 2).sum())


@dataclass
class ABCResult:
    generations: list[Generation] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    @property
    def simulations(self) -> int:
        return sum(g.simulated for g in self.generations)

    def history(self) -> pd.DataFrame:
        return pd.DataFrame([{"generation": g.index, "epsilon": g.epsilon, "simulations": g.simulated,
                              "acceptance": g.acceptance, "ess": g.ess, "population": len(g.weights),
                              "median_distance": float(np.median(g.distances))}
                             for g in self.generations])


def abc_smc(simulate: Simulator, dim: int, *, population: int, batch: int, generations: int,
            rng: np.random.Generator, kernel_scale: float = 2.0, min_acceptance: float = 0.0,
            log: Callable[[str], None] = print) -> ABCResult:
    """Run APMC-ABC over the unit cube ``[0, 1]^dim`` (uniform prior).

    Args:
        simulate: runs a batch of points (one simulation each) and returns their
            distances to the data (``inf`` for a failed or undefined run) and the rows.
        dim: number of parameters.
        population: particles kept each generation.
        batch: new points simulated each generation (>= population).
        generations: SMC generations after generation 0.
        rng: the calibration's random generator (points and kernels).
        kernel_scale: kernel variance as a multiple of the weighted population variance.
        min_acceptance: stop when a smaller share of the new points is kept.
    """
    if batch < population or population < 2:
        raise ValueError("need population >= 2 and batch >= population")
    result = ABCResult()
    points = rng.random((batch, dim))
    d, rows = simulate(points, 0)
    gen = _select(0, points, np.ones(batch), np.asarray(d, float), rows.reset_index(drop=True),
                  population, simulated=batch, n_new=batch)
    result.generations.append(gen)
    log(_describe(gen))
    for t in range(1, generations + 1):
        prev = result.final
        sd = _kernel_sd(prev.points, prev.weights, kernel_scale)
        new = _propose(prev.points, prev.weights, sd, batch, rng)
        d_new, rows_new = simulate(new, t)
        w_new = 1.0 / _proposal_density(new, prev.points, prev.weights, sd)
        pooled_points = np.vstack([prev.points, new])
        pooled_w = np.concatenate([prev.weights * prev.raw_total, w_new])
        pooled_d = np.concatenate([prev.distances, np.asarray(d_new, float)])
        pooled_rows = pd.concat([prev.rows, rows_new.reset_index(drop=True)], ignore_index=True)
        gen = _select(t, pooled_points, pooled_w, pooled_d, pooled_rows, population, simulated=batch,
                      n_new=batch)
        result.generations.append(gen)
        log(_describe(gen))
        if gen.acceptance < min_acceptance:
            result.stopped_early = True
            log(f"abc: stopping: only {gen.acceptance:.1%} of new points beat the tolerance")
            break
    return result


def _select(index: int, points, raw_w, d, rows: pd.DataFrame, population: int, *, simulated: int,
            n_new: int) -> Generation:
    """Keep the ``population`` closest finite particles; the newest ``n_new`` are the last rows."""
    finite = np.flatnonzero(np.isfinite(d))
    if len(finite) < 2:
        raise RuntimeError("abc: fewer than two simulations gave a finite distance; check the targets' outputs")
    order = finite[np.argsort(d[finite], kind="stable")][:population]
    n_old = len(d) - n_new
    kept_new = int((order >= n_old).sum())
    w = raw_w[order]
    return Generation(index=index, epsilon=float(d[order].max()), points=points[order], weights=w / w.sum(),
                      distances=d[order], rows=rows.iloc[order].reset_index(drop=True), simulated=simulated,
                      acceptance=kept_new / n_new, raw_total=float(w.sum()))


def _kernel_sd(points: np.ndarray, weights: np.ndarray, scale: float) -> np.ndarray:
    """Per-parameter kernel sd: sqrt(scale x weighted variance), floored to stay proper."""
    mean = weights @ points
    var = weights @ (points - mean) ** 2
    return np.sqrt(np.maximum(scale * var, 1e-8))


def _propose(points: np.ndarray, weights: np.ndarray, sd: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Resample parents by weight and move each by a Gaussian truncated to [0, 1]."""
    parents = points[rng.choice(len(points), size=n, p=weights)]
    a, b = (0.0 - parents) / sd, (1.0 - parents) / sd
    return stats.truncnorm.rvs(a, b, loc=parents, scale=sd, random_state=rng)


def _proposal_density(x: np.ndarray, points: np.ndarray, weights: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Density of the truncated-Gaussian mixture proposal at each row of ``x``."""
    # (new, parent, dim) standardised distances; truncation mass of each parent's kernel
    z = (x[:, None, :] - points[None, :, :]) / sd
    mass = stats.norm.cdf((1.0 - points) / sd) - stats.norm.cdf((0.0 - points) / sd)
    log_k = (stats.norm.logpdf(z) - np.log(sd)).sum(axis=2) - np.log(mass).sum(axis=1)[None, :]
    return np.exp(log_k) @ weights


def _describe(gen: Generation) -> str:
    return (f"abc: generation {gen.index}: tolerance {gen.epsilon:.3f}, median distance "
            f"{np.median(gen.distances):.3f}, {gen.acceptance:.0%} of new points kept, ESS {gen.ess:.0f}")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoints)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)
