"""The notebooks run end to end in quick mode with the installed package, and write nothing into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}


def repository_files() -> set[Path]:
    """Every file under the repository except version control, the environment and caches."""
    files = set()
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        files.update(Path(root, n) for n in names if not n.startswith(".coverage"))
    return files


def test_there_are_at_least_seven_notebooks():
    assert len(NOTEBOOKS) >= 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode_and_writes_nothing_into_the_repository(path, monkeypatch):
    monkeypatch.setenv("NORTHERN_ROUTE_QUICK", "1")
    before = repository_files()
    nb = nbformat.read(path, as_version=4)
    # run from the notebook's own folder, as Jupyter does: outputs must go to a temporary folder
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert repository_files() - before == set()


def test_render_script_writes_markdown_with_figures_for_a_notebook(tmp_path):
    import subprocess
    import sys

    notebook = REPO / "notebooks" / "01_baseline_year.ipynb"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "render_notebooks.py"), str(notebook), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (tmp_path / "01_baseline_year.md").read_text()
    figures = sorted((tmp_path / "01_baseline_year_files").glob("*.png"))
    assert figures and all(f"01_baseline_year_files/{f.name}" in page for f in figures)
    assert "# The baseline year" in page and "Traceback" not in page and "<style" not in page


def test_render_script_refuses_a_missing_notebook_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(REPO / "scripts" / "render_notebooks.py"), str(tmp_path / "nope.ipynb"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.ipynb'}: not a notebook file (.ipynb)"]
    assert not (tmp_path / "out").exists()


def test_readme_links_every_notebook_and_its_rendered_page():
    import re

    readme = (REPO / "README.md").read_text()
    linked = set(re.findall(r"\(docs/notebooks/(\d\d_\w+)\.md\)", readme))
    assert linked == {p.stem for p in NOTEBOOKS}
    for stem in linked:
        assert (REPO / "docs" / "notebooks" / f"{stem}.md").is_file(), f"render it: python scripts/render_notebooks.py ({stem})"
