"""The Northern Route trafficking simulator: an agent-based model of Afghan opiate trafficking.

The core model is :mod:`sim.model` (Mesa 3), its compiled engine :mod:`sim.engine`; running,
writing and comparing runs, sweeps, exercises and the optimiser are the other subpackages.
Importing the package first makes numba's cache of the compiled rules follow every change
to them (:mod:`sim.numba_cache`).
"""

from sim import numba_cache

numba_cache.install()
