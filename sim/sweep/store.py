"""The results directory of a sweep: nothing lost, nothing counted twice.

Layout (a handful of files whatever the number of runs; no directory per run)::

    results_dir/
      manifest.json        what sweep this is: its hash, number of runs, horizon
      experiments.jsonl    the experiments themselves, one JSON object a line
      parts/journal.jsonl  each finished run, appended (and handed to the OS) the
                           moment it arrives: the runs not yet in a part
      parts/part-000001.parquet, part-000002.parquet, ...
                           finished runs, one file per batch, each written to a
                           temporary name, flushed to disk, then renamed (atomic);
                           writing a part empties the journal
      details/<kind>/part-000001.parquet, ...
                           per-run tables when asked (daily series, shipments, ...),
                           one file per batch and kind, numbered as the parts
      results.parquet      the final table, one row per run, in the experiments' order
      summary.csv          intervals by group (when asked)

Every finished run is in the journal before the next one is looked at, and a part
either exists whole or not at all, so a sweep killed at any moment (even ``kill -9``)
loses at most the runs in flight. Nor is a run recorded twice: each journal line names
the part its run is bound for, and the part number moves on only once the journal is
emptied, so a kill between a part's rename and the journal's emptying leaves runs that
resuming finds in their part and skips, and a write interrupted there and retried
rewrites the same part. Resuming first turns the journal into a part (a line
cut short by the kill is dropped: that run runs again), then reads the parts, skips runs
that finished ``ok`` and runs the rest; when a run appears in several parts (a failed run
retried later), the latest part wins. A part that cannot be read (truncated by a full
disk, a bad copy) is moved aside with a warning naming it, and its runs run again: the
other parts are kept. A manifest with a different hash means a different sweep: resuming
into that directory is refused, saying what differs, rather than mixing two sweeps in
one table.

Every Parquet file is read back through :func:`sim.parquet.read_parquet`, never
``pandas.read_parquet``: a process that exits right after a read (an interrupted sweep
counts the runs kept, prints one line and exits) must not be aborted by pyarrow's threads.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from sim.params import ConfigError
from sim.parquet import read_arrow, read_parquet, write_parquet
from sim.sweep.experiment import Experiment, sweep_hash

try:  # advisory lock: two sweeps writing into one directory would interleave parts
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

log = logging.getLogger(__name__)

FORMAT = "northern-route-sweep/1"
PART_RE = re.compile(r"^part-(\d{6,})\.parquet$")
JOURNAL = "journal.jsonl"
#: The tables written when a sweep ends (removed while it runs again).
FINAL_TABLES = ("results.parquet", "summary.csv")
#: The journal is synced to disk at least this often (seconds) while runs arrive.
SYNC_SECONDS = 1.0
#: Suffix given to a part that cannot be read; such files are kept for inspection, never read.
UNREADABLE = ".unreadable"


class SweepMismatchError(ConfigError):
    """The results directory holds a different sweep than the one asked to resume."""


class ResultStore:
    """Reads and writes one sweep's results directory."""

    def __init__(self, root: str | Path, experiments: Sequence[Experiment], horizon_days: int | None = None,
                 details: Sequence[str] = ()):
        self.root = Path(root)
        self.parts_dir = self.root / "parts"
        self.details = tuple(details)
        self._lock_file = None
        self._journal = None
        try:
            self._open(experiments, horizon_days)
        except OSError as err:  # a results directory that is a file, read-only, on a full disk...
            self.close()
            raise ConfigError(f"sweep error: results directory {self.root}: {_os_problem(err)}") from None
        except BaseException:
            self.close()
            raise

    def _open(self, experiments: Sequence[Experiment], horizon_days: int | None) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"sweep error: results directory {self.root} is a file; give a directory (--out)")
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        self.hash = sweep_hash(experiments, horizon_days, self.details)
        self._check_or_write_manifest(experiments, horizon_days)
        self._set_aside_unreadable_parts()
        numbers = set(self._part_numbers())
        for folder in [self.parts_dir] + [self.root / "details" / kind for kind in self.details]:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("*.tmp*"):
                stale.unlink(missing_ok=True)  # a batch being written when the sweep was killed
            if folder != self.parts_dir:  # details written, but killed before their part was
                for orphan in folder.glob("part-*.parquet"):
                    if (m := PART_RE.match(orphan.name)) and int(m.group(1)) not in numbers:
                        orphan.unlink()
        # never reuse the number of a part set aside: a journal line naming it must not find other runs there
        self._next_part = max(numbers | set(self._part_numbers(UNREADABLE)), default=0) + 1
        self._recover_journal()
        self._journal = open(self.parts_dir / JOURNAL, "a", encoding="utf-8")
        self._synced_at = time.monotonic()

    # --- manifest ---------------------------------------------------------------

    def _check_or_write_manifest(self, experiments: Sequence[Experiment], horizon_days: int | None) -> None:
        path = self.root / "manifest.json"
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except ValueError:
                raise SweepMismatchError(f"sweep error: {path} is not a readable sweep manifest") from None
            if old.get("sweep_hash") != self.hash:
                before = _read_experiments(self.root / "experiments.jsonl")
                raise SweepMismatchError(
                    f"sweep error: {self.root} holds a different sweep: "
                    f"{describe_difference(old, before, experiments, horizon_days, self.details)}; "
                    "write this one to another results directory, or delete that one")
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

    # --- journal ----------------------------------------------------------------

    def append(self, row: Mapping[str, Any], details: Mapping[str, pd.DataFrame] | None = None) -> None:
        """Record one finished run at once: one JSON line, handed to the operating system.

        The journal is what makes a ``kill -9`` lose only the runs in flight: runs wait
        in memory for their part, but never only in memory. A killed process loses
        nothing the OS has; a machine that loses power loses what is not yet synced to
        disk, at most :data:`SYNC_SECONDS` (syncing every line would cost ~5 ms a run).
        """
        record = {"part": self._next_part, "row": dict(row)}  # the part this run is bound for
        if details:
            record["details"] = {kind: _frame_to_text(frame) for kind, frame in details.items()}
        self._journal.write(json.dumps(record, default=_json_default) + "\n")
        self._journal.flush()
        if time.monotonic() - self._synced_at >= SYNC_SECONDS:
            os.fsync(self._journal.fileno())
            self._synced_at = time.monotonic()

    def _recover_journal(self) -> None:
        """Turn the runs a stopped sweep left in the journal into a part, then empty it.

        A run whose part was written but whose journal was not yet emptied (killed in
        between) is in both: each journal line names the part its run is bound for, and a
        run already in that part is not recorded a second time.
        """
        path = self.parts_dir / JOURNAL
        if not path.exists():
            return
        rows, details, in_parts = [], {}, {}
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = json.loads(line)
                    row, part = record["row"], record.get("part")
                    frames = {kind: _frame_from_text(text) for kind, text in record.get("details", {}).items()}
                    run_id = row["run_id"]
                except (ValueError, KeyError, TypeError, OSError):
                    log.warning("sweep: %s line %d is cut short (the sweep was killed while writing it); "
                                "that run will run again", path, number)
                    break
                if part not in in_parts:
                    in_parts[part] = self._run_ids_in_part(part)
                if run_id in in_parts[part]:
                    continue  # its part was written, the kill came before the journal was emptied
                rows.append(row)
                for kind, frame in frames.items():
                    details.setdefault(kind, []).append(frame)
        if rows:
            self.write_part(rows, details)  # empties the journal
        else:
            path.unlink()

    def _run_ids_in_part(self, number: Any) -> set[str]:
        """The runs recorded in part ``number`` (none if it was never written or was set aside)."""
        path = self.parts_dir / f"part-{number:06d}.parquet" if isinstance(number, int) else None
        if path is None or not path.exists():
            return set()
        return set(read_parquet(path, columns=["run_id"])["run_id"])

    # --- parts ------------------------------------------------------------------

    def _part_numbers(self, suffix: str = "") -> list[int]:
        """The numbers of the parts (of those set aside, with ``suffix=UNREADABLE``)."""
        return sorted(int(m.group(1)) for p in self.parts_dir.iterdir()
                      if p.name.endswith(suffix) and (m := PART_RE.match(p.name.removesuffix(suffix))))

    def _set_aside_unreadable_parts(self) -> None:
        """Move aside parts that cannot be read, naming each: their runs run again, the rest are kept."""
        for path in self.part_paths():
            try:
                read_arrow(path)
            except Exception as err:  # noqa: BLE001 -- pyarrow raises several kinds for a damaged file
                aside = path.with_name(path.name + UNREADABLE)
                os.replace(path, aside)
                problem = str(err).splitlines()[0] if str(err) else type(err).__name__
                log.warning("sweep: %s is unreadable (%s); moved aside to %s, its runs will run again",
                            path, problem, aside.name)

    def part_paths(self) -> list[Path]:
        return [self.parts_dir / f"part-{n:06d}.parquet" for n in self._part_numbers()]

    def write_part(self, rows: Sequence[dict[str, Any]],
                   details: Mapping[str, Sequence[pd.DataFrame]] | None = None) -> Path | None:
        """Write finished runs as the next part, atomically; returns its path.

        Their details go first, under the same part number: a part exists only once
        everything of its batch is on disk (details without their part are orphans,
        removed when the sweep resumes). The part number moves on only when the journal
        is emptied: a write interrupted before that (Ctrl-C just after the rename) and
        retried rewrites the same part, so no run is ever in two parts.
        """
        if not rows:
            return None
        name = f"part-{self._next_part:06d}.parquet"
        for kind, frames in (details or {}).items():
            frames = [f for f in frames if len(f)]
            if frames:
                _atomic_parquet(pd.concat(frames, ignore_index=True), self.root / "details" / kind / name)
        path = self.parts_dir / name
        _atomic_parquet(pd.DataFrame(list(rows)), path)
        self._empty_journal()  # killed before this: the journal's runs are found in this part when resuming
        self._next_part += 1
        return path

    def _empty_journal(self) -> None:
        if self._journal is not None:
            self._journal.seek(0)
            self._journal.truncate()
            self._journal.flush()
            os.fsync(self._journal.fileno())
        else:  # recovering: the journal is not open yet
            (self.parts_dir / JOURNAL).unlink(missing_ok=True)

    def recorded(self) -> pd.DataFrame:
        """Every run recorded so far, the latest record of each run (empty if none)."""
        frames = []
        for number, path in enumerate(self.part_paths()):
            frame = read_parquet(path)
            frame["_order"] = number
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["run_id", "status"])
        # all-empty columns (no error in a batch, an outcome absent) are filled back by concat
        frames = [f.dropna(axis=1, how="all") for f in frames]
        table = pd.concat(frames, ignore_index=True, sort=False)
        table = table.drop_duplicates("run_id", keep="last").drop(columns="_order")
        return table.reset_index(drop=True)

    def retract_tables(self) -> None:
        """Remove the final tables of an earlier session before runs are added: a sweep
        stopped now must not leave a ``results.parquet`` that looks complete but is not."""
        for name in FINAL_TABLES:
            (self.root / name).unlink(missing_ok=True)

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        """Write a final table (``results.parquet``; ``.csv`` by suffix) atomically."""
        path = self.root / name
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            write_parquet(frame, tmp)
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
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_details(results_dir: str | Path, kind: str) -> pd.DataFrame:
    """One per-run table of a sweep (e.g. ``"daily"``), all runs together, with run_id.

    A run is read from one part only, the latest holding it, as :meth:`ResultStore.recorded`
    does (a folder written before journal lines named their part may hold a run twice).
    """
    root = Path(results_dir)
    numbers = {m.group(1) for p in (root / "parts").glob("part-*.parquet") if (m := PART_RE.match(p.name))}
    paths = sorted(p for p in (root / "details" / kind).glob("part-*.parquet")
                   if (m := PART_RE.match(p.name)) and m.group(1) in numbers)
    if not paths:
        raise FileNotFoundError(f"no {kind!r} details in {root} (run the sweep with details=[{kind!r}])")
    frames = [read_parquet(p).assign(_part=number) for number, p in enumerate(paths)]
    table = pd.concat(frames, ignore_index=True)
    latest = table.groupby("run_id", sort=False, observed=True)["_part"].transform("max")
    return table[table["_part"] == latest].drop(columns="_part").reset_index(drop=True)


def _read_experiments(path: Path) -> list[dict[str, Any]] | None:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return None


def describe_difference(manifest: Mapping[str, Any], before: list[dict[str, Any]] | None,
                        experiments: Sequence[Experiment], horizon_days: int | None, details: Sequence[str]) -> str:
    """What differs between the sweep recorded in a results directory and this one, in plain words."""
    def horizon(h: Any) -> str:
        return "each run's own horizon" if h is None else f"a horizon of {h} days"

    def plural(n: int) -> str:
        return f"{n} run{'s' * (n != 1)}"

    said = []
    if manifest.get("horizon_days") != horizon_days:
        said.append(f"it ran {horizon(manifest.get('horizon_days'))}, this one asks for {horizon(horizon_days)}")
    if sorted(manifest.get("details") or []) != sorted(details):
        said.append(f"it kept details {sorted(manifest.get('details') or []) or 'none'}, "
                    f"this one asks for {sorted(details) or 'none'}")
    if before is None:
        if manifest.get("n_runs") != len(experiments):
            said.append(f"it has {plural(manifest.get('n_runs') or 0)}, this one {plural(len(experiments))}")
        return "; ".join(said) or "its experiments differ (its experiments.jsonl is missing or unreadable)"
    old = {e.get("run_id"): e for e in before}
    new = {e.run_id: e.to_json() for e in experiments}
    if len(old) != len(new):
        said.append(f"it has {plural(len(old))}, this one {plural(len(new))}")
    only_old, only_new = [r for r in old if r not in new], [r for r in new if r not in old]
    if only_new:
        said.append(f"runs only in this one: {_some(only_new)}")
    if only_old:
        said.append(f"runs only in that one: {_some(only_old)}")
    for run_id in (r for r in new if r in old):
        a, b = old[run_id], new[run_id]
        changed = [k for k in ("scenario", "updates", "seed", "inputs") if a.get(k) != b.get(k)]
        if changed:
            what = {"scenario": "overrides", "updates": "parameter values", "seed": "seed", "inputs": "labels"}
            said.append(f"run {run_id} has other {' and '.join(what[k] for k in changed)} "
                        f"({_first_change(a, b, changed[0])})")
            break
    return "; ".join(said) or "the order of its runs differs"


def _some(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _first_change(a: Mapping[str, Any], b: Mapping[str, Any], key: str) -> str:
    x, y = a.get(key), b.get(key)
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if x.get(k) != y.get(k):
                return f"{k}: {x.get(k, 'not set')} there, {y.get(k, 'not set')} here"
    return f"{x} there, {y} here"


def _os_problem(err: OSError) -> str:
    """An OSError in a few plain words ('permission denied (read-only?)', 'not a directory')."""
    words = (err.strerror or str(err)).lower()
    if isinstance(err, PermissionError) or err.errno in (13, 30):
        words += "; is it read-only?"
    return words + (f" ({err.filename})" if err.filename else "")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return repr(value)


def _frame_to_text(frame: pd.DataFrame) -> str:
    """A DataFrame as text for one journal line (Parquet inside: dtypes and categories kept)."""
    buffer = io.BytesIO()
    write_parquet(frame, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _frame_from_text(text: str) -> pd.DataFrame:
    return read_parquet(base64.b64decode(text))


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    write_parquet(frame, tmp)
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
