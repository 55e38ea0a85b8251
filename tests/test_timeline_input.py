"""A timeline a user gets wrong is one line naming the event and the problem, exit code 2."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.config import load_params
from sim.params import ConfigError

UZ = ["reinforce_uzbek_border"]

#: (events, text the one line must contain)
BAD_TIMELINES = [
    ([{"date": "2008-12-31", "policies": UZ}], "timeline.0 (2008-12-31): is before start_date 2009-01-01"),
    ([{"date": "2010-01-01", "label": "late", "policies": UZ}],
     "timeline.0 (2010-01-01 'late'): is after the end of the run (2009-12-31, day 364)"),
    ([{"day": 365, "policies": UZ}], "timeline.0 (day 365): is after the end of the run"),
    ([{"date": "2009-03-01", "policies": ["reinforce_uzbek"]}],
     "timeline.0 (2009-03-01): policies: no policy named 'reinforce_uzbek' (did you mean 'reinforce_uzbek_border'?)"),
    ([{"date": "2009-03-01", "set": {"world.flow.supply_multiplyer": 2}}],
     "timeline.0 (2009-03-01): world.flow.supply_multiplyer: unknown key (did you mean 'supply_multiplier'?)"),
    ([{"date": "2009-03-01", "set": {"world.flow.supply_multiplier": -2}}],
     "timeline.0 (2009-03-01): world.flow.supply_multiplier: Input should be greater than or equal to 0"),
    ([{"date": "2009-03-01", "set": {"world.flow.supply_multiplier": 1.2}},
      {"date": "2009-03-01", "label": "surge", "set": {"world.flow.supply_multiplier": 1.5}}],
     "timeline.0 (2009-03-01) and timeline.1 (2009-03-01 'surge'): contradict on the same day: "
     "world.flow.supply_multiplier is set to 1.2 and 1.5"),
    ([{"date": "2009-03-01", "set": {"regime": "customs_union"}}, {"day": 59, "set": {"regime": "two_sided"}}],
     "contradict on the same day: regime.name is set to 'customs_union' and 'two_sided'"),
    ([{"date": "2009-13-01", "policies": UZ}], "timeline.0.date: Input should be a valid date"),
    ([{"date": "next summer", "policies": UZ}], "timeline.0.date: Input should be a valid date"),
    ([{"policies": UZ}], "timeline.0: give the event a date (YYYY-MM-DD) or a day"),
    ([{"date": "2009-03-01", "policies": UZ, "policies_off": UZ}], "switches 'reinforce_uzbek_border' both on and off"),
    ([{"date": "2009-03-01", "policies_off": UZ}],
     "timeline.0 (2009-03-01): policies_off: 'reinforce_uzbek_border' is not in force then"),
    ([{"date": "2009-03-01", "set": {"horizon_days": 30}}], "set.horizon_days: cannot change during a run"),
    ([{"date": "2009-03-01", "set": {"network.nodes": []}}], "set.network.nodes: cannot change during a run"),
    ([{"date": "2009-03-01", "set": {"world.organisations.tajik.count": 3}}],
     "the number of organisations cannot change during a run"),
    ([{"date": "2009-03-01", "set": {"regime": "customs_unoin"}}],
     "set.regime: no regime named 'customs_unoin' (did you mean 'customs_union'?)"),
    ([{"date": "2009-03-01", "set": {"policy": "green_zone_kyrgyz"}}], "'policy' is a config group"),
    ([{"date": "2009-03-01", "polices": UZ}], "timeline.0.polices: unknown key (did you mean 'policies'?)"),
]


@pytest.mark.parametrize("events,message", BAD_TIMELINES)
def test_a_bad_event_is_one_line_naming_it(events, message):
    with pytest.raises(ConfigError) as err:
        load_params(timeline=events)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("overrides,message", [
    (["end_date=2009-06-30", "horizon_days=20"], "horizon_days=20: the scenario's end_date (2009-06-30) sets the horizon"),
    (["end_date=2008-06-30"], "end_date: 2008-06-30 is before start_date 2009-01-01"),
    (["end_date=soon"], "end_date: 'soon' is not a date (YYYY-MM-DD)"),
    (["start_date=2009-02-30"], "start_date: Input should be a valid date"),
])
def test_a_bad_calendar_is_one_line(overrides, message):
    with pytest.raises(ConfigError) as err:
        load_params(overrides)
    assert message in str(err.value)


def test_an_end_date_sets_the_horizon():
    params = load_params(["start_date=2008-01-01", "end_date=2011-12-31"])
    assert params.horizon_days == 4 * 365 + 1 and params.end_date.isoformat() == "2011-12-31"


def test_a_bad_timeline_on_the_command_line_exits_2_with_one_line(tmp_path, capsys):
    code = main(["timeline=[{date:2009-07-01,policies:[reinforce_uzbek]}]", f"hydra.run.dir={tmp_path / 'run'}"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1
    assert "timeline.0 (2009-07-01): policies: no policy named 'reinforce_uzbek'" in lines[0]
    assert not (tmp_path / "run").exists()
