"""The state of a running exercise: its preset and its list of turns, saved as JSON.

A turn is what the players decided (each team's interventions in force that turn, the
facilitator's injects, the traffickers' posture) and, once played, what the model
measured at its end (:mod:`sim.exercise.turns`). Because a turn's results are a function
of the decisions of turns 1..k and the seeds (deterministic replay), the file is the whole
exercise: reopening it shows the same numbers, undo drops the last turn.

The file is written after every turn, atomically (a temporary file renamed over it), so
an exercise interrupted at any moment reopens at its last finished turn.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.exercise.preset import ExercisePreset, load_exercise, yearly_cost
from sim.params import ConfigError

FORMAT = "northern-route-exercise/1"


@dataclass
class Turn:
    """One turn: the decisions, and (after it was run) its results."""

    purchases: dict[str, list[str]] = field(default_factory=dict)   # team -> policies in force this turn
    injects: list[str] = field(default_factory=list)                # played at the turn's start
    posture: str | None = None                                      # the traffickers' (None: no such team)
    results: dict[str, Any] | None = None

    def policies(self) -> list[str]:
        """Every intervention in force this turn, in the teams' order."""
        return [p for team in self.purchases.values() for p in team]


@dataclass
class ExerciseState:
    """An exercise in progress: which preset, where it is saved, the turns played."""

    preset_name: str
    config_dir: str | None = None
    turns: list[Turn] = field(default_factory=list)
    revealed: bool = False          # the facilitator has shown the ground truth (debrief)
    path: Path | None = None

    @functools.cached_property
    def preset(self) -> ExercisePreset:
        return load_exercise(self.preset_name, self.config_dir)

    @property
    def finished(self) -> bool:
        return len(self.played()) >= self.preset.turns

    def played(self) -> list[Turn]:
        """The turns that have results."""
        return [t for t in self.turns if t.results is not None]

    # --- decisions ----------------------------------------------------------------

    def decide(self, purchases: dict[str, list[str]], injects: list[str] = (), posture: str | None = None) -> Turn:
        """The next turn's decisions, checked (catalogue, budget, injects, posture); not yet run."""
        preset = self.preset
        if self.finished:
            raise ConfigError(f"exercise error: all {preset.turns} turns are played; undo one or write the report")
        check_decisions(preset, purchases, injects, posture)
        turn = Turn(purchases={team: list(purchases.get(team, [])) for team in preset.teams},
                    injects=list(injects),
                    posture=(posture or preset.traffickers.default) if preset.traffickers else None)
        self.turns = self.played() + [turn]
        return turn

    def undo(self) -> Turn:
        """Drop the last played turn (its decisions are returned, to edit and play again)."""
        played = self.played()
        if not played:
            raise ConfigError("exercise error: nothing to undo: no turn has been played")
        self.turns = played[:-1]
        last = played[-1]
        return Turn(purchases=last.purchases, injects=last.injects, posture=last.posture)

    # --- saving -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "preset": self.preset_name, "config_dir": self.config_dir,
                "revealed": self.revealed, "turns": [asdict(t) for t in self.played()]}

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the state (played turns only) to ``path`` (default: where it was last saved)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ConfigError("exercise error: no file to save to")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True))
        os.replace(tmp, target)
        self.path = target
        return target


def new_exercise(preset_name: str, path: str | os.PathLike | None = None, config_dir: str | None = None) -> ExerciseState:
    """A fresh exercise of a preset (checked now), to be saved at ``path``."""
    load_exercise(preset_name, config_dir)
    return ExerciseState(preset_name=preset_name, config_dir=config_dir, path=Path(path) if path else None)


def open_exercise(path: str | os.PathLike) -> ExerciseState:
    """Reopen a saved exercise; a file that is not one is a one-line error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"exercise error: {path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"exercise error: {path}: not a saved exercise ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"exercise error: {path}: not a saved exercise (format {FORMAT!r} expected)")
    turns = [Turn(**t) for t in data["turns"]]
    state = ExerciseState(preset_name=data["preset"], config_dir=data.get("config_dir"), turns=turns,
                          revealed=bool(data.get("revealed")), path=path)
    state.preset   # the preset must still exist and be valid
    return state


# --- the rules of a turn -------------------------------------------------------------


def turn_cost(preset: ExercisePreset, policies: list[str], config_dir=None) -> float:
    """What interventions cost for one turn: their yearly cost times the turn's share of a year."""
    return sum(yearly_cost(preset, p, config_dir) for p in policies) * preset.months_per_turn / 12


def check_decisions(preset: ExercisePreset, purchases: dict[str, list[str]], injects, posture) -> None:
    """Each team buys from its catalogue within its budget; injects and posture exist."""
    for team, policies in purchases.items():
        if team not in preset.teams:
            raise ConfigError(f"exercise error: no team {team!r} in this exercise (teams: {', '.join(preset.teams)})")
        spec = preset.teams[team]
        offered = [item.policy for item in spec.catalogue]
        for policy in policies:
            if policy not in offered:
                raise ConfigError(f"exercise error: {spec.label} cannot buy {policy!r} (its catalogue: {', '.join(offered)})")
        cost = turn_cost(preset, list(policies))
        if cost > spec.budget_usd_per_turn + 1e-6:
            raise ConfigError(f"Over budget: {spec.label} chose ${cost:,.0f} of interventions this turn; "
                              f"its budget is ${spec.budget_usd_per_turn:,.0f}")
    for name in injects:
        if name not in preset.injects:
            raise ConfigError(f"exercise error: no inject {name!r} (injects: {', '.join(preset.injects) or 'none'})")
    if posture is not None:
        if preset.traffickers is None:
            raise ConfigError("exercise error: this exercise has no traffickers' team to set a posture")
        if posture not in preset.traffickers.postures:
            raise ConfigError(f"exercise error: no posture {posture!r} "
                              f"(postures: {', '.join(preset.traffickers.postures)})")
