"""`python -m sim compare` from the command line: --all, resuming, bad results folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.brief import list_presets
from sim.compare import has_timeline, main_compare

REPO = Path(__file__).resolve().parents[1]


def test_compare_all_from_the_command_line_then_resume_without_rerunning(tmp_path):
    out = tmp_path / "all"
    cmd = [sys.executable, "-m", "sim", "compare", "--all", "-n", "1", "--horizon-days", "3", "--engine", "serial",
           "--no-maps", "--quiet", "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    presets = [p for p in list_presets() if not has_timeline(p)]   # timeline presets: their own calendars
    assert "timeline_2008_2011" in list_presets() and "timeline_2008_2011" not in presets
    headline = pd.read_csv(out / "headline.csv")
    assert sorted(headline["scenario"]) == sorted(presets)
    assert headline["scenario"].iloc[0] == "baseline_2009"  # the baseline first
    for name in presets:
        assert name in first.stdout
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == len(presets) and (runs["status"] == "ok").all()
    parts = sorted((out / "sweep" / "parts").glob("part-*.parquet"))

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted((out / "sweep" / "parts").glob("part-*.parquet")) == parts  # resumed: nothing ran again
    pd.testing.assert_frame_equal(pd.read_csv(out / "headline.csv"), headline)


def test_compare_into_another_comparisons_folder_is_refused_in_one_line(capsys, tmp_path):
    out = tmp_path / "cmp"
    base = ["--replications", "1", "--horizon-days", "3", "--engine", "serial", "--no-maps", "--quiet", "--out", str(out)]
    assert main_compare(["green_zone_kyrgyz", *base]) == 0
    capsys.readouterr()
    assert main_compare(["green_zone_uzbek", *base]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a different sweep" in err[0] and "runs only in this one: green_zone_uzbek/rep000" in err[0]


def test_compare_out_pointing_at_a_file_is_one_line_and_the_file_is_untouched(capsys, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n")
    assert main_compare(["green_zone_kyrgyz", "-n", "1", "--engine", "serial", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"config error: --out {target} is a file; give a folder for the comparison's results"]
    assert target.read_text() == "keep me\n"


def test_compare_out_in_a_read_only_place_is_one_line(capsys, tmp_path):
    if os.geteuid() == 0:  # root ignores permission bits: sysfs refuses even root
        out = Path("/sys/kernel/northern-route-compare")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        out = locked / "cmp"
    try:
        assert main_compare(["green_zone_kyrgyz", "-n", "1", "--engine", "serial", "--out", str(out)]) == 2
    finally:
        if os.geteuid() != 0:
            (tmp_path / "locked").chmod(0o755)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"config error: --out {out}: cannot write there")


@pytest.mark.parametrize("argv, message", [
    (["-n", "0", "green_zone_kyrgyz"], "--replications must be at least 1 (got 0)"),
    (["atlantis"], "unknown preset(s) 'atlantis'"),
])
def test_compare_bad_arguments_are_one_line_and_write_nothing(capsys, tmp_path, argv, message):
    out = tmp_path / "cmp"
    assert main_compare([*argv, "--engine", "serial", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_compare_stopped_by_ctrl_c_says_how_to_resume_and_resumes(capsys, tmp_path, monkeypatch):
    import sim.sweep.runner as runner
    from sim.sweep.worker import run_experiment

    def ctrl_c_at_the_second_scenario(exp, *settings):
        if exp.run_id.startswith("green_zone_kyrgyz/"):
            raise KeyboardInterrupt
        return run_experiment(exp, *settings)

    out = tmp_path / "cmp"
    argv = ["green_zone_kyrgyz", "-n", "2", "--horizon-days", "3", "--engine", "serial", "--no-maps", "--quiet"]
    monkeypatch.setattr(runner, "run_experiment", ctrl_c_at_the_second_scenario)
    assert main_compare([*argv, "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted: 2 runs kept, rerun the same command to resume (2 of 4 in {out})"]
    assert not (out / "runs.csv").exists() and not (out / "brief.md").exists()  # nothing looks complete
    monkeypatch.undo()
    assert main_compare([*argv, "--out", str(out)]) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and (runs["status"] == "ok").all()
    parts = sorted((out / "sweep" / "parts").glob("part-*.parquet"))
    assert sorted(pd.concat([pd.read_parquet(p) for p in parts])["run_id"]) == sorted(runs["run_id"])  # once each
