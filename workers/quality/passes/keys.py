"""Keys pass: exact duplicate rows, near-duplicate rows and primary-key duplicates.

Runs on the key thread. Owns the whole-row, normalised-row and primary-key KeyStores
(partitioned, spilled to disk past their budget); their distinct counts are taken once
at the end (Pipeline.final_counts).
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ..arrowutil import SEP
from ..keys import KeyStore
from ..normalise import join, normalise_columns
from ..options import QualityOptions


def partition_count(total_bytes: int | None, budget: int) -> int:
    """Spill partitions per key store: enough that a partition of whole-row keys (about
    the file's size, plus 16 bytes a row) fits the row store's budget when read back, so
    that it need not be split again; 64 when the size is unknown (re-splitting then
    handles larger inputs)."""
    parts = 64
    if total_bytes:
        while parts < 512 and total_bytes * 1.3 / parts > budget * 0.8:
            parts *= 2
    return parts


class KeysPass:
    def __init__(self, opts: QualityOptions, declared: list[str | None], pk_idx: list[int],
                 budget: int, parts: int):
        self.row_keys = KeyStore(opts.spill_dir, budget, "rows", partitions=parts)
        self.near_keys = (KeyStore(opts.spill_dir, budget, "near", partitions=parts)
                          if opts.near_duplicates else None)
        # near-duplicate keys normalise text columns only (numbers keep their spelling)
        self.text_cols = [d in (None, "string", "any") for d in declared]
        self.pk_idx = pk_idx
        self.pk_keys = KeyStore(opts.spill_dir, budget // 2, "pk", partitions=parts) if pk_idx else None

    def add(self, key_cols: list[pa.Array], row_key: pa.Array) -> list[pa.Array] | None:
        """Add one batch's keys; returns the normalised columns (for the labels pass)."""
        self.row_keys.add(row_key)
        near_cols = None
        if self.near_keys is not None:
            near_cols = normalise_columns(key_cols, self.text_cols)
            self.near_keys.add(join(near_cols))
        if self.pk_keys is not None:
            if len(self.pk_idx) == 1:
                self.pk_keys.add(key_cols[self.pk_idx[0]])
            else:
                self.pk_keys.add(pc.binary_join_element_wise(*[key_cols[i] for i in self.pk_idx], SEP))
        return near_cols

    def final_jobs(self) -> dict[str, Callable[[], int]]:
        jobs = {"rows": self.row_keys.count_distinct}
        if self.near_keys is not None:
            jobs["near_rows"] = self.near_keys.count_distinct
        if self.pk_keys is not None:
            jobs["pk"] = self.pk_keys.count_distinct
        return jobs

    def close(self) -> None:
        for store in (self.row_keys, self.pk_keys, self.near_keys):
            if store is not None:
                store.close()
