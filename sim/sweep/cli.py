"""Command line: run a sweep config on this machine or a Dask cluster.

``python -m sim.sweep ...`` and ``python -m sim sweep ...`` are the same command.

    python -m sim.sweep scenarios/sweep/example.yaml --engine processes --workers 2 \\
        --out results/sweeps/example
    python -m sim.sweep scenarios/sweep/example.yaml --quick          # smoke run
    python -m sim.sweep scenarios/sweep/example.yaml replications=10  # top-level override
    python -m sim.sweep scenarios/sweep/example.yaml --engine dask --scheduler-address tcp://head:8786

Run the same command again to resume a sweep that was stopped, or to retry failed runs.
Exit status: 0 all runs ok, 1 some runs failed, 2 bad configuration.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from sim.config import add_config_dir_option
from sim.params import ConfigError, check_horizon_days

HEADLINE = ("kg_entered", "kg_seized", "kg_reaching_russia", "interdiction_rate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sim.sweep", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See docs/sweeps.md.")
    parser.add_argument("config", help="sweep config, e.g. scenarios/sweep/example.yaml")
    parser.add_argument("overrides", nargs="*", help="top-level settings, e.g. replications=5 design=grid")
    parser.add_argument("--engine", choices=("serial", "processes", "dask"), default="processes",
                        help="serial: this process; processes: a Dask LocalCluster here (default); "
                             "dask: an existing Dask scheduler (--scheduler-address)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes for --engine processes (default: all cores)")
    parser.add_argument("--scheduler-address", default=None,
                        help="Dask scheduler for --engine dask: tcp://host:8786 or a scheduler JSON file")
    parser.add_argument("--out", default=None, help="results directory (default: results/sweeps/<name>[-quick])")
    parser.add_argument("--quick", action="store_true", help="smoke run: 30 days, 1 replication, few samples")
    parser.add_argument("--horizon-days", type=int, default=None, help="override every run's horizon")
    parser.add_argument("--no-retry-failed", action="store_true", help="when resuming, keep failed runs as they are")
    parser.add_argument("--batch-size", type=int, default=100, help="write results every this many runs (default 100)")
    parser.add_argument("--flush-seconds", type=float, default=10.0, help="... or every this many seconds (default 10)")
    parser.add_argument("--details", default=None,
                        help="per-run tables to keep, comma-separated: daily,shipments,edge_flows,seized_by_node "
                             "(default: the config's `details`)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--dry-run", action="store_true", help="list the experiments and stop")
    add_config_dir_option(parser)
    return parser.parse_intermixed_args(argv)  # overrides may come after options too


def describe(sweep, n_runs: int, out: Path) -> str:
    """What will run, in plain words: levers and their overrides, uncertain keys, counts."""
    levers = ", ".join(f"{name} ({' '.join(o) or 'no overrides'})" for name, o in sweep.levers.items())
    varied = ", ".join(u.key for u in sweep.uncertainties) or "none"
    samples = n_runs // (len(sweep.levers) * sweep.replications)
    return (f"sweep {sweep.name}: {len(sweep.levers)} lever(s) x {samples} sample(s) x {sweep.replications} "
            f"replication(s) = {n_runs} runs ({sweep.design}) -> {out}\n"
            f"  levers: {levers}\n  uncertainties: {varied}")


def main(argv: list[str] | None = None) -> int:
    from sim.sweep.runner import sigterm_as_interrupt

    with sigterm_as_interrupt():  # SIGTERM stops a sweep as Ctrl-C does: one line, exit 143
        args = parse_args(argv)
        try:
            return _main(args)
        except KeyboardInterrupt as stop:  # before any run started (composing, checking)
            print("interrupted before any run started; nothing to keep", file=sys.stderr)
            return 128 + int(getattr(stop, "signum", signal.SIGINT))


def _main(args: argparse.Namespace) -> int:
    from sim.sweep.design import build_experiments, load_sweep
    from sim.sweep.runner import SweepInterrupted, run_experiments
    from sim.sweep.summary import summarise_results

    try:
        sweep = load_sweep(args.config, args.overrides, config_dir=args.config_dir)
        if args.horizon_days is not None:
            check_horizon_days(args.horizon_days)
        if args.quick:
            sweep = sweep.quick()
        experiments = build_experiments(sweep)
        out = Path(args.out or Path("results") / "sweeps" / (sweep.name + ("-quick" if args.quick else "")))
        print(describe(sweep, len(experiments), out), file=sys.stderr)
        if args.dry_run:
            for exp in experiments:
                horizon = {} if args.horizon_days is None else {"horizon_days": args.horizon_days}
                print(exp.run_id, " ".join(exp.scenario), exp.seed, {**exp.updates, **horizon})
            return 0
        start = time.perf_counter()
        table = run_experiments(experiments, engine=args.engine, workers=args.workers, results_dir=out,
                                progress=not args.no_progress, retry_failed=not args.no_retry_failed,
                                scheduler_address=args.scheduler_address, horizon_days=args.horizon_days,
                                batch_size=args.batch_size, flush_seconds=args.flush_seconds,
                                summary_by=[c for c in sweep.summary_by] or None,
                                details=sweep.details if args.details is None else [d for d in args.details.split(",") if d])
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SweepInterrupted as stop:  # Ctrl-C or SIGTERM: finished runs are on disk
        print(stop.message(), file=sys.stderr)
        return stop.exit_code
    except OSError as err:  # the results directory became unwritable (disk full, removed) mid-sweep
        print(f"error: cannot write the results in {out}: {err.strerror or err}; finished runs are kept, "
              "rerun the same command to resume", file=sys.stderr)
        return 2
    ok = int((table["status"] == "ok").sum())
    print(f"{ok} of {len(table)} runs ok in {time.perf_counter() - start:.1f} s; results: {out / 'results.parquet'}",
          file=sys.stderr)
    headline = [c for c in HEADLINE if c in table.columns]
    if ok and headline:
        by = [c for c in sweep.summary_by if c in table.columns]
        summary = summarise_results(table, by=by, outcomes=headline)
        cols = by + ["outcome", "n", "mean", "p5", "p50", "p95"]
        print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"))
    return 0 if ok == len(table) else 1
