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

from collections import namedtuple
from typing import Callable

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
def safe_at(prior_losses, prior_passages, losses, passages, scale, o, step):
    """P(pass) at ``step`` under organisation ``o``'s beliefs, 1 - risk (what route choice multiplies up)."""
    return 1.0 - min(risk_at(prior_losses, prior_passages, losses, passages, scale, o, step), MAX_RISK)


def prior_arrays(prior_mean: np.ndarray, prior_strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The prior's losses and passages, flat over (node x conveyance), from its mean and strength."""
    flat = np.asarray(prior_mean, dtype=float).ravel()
    return flat * prior_strength, (1.0 - flat) * prior_strength


#: Where beliefs are kept: the prior (flat over node x conveyance) and each organisation's
#: evidence (rows), its discount and its keep a day.
BeliefArrays = namedtuple("BeliefArrays", ["prior_losses", "prior_passages", "losses", "passages", "scale",
                                           "keep_per_day"])


class LossBeliefs:
    """One organisation's beliefs (a view of its row of the evidence).

    ``arrays`` gives the :data:`BeliefArrays` they are kept in (the model's, read anew each
    time: its tables may be replaced as they grow); :meth:`alone` makes beliefs with arrays
    of their own (analysis, tests). ``risk``, ``losses`` and ``passages`` are arrays by
    (node, conveyance).
    """

    def __init__(self, arrays: Callable[[], BeliefArrays], row: int, n_conveyances: int) -> None:
        self.arrays, self.row, self.n_conveyances = arrays, row, n_conveyances

    @classmethod
    def alone(cls, prior_mean: np.ndarray, prior_strength: float, forgetting_per_day: float) -> LossBeliefs:
        """Beliefs of their own about ``prior_mean``'s (node, conveyance) cells, from no evidence."""
        prior_mean = np.asarray(prior_mean, dtype=float)
        prior_l, prior_p = prior_arrays(prior_mean, prior_strength)
        held = BeliefArrays(prior_l, prior_p, np.zeros((1, prior_l.size)), np.zeros((1, prior_l.size)), np.ones(1),
                            np.array([1.0 - forgetting_per_day]))
        return cls(lambda: held, 0, prior_mean.shape[1])

    def observe_loss(self, node: int, conveyance: int, weight: float = 1.0) -> None:
        """A load lost at ``node`` with ``conveyance`` (``weight``: news of another's is worth less)."""
        a = self.arrays()
        observe(a.losses, a.scale, self.row, node * self.n_conveyances + conveyance, weight)

    def observe_passages(self, nodes, conveyance: int, weight: float = 1.0) -> None:
        """Loads that passed ``nodes`` safely with ``conveyance``."""
        a = self.arrays()
        for node in nodes:
            observe(a.passages, a.scale, self.row, node * self.n_conveyances + conveyance, weight)

    def forget(self, days: float = 1.0) -> None:
        """Discount the evidence by ``days`` of forgetting."""
        a = self.arrays()
        forget(a.scale, a.keep_per_day, a.losses, a.passages, self.row, days)

    def _shaped(self, flat: np.ndarray) -> np.ndarray:
        return flat.reshape(-1, self.n_conveyances)

    @property
    def losses(self) -> np.ndarray:
        """Discounted losses seen at each (node, conveyance) (own losses, and news weighted)."""
        a = self.arrays()
        return self._shaped(a.losses[self.row] * a.scale[self.row])

    @property
    def passages(self) -> np.ndarray:
        """Discounted safe passages seen at each (node, conveyance)."""
        a = self.arrays()
        return self._shaped(a.passages[self.row] * a.scale[self.row])

    @property
    def risk(self) -> np.ndarray:
        """Posterior mean chance of losing a load at each (node, conveyance)."""
        a = self.arrays()
        lost = self._shaped(a.prior_losses) + self.losses
        return lost / (lost + self._shaped(a.prior_passages) + self.passages)
