"""numba's cache of the compiled rules follows a change to any compiled source (sim/numba_cache.py)."""

from __future__ import annotations

from pathlib import Path

from sim import numba_cache

PACKAGE = Path(numba_cache.__file__).resolve().parent


def test_every_module_with_compiled_functions_is_stamped():
    """A module that compiles functions but is not in the list would be served stale after a change."""
    compiling = {p.resolve() for p in PACKAGE.rglob("*.py") if "numba.njit" in p.read_text() and p.name != "numba_cache.py"}
    assert compiling and compiling <= set(numba_cache.COMPILED_SOURCES)   # (state.py too: its dtypes type the kernel)


def test_the_stamp_changes_with_any_compiled_source(tmp_path, monkeypatch):
    copies = []
    for path in numba_cache.COMPILED_SOURCES:
        copy = tmp_path / path.relative_to(PACKAGE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    monkeypatch.setattr(numba_cache, "COMPILED_SOURCES", tuple(copies))
    before = numba_cache.sources_stamp()
    copies[2].write_text(copies[2].read_text() + "\n# a rule changed\n")
    assert numba_cache.sources_stamp() != before
    assert before == numba_cache._STAMP            # the stamp of the sources as they are
