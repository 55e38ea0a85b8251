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
