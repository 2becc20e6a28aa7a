"""Tunable limits for the profiler."""

from __future__ import annotations

from dataclasses import dataclass

from .dialect import Dialect

MiB = 1024 * 1024


@dataclass
class QualityOptions:
    """Limits and knobs. Defaults suit a worker with ~640 MB of memory to spare.

    memory_limit_bytes: budget for everything the profiler keeps (exact distinct sets,
        spill buffers, block buffers); row/key sets beyond it are spilled to disk.
    max_malformed_share: share of malformed rows above which the structure gate fails.
    block_size: bytes parsed per block (grown automatically, up to max_row_bytes, when a
        single row is longer).
    batch_rows: rows per batch for JSON Lines and Parquet.
    distinct_exact_limit: per column, distinct counts are exact up to this many values,
        approximate (k-minimum-values sketch, ~1% error) above it.
    stats_exact_limit: per numeric column, median and histogram are exact up to this many
        values (fewer when many columns share the memory limit), from a uniform sample of
        that many values above it (``approximate: true``).
    near_duplicates: count near-duplicate rows and near-conflicting labels (normalised
        keys; costs CPU, see docs/quality.md); when false both are null.
    keyed_duplicates: with a declared primary key that has no text column, count duplicate
        and near-duplicate rows through the key (only rows whose key repeats are compared:
        the same counts, less work; false forces the general path, for tests).
    spill_dir: directory for spill partitions (default: the system temp dir).
    max_row_bytes: longest row accepted (default: half the memory limit).
    max_line_bytes: longest physical line accepted (default: a quarter of the memory
        limit); a longer line ends the check with finding line_too_long as soon as the
        reader sees it, so memory stays bounded whatever the file holds.
    sample_rows / max_examples: sizes of the report's sample and example lists.
    dialect: the seller's declared CSV Dialect (dialect.Dialect); declared values beat
        sniffed ones, the report shows both.
    """

    memory_limit_bytes: int = 512 * MiB
    max_malformed_share: float = 0.01
    block_size: int = 4 * MiB
    batch_rows: int = 65_536
    distinct_exact_limit: int = 100_000
    distinct_sketch_size: int = 16_384
    stats_exact_limit: int = 100_000
    near_duplicates: bool = True
    keyed_duplicates: bool = True
    spill_dir: str | None = None
    max_row_bytes: int | None = None
    max_line_bytes: int | None = None
    sample_rows: int = 10
    max_examples: int = 20
    max_pii_examples: int = 10
    reader_threads: bool = True
    dialect: Dialect | None = None

    def __post_init__(self) -> None:
        if self.memory_limit_bytes < 32 * MiB:
            raise ValueError("memory_limit_bytes must be at least 32 MiB")
        if not 0 <= self.max_malformed_share <= 1:
            raise ValueError("max_malformed_share must be between 0 and 1")
        if self.block_size < 1024:
            raise ValueError("block_size must be at least 1024 bytes")
        if self.max_line_bytes is not None and self.max_line_bytes < 1024:
            raise ValueError("max_line_bytes must be at least 1024 bytes")

    @property
    def row_limit(self) -> int:
        return self.max_row_bytes or self.memory_limit_bytes // 2

    @property
    def line_limit(self) -> int:
        return self.max_line_bytes or self.memory_limit_bytes // 4
