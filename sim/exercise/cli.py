"""``python -m sim exercise [--port --host --state FILE]``: start the exercise app and print its address.

``--state FILE``: the start page offers to reopen it (or a new exercise is saved there);
``--engine``/``--workers`` choose how turns run (the sweep engine's ``processes`` on this
machine's cores by default, ``serial`` in this process). ``--list`` prints the exercise
presets and exits.
"""

from __future__ import annotations

import argparse
import os
import sys

from sim.params import ConfigError

#: How the command passes its settings to the app (which the Solara server imports).
ENV_STATE, ENV_ENGINE, ENV_WORKERS, ENV_CONFIG_DIR = ("NORTHERN_ROUTE_EXERCISE_STATE", "NORTHERN_ROUTE_EXERCISE_ENGINE",
                                                      "NORTHERN_ROUTE_EXERCISE_WORKERS", "NORTHERN_ROUTE_CONFIG_DIR")


def main_exercise(argv: list[str]) -> int:
    from sim.config import add_config_dir_option, user_config_dir
    from sim.exercise.preset import exercise_names, load_exercise
    from sim.viz.serve import add_server_options, check_port, serve

    parser = argparse.ArgumentParser(prog="python -m sim exercise",
                                     description="A turn-based policy exercise in the browser (docs/exercise.md).")
    add_server_options(parser, default_port=8765)
    parser.add_argument("--state", metavar="FILE", help="the exercise's file: offered for reopening on the start page if it exists; "
                             "a new exercise is saved there (default: exercises/<preset>-<time>.json)")
    parser.add_argument("--engine", choices=("processes", "serial"), default="processes",
                        help="how turns run: worker processes on this machine (default) or in the app's process")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--list", action="store_true", help="list the exercise presets and exit")
    add_config_dir_option(parser)
    args = parser.parse_args(argv)
    try:
        check_port(args.port)
        if args.workers is not None and args.workers < 1:
            raise ConfigError(f"error: --workers: must be at least 1 (got {args.workers})")
        user_config_dir(args.config_dir)
        names = exercise_names(args.config_dir)
        if args.list:
            return _list(names, args.config_dir)
        for name in names:
            load_exercise(name, args.config_dir)          # a broken preset is one line now, not in the page
        if args.state and os.path.exists(args.state):
            from sim.exercise.state import open_exercise

            open_exercise(args.state)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    os.environ.update({ENV_ENGINE: args.engine, ENV_STATE: os.path.abspath(args.state) if args.state else "",
                       ENV_WORKERS: str(args.workers or ""), ENV_CONFIG_DIR: args.config_dir or ""})
    return serve("sim.exercise.app", port=args.port, host=args.host, title="Policy exercise")


def _list(names: list[str], config_dir) -> int:
    """Each preset's name and title (read, not checked: starting the app checks them)."""
    import yaml

    from sim.config import config_file

    for name in names:
        data = yaml.safe_load(config_file("exercise", name, config_dir).read_text()) or {}
        print(f"{name}: {data.get('title', '(no title)') if isinstance(data, dict) else '(not a mapping)'}")
    return 0
