"""Run the model at many parameter points, through the project's sweep engine.

Calibration and sensitivity analysis never loop over runs themselves: each batch of
points becomes a list of :class:`sim.sweep.Experiment` and goes to
:func:`sim.sweep.run_experiments`, which runs them in parallel (Dask) or serially and
returns one row per run with every outcome of :func:`sim.model.outcomes.summarise`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from calibration.settings import Settings


def run_points(settings: Settings, points: np.ndarray, seeds: Sequence[int], *, tag: str,
               horizon_days: int, engine: str, workers: int | None = None,
               results_dir: str | Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Simulate each row of ``points`` (parameter values, settings order) once with its seed.

    Returns the sweep table in the order of ``points``: the parameter columns, ``seed``,
    ``horizon_days``, ``status`` and the outcome columns.
    """
    from sim.sweep import Experiment, run_experiments

    points = np.atleast_2d(np.asarray(points, float))
    if len(points) != len(seeds):
        raise ValueError(f"{len(points)} points but {len(seeds)} seeds")
    experiments = [
        Experiment(run_id=f"{tag}/{i:05d}", scenario=settings.base_overrides, updates=settings.updates(x),
                   seed=int(seed), inputs={"point": i})
        for i, (x, seed) in enumerate(zip(points, seeds))
    ]
    table = run_experiments(experiments, engine=engine, workers=workers, results_dir=results_dir,
                            progress=progress, horizon_days=horizon_days)
    return table.reset_index(drop=True)


def draw_seeds(rng: np.random.Generator, n: int) -> list[int]:
    """Independent run seeds from the calibration's own generator (reproducible)."""
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=n)]
