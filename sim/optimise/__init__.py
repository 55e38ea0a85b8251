"""The best use of a fixed budget against traffickers who adapt: ``python -m sim optimise``.

A config (``scenarios/optimise/*.yaml``, :mod:`sim.optimise.problem`) names what money may
buy (officers and equipment at posts, patrol units over areas, policies, any Hydra group
choice), the budgets and minimum staffing, the objectives and how to make them robust.
Each candidate allocation is priced from the configs (:mod:`~sim.optimise.costs`) and
run in the agent model over the same posterior draws and seeds as every other
(:mod:`~sim.optimise.evaluate`, through :func:`sim.sweep.run_experiments`, resumable);
Optuna's NSGA-II searches (:mod:`~sim.optimise.search`); the baselines, among them a
static optimum of a mixed-integer program on the baseline's flow map
(:mod:`~sim.optimise.static`), are evaluated the same way (:mod:`~sim.optimise.baselines`);
:mod:`~sim.optimise.report` writes the Markdown/HTML report. See docs/optimisation.md.
"""
