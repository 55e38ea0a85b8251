"""The quick mode of the calibration commands runs end to end (as CI runs it).

``python -m calibration run --quick``, ``sensitivity --quick`` and ``report --quick``
into a scratch folder: the posterior, the predictive check, the sensitivity tables and
the report with its figures are all written, and the calibrated baseline is left alone.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from calibration.__main__ import main
from calibration.calibrate import SCENARIO_PATH
from calibration.settings import load_settings


@pytest.mark.slow
def test_quick_calibration_sensitivity_and_report_write_every_result(tmp_path, capsys):
    scenario_before = SCENARIO_PATH.read_text() if SCENARIO_PATH.exists() else None
    assert main(["run", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert main(["sensitivity", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert main(["report", "--quick", "--out", str(tmp_path)]) == 0

    settings = load_settings("quick")
    posterior = pd.read_parquet(tmp_path / "posterior.parquet")
    assert len(posterior) == settings.abc["population"]
    assert posterior["weight"].sum() == pytest.approx(1.0)
    for p in settings.parameters:   # every particle inside its prior
        assert posterior[p.key].between(p.low, p.high).all()
    calibrated = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())
    assert set(calibrated["parameters"]) == set(settings.names)
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert {"kz_heroin_seized_q1_2009", "foreign_detainees_russia"} <= set(fit["target"])
    assert fit.loc[fit["target"] == "kz_heroin_seized_q1_2009", "pred_median"].notna().all()
    sobol = pd.read_csv(tmp_path / "sensitivity_sobol.csv")
    assert set(sobol["output"]) == set(settings.sensitivity_outputs)
    report = (tmp_path / "report.md").read_text()
    for figure in ("fit.png", "posterior.png", "sensitivity.png", "abc_history.png"):
        assert (tmp_path / "figures" / figure).stat().st_size > 1000
        assert f"figures/{figure}" in report
    assert "Held-out facts" in report and "kz_heroin_seized_q1_2009" in report
    # quick mode never touches the calibrated baseline
    assert (SCENARIO_PATH.read_text() if SCENARIO_PATH.exists() else None) == scenario_before


def test_the_report_without_results_says_what_to_run(tmp_path, capsys):
    assert main(["report", "--quick", "--out", str(tmp_path)]) == 2
    assert "python -m calibration run --quick" in capsys.readouterr().err
