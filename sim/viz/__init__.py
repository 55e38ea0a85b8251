"""Pages in the browser, served from this machine with no internet (Solara, as Mesa's own visualisation).

- :mod:`sim.viz.serve`: start a Solara server for a page, offline (assets from installed
  packages, no telemetry, no version check), and print its address;
- :mod:`sim.viz.live`: the live model page (Mesa ``SolaraViz``), ``python -m sim live``.

The exercise app (:mod:`sim.exercise.app`) is served the same way (``python -m sim exercise``).
"""
