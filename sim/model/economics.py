"""Money along the route: the price ladder and what a trip costs (bribes: :mod:`sim.model.corruption`).

Prices per kilo by place come from the MVD figures in the 2009 cable
(002_3aa904e3dc1761f0.txt ¶16): $700 in Afghanistan, $1,500 on the Afghan-Tajik border,
$4,000 in Kazakhstan, $20,000 on the Kazakh-Russian border, $25,000 in Russia, over
$30,000 in Europe. The numbers themselves live in the world config.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.params import ConveyanceSpec, Node, World


def price_at(node: Node, world: World) -> float:
    """Price of a kilo of heroin where the node stands on the price ladder (USD)."""
    return world.economics.price_usd_per_kg[node.price_zone]


def mean_load_kg(spec: ConveyanceSpec) -> float:
    """Expected load of a lognormal size distribution: median x exp(sigma^2 / 2)."""
    return spec.size.median_kg * math.exp(spec.size.sigma ** 2 / 2)


def trip_cost_usd(spec: ConveyanceSpec, km: float) -> float:
    """What a trip costs the organisation: fixed costs plus the courier's pay by distance.

    A Kyrgyz driver was paid $10,000 to take a truck to Moscow (002_3aa904e3dc1761f0.txt
    ¶18): pay per km is calibrated to that.
    """
    return spec.fixed_cost_usd + spec.courier_pay_usd_per_km * km


def trip_cost_per_kg(spec: ConveyanceSpec, km: float) -> float:
    """Expected trip cost per kilo carried, the figure organisations compare routes by."""
    return trip_cost_usd(spec, km) / mean_load_kg(spec)


@numba.njit(cache=True, inline="always")
def load_grams(median_kg, sigma, z, smaller, small_load_factor):
    """A load's size in grams: lognormal around the conveyance's median (``z``: a standard normal
    draw), times ``small_load_factor`` when the organisation is past its loss tolerance."""
    kg = math.exp(math.log(median_kg) + sigma * z)
    if smaller:
        kg *= small_load_factor
    return max(1, int(np.rint(kg * 1000.0)))


@numba.njit(cache=True, inline="always")
def staged_grams(grams, recycle_share):
    """The part of a seizure re-staged with a false courier (002 ¶27), in whole grams."""
    return int(np.rint(grams * recycle_share))
