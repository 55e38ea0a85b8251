"""Scenarios that unfold in time: a calendar, and events that change the rules mid-run.

A scenario has a calendar start (``start_date``, default 2009-01-01: the 2009 baseline's
year), a horizon (``horizon_days``, or an ``end_date`` that sets it) and a ``timeline``:
a list of events, each on a ``date`` (ISO) or a ``day`` (0 = the start date), with an
optional ``label`` and what changes then::

    timeline:
      - date: 2009-07-01
        label: Uzbek border reinforced
        policies: [reinforce_uzbek_border]          # scenarios/policy/ (or shock/) files switched on
        policies_off: []                             # ... switched off
        set: {world.flow.supply_multiplier: 0.52, regime: customs_union}   # dotted keys; a regime by name

What an event means, in the order it is applied:

- ``policies``: each named file's settings are merged into the rules in force, as Hydra
  merges a ``+policy=[...]`` file into the static config (so an event on the start date
  is the same scenario as the policy chosen statically);
- ``policies_off``: each setting of the named file goes back to the value it had before
  the file was switched on: before the event that switched it on, or, for a policy of
  the static config, the value of the baseline composition (no preset, no policy). A
  policy whose settings are not all in force on that date cannot be switched off;
- ``set``: dotted keys set to values (validated as any config value); ``regime: NAME``
  chooses a file of ``scenarios/regime/``.

Policies and regimes are read from their files when the scenario is composed
(:func:`resolve_timeline`, called by :mod:`sim.config`): each event keeps, in
``resolved``, the dotted settings they amount to, so a run needs no file and a worker
receives everything in :class:`sim.params.Params`.

The run is cut into **phases** between events (:func:`phases`): each phase has the full
parameters of the rules in force. The model starts with the first phase (events on the
start date are part of it) and, at the start of each later event's day, switches to the
next phase and re-derives what depends on the rules (:meth:`sim.model.NorthernRouteModel.
refresh_rules`): the world goes on from its state.

What an event may not change, because it is the world rather than a rule in force: the
network's nodes and links (a policy activates or designates checkpoints instead), the
number of organisations of a type, the seed, the horizon, the calendar and the timeline
itself.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from sim.params import Params

#: The 2009 baseline's calendar start.
DEFAULT_START_DATE = dt.date(2009, 1, 1)
#: Config groups an event can name: policies (and shocks) switched on and off, a regime set.
POLICY_GROUPS = ("policy", "shock")
#: Top-level keys an event may not set (the world and the run, not rules in force).
FIXED_KEYS = ("seed", "horizon_days", "start_date", "end_date", "timeline", "network")
#: Config groups that cannot be chosen by an event (``regime`` can, by ``set: {regime: NAME}``).
OTHER_GROUPS = ("world", "calibrated", "preset", "policy", "shock")


class Event(BaseModel):
    """One dated change of the rules in force (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    date: dt.date | None = None
    day: int | None = Field(default=None, ge=0, le=36_500)
    label: str = ""
    policies: tuple[str, ...] = ()
    policies_off: tuple[str, ...] = ()
    set: dict[str, Any] = {}
    resolved: dict[str, Any] | None = None   # dotted key -> value the event changes (resolve_timeline); None: not read

    @model_validator(mode="after")
    def _one_date(self) -> "Event":
        if (self.date is None) == (self.day is None):
            raise ValueError("give the event a date (YYYY-MM-DD) or a day (0 = start_date), not "
                             + ("both" if self.date is not None else "neither"))
        both = sorted(set(self.policies) & set(self.policies_off))
        if both:
            raise ValueError(f"switches {both[0]!r} both on and off")
        return self

    def day_from(self, start_date: dt.date) -> int:
        """The event's day number (0 = ``start_date``)."""
        return self.day if self.date is None else (self.date - start_date).days

    def name(self, index: int, start_date: dt.date) -> str:
        """How messages name the event: ``timeline.2 (2009-07-01 'Uzbek border')``."""
        when = self.date.isoformat() if self.date is not None else f"day {self.day}"
        label = f" {self.label!r}" if self.label else ""
        return f"timeline.{index} ({when}{label})"

    def changes(self) -> dict[str, Any]:
        """Every dotted key the event sets, policies first, then ``set`` (a regime by name excluded)."""
        return {**(self.resolved or {}), **{k: v for k, v in self.set.items() if k != "regime"}}


@dataclass(frozen=True)
class Phase:
    """A stretch of the run with one set of rules: days ``start_day`` to ``end_day - 1``."""

    start_day: int
    end_day: int
    params: "Params"                 # the rules in force (the scenario's timeline kept, for reference)
    events: tuple[Event, ...]        # the events that opened it (none for a first phase without day-0 events)


def date_of(start_date: dt.date, day: float) -> dt.date:
    """The calendar date of a (fractional) day number."""
    return start_date + dt.timedelta(days=int(day))


def end_date(start_date: dt.date, horizon_days: int) -> dt.date:
    """The last simulated day's date."""
    return start_date + dt.timedelta(days=horizon_days - 1)


def horizon_from_end_date(start: Any, end: Any) -> int:
    """Days from ``start`` to ``end`` inclusive; raises ValueError naming the bad date."""
    first, last = parse_date(start, "start_date"), parse_date(end, "end_date")
    if last < first:
        raise ValueError(f"end_date: {last.isoformat()} is before start_date {first.isoformat()}")
    return (last - first).days + 1


def parse_date(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None


# --- composing: policies and regimes read from their files ---------------------------------


class GroupFiles:
    """Where an event's policies, shocks and regimes are read: config folders searched in order.

    :mod:`sim.config` passes Hydra's own search (the loader of the composition, a user's
    ``--config-dir`` included); this default reads the folders' YAML files directly.
    """

    def __init__(self, folders: Iterable[Path]):
        self.folders = [Path(f) for f in folders]

    def load(self, group: str, name: str) -> dict[str, Any] | None:
        from sim.params import ConfigError

        for folder in self.folders:
            path = folder / group / f"{name}.yaml"
            if path.is_file():
                try:
                    content = yaml.safe_load(path.read_text()) or {}
                except yaml.YAMLError as err:
                    raise ConfigError(f"config error: malformed YAML in {path}: {err}") from None
                content.pop("defaults", None)
                return json_dates(content)
        return None

    def options(self, group: str) -> list[str]:
        return sorted({p.stem for f in self.folders for p in (f / group).glob("*.yaml")})


def resolve_timeline(data: dict[str, Any], files: GroupFiles,
                     reference: Callable[[], Mapping[str, Any]] | None = None) -> None:
    """Fill each event's ``resolved`` settings in the composed config ``data`` (in place).

    ``files``: where policy, shock and regime files are found. ``reference()``: the
    composition without policies (a plain dict), whose values a policy of the static
    config goes back to when switched off. Raises ConfigError naming the event and the
    problem.
    """
    from sim.params import ConfigError

    raw = data.get("timeline") or []
    if not isinstance(raw, list):
        raise ConfigError("config error: timeline: must be a list of events ({date: YYYY-MM-DD, policies: [...]})")
    start = _start_of(data)
    base = copy.deepcopy(data)                  # the static composition (a static policy switched off leaves it)
    base.pop("timeline", None)
    contributions: list[tuple[str, Any]] = []   # what the events put in force, in order: ("policy", name) ...
    settings_of: dict[str, dict[str, Any]] = {}
    state = copy.deepcopy(base)
    order = sorted(range(len(raw)), key=lambda i: _sort_day(raw[i], start))
    for i in order:
        event = raw[i]
        where = f"timeline.{i}" + _when(event)
        if not isinstance(event, Mapping):
            raise ConfigError(f"config error: {where}: an event is a mapping ({{date: ..., policies: [...]}})")
        previous = state
        both = sorted(set(_names(event, "policies", where)) & set(_names(event, "policies_off", where)))
        if both:
            raise ConfigError(f"config error: {where}: switches {both[0]!r} both on and off")
        for name in _names(event, "policies", where):
            settings_of[name] = _group_settings(files, name, where, "policies")
            contributions.append(("policy", name))
        for name in _names(event, "policies_off", where):
            settings = _group_settings(files, name, where, "policies_off")
            off_key = next((k for k, v in settings.items() if _get(previous, k) != v), None)
            if off_key is not None:
                raise ConfigError(f"config error: {where}: policies_off: {name!r} is not in force then "
                                  f"({off_key} is {_get(previous, off_key)!r}, the policy sets {settings[off_key]!r})")
            if ("policy", name) in contributions:     # switched on by an event: its contribution goes
                del contributions[len(contributions) - 1 - contributions[::-1].index(("policy", name))]
            else:                                       # of the static config: back to the composition without it
                reference_data = reference() if reference is not None else {}
                for key in settings:
                    _put(base, key, _get(reference_data, key))
        changes = event.get("set") or {}
        if not isinstance(changes, Mapping):
            raise ConfigError(f"config error: {where}: set: must map dotted keys to values")
        for key, value in changes.items():
            _check_settable(str(key), where)
            if key == "regime":
                regime = files.load("regime", str(value))
                if regime is None:
                    raise ConfigError(f"config error: {where}: set.regime: no regime named {value!r}"
                                      f"{_suggest(str(value), files.options('regime'))}")
                contributions.append(("set", ("regime", regime)))
            else:
                contributions.append(("set", (str(key), value)))
        state = copy.deepcopy(base)                 # the rules in force: re-merged, as Hydra merges statically
        for kind, what in contributions:
            for key, value in (settings_of[what].items() if kind == "policy" else [what]):
                _put(state, key, value)
        raw[i] = {**event, "resolved": _differences(previous, state)}
    data["timeline"] = raw


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys whose value differs from ``old`` to ``new``; a mapping that lost entries is given whole."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _ABSENT) if isinstance(old, Mapping) else _ABSENT
        if isinstance(value, Mapping) and isinstance(before, Mapping) and set(before) <= set(value):
            out.update(_differences(before, value, f"{prefix}{key}."))
        elif before != value:
            out[f"{prefix}{key}"] = copy.deepcopy(value)
    return out


_ABSENT = object()


def _start_of(data: Mapping[str, Any]) -> dt.date | None:
    try:
        return parse_date(data.get("start_date") or DEFAULT_START_DATE, "start_date")
    except ValueError:
        return None


def _sort_day(event: Any, start: dt.date | None) -> float:
    """Order events by day for resolving; a malformed one sorts first (validation names it)."""
    if not isinstance(event, Mapping):
        return -1
    try:
        if event.get("date") is not None and start is not None:
            return (parse_date(event["date"], "date") - start).days
        return float(event.get("day") or 0)
    except (TypeError, ValueError):
        return -1


def _when(event: Any) -> str:
    if not isinstance(event, Mapping):
        return ""
    when = event.get("date", f"day {event.get('day')}" if "day" in event else None)
    label = f" {event['label']!r}" if event.get("label") else ""
    return f" ({when}{label})" if when is not None else ""


def _names(event: Mapping[str, Any], field: str, where: str) -> list[str]:
    from sim.params import ConfigError

    names = event.get(field) or []
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"config error: {where}: {field}: must be a list of policy names")
    return list(names)


def _group_settings(files: GroupFiles, name: str, where: str, field: str) -> dict[str, Any]:
    """The dotted settings of a policy (or shock) file."""
    from sim.params import ConfigError

    for group in POLICY_GROUPS:
        content = files.load(group, name)
        if content is not None:
            settings = dict(_leaves(content))
            if not settings:
                raise ConfigError(f"config error: {where}: {field}: {group} {name!r} sets nothing")
            return settings
    known = [n for g in POLICY_GROUPS for n in files.options(g)]
    raise ConfigError(f"config error: {where}: {field}: no policy named {name!r}{_suggest(name, known)}")


def json_dates(value: Any) -> Any:
    """YAML reads 2009-07-01 as a date; the composed config holds strings (as OmegaConf does)."""
    if isinstance(value, dict):
        return {k: json_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_dates(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _suggest(name: str, choices: list[str]) -> str:
    from sim.params import suggest

    return suggest(name, choices)


def _check_settable(key: str, where: str) -> None:
    from sim.params import ConfigError

    head = key.split(".")[0]
    if head in FIXED_KEYS:
        raise ConfigError(f"config error: {where}: set.{key}: cannot change during a run (an event changes the rules "
                          "in force; the network changes through policies such as inl_checkpoints or posts)")
    if head in OTHER_GROUPS and "." not in key:
        raise ConfigError(f"config error: {where}: set.{key}: {key!r} is a config group; switch policies and shocks "
                          "with policies/policies_off, or set dotted keys (world.flow.supply_multiplier: 1.2)")
    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["world", "organisations"] and parts[3] == "count":
        raise ConfigError(f"config error: {where}: set.{key}: the number of organisations cannot change during a run "
                          "(their heroin passes to rivals when disrupted; change flow_share instead)")


def _leaves(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


#: The value of a setting a policy added (an entry of a mapping, such as a green zone's
#: segment) once removed: given to such a key in an event's ``set``, it removes the entry
#: (the policy exercise's turns use it; sim/exercise).
ABSENT = "<absent>"


def _get(data: Mapping[str, Any], key: str, missing: Any = None) -> Any:
    node: Any = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return missing
    return node


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key; missing mappings on the way are created (validation judges the key).
    :data:`ABSENT` removes the key instead."""
    parts = key.split(".")
    if isinstance(value, str) and value == ABSENT:
        parent = _get(data, ".".join(parts[:-1])) if len(parts) > 1 else data
        if isinstance(parent, dict):
            parent.pop(parts[-1], None)
        return
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if isinstance(node, list) and parts[-1].isdigit() and int(parts[-1]) < len(node):
        node[int(parts[-1])] = copy.deepcopy(value)
    else:
        node[parts[-1]] = copy.deepcopy(value)


def _what(event: Event) -> str:
    parts = [*(f"+{p}" for p in event.policies), *(f"-{p}" for p in event.policies_off),
             *(f"{k}={v}" for k, v in event.set.items())]
    return ", ".join(parts) or "event"


# --- validating and cutting the run into phases ---------------------------------------------


def check_timeline(params: "Params") -> list[Phase] | None:
    """Raise ValueError (one line naming the event) for a timeline that cannot run.

    Events must fall within the run, be resolved (policies read from their files), set
    keys that exist to admissible values, and not contradict another event of the same
    day; each phase's rules are validated as a static config would be. Returns the
    phases (None without a timeline), which :class:`sim.params.Params` keeps.
    """
    if not params.timeline:
        return None
    start, horizon = params.start_date, params.horizon_days
    last = end_date(start, horizon)
    for i, event in enumerate(params.timeline):
        day = event.day_from(start)
        where = event.name(i, start)
        if day < 0:
            raise ValueError(f"{where}: is before start_date {start.isoformat()}")
        if day >= horizon:
            raise ValueError(f"{where}: is after the end of the run ({last.isoformat()}, day {horizon - 1})")
        if (event.policies or event.policies_off or "regime" in event.set) and event.resolved is None:
            raise ValueError(f"{where}: its policies and regime are not resolved; compose the scenario with "
                             "sim.config.load_params(..., timeline=[...]) or NorthernRouteModel(timeline=[...])")
        for key in event.set:
            _check_settable_value(key, where)
    _check_same_day(params)
    return _cut(params)


def _check_settable_value(key: str, where: str) -> None:
    from sim.params import ConfigError

    try:
        _check_settable(key, where)
    except ConfigError as err:
        raise ValueError(str(err).removeprefix("config error: ")) from None


def _check_same_day(params: "Params") -> None:
    """Two events on one day contradict if they set one key to different values or switch
    one policy on and off."""
    start = params.start_date
    by_day: dict[int, list[tuple[int, Event]]] = {}
    for i, event in enumerate(params.timeline):
        by_day.setdefault(event.day_from(start), []).append((i, event))
    for events in by_day.values():
        setters: dict[str, tuple[int, Any]] = {}
        switched: dict[str, tuple[int, bool]] = {}
        for i, event in events:
            for key, value in {**event.changes(), **({"regime": event.set["regime"]} if "regime" in event.set else {})
                               }.items():
                if key in setters and setters[key][1] != value:
                    j = setters[key][0]
                    raise ValueError(f"{params.timeline[j].name(j, start)} and {event.name(i, start)}: contradict on the same day: "
                                     f"{key} is set to {setters[key][1]!r} and {value!r}")
                setters.setdefault(key, (i, value))
            for name, on in [*((p, True) for p in event.policies), *((p, False) for p in event.policies_off)]:
                if name in switched and switched[name][1] != on:
                    j = switched[name][0]
                    raise ValueError(f"{params.timeline[j].name(j, start)} and {event.name(i, start)}: contradict on the same day: "
                                     f"policy {name!r} switched both on and off")
                switched.setdefault(name, (i, on))


def phase_bounds(params: "Params") -> list[tuple[int, int, str]]:
    """(first day, day after the last, label) of each phase, without validating again."""
    start = params.start_date
    days = sorted({e.day_from(start) for e in params.timeline} - {0})
    cuts = [0, *days, params.horizon_days]
    labels = {}
    for event in params.timeline:
        labels.setdefault(event.day_from(start), []).append(event.label or _what(event))
    return [(a, b, "; ".join(labels.get(a, [])) or "start") for a, b in zip(cuts, cuts[1:])]


def month_bounds(start_date: dt.date, horizon_days: int) -> list[tuple[int, int, str]]:
    """(first day, day after the last, "YYYY-MM") of each calendar month the run covers."""
    bounds, day = [], 0
    while day < horizon_days:
        date = date_of(start_date, day)
        following = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
        end = min(horizon_days, (following - start_date).days)
        bounds.append((day, end, f"{date.year:04d}-{date.month:02d}"))
        day = end
    return bounds


def event_marks(params: "Params") -> list[tuple[int, str]]:
    """(day, label) of each event after the start, for charts (one mark per day)."""
    return [(a, label) for a, _, label in phase_bounds(params) if a > 0]


def add_dates(frame, start_date: dt.date, columns: Mapping[str, str], one_based: bool = False):
    """Insert a calendar-date column beside each day column (``{"day": "date"}``) of a table.

    Day numbers count from 0 at ``start_date`` (fractional days fall on their date);
    ``one_based``: the daily table, whose row ``day`` d holds the state after d days,
    i.e. at the end of the date ``start_date + d - 1``.
    """
    import numpy as np

    base = np.datetime64(start_date, "D")
    for day_column, date_column in columns.items():
        days = frame[day_column].to_numpy(dtype=float) - (1 if one_based else 0)
        valid = ~np.isnan(days)
        dates = np.full(len(days), np.datetime64("NaT", "ns"))
        dates[valid] = (base + days[valid].astype(np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")
        frame.insert(frame.columns.get_loc(day_column) + 1, date_column, dates)
    return frame


def phases(params: "Params") -> list[Phase]:
    """The run cut at its events: each phase with the full parameters of the rules in force.

    The first phase starts on day 0 and includes the events of day 0; with no events it
    is the whole run with ``params`` themselves. Validating ``params`` built them once.
    """
    built = params.__pydantic_private__.get("_phases") if params.__pydantic_private__ else None
    if built is not None and built[-1].end_day == params.horizon_days:
        return built
    return _cut(params)


def _cut(params: "Params") -> list[Phase]:
    from sim.params import Params, format_validation_error

    start, horizon = params.start_date, params.horizon_days
    ordered = sorted(enumerate(params.timeline), key=lambda ie: ie[1].day_from(start))
    days = sorted({e.day_from(start) for _, e in ordered} - {0})
    cuts = [0, *days, horizon]
    data = None                           # the rules as plain data, changed event by event (made when first needed)
    result = []
    for k, (first, stop) in enumerate(zip(cuts, cuts[1:])):
        opened = [(i, e) for i, e in ordered if e.day_from(start) == first]
        if not opened and k == 0:
            result.append(Phase(0, stop, params.model_copy(), ()))   # a copy: Params keeps its phases
            continue
        if data is None:
            data = params.model_dump(mode="json")
            data.pop("timeline")
        for i, event in opened:
            for key, value in event.changes().items():
                _put(data, key, value)
        try:
            rules = Params.model_validate(data)
        except ValueError as err:   # ValidationError, ConfigError: name the event that made it invalid
            i, event = opened[-1]
            text = format_validation_error(err) if isinstance(err, ValidationError) else str(err)
            raise ValueError(f"{event.name(i, start)}: {text.removeprefix('config error: ')}") from None
        rules = rules.model_copy(update={"timeline": params.timeline})
        result.append(Phase(first, stop, rules, tuple(e for _, e in opened)))
    return result
