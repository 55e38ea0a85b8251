"""The model as an EMA workbench model, defined by a sweep file (optional: ``pip install -e ".[ema]"``).

The `EMA workbench <https://emaworkbench.readthedocs.io>`_ (3.x) is the exploratory
modellers' toolkit: scenario discovery (PRIM), robust decision making, many-objective
search. :func:`ema_model` reads a sweep file with :func:`sim.sweep.design.load_sweep` (the
one way to read one) and returns an :class:`ema_workbench.ReplicatorModel` whose

- **levers** are one categorical parameter ``lever`` whose categories are the sweep's
  levers (each a list of Hydra overrides; :func:`lever_policies` gives one policy each);
- **uncertainties** are the sweep's uncertainties, same ranges: ``{low, high}`` as a
  ``RealParameter`` (``IntegerParameter`` with ``integer: true``), ``{values: [...]}`` as
  a ``CategoricalParameter``, ``{range: provenance}`` as the range in
  ``scenarios/provenance.yaml``. EMA 3 wants names that are Python identifiers, so
  ``world.flow.supply_multiplier`` is the parameter ``world__flow__supply_multiplier``
  (its ``variable_name`` stays the dotted key);
- **replications** are the sweep's ``replications``, with the sweep's seeds: replication
  r has the same seed in every experiment (common random numbers, as in our sweeps);
- **outcomes** are keys of the model's summary (:func:`sim.model.outcomes.summarise`), one
  ``ArrayOutcome`` each (one value per replication; ``ema_workbench.process_replications``
  averages them), or, with ``aggregate=numpy.mean``, a ``ScalarOutcome`` named
  ``<key>_mean`` (EMA keeps one outcome class per name in a process).

Each run goes through :func:`sim.sweep.worker.run_experiment`, exactly as in a sweep
(composed once per process, then updated), so a point of an EMA experiment gives the
numbers of the same point in ``python -m sim.sweep``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sim.params import ConfigError
from sim.sweep.design import Sweep, Uncertainty, load_sweep, validate_sweep
from sim.sweep.experiment import Experiment, replication_seeds

#: Outcomes when none are named: what the sweep command prints.
DEFAULT_OUTCOMES = ("kg_entered", "kg_seized", "kg_reaching_russia", "interdiction_rate")


def _workbench():
    try:
        import ema_workbench
    except ImportError:
        raise ConfigError('ema error: the EMA workbench is not installed; pip install -e ".[ema]"') from None
    return ema_workbench


def parameter_name(key: str) -> str:
    """The EMA parameter name of a dotted key (EMA 3 names are Python identifiers)."""
    return key.replace(".", "__")


def ema_model(sweep: str | Path | Mapping[str, Any] | Sweep, *, outcomes: Sequence[str] = DEFAULT_OUTCOMES,
              aggregate: Callable[..., float] | None = None, name: str | None = None):
    """An EMA ``ReplicatorModel`` of the sweep: its levers, uncertainties, replications and horizon.

    Args:
        sweep: a sweep file (``scenarios/sweep/example.yaml``), mapping or :class:`Sweep`.
        outcomes: summary keys to report (checked against a one-day run before anything runs).
        aggregate: e.g. ``numpy.mean``: one ``ScalarOutcome`` per key, named
            ``<key>_<function name>``, this function of the replications; default:
            ``ArrayOutcome`` named ``<key>`` with every replication.
        name: the model's name (default: the sweep's, as an identifier).

    Raises:
        ConfigError: a bad sweep file, a lever that does not compose, an unknown outcome.
    """
    ema = _workbench()
    sweep = load_sweep(sweep)
    validate_sweep(sweep)
    outcomes = list(dict.fromkeys(outcomes))
    _check_outcomes(sweep, outcomes)
    model_name = name or "".join(c if c.isalnum() else "_" for c in sweep.name)
    if not model_name.isidentifier():
        model_name = f"sweep_{model_name}"
    model = ema.ReplicatorModel(model_name, function=SweepRun(sweep.levers, sweep.horizon_days, outcomes))
    model.uncertainties = [_parameter(ema, u) for u in sweep.uncertainties]
    model.levers = [ema.CategoricalParameter("lever", list(sweep.levers))]
    model.replications = [{"seed": seed} for seed in replication_seeds(sweep.seed, sweep.replications)]
    if aggregate is None:
        model.outcomes = [ema.ArrayOutcome(key) for key in outcomes]
    else:
        suffix = getattr(aggregate, "__name__", "aggregate").strip("<>_") or "aggregate"
        model.outcomes = [ema.ScalarOutcome(f"{key}_{suffix}", variable_name=key, function=aggregate) for key in outcomes]
    return model


def lever_policies(model) -> list:
    """One EMA policy (``Sample``) per lever of the sweep, named after it: pass as ``policies=``."""
    ema = _workbench()
    return [ema.Sample(name=str(c.value), lever=c.value) for c in model.levers["lever"].categories]


def _parameter(ema, u: Uncertainty):
    name = parameter_name(u.key)
    if u.discrete:
        return ema.CategoricalParameter(name, list(u.values), variable_name=u.key)
    if u.integer:
        return ema.IntegerParameter(name, int(round(u.low)), int(round(u.high)), variable_name=u.key)
    return ema.RealParameter(name, float(u.low), float(u.high), variable_name=u.key)


def _check_outcomes(sweep: Sweep, outcomes: Sequence[str]) -> None:
    """Refuse outcome names the model does not report (a one-day run of the first lever)."""
    if not outcomes:
        raise ConfigError("ema error: outcomes: name at least one outcome, e.g. kg_reaching_russia")
    from sim.sweep.worker import run_experiment

    lever, overrides = next(iter(sweep.levers.items()))
    row = run_experiment(Experiment(run_id="outcome-check", scenario=overrides, seed=0), horizon_days=1)
    if row["status"] != "ok":
        raise ConfigError(f"ema error: levers.{lever}: a one-day run failed: {row['error']}")
    unknown = [key for key in outcomes if key not in row]
    if unknown:
        known = sorted(k for k, v in row.items() if isinstance(v, float) and k not in ("wall_s", "sim_s"))
        raise ConfigError(f"ema error: outcomes: unknown outcome {unknown[0]!r} "
                          f"(the model reports {', '.join(known[:8])}, ...; see sim.model.outcomes.summarise)")


class SweepRun:
    """The function an EMA model calls for one replication: lever, dotted keys and seed -> outcomes.

    A picklable object (not a closure), so that EMA's multiprocessing evaluator can send it
    to its worker processes.
    """

    def __init__(self, levers: Mapping[str, Sequence[str]], horizon_days: int | None, outcomes: Sequence[str]):
        self.levers = {name: tuple(overrides) for name, overrides in levers.items()}
        self.horizon_days = horizon_days
        self.outcomes = tuple(outcomes)

    def __call__(self, lever: str, seed: int, **updates: Any) -> dict[str, float]:
        from sim.sweep.worker import run_experiment

        if lever not in self.levers:
            raise ConfigError(f"ema error: lever: unknown lever {lever!r} (choose from {', '.join(self.levers)})")
        exp = Experiment(run_id=f"{lever}/ema", scenario=self.levers[lever], seed=int(seed),
                         updates={k: _plain(v) for k, v in updates.items()})
        row = run_experiment(exp, horizon_days=self.horizon_days)
        if row["status"] != "ok":  # EMA records the error and goes on with the other experiments
            raise RuntimeError(f"run {lever} seed {seed} {exp.updates}: {row['error']}")
        return {key: row.get(key, float("nan")) for key in self.outcomes}


def _plain(value: Any) -> Any:
    """numpy scalars from EMA's samplers as plain Python values (the config checks types)."""
    return value.item() if hasattr(value, "item") else value
