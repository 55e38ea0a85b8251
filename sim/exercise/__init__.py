"""Policy exercises: turn-based play of the model by teams, in the browser (issue 11).

An exercise preset (``scenarios/exercise/*.yaml``, config only) gives the briefing, the
calendar (start date, turns, months per turn), each team's budget per turn and the
catalogue of interventions it may buy, the injects the facilitator may play and the
traffickers' postures. The state of a running exercise is its list of turns
(:mod:`sim.exercise.state`); running turn k replays the timeline built from turns 1..k
with fixed seeds (:mod:`sim.exercise.turns`), so save, reopen and undo are exact. The
after-action report is :mod:`sim.exercise.report`, the Solara app :mod:`sim.exercise.app`,
and ``python -m sim exercise`` starts it (:mod:`sim.exercise.cli`).
"""
