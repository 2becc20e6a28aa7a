"""The buyer's Parquet copy, written by the delivery build beside the ZIP (SPEC §10).

The copy is converted from the data file *inside the package just built* (so it holds the
same rows as the ZIP's data file by construction, not a second read of the source that
could differ), by pure code in ``workers/delivery/parquet.py``, and stored through
``exchange.storage`` as ``deliveries/<id>/<claim token>.parquet`` (both backends).

A table that cannot be converted faithfully does not fail the delivery: the ZIP is the
contract's deliverable; the delivery records ``parquet_error`` and offers no Delta Sharing.
Storage errors are raised (``OSError``) so the build is released and retried like any other.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File

from exchange import storage
from exchange.models import DatasetVersion

logger = logging.getLogger(__name__)
SHAREABLE_TYPES = ("integer", "number", "boolean")


@dataclass(frozen=True)
class TableCopy:
    """What ``delivery_store`` records: a stored copy, or why there is none."""

    name: str = ""
    size: int | None = None
    sha256: str = ""
    rows: int | None = None
    schema_string: str = ""
    error: str = ""


def column_types(version: DatasetVersion) -> dict[str, str]:
    """Columns to type in the copy: declared ``integer``/``number``/``boolean`` columns in which
    the quality check found no invalid value. Everything else stays text, as written."""
    from exchange.selectors.quality import version_report

    report = version_report(version)
    columns = report.columns if report is not None else []
    return {c.name: c.type for c in columns if c.declared and c.type in SHAREABLE_TYPES and not c.invalid_count}


def _declared(version: DatasetVersion) -> tuple[list[str], tuple[str, ...]]:
    schema = version.dataset.schema or {}
    names = [f["name"] for f in schema.get("fields", []) if isinstance(f, dict) and isinstance(f.get("name"), str)]
    missing = schema.get("missingValues", [""])
    return names, tuple(m for m in missing if isinstance(m, str)) or ("",)


def parquet_copy_build(*, package: IO[bytes], data_path: str, version: DatasetVersion, name: str,
                       progress=None) -> TableCopy:
    """Convert the package's data file to Parquet and store it under ``name``.

    ``package`` is the seekable ZIP just written. Returns the copy, or a TableCopy with only
    ``error`` when the data cannot be converted with exactly its rows. Raises OSError when
    storage fails (the caller deletes ``name`` and releases the build)."""
    from exchange.selectors.quality import version_dialect
    from workers.delivery.parquet import ParquetConversionError, write_parquet

    names, missing = _declared(version)
    try:
        dialect = version_dialect(version)  # read as the quality check read it: declared beats sniffed
    except ValueError as exc:  # a dialect stored around the service: no copy, naming it
        return TableCopy(error=f"The table could not be converted to Parquet: {exc}"[:2000])
    package.seek(0)
    try:
        with zipfile.ZipFile(package) as archive, archive.open(data_path) as data, \
                tempfile.TemporaryFile(dir=settings.DELIVERY_TMP_DIR, prefix="shujiao-parquet-") as out:
            result = write_parquet(data, out, fmt=version.format, column_types=column_types(version),
                                   columns=names, missing_values=missing, progress=progress, dialect=dialect)
            expected = version.row_count
            if expected is not None and result.rows != expected:
                raise ParquetConversionError(
                    f"the copy holds {result.rows} rows but the quality check counted {expected}")
            out.flush()
            out.seek(0)
            stored = storage.save(name, File(out, name=name))
    except ParquetConversionError as exc:
        logger.warning("version %s: no Parquet copy: %s", version.pk, exc)
        return TableCopy(error=f"The table could not be converted to Parquet: {exc}"[:2000])
    except (zipfile.BadZipFile, KeyError) as exc:  # our own package: a bug, not the buyer's problem
        logger.error("version %s: package unreadable for the Parquet copy: %s", version.pk, exc)
        return TableCopy(error=f"The package could not be read back: {exc}"[:2000])
    return TableCopy(name=stored, size=result.size, sha256=result.sha256, rows=result.rows,
                     schema_string=result.schema_string)
