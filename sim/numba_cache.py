"""numba's cache of the compiled rules, made stale by a change to any compiled source.

numba caches a compiled function beside its source and reloads it as long as *that file*
is unchanged. The fast engine's kernel inlines the rules of other modules (draws,
inspection, corruption, beliefs, the ledger's books ...), so an edited rule would be run
from a stale cache. The locators here give every function of these modules one source
stamp, a digest of all of them (:data:`COMPILED_SOURCES`): a change to any one
recompiles all. Functions of other packages are cached as numba always does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from numba.core import caching, config

_PACKAGE = Path(__file__).resolve().parent
#: the modules whose functions numba compiles (and inlines into one another)
COMPILED_SOURCES = tuple(_PACKAGE / name for name in (
    "model/draws.py", "model/beliefs.py", "model/inspection.py", "model/corruption.py", "model/economics.py",
    "model/ledger.py", "model/routing.py", "model/agents.py", "model/daily.py", "model/state.py",
    "engine/kernel.py", "engine/world.py",
))


def sources_stamp() -> tuple[str, str]:
    """One stamp for all the compiled sources (their contents' digest)."""
    digest = hashlib.sha256()
    for path in COMPILED_SOURCES:
        digest.update(path.read_bytes())
    return ("northern-route compiled sources", digest.hexdigest())


_STAMP = sources_stamp()
_SOURCES = {str(p) for p in COMPILED_SOURCES}


class _StampedBySources:
    """A locator for the compiled sources only, whose stamp is all of theirs."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if str(Path(py_file).resolve()) not in _SOURCES:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return _STAMP


class UserProvidedSources(_StampedBySources, caching.UserProvidedCacheLocator):
    """In ``NUMBA_CACHE_DIR``, when the user set it."""


class InTreeSources(_StampedBySources, caching.InTreeCacheLocator):
    """Beside the sources (``__pycache__``), where writable."""


class UserWideSources(_StampedBySources, caching.UserWideCacheLocator):
    """In the user's cache folder (an installation that cannot be written to)."""


def install() -> None:
    """Put these locators before numba's own (kept after them, for every other function)."""
    ours = [f"{__name__}.{cls.__name__}" for cls in (UserProvidedSources, InTreeSources, UserWideSources)]
    theirs = (config.CACHE_LOCATOR_CLASSES.split(",") if config.CACHE_LOCATOR_CLASSES
              else [cls.__name__ for cls in caching.CacheImpl._locator_classes])
    config.CACHE_LOCATOR_CLASSES = ",".join(ours + [name.strip() for name in theirs if name.strip() not in ours])
