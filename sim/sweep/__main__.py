"""``python -m sim.sweep CONFIG ...``: see :mod:`sim.sweep.cli`."""

import sys

from sim.sweep.cli import main

if __name__ == "__main__":  # worker processes (spawned) import this module too
    sys.exit(main())
