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
"""

from __future__ import annotations

import numpy as np


class LossBeliefs:
    """Beta posteriors of the chance of loss, one per (node, conveyance).

    Forgetting is lazy: the evidence is stored divided by the running discount
    ``scale`` (the product of a day's keep over the days elapsed), so a day's forgetting
    is one multiplication, not two array operations per organisation and day, and the
    true evidence (``stored x scale``) is computed only when a belief is read.
    """

    #: below this discount the stored evidence is rescaled (kept far from underflow)
    RESCALE_BELOW = 1e-100

    def __init__(self, prior_mean: np.ndarray, prior_strength: float, forgetting_per_day: float):
        self.prior_losses = prior_mean * prior_strength
        self.prior_passages = (1.0 - prior_mean) * prior_strength
        self._losses = np.zeros_like(prior_mean, dtype=float)     # discounted evidence / scale
        self._passages = np.zeros_like(prior_mean, dtype=float)
        self.scale = 1.0
        self.keep_per_day = 1.0 - forgetting_per_day
        self._log_safe: np.ndarray | None = None

    def retune(self, prior_mean: np.ndarray, prior_strength: float, forgetting_per_day: float) -> None:
        """A new prior and forgetting (rules changed mid-run); the evidence seen is kept."""
        losses, passages = prior_mean * prior_strength, (1.0 - prior_mean) * prior_strength
        if not (np.array_equal(losses, self.prior_losses) and np.array_equal(passages, self.prior_passages)):
            self.prior_losses, self.prior_passages, self._log_safe = losses, passages, None
        self.keep_per_day = 1.0 - forgetting_per_day

    def forget(self, days: float = 1.0) -> None:
        """Discount all evidence by the days elapsed (the prior is never forgotten)."""
        if self.keep_per_day < 1.0:
            self.scale *= self.keep_per_day ** days
            self._log_safe = None
            if self.scale < self.RESCALE_BELOW:
                self._losses *= self.scale
                self._passages *= self.scale
                self.scale = 1.0

    def observe_loss(self, node: int, conveyance: int, weight: float = 1.0) -> None:
        self._losses[node, conveyance] += weight / self.scale
        self._log_safe = None

    def observe_passages(self, nodes, conveyance: int, weight: float = 1.0) -> None:
        self._passages[nodes, conveyance] += weight / self.scale
        self._log_safe = None

    def observe_steps(self, flat_steps: np.ndarray, weight: float = 1.0) -> None:
        """Passages at ``flat_steps`` (node x n_conveyances + conveyance, as route menus index
        beliefs; each at most once: a route never revisits a node): one array operation."""
        self._passages.reshape(-1)[flat_steps] += weight / self.scale
        self._log_safe = None

    @property
    def losses(self) -> np.ndarray:
        """Discounted losses seen at each (node, conveyance) (own losses, and news weighted)."""
        return self._losses * self.scale

    @property
    def passages(self) -> np.ndarray:
        """Discounted safe passages seen at each (node, conveyance)."""
        return self._passages * self.scale

    @property
    def risk(self) -> np.ndarray:
        """Posterior mean chance of losing a load at each (node, conveyance)."""
        a = self.prior_losses + self.losses
        return a / (a + self.prior_passages + self.passages)

    def log_safe(self) -> np.ndarray:
        """log P(pass) per (node, conveyance), flattened as route menus index it (cached)."""
        if self._log_safe is None:
            self._log_safe = np.log1p(-np.minimum(self.risk, 0.999999)).ravel()
        return self._log_safe
