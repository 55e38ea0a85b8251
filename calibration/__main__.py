"""``python -m calibration run|sensitivity|report [--quick]``: rerun the calibration.

- ``run``: ABC-SMC calibration to calibration/targets.yaml, posterior predictive check,
  calibrated.yaml; in full mode also scenarios/calibrated/baseline_2009.yaml (the
  baseline's calibrated parameters).
- ``sensitivity``: Morris screening and Sobol indices (SALib) of the main outputs.
- ``report``: calibration/report.md with its figures, from the saved results.
- ``targets [FILE]``: validate a targets file (default calibration/targets.yaml) and
  print it as a table.

``--quick`` uses the small sizes of calibration/settings.yaml (seconds, for tests and CI)
and writes to calibration/results/quick/ (never the calibrated baseline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.params import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calibration", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "calibrate by ABC-SMC and check the fit"),
                       ("sensitivity", "Morris and Sobol sensitivity analysis"),
                       ("report", "write calibration/report.md from the saved results"),
                       ("targets", "validate and list the targets")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--quick", action="store_true", help="small sizes for tests and CI")
        p.add_argument("--out", type=Path, default=None, help="results folder (default calibration/results[/quick])")
        if name in ("run", "sensitivity"):
            p.add_argument("--engine", choices=("serial", "processes", "dask"), default=None,
                           help="sweep engine (default: from calibration/settings.yaml)")
            p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
            p.add_argument("--no-progress", action="store_true", help="no progress bars")
        if name == "targets":
            p.add_argument("file", nargs="?", type=Path, default=None,
                           help="the targets YAML file (default calibration/targets.yaml)")
        if name == "run":
            p.add_argument("--no-scenario", action="store_true",
                           help="do not write scenarios/calibrated/baseline_2009.yaml (full mode)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    try:
        if args.command == "run":
            from calibration.calibrate import run_calibration
            out = run_calibration(mode, out_dir=args.out, engine=args.engine, workers=args.workers,
                                  progress=not args.no_progress, write_scenario=False if args.no_scenario else None)
            print(out.fit[["target", "role", "observed", "pred_median", "pred_q05", "pred_q95"]].to_string(index=False))
        elif args.command == "sensitivity":
            from calibration.sensitivity import run_sensitivity
            run_sensitivity(mode, out_dir=args.out, engine=args.engine, workers=args.workers,
                            progress=not args.no_progress)
        elif args.command == "report":
            from calibration.report import write_report
            path = write_report(mode, results_dir=args.out)
            print(f"wrote {path}")
        else:
            from calibration.targets import TARGETS_PATH, load_targets
            for t in load_targets(args.file or TARGETS_PATH):
                print(f"{t.role:8s} {t.name:40s} {t.value:>10.4g} {t.unit:28s} {t.output_label}  [{t.source}]")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
