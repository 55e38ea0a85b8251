"""The live model page (Mesa SolaraViz) in headless Chromium, offline: it steps the model and redraws."""

from __future__ import annotations

from browser import browser, screenshot_path, needs_chromium, offline_page, server

pytestmark = [needs_chromium()]


def test_the_live_page_steps_the_model_and_redraws_the_map_offline(tmp_path):
    outside, missing = [], []
    with server(["live"], cwd=tmp_path) as url, browser() as chromium:
        page = offline_page(chromium, outside, missing)
        page.goto(url)
        page.get_by_text("Officers' deterrence").wait_for()
        step = page.get_by_role("button", name="Step")
        for _ in range(7):                    # one simulated week: the map is redrawn
            step.click()
            page.wait_for_timeout(300)
        page.get_by_text("Time: 7").wait_for()
        page.wait_for_timeout(2000)
        page.screenshot(path=str(screenshot_path("live.png", tmp_path)))
    assert outside == [], f"the page tried to reach the internet: {outside[:3]}"
    assert missing == [], f"assets the server did not have: {missing[:3]}"
