"""Every Parquet file the project writes or reads goes through here.

Two ways to write, one for each kind of table:

- :func:`write_parquet`: any DataFrame, as pandas writes it, without its index (sweep
  results and parts, a comparison's runs, a run's daily series, calibration's tables);
- :func:`write_table` and :class:`ParquetLog`: a run's event log and shipment table,
  whole or streamed in batches, with one schema either way (:func:`arrow_table`).

One way to read, :func:`read_parquet` (or :func:`read_arrow` for the Arrow table): in the
calling thread only, so that a process that exits right after a read (an interrupted
sweep counts its runs, prints one line and exits 143) cannot be aborted by pyarrow's
threads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.timeline import add_dates


def write_parquet(frame: pd.DataFrame, target: str | Path | IO[bytes]) -> None:
    """A DataFrame as one Parquet file (a path, or a binary buffer), without its index."""
    frame.to_parquet(target, index=False)


def read_parquet(source: str | Path | bytes, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One Parquet file (a path, or its bytes) as a DataFrame, as ``pandas.read_parquet``
    gives it, but read entirely in the calling thread: nothing of the read outlives the call.

    Why not ``pandas.read_parquet``: for a local path pandas opens a Python file object
    and hands it to pyarrow's dataset reader, which pre-buffers and decodes in pyarrow's
    own thread pools and finishes tearing the read down there *after* returning; the
    last of that releases buffers owned by Python, which takes the GIL. When the process
    exits just then (an interrupted sweep reads its parts to count the runs kept, prints
    one line and calls ``sys.exit(143)``), a pyarrow thread asks for the GIL while the
    interpreter is finalizing, is made to exit, and its unwinding through C++ ends in
    ``std::terminate``: "terminate called without an active exception", SIGABRT, exit
    status -6 instead of 143 or 130 (apache/arrow#33975, #34314). It shows on a loaded
    machine, when pyarrow's thread is descheduled for the moment that matters.
    """
    table = read_arrow(source, columns)
    frame = table.to_pandas(use_threads=False)
    if table.schema.metadata and b"PANDAS_ATTRS" in table.schema.metadata:  # as pandas.read_parquet does
        frame.attrs = json.loads(table.schema.metadata[b"PANDAS_ATTRS"])
    return frame


def read_arrow(source: str | Path | bytes, columns: Sequence[str] | None = None) -> pa.Table:
    """The Arrow table of one Parquet file, read in the calling thread (see :func:`read_parquet`).

    pyarrow opens the file itself (its own file I/O, no Python object to release), with
    the plain ``ParquetFile`` reader, no pre-buffering and no threads: every step runs
    here and is over when this returns. Our files are small enough that threads would
    gain nothing.
    """
    native = pa.BufferReader(source) if isinstance(source, (bytes, bytearray)) else str(source)
    with pq.ParquetFile(native, pre_buffer=False) as file:
        return file.read(columns=list(columns) if columns is not None else None, use_threads=False,
                         use_pandas_metadata=True)


class ParquetLog:
    """Streams one of a run's tables (the event log, the shipment table) to a Parquet file in batches.

    The ledger hands it full batches (:meth:`sim.model.ledger.Ledger.flush_events`,
    :meth:`~sim.model.ledger.Ledger.flush_shipments`); each becomes a row group of the
    file, with the calendar dates beside the day numbers (``dates``: day column -> date
    column) and the categories as Parquet dictionaries, the columns of ``RunResult.events``
    and ``RunResult.shipments``. ``simulate(..., events_to=path, shipments_to=path)`` uses
    it; the CLI streams both to the run directory. ``empty`` makes the table without rows
    (the columns of a file to which nothing was written).
    """

    def __init__(self, path: str | Path, start_date, dates: Mapping[str, str],
                 empty: Callable[[], pd.DataFrame]) -> None:
        self.path = Path(path)
        self.start_date = start_date
        self.dates = dict(dates)
        self.empty = empty
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, frame: pd.DataFrame) -> None:
        table = arrow_table(add_dates(frame, self.start_date, self.dates))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        """Finish the file (an empty table with the columns when nothing was logged)."""
        if self._writer is None:
            self(self.empty().iloc[:0])
        self._writer.close()


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """A run's table held in memory, written as :class:`ParquetLog` writes a streamed one."""
    pq.write_table(arrow_table(frame), path)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A run's table as Arrow: categories as dictionaries with 32-bit codes (the same schema
    whatever the batch holds), missing values null."""
    return pa.table({name: _dictionary(column) if isinstance(column.dtype, pd.CategoricalDtype)
                     else pa.array(column.to_numpy()) for name, column in frame.items()})


def _dictionary(column: pd.Series) -> pa.DictionaryArray:
    """A categorical column as an Arrow dictionary of its categories (missing values null)."""
    codes = column.cat.codes.to_numpy(dtype=np.int32)
    categories = column.cat.categories
    values = pa.array(categories.to_numpy(dtype=np.int64)) if pd.api.types.is_integer_dtype(categories) \
        else pa.array([str(c) for c in categories], pa.string())     # (no categories: still strings)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), values)
