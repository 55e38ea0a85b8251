#!/usr/bin/env python3
"""Execute the notebooks and render them as Markdown with figures, for readers without Jupyter.

Each notebook in ``notebooks/`` is run top to bottom in a fresh kernel, from a temporary
working folder (the notebooks write only to temporary folders of their own), and written
to ``docs/notebooks/<name>.md`` with its figures in ``docs/notebooks/<name>_files/``;
``docs/notebooks/README.md`` lists them. The notebooks in ``notebooks/`` stay as they
are (without outputs).

Usage::

    python scripts/render_notebooks.py                    # every notebook, full runs (slow: tens of minutes)
    python scripts/render_notebooks.py --quick            # the test suite's short runs (a minute or two)
    python scripts/render_notebooks.py notebooks/02_southern_border.ipynb --out /tmp/rendered

Needs the ``notebooks`` extra (``pip install -e ".[notebooks]"``: nbconvert, nbclient,
ipykernel). A notebook that fails stops the rendering with the failing cell's error
(exit code 1); a bad argument is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICK_VARIABLE = "NORTHERN_ROUTE_QUICK"
QUICK_MODE = "quick runs"


def execute(path: Path, quick: bool, timeout: int):
    """The notebook at ``path`` run in a fresh kernel from a temporary folder (outputs in place)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get(QUICK_VARIABLE)
    os.environ[QUICK_VARIABLE] = "1" if quick else "0"
    try:
        with tempfile.TemporaryDirectory(prefix="render_notebooks_") as workdir:
            NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": workdir}}).execute()
    finally:
        if previous is None:
            os.environ.pop(QUICK_VARIABLE, None)
        else:
            os.environ[QUICK_VARIABLE] = previous
    return notebook


def drop_stderr(notebook) -> None:
    """Remove warnings and progress chatter (stderr streams): the page shows results."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.output_type == "stream" and o.name == "stderr")]


def to_markdown(notebook, stem: str, out: Path, header: str) -> Path:
    """Write ``<out>/<stem>.md`` and its figures into ``<out>/<stem>_files/``."""
    from nbconvert import MarkdownExporter

    files = f"{stem}_files"
    body, resources = MarkdownExporter().from_notebook_node(notebook, resources={"output_files_dir": files})
    figures = out / files
    if figures.exists():
        for old in figures.iterdir():
            old.unlink()
    for name, data in resources.get("outputs", {}).items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    page = out / f"{stem}.md"
    page.write_text(header + "\n\n" + without_table_styles(body))
    return page


def without_table_styles(markdown: str) -> str:
    """Drop the ``<style scoped>`` blocks pandas puts before its HTML tables (Markdown viewers show them as text)."""
    return re.sub(r"<style scoped>.*?</style>\n?", "", markdown, flags=re.DOTALL)


def title_of(notebook, fallback: str) -> str:
    """The notebook's first Markdown heading."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def write_index(out: Path, entries: list[tuple[str, str]], mode: str) -> Path:
    lines = ["# The notebooks, rendered", "",
             f"Executed and rendered by `python scripts/render_notebooks.py` ({mode}); the sources are in "
             "`notebooks/` (open them in Jupyter to change and rerun). Figures are model output under the "
             "assumptions in `scenarios/provenance.yaml`, not observations.", ""]
    if mode == QUICK_MODE:
        lines += ["These pages show the **quick runs** the test suite uses (short horizons, two or three "
                  "replications): they show what each notebook does, but most differences are within the noise. "
                  "`python scripts/render_notebooks.py` without `--quick` renders the full runs (tens of minutes).", ""]
    lines += [f"- [{title}]({stem}.md) (`notebooks/{stem}.ipynb`)" for stem, title in entries]
    index = out / "README.md"
    index.write_text("\n".join(lines) + "\n")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/render_notebooks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to render (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "notebooks", help="folder for the pages (default: docs/notebooks)")
    parser.add_argument("--quick", action="store_true", help=f"the short runs the test suite uses ({QUICK_VARIABLE}=1)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may run (default: %(default)s)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    missing = [p for p in paths if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        print(f"error: {missing[0]}: not a notebook file (.ipynb)", file=sys.stderr)
        return 2
    if args.timeout < 1:
        print(f"error: --timeout must be at least 1 second (got {args.timeout})", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: --out {args.out}: cannot create it ({err.strerror})", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    mode = QUICK_MODE if args.quick else "full runs"
    entries = []
    for path in paths:
        started = time.perf_counter()
        try:
            notebook = execute(path, args.quick, args.timeout)
        except CellExecutionError as err:
            print(f"error: {path.name} failed: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
            return 1
        drop_stderr(notebook)
        seconds = time.perf_counter() - started
        header = (f"<!-- Rendered from notebooks/{path.name} by scripts/render_notebooks.py on "
                  f"{dt.date.today().isoformat()} ({mode}, {seconds:.0f} s). Do not edit: rerun the script. -->")
        page = to_markdown(notebook, path.stem, args.out, header)
        entries.append((path.stem, title_of(notebook, path.stem)))
        print(f"{path.name}: {seconds:.0f} s -> {page}")
    if not args.notebooks:
        print(f"index: {write_index(args.out, entries, mode)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
