"""Calibration of the Northern Route model to the seed documents.

- :mod:`calibration.targets`: the facts (``targets.yaml``) as validated data, and the
  distance between a run and them;
- :mod:`calibration.settings`: the uncertain parameters and their priors (ranges from
  ``scenarios/provenance.yaml``), run sizes (``settings.yaml``);
- :mod:`calibration.abc_smc`: ABC-SMC on numpy/scipy;
- :mod:`calibration.calibrate`: the pipeline (posterior, predictive check, calibrated set);
- :mod:`calibration.sensitivity`: Morris and Sobol sensitivity analysis (SALib);
- :mod:`calibration.report`: ``calibration/report.md`` with its figures.

Every simulation goes through the sweep engine (:func:`sim.sweep.run_experiments`).
Run ``python -m calibration run|sensitivity|report [--quick]``; see docs/calibration.md.
"""
