"""``python -m sim optimise CONFIG [--quick] [--out DIR] [--workers N] [--engine ...]``.

Exit status: 0 done (report written), 2 a bad config (one line naming the key), 130/143
stopped by Ctrl-C/SIGTERM (finished runs kept: rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from sim.params import ConfigError


def parse_args(argv: list[str]) -> argparse.Namespace:
    from sim.sweep import ENGINES

    parser = argparse.ArgumentParser(prog="python -m sim optimise",
                                     description="Search the best use of a budget against adaptive traffickers "
                                                 "(docs/optimisation.md).")
    parser.add_argument("config", help="the problem, e.g. scenarios/optimise/fy05_08_us_assistance.yaml")
    parser.add_argument("--quick", action="store_true", help="a smoke run: the config's quick settings")
    parser.add_argument("--out", help="results folder (default results/optimise/<name>[-quick])")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--engine", choices=ENGINES, default="processes")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main_optimise(argv: list[str]) -> int:
    from sim.sweep import SweepInterrupted, sigterm_as_interrupt

    args = parse_args(argv)
    with sigterm_as_interrupt():
        try:
            return _run(args)
        except ConfigError as err:
            print(err, file=sys.stderr)
            return 2
        except SweepInterrupted as stop:
            print(stop.message(), file=sys.stderr)
            return stop.exit_code
        except KeyboardInterrupt as stop:
            print("interrupted before any run started; nothing to keep", file=sys.stderr)
            return 128 + int(getattr(stop, "signum", signal.SIGINT))


def _run(args: argparse.Namespace) -> int:
    from sim.optimise.problem import load_problem
    from sim.optimise.report import write_report
    from sim.optimise.study import run_study

    problem = load_problem(args.config)
    if args.quick:
        problem = problem.quick_version()
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"optimise error: --workers must be at least 1 (got {args.workers})")
    out = Path(args.out or Path("results") / "optimise" / (problem.name + ("-quick" if args.quick else "")))
    if out.exists() and not out.is_dir():
        raise ConfigError(f"optimise error: --out {out}: exists and is not a folder")
    say = lambda text: print(text, file=sys.stderr)   # noqa: E731
    unc, s = problem.uncertainty, problem.search
    say(f"optimise {problem.name}: {s.population} candidates x {s.generations} generations, each run in "
        f"{unc.posterior_draws} posterior draw(s) x {unc.seeds} seed(s), {problem.horizon_days} days -> {out}")
    start = time.perf_counter()
    study = run_study(problem, out, engine=args.engine, workers=args.workers, progress=not args.no_progress, say=say)
    files = write_report(study, out)
    say(f"done in {time.perf_counter() - start:.0f} s: {files['markdown']} and {files['html']}")
    return 0
