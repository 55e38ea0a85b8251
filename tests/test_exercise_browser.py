"""The exercise app driven in headless Chromium, offline (issue 11).

A facilitator's session: pick an exercise, buy interventions, run two turns and check
that the figures shown equal a direct Python run with the same seeds, meet the
over-budget message, save, reload, undo, write the report. The exercise is a user's
preset (config only) of one-month turns with two replications, to keep the test short.
Screenshots of the page go to docs/exercise.png with NORTHERN_ROUTE_SCREENSHOTS=docs.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from browser import browser, screenshot_path, needs_chromium, offline_page, server
from sim.config import config_file

pytestmark = [needs_chromium()]

TEST_PRESET = "quick_exercise"


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    """A user's folder with a short version of the repository's exercise (turns of one month)."""
    folder = tmp_path_factory.mktemp("exercise_app")
    data = yaml.safe_load(config_file("exercise", "southern_border_2009").read_text())
    data.update(title="Quick exercise", months_per_turn=1, turns=3, replications=2)
    data["teams"]["knb"]["budget_usd_per_turn"] = 2_000_000          # a month of the Uzbek reinforcement: 1.75 million
    (folder / "exercise").mkdir()
    (folder / "exercise" / f"{TEST_PRESET}.yaml").write_text(yaml.safe_dump(data))
    return folder


@pytest.fixture(scope="module")
def app(user_folder):
    state = user_folder / "session.json"
    with server(["exercise", "--engine", "serial", "--state", str(state), "--config-dir", str(user_folder)],
                cwd=user_folder) as url:
        yield url, state


def _figure(page, outcome: str, column: str, turn_card: int = 0) -> str:
    return page.locator(f".turn-figures span[data-outcome='{outcome}'][data-column='{column}']").nth(turn_card).inner_text()


def _tick(page, policy: str) -> None:
    page.get_by_text(re.compile(rf"^{policy} \(")).click()


def _run_turn(page, turns_played: int) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Run the turn").click()
    # done when the turn's card is there with the run shown and the replications: 3 paired runs
    expect(page.locator(".turn-figures")).to_have_count(turns_played, timeout=300_000)
    expect(page.locator(".turn-figures").nth(0)).to_contain_text("(3 paired runs)", timeout=300_000)
    page.get_by_role("button", name="Run the turn").wait_for()


def _start(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Start the exercise").wait_for()
    page.locator(".v-select").first.click()
    page.get_by_role("option", name=TEST_PRESET).click()
    page.get_by_text("Quick exercise").first.wait_for()
    page.get_by_role("button", name="Start the exercise").click()
    page.get_by_role("button", name="Run the turn").wait_for()


def test_over_budget_is_refused_on_the_page_and_nothing_runs(app):
    url, state = app
    outside, missing = [], []
    with browser() as chromium:
        page = offline_page(chromium, outside, missing)
        _start(page, url)
        _tick(page, "reinforce_uzbek_border")
        _tick(page, "green_zone_uzbek")
        page.get_by_role("button", name="Run the turn").click()
        message = page.locator(".exercise-error").inner_text()
        assert message.startswith("Over budget: KNB Border Service chose $2,166,667")
        assert page.locator(".turn-figures").count() == 0 and not state.exists()
    assert outside == [], f"the page tried to reach the internet: {outside[:3]}"
    assert missing == [], f"assets the server did not have: {missing[:3]}"


def test_two_turns_show_the_figures_of_a_direct_run_and_survive_save_reload_undo(app, user_folder, tmp_path):
    from exercise_runs import direct_turn_figures

    url, state = app
    outside: list[str] = []
    with browser() as chromium:
        page = offline_page(chromium, outside)
        _start(page, url)
        _tick(page, "green_zone_kyrgyz")
        _tick(page, "anti_corruption_unit")
        _run_turn(page, 1)
        _tick(page, "dedicated_checkpoints")
        page.get_by_text("Supply surge (+43%)").click()
        _run_turn(page, 2)
        page.locator(".turn-figures").nth(0).scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("exercise.png", tmp_path)))          # the turn's figures (docs, README)

        saved = json.loads(state.read_text())
        assert len(saved["turns"]) == 2
        for k, card in ((1, 1), (2, 0)):                    # the newest turn's card comes first
            expected = direct_turn_figures(TEST_PRESET, str(user_folder), saved["turns"], k)
            for outcome in ("kg_entering_kz", "kg_reaching_russia", "kg_seized_reported"):
                for column in ("with", "without"):
                    assert _figure(page, outcome, column, card) == expected[(outcome, column)], (k, outcome, column)
        shown_turn2 = _figure(page, "kg_entering_kz", "with", 0)

        state.unlink()                                      # Save writes the file again
        page.get_by_role("button", name="Save").click()
        page.get_by_text(f"Saved to {state}", exact=True).wait_for()
        assert len(json.loads(state.read_text())["turns"]) == 2

        page.reload()                                       # a new session: reopen the file
        page.get_by_role("button", name="Open the saved exercise").click()
        page.locator(".turn-figures").nth(1).wait_for()
        assert _figure(page, "kg_entering_kz", "with", 0) == shown_turn2

        page.get_by_role("button", name="Undo last turn").click()
        page.get_by_text("Turn 2 undone").wait_for()
        assert page.locator(".turn-figures").count() == 1
        assert len(json.loads(state.read_text())["turns"]) == 1

        page.get_by_role("button", name="Write the after-action report").click()
        page.locator(".report-path").wait_for(timeout=300_000)
    assert outside == [], f"the page tried to reach the internet: {outside[:3]}"
    report = (state.with_name(state.stem + ".runs") / "report" / "report.html").read_text()
    assert "Model output of the Northern Route agent-based model" in report
    assert "green_zone_kyrgyz" in report and "data:image/png;base64," in report
