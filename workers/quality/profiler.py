"""profile(): one streaming pass over a CSV/TSV, JSON Lines or Parquet file, the report.

How a check runs (each step in its own module):

1. detect.py looks at the first MiB: format and encoding (a JSON array is refused here).
2. A reader (readers/) reads the header and then yields batches of string columns.
3. The pipeline (passes/pipeline.py) feeds each batch to the passes, on three threads
   (docs/quality.md, "Passes and threads", says which pass runs where).
4. finish.py turns the passes' figures into the report dict, decides the gates and the
   score (score.py); report.py is the same report as typed dataclasses.

Memory is bounded by QualityOptions.memory_limit_bytes: exact duplicate / primary-key /
conflict counting spills partitioned keys to disk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import findings
from .detect import FORMATS, detect_format, refusal_message, sniff_encoding
from .finish import finish_report, skeleton
from .lines import LineGuard, LineTooLong
from .options import QualityOptions
from .passes.pipeline import Pipeline
from .readers import HEAD_BYTES, Refused, Stopped, read_exactly
from .readers.csv import read_with_retry
from .readers.jsonl import JsonLinesReader
from .readers.parquet import ParquetReader
from .schema import validate_table_schema

Progress = Callable[[int, int, "float | None"], None]


class Profiler:
    """One check of one file: the schema's settings, the report being built, the findings."""

    def __init__(self, schema: dict | None, options: QualityOptions, progress: Progress | None,
                 total_bytes: int | None, filename: str | None):
        self.schema = schema or None
        self.options = options
        self.progress = progress
        self.total_bytes = total_bytes
        self.filename = filename
        s = self.schema or {}
        self.fields: dict[str, dict] = {f["name"]: f for f in s.get("fields", [])}
        pk = s.get("primaryKey")
        self.primary_key: list[str] = [pk] if isinstance(pk, str) else list(pk or [])
        self.label_field: str | None = s.get("labelField")
        self.labels: list[str] | None = s.get("labels")
        self.input_fields: list[str] | None = s.get("inputFields")
        self.personal_data: bool | None = s.get("personalData")
        self.missing_values: list[str] = list(s.get("missingValues", [""]))
        self.guard: LineGuard | None = None
        self.format: str | None = None
        self.restart()
        self._last_progress = 0.0

    def restart(self, **report: Any) -> None:
        """Forget what an earlier attempt found (a CSV re-read with a larger block)."""
        self.warnings: list[str] = []
        self.failures: list[str] = []
        self.findings: list[dict[str, Any]] = []
        self.report: dict[str, Any] = skeleton()
        self.report.update(report)

    # ---- entry -------------------------------------------------------------------
    def run(self, source: Any) -> dict[str, Any]:
        close = None
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.is_file():
                raise ValueError(f"no such file: {path}")
            if self.filename is None:
                self.filename = path.name
            if self.total_bytes is None:
                self.total_bytes = path.stat().st_size
            f = close = open(path, "rb")  # noqa: SIM115
        elif hasattr(source, "read"):
            f = source
        else:
            raise ValueError(f"source must be a path or a binary file object, not {type(source).__name__}")
        try:
            return self._run(f)
        except Refused as exc:
            findings.error(self, exc.code, str(exc))
            return self.finish(None)
        except LineTooLong as exc:
            findings.error(self, findings.LINE_TOO_LONG, str(exc), line=exc.line, limit_bytes=exc.limit)
            return self.finish(None)
        except (OSError, pa.ArrowException, UnicodeError, ValueError, MemoryError) as exc:
            findings.error(self, findings.READ_FAILED, f"could not read the file: {exc}")
            return self.finish(None)
        finally:
            if close is not None:
                close.close()

    def _run(self, f: Any) -> dict[str, Any]:
        start = None
        try:
            if f.seekable():
                start = f.tell()
        except (AttributeError, OSError, ValueError):
            start = None
        head = read_exactly(f, HEAD_BYTES)
        kind = detect_format(head)
        if kind not in FORMATS:
            self.report["bytes"] = len(head)
            raise Refused(refusal_message(head) or f"unsupported file ({kind})",
                          findings.REFUSED_CODES.get(kind, findings.FILE_COMPRESSED))
        self.report["format"] = self.format = kind
        if kind == "parquet":
            return self.drive(ParquetReader(self, f, head))
        encoding, _ = sniff_encoding(head)
        self.report["encoding"] = encoding
        if kind == "jsonl":
            return self.drive(JsonLinesReader(self, f, head, encoding))
        return read_with_retry(self, f, head, encoding, kind, start)

    def drive(self, reader: Any) -> dict[str, Any]:
        """Feed a reader's batches to the passes and finish the report."""
        try:
            header = reader.open()
            pipe = Pipeline(self, header, reader.row_numbers)
            try:
                with closing(reader.batches()) as batches:
                    try:
                        for cols in batches:
                            if isinstance(cols, int):
                                pipe.add_blank_rows(cols)
                            else:
                                pipe.add_batch(cols)
                            nbytes, pct = reader.progress(pipe.rows)
                            self.tick(pipe.rows, nbytes, pct)
                    except Stopped as exc:
                        findings.error(self, findings.READ_STOPPED,
                                       f"could not read the whole file (stopped after {pipe.rows} rows): {exc.detail}"
                                       if exc.with_rows else f"could not read the whole file: {exc.detail}",
                                       rows=pipe.rows)
                malformed_lines = reader.finish(pipe)
                return self.finish(pipe, malformed_lines=malformed_lines)
            finally:
                pipe.close()
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    # ---- helpers for the readers ----------------------------------------------------------
    def tick(self, rows: int, nbytes: int, percent: float | None = None, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not final and now - self._last_progress < 0.2:
            return
        self._last_progress = now
        if percent is None and self.total_bytes:
            percent = min(100.0, 100.0 * nbytes / self.total_bytes)
        self.progress(rows, nbytes, percent)

    def check_header(self, header: list[str]) -> None:
        seen: set[str] = set()
        dups = []
        for h in header:
            if h in seen and h not in dups:
                dups.append(h)
            seen.add(h)
        if dups:
            findings.warning(self, findings.DUPLICATE_COLUMN_NAMES, "duplicate column names: " + ", ".join(dups[:20]),
                             columns=dups[:20])
        if self.fields:
            missing = [n for n in self.fields if n not in seen]
            extra = [h for h in header if h not in self.fields]
            if missing:
                findings.error(self, findings.MISSING_COLUMNS,
                               "missing declared columns: " + ", ".join(missing[:50])
                               + (f" (and {len(missing) - 50} more)" if len(missing) > 50 else ""),
                               columns=missing[:50])
            if extra:
                findings.warning(self, findings.EXTRA_COLUMNS,
                                 "extra columns not in the schema: " + ", ".join(extra[:50])
                                 + (f" (and {len(extra) - 50} more)" if len(extra) > 50 else ""),
                                 columns=extra[:50])

    def finish(self, pipe: Pipeline | None, malformed_lines: list[int] | None = None) -> dict[str, Any]:
        return finish_report(self, pipe, malformed_lines)


_POOL_CHECKED = False


def _prefer_jemalloc() -> None:
    """Use Arrow's jemalloc pool when the build has it (once per process).

    The default mimalloc pool keeps freed blocks around: the same profile peaks about
    130 MB higher than with jemalloc returning dirty pages after 100 ms, at the same speed.
    """
    global _POOL_CHECKED
    if _POOL_CHECKED:
        return
    _POOL_CHECKED = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return  # an explicit choice wins
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(100)  # give freed pages back soon: bounds peak RSS
    except (NotImplementedError, pa.ArrowException, AttributeError):
        return
    pa.set_memory_pool(pool)


def profile(source: Any, schema: dict | None = None, *, options: QualityOptions | None = None,
            progress: Progress | None = None, total_bytes: int | None = None,
            filename: str | None = None) -> dict[str, Any]:
    """Profile a CSV/TSV/JSON Lines/Parquet file; always returns a report dict
    (report.Report.from_dict gives the typed report).

    Raises ValueError only for usage errors (invalid schema, bad source argument).
    """
    if schema is not None:
        errors = validate_table_schema(schema)
        if errors:
            raise ValueError("invalid table schema: " + "; ".join(errors))
    _prefer_jemalloc()
    prof = Profiler(schema, options or QualityOptions(), progress, total_bytes, filename)
    return prof.run(source)
