"""Label-aware diff between two versions of a dataset (issue 11): rows added, removed,
changed and relabelled, label-share shift, schema and per-column quality changes.

Pure code: tables come in as column names plus a row stream, so the quality readers (or
any other) feed it, and it runs in bounded memory (``rows.diff_rows``).
"""

from .report import (
           SCHEMA_VERSION,
           ColumnChange,
           FieldChange,
           LabelShift,
           RowDiff,
           RowExample,
           VersionDiff,
)
from .rows import Table, buckets_for, diff_rows
from .schema import ColumnFigures, Field, diff_columns, diff_fields

__all__ = ["SCHEMA_VERSION", "ColumnChange", "ColumnFigures", "Field", "FieldChange", "LabelShift", "RowDiff",
           "RowExample", "Table", "VersionDiff", "buckets_for", "diff_columns", "diff_fields", "diff_rows"]
