"""What an organisation believes about the risk of losing a load: evidence, not events.

For each node and conveyance an organisation holds a Beta-Bernoulli belief about the
chance that a load passing there is lost: a Beta prior (its mean by node kind, worth a
number of passages) updated by what the organisation has seen: its own losses and safe
passages there, and news of other organisations' seizures (each worth a fraction of an
own loss). Old evidence is discounted day by day, so the belief follows a change in the
real risk, as in NarcoLogic (Magliocca et al. 2019), where traffickers' perceived risk of
a node is a running, forgetting tally of interdictions and successful passages.

With the real chance of a seizure per passage near 0.5%, one seizure after a hundred safe
passages moves the belief by about one percentage point, not from 6% to 53%.

The evidence is kept in the organisations' rows of the run's state
(:mod:`sim.model.state`: ``belief_losses``, ``belief_passages``, ``belief_scale``), flat
over (node x conveyance). Forgetting is lazy: the evidence is stored divided by the
running discount ``belief_scale`` (the product of a day's keep over the days elapsed), so
a day's forgetting is one multiplication, and the true evidence (stored x scale) is
computed where a belief is read. The updates and the reading are compiled functions,
which both engines call.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: below this discount the stored evidence is rescaled (kept far from underflow)
RESCALE_BELOW = 1e-100
#: the chance of loss is read as at most this (a node is never believed a sure loss)
MAX_RISK = 0.999999


@numba.njit(cache=True)
def forget(scale, keep_per_day, losses, passages, o, days):
    """Organisation ``o`` discounts all its evidence by the days elapsed (the prior is never forgotten)."""
    keep = keep_per_day[o]
    if keep < 1.0:
        scale[o] *= keep if days == 1.0 else keep ** days
        if scale[o] < RESCALE_BELOW:
            for step in range(losses.shape[1]):
                losses[o, step] *= scale[o]
                passages[o, step] *= scale[o]
            scale[o] = 1.0


@numba.njit(cache=True, inline="always")
def observe(evidence, scale, o, step, weight):
    """Organisation ``o`` sees ``weight`` of evidence at ``step`` (node x n_conveyances + conveyance):
    a loss there (``evidence``: its losses) or a safe passage (its passages)."""
    evidence[o, step] += weight / scale[o]


@numba.njit(cache=True, inline="always")
def risk_at(prior_losses, prior_passages, losses, passages, scale, o, step):
    """Organisation ``o``'s posterior mean chance of losing a load at ``step``."""
    lost = prior_losses[step] + losses[o, step] * scale[o]
    return lost / (lost + prior_passages[step] + passages[o, step] * scale[o])


@numba.njit(cache=True, inline="always")
def log_safe_at(prior_losses, prior_passages, losses, passages, scale, o, step):
    """log P(pass) at ``step`` under organisation ``o``'s beliefs (what route choice adds up)."""
    return math.log1p(-min(risk_at(prior_losses, prior_passages, losses, passages, scale, o, step), MAX_RISK))


def prior_arrays(prior_mean: np.ndarray, prior_strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The prior's losses and passages, flat over (node x conveyance), from its mean and strength."""
    flat = np.asarray(prior_mean, dtype=float).ravel()
    return flat * prior_strength, (1.0 - flat) * prior_strength


class LossBeliefs:
    """One organisation's beliefs, read from its row of the run's state (a view).

    ``risk``, ``losses`` and ``passages`` are arrays by (node, conveyance); the learning
    itself goes through :func:`observe` and :func:`forget`.
    """

    def __init__(self, model, row: int) -> None:
        self.model, self.row = model, row

    @property
    def _orgs(self):
        return self.model.state.orgs

    def _shaped(self, flat: np.ndarray) -> np.ndarray:
        return flat.reshape(len(self.model.node_ids), -1)

    @property
    def losses(self) -> np.ndarray:
        """Discounted losses seen at each (node, conveyance) (own losses, and news weighted)."""
        orgs = self._orgs
        return self._shaped(orgs.belief_losses[self.row] * orgs.belief_scale[self.row])

    @property
    def passages(self) -> np.ndarray:
        """Discounted safe passages seen at each (node, conveyance)."""
        orgs = self._orgs
        return self._shaped(orgs.belief_passages[self.row] * orgs.belief_scale[self.row])

    @property
    def risk(self) -> np.ndarray:
        """Posterior mean chance of losing a load at each (node, conveyance)."""
        prior_l, prior_p = self.model.prior_losses, self.model.prior_passages
        lost = self._shaped(prior_l) + self.losses
        return lost / (lost + self._shaped(prior_p) + self.passages)
