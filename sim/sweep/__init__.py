"""Sweeps: many runs of the model (levers x uncertainties x replications), in parallel.

The project's one way to run many simulations; comparisons of interventions and the
calibration call :func:`run_experiments` too. See ``docs/sweeps.md``.

    from sim.sweep import Experiment, run_experiments, summarise_results
    exps = [Experiment(f"cu/rep{r}", ("regime=customs_union",), seed=r) for r in range(10)]
    table = run_experiments(exps, engine="processes", results_dir="results/sweeps/cu")
"""

from sim.sweep.experiment import Experiment, replication_seeds
from sim.sweep.runner import (ENGINES, SweepInterrupted, close_local_cluster, failure_report, run_experiments,
                              sigterm_as_interrupt)
from sim.sweep.store import SweepMismatchError, load_details
from sim.sweep.summary import outcome_columns, summarise_results

__all__ = [
    "ENGINES",
    "Experiment",
    "close_local_cluster",
    "SweepInterrupted",
    "SweepMismatchError",
    "failure_report",
    "load_details",
    "outcome_columns",
    "replication_seeds",
    "run_experiments",
    "sigterm_as_interrupt",
    "summarise_results",
]
