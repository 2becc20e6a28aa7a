"""Keys pass: exact duplicate rows, near-duplicate rows and primary-key duplicates.

Runs on the key thread. Owns the whole-row, normalised-row and primary-key KeyStores
(partitioned, spilled to disk past their budget); their distinct counts are taken once
at the end (Pipeline.final_counts). When a primary key without text columns is declared,
duplicates are counted through it instead (keyedrows.py: only rows whose key repeats are
compared and normalised; the same counts).
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ..arrowutil import SEP
from ..keyedrows import KeyedRows, keyed_path_applies
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
        # near-duplicate keys normalise text columns only (numbers keep their spelling)
        self.text_cols = [d in (None, "string", "any") for d in declared]
        self.pk_idx = pk_idx
        self.near = opts.near_duplicates
        # columns whose normalised values another pass uses (the labels pass's inputs)
        self.wanted: list[int] = []
        self.keyed = (KeyedRows(opts.spill_dir, budget, parts, len(declared), self.text_cols, self.near)
                      if opts.keyed_duplicates and keyed_path_applies(pk_idx, self.text_cols) else None)
        general = self.keyed is None
        self.row_keys = KeyStore(opts.spill_dir, budget, "rows", partitions=parts) if general else None
        self.near_keys = (KeyStore(opts.spill_dir, budget, "near", partitions=parts)
                          if general and self.near else None)
        self.pk_keys = KeyStore(opts.spill_dir, budget // 2, "pk", partitions=parts) if general and pk_idx else None

    def want_normalised(self, columns: list[int]) -> None:
        """Columns whose normalised values add() must return (the others may be None)."""
        self.wanted = sorted(set(columns))

    @property
    def counts_near(self) -> bool:
        return self.near

    @property
    def counts_pk(self) -> bool:
        return bool(self.pk_idx)

    def _pk_key(self, key_cols: list[pa.Array]) -> pa.Array:
        if len(self.pk_idx) == 1:
            return key_cols[self.pk_idx[0]]
        return pc.binary_join_element_wise(*[key_cols[i] for i in self.pk_idx], SEP)

    def add(self, key_cols: list[pa.Array], row_key: pa.Array) -> list[pa.Array | None] | None:
        """Add one batch's keys; returns the normalised columns (for the labels pass: at
        least the wanted ones; None when near-duplicates are off)."""
        if self.keyed is not None:
            self.keyed.add(self._pk_key(key_cols), row_key)
            if not self.near:
                return None
            near_cols: list[pa.Array | None] = [None] * len(key_cols)
            for i in self.wanted:
                near_cols[i] = normalise_columns([key_cols[i]], [self.text_cols[i]])[0]
            return near_cols
        self.row_keys.add(row_key)
        near_cols = None
        if self.near_keys is not None:
            near_cols = normalise_columns(key_cols, self.text_cols)
            self.near_keys.add(join(near_cols))
        if self.pk_keys is not None:
            self.pk_keys.add(self._pk_key(key_cols))
        return near_cols

    def final_jobs(self) -> dict[str, Callable[[], int]]:
        if self.keyed is not None:
            keyed = self.keyed
            jobs = {"rows": lambda: keyed.counts()["rows"], "pk": lambda: keyed.counts()["pk"]}
            if self.near:
                jobs["near_rows"] = lambda: keyed.counts()["near_rows"]
            return jobs
        jobs = {"rows": self.row_keys.count_distinct}
        if self.near_keys is not None:
            jobs["near_rows"] = self.near_keys.count_distinct
        if self.pk_keys is not None:
            jobs["pk"] = self.pk_keys.count_distinct
        return jobs

    def close(self) -> None:
        if self.keyed is not None:
            self.keyed.close()
        for store in (self.row_keys, self.pk_keys, self.near_keys):
            if store is not None:
                store.close()
