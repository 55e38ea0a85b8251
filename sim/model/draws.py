"""Random numbers: counter-based streams, one for each organisation, post, crew, patrol and purpose.

Every random number of a run comes from a *stream*: a key (what it is for: ``"post"`` and
a node index, ``"crew:customs"`` and a node index, ``"organisation"`` and its number ...)
and a counter. The n-th number of a stream is a pure function of the run's seed, the key
and n (splitmix64's finaliser: :func:`uniform`), so

- two scenarios run with the same seed draw the same numbers wherever their rules and
  traffic agree (common random numbers): an extra draw at one post never shifts the
  numbers of another post, an organisation or a crew;
- the readable reference engine (:mod:`sim.model.agents`, one Python event per hop) and
  the compiled fast engine (:mod:`sim.engine`) draw the same numbers in the same order,
  so their runs are equal to the gram (``tests/test_engine.py``).

Draws that are not plain uniforms are made from uniforms here, the same way in both
engines: a standard normal (Box-Muller, two uniforms), a gamma and a beta variate
(Marsaglia and Tsang 2000), an index below n, an index by cumulative weights, and which
of several independent trials fires first (one uniform, :func:`first_to_fire`).

The functions are compiled (numba) and called from Python by the reference engine, so
that both engines compute every number with the same machine code.
"""

from __future__ import annotations

import math
import zlib

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_OFFSET = np.uint64(0x632BE59BD9B4E019)
_TO_UNIT = 1.0 / 9007199254740992.0   # 2**-53


def stream_key(purpose: str, index: int) -> int:
    """The key of a stream: what it is for (a name) and which one (an index), as 64 bits."""
    return (zlib.crc32(purpose.encode()) << 32) | (int(index) & 0xFFFFFFFF)


@numba.njit(cache=True, inline="always")
def uniform(seed, key, counter):
    """The ``counter``-th uniform number in [0, 1) of the stream ``key`` in the run ``seed``."""
    z = np.uint64(seed) * _GOLDEN
    z ^= np.uint64(key) * _MIX_1
    z += np.uint64(counter) * _MIX_2 + _OFFSET
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * _TO_UNIT


@numba.njit(cache=True, inline="always")
def draw(seed, keys, counters, stream):
    """The next uniform of stream number ``stream`` (its key in ``keys``, its count in ``counters``)."""
    counters[stream] += 1
    return uniform(seed, keys[stream], counters[stream])


@numba.njit(cache=True, inline="always")
def standard_normal(seed, keys, counters, stream):
    """A standard normal number from two uniforms of the stream (Box-Muller)."""
    u1 = draw(seed, keys, counters, stream)
    u2 = draw(seed, keys, counters, stream)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def gamma_variate(shape, seed, keys, counters, stream):
    """A Gamma(shape, 1) number (Marsaglia and Tsang; for shape < 1, boosted by a uniform power)."""
    boost = 1.0
    if shape < 1.0:
        boost = (1.0 - draw(seed, keys, counters, stream)) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = standard_normal(seed, keys, counters, stream)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - draw(seed, keys, counters, stream)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost


@numba.njit(cache=True)
def beta_variate(a, b, seed, keys, counters, stream):
    """A Beta(a, b) number from two gamma variates of the stream."""
    x = gamma_variate(a, seed, keys, counters, stream)
    y = gamma_variate(b, seed, keys, counters, stream)
    return x / (x + y) if x + y > 0.0 else 0.5


@numba.njit(cache=True, inline="always")
def index_below(u, n):
    """An index in [0, n) from one uniform ``u`` (each with chance 1/n)."""
    return min(int(u * n), n - 1)


@numba.njit(cache=True, inline="always")
def weighted_index(cumulative, n, u):
    """An index in [0, n) drawn with one uniform ``u`` by the first ``n`` cumulative weights."""
    target = u * cumulative[n - 1]
    for i in range(n):
        if target < cumulative[i]:
            return i
    return n - 1


@numba.njit(cache=True, inline="always")
def first_to_fire(chances, start, stop, u):
    """Which of the independent trials ``start..stop-1`` (tried in that order) fires first; -1: none.

    Trial i fires first with chance p_i x prod_{j<i} (1 - p_j) and none fires with
    prod (1 - p_j): one uniform ``u`` placed on these intervals draws exactly what the
    trials drawn one by one would (a trial with chance 1 always fires if reached).
    """
    low = 0.0
    none_yet = 1.0
    for i in range(start, stop):
        fire = none_yet * chances[i]
        if u < low + fire:
            return i
        low += fire
        none_yet *= 1.0 - chances[i]
    return -1


class Streams:
    """The streams of one run: each a key and a counter, numbered in the order they are asked for.

    ``keys`` and ``counters`` are arrays the compiled engine reads and advances;
    :meth:`number` gives the stream of (purpose, index), made on first use (a stream that
    is asked for again, after a policy change re-made a crew, say, carries on counting).
    """

    def __init__(self, seed: int, capacity: int = 256) -> None:
        self.seed = np.uint64(int(seed) & (2**64 - 1))
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.counters = np.zeros(capacity, dtype=np.int64)
        self._numbers: dict[tuple[str, int], int] = {}

    def __len__(self) -> int:
        return len(self._numbers)

    def number(self, purpose: str, index: int, fresh: bool = False) -> int:
        """The stream number of (purpose, index); ``fresh``: started again from its first number
        (a crew made anew draws what a crew made there at the start would draw)."""
        found = self._numbers.get((purpose, index))
        if found is not None:
            if fresh:
                self.counters[found] = 0
            return found
        n = len(self._numbers)
        if n >= len(self.keys):
            self.keys = np.concatenate([self.keys, np.zeros(len(self.keys), dtype=np.uint64)])
            self.counters = np.concatenate([self.counters, np.zeros(len(self.counters), dtype=np.int64)])
        self.keys[n] = stream_key(purpose, index)
        self._numbers[(purpose, index)] = n
        return n

    def uniform(self, stream: int) -> float:
        """The next uniform of a stream."""
        return draw(self.seed, self.keys, self.counters, stream)

    def normal(self, stream: int) -> float:
        return standard_normal(self.seed, self.keys, self.counters, stream)

    def beta(self, a: float, b: float, stream: int) -> float:
        return beta_variate(a, b, self.seed, self.keys, self.counters, stream)
