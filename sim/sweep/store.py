"""The results directory of a sweep: nothing lost, nothing counted twice.

Layout (a handful of files whatever the number of runs; no directory per run)::

    results_dir/
      manifest.json        what sweep this is: its hash, number of runs, horizon
      experiments.jsonl    the experiments themselves, one JSON object a line
      parts/part-000001.parquet, part-000002.parquet, ...
                           finished runs, one file per batch, each written to a
                           temporary name, flushed to disk, then renamed (atomic)
      details/<kind>/part-000001.parquet, ...
                           per-run tables when asked (daily series, shipments, ...),
                           one file per batch and kind, numbered as the parts
      results.parquet      the final table, one row per run, in the experiments' order
      summary.csv          intervals by group (when asked)

A part either exists whole or not at all, so a sweep killed at any moment loses at most
the batch in flight. Resuming reads the parts, skips runs that finished ``ok`` and runs
the rest; when a run appears in several parts (a failed run retried later), the latest
part wins. A manifest with a different hash means a different sweep: resuming into that
directory is refused rather than mixing two sweeps in one table.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from sim.params import ConfigError
from sim.sweep.experiment import Experiment, sweep_hash

try:  # advisory lock: two sweeps writing into one directory would interleave parts
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

FORMAT = "northern-route-sweep/1"
PART_RE = re.compile(r"^part-(\d{6,})\.parquet$")


class SweepMismatchError(ConfigError):
    """The results directory holds a different sweep than the one asked to resume."""


class ResultStore:
    """Reads and writes one sweep's results directory."""

    def __init__(self, root: str | Path, experiments: Sequence[Experiment], horizon_days: int | None = None,
                 details: Sequence[str] = ()):
        self.root = Path(root)
        self.parts_dir = self.root / "parts"
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        self.details = tuple(details)
        self._lock_file = None
        self._lock()
        self.hash = sweep_hash(experiments, horizon_days, self.details)
        self._check_or_write_manifest(experiments, horizon_days)
        numbers = set(self._part_numbers())
        for folder in [self.parts_dir] + [self.root / "details" / kind for kind in self.details]:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("*.tmp*"):
                stale.unlink(missing_ok=True)  # a batch being written when the sweep was killed
            if folder != self.parts_dir:  # details written, but killed before their part was
                for orphan in folder.glob("part-*.parquet"):
                    if (m := PART_RE.match(orphan.name)) and int(m.group(1)) not in numbers:
                        orphan.unlink()
        self._next_part = max(numbers, default=0) + 1

    # --- manifest ---------------------------------------------------------------

    def _check_or_write_manifest(self, experiments: Sequence[Experiment], horizon_days: int | None) -> None:
        path = self.root / "manifest.json"
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except ValueError:
                raise SweepMismatchError(f"sweep error: {path} is not a readable sweep manifest") from None
            if old.get("sweep_hash") != self.hash:
                raise SweepMismatchError(
                    f"sweep error: {self.root} holds a different sweep ({old.get('n_runs')} runs, "
                    f"horizon {old.get('horizon_days')}, hash {str(old.get('sweep_hash'))[:12]}) than this one "
                    f"({len(experiments)} runs, horizon {horizon_days}, hash {self.hash[:12]}); "
                    "write it to another results directory or delete that one")
            return
        if self._part_numbers():
            raise SweepMismatchError(f"sweep error: {self.parts_dir} has result parts but no manifest.json; "
                                     "it is not a sweep this code wrote, refusing to resume into it")
        lines = "".join(json.dumps(e.to_json(), sort_keys=True, default=repr) + "\n" for e in experiments)
        atomic_write_text(self.root / "experiments.jsonl", lines)
        atomic_write_text(path, json.dumps({
            "format": FORMAT,
            "sweep_hash": self.hash,
            "n_runs": len(experiments),
            "horizon_days": horizon_days,
            "details": list(self.details),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }, indent=2) + "\n")

    # --- parts ------------------------------------------------------------------

    def _part_numbers(self) -> list[int]:
        return sorted(int(m.group(1)) for p in self.parts_dir.iterdir() if (m := PART_RE.match(p.name)))

    def part_paths(self) -> list[Path]:
        return [self.parts_dir / f"part-{n:06d}.parquet" for n in self._part_numbers()]

    def write_part(self, rows: Sequence[dict[str, Any]],
                   details: Mapping[str, Sequence[pd.DataFrame]] | None = None) -> Path | None:
        """Write finished runs as the next part, atomically; returns its path.

        Their details go first, under the same part number: a part exists only once
        everything of its batch is on disk (details without their part are orphans,
        removed when the sweep resumes).
        """
        if not rows:
            return None
        name = f"part-{self._next_part:06d}.parquet"
        self._next_part += 1
        for kind, frames in (details or {}).items():
            frames = [f for f in frames if len(f)]
            if frames:
                _atomic_parquet(pd.concat(frames, ignore_index=True), self.root / "details" / kind / name)
        path = self.parts_dir / name
        _atomic_parquet(pd.DataFrame(list(rows)), path)
        return path

    def recorded(self) -> pd.DataFrame:
        """Every run recorded so far, the latest record of each run (empty if none)."""
        frames = []
        for number, path in enumerate(self.part_paths()):
            frame = pd.read_parquet(path)
            frame["_order"] = number
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["run_id", "status"])
        # all-empty columns (no error in a batch, an outcome absent) are filled back by concat
        frames = [f.dropna(axis=1, how="all") for f in frames]
        table = pd.concat(frames, ignore_index=True, sort=False)
        table = table.drop_duplicates("run_id", keep="last").drop(columns="_order")
        return table.reset_index(drop=True)

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        """Write a final table (``results.parquet``; ``.csv`` by suffix) atomically."""
        path = self.root / name
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        _fsync_file(tmp)
        os.replace(tmp, path)
        return path

    # --- lock -------------------------------------------------------------------

    def _lock(self) -> None:
        if fcntl is None:
            return
        handle = open(self.root / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ConfigError(f"sweep error: another sweep is writing into {self.root} right now") from None
        self._lock_file = handle

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_details(results_dir: str | Path, kind: str) -> pd.DataFrame:
    """One per-run table of a sweep (e.g. ``"daily"``), all runs together, with run_id."""
    root = Path(results_dir)
    numbers = {m.group(1) for p in (root / "parts").glob("part-*.parquet") if (m := PART_RE.match(p.name))}
    paths = sorted(p for p in (root / "details" / kind).glob("part-*.parquet")
                   if (m := PART_RE.match(p.name)) and m.group(1) in numbers)
    if not paths:
        raise FileNotFoundError(f"no {kind!r} details in {root} (run the sweep with details=[{kind!r}])")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    _fsync_file(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    _fsync_file(tmp)
    os.replace(tmp, path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
