"""Labels pass: label distribution, labels outside the declared set or missing, and
conflicts (the same input with different labels), exact and after normalisation.

Runs on the key thread (it reuses the keys pass's escaped and normalised columns).
Owns the label counts and the two tagged conflict KeyStores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import tableschema
from ..arrowutil import SEP
from ..keys import KeyStore
from ..normalise import join
from ..options import QualityOptions
from ..stats import label_shares

# distinct undeclared labels counted at most (a free-text "label" column stays bounded)
MAX_LABELS = 10_000
# Labels outside the declared set are named, not only counted: the first this many distinct
# values are counted each (any later ones are in outside_set only); the report keeps the top ten.
MAX_OUTSIDE_TRACKED = 1_000
OUTSIDE_EXAMPLES = 10


class LabelsPass:
    def __init__(self, opts: QualityOptions, prof: Any, header: list[str], label_idx: int,
                 pk_idx: list[int], null_set: tuple[str, ...], budget: int, parts: int):
        self.column = prof.label_field
        self.header = header
        self.label_idx = label_idx
        self.labels: list[str] | None = prof.labels
        self.null_set = null_set
        self.near = opts.near_duplicates
        self.counts: dict[str, int] = {}
        self.outside = 0
        self.outside_counts: dict[str, int] = {}
        self.missing = 0
        self.ids: dict[str, int] = {lab: i for i, lab in enumerate(self.labels or [])}
        idx = {h: i for i, h in enumerate(header)}
        if prof.input_fields:
            self.input_idx = [idx[c] for c in prof.input_fields if c in idx]
        else:
            pk = set(pk_idx)
            self.input_idx = [i for i in range(len(header)) if i != label_idx and i not in pk]
        self.conflict_keys = KeyStore(opts.spill_dir, budget // 2, "conflicts", with_tag=True, partitions=parts)
        self.near_conflict_keys = (KeyStore(opts.spill_dir, budget // 2, "near-conflicts", with_tag=True,
                                            partitions=parts) if opts.near_duplicates else None)

    def add(self, cols: list[pa.Array], key_cols: list[pa.Array], n: int,
            near_cols: list[pa.Array] | None) -> None:
        # one hash pass (dictionary encoding); the rest works on the few distinct labels
        denc = cols[self.label_idx].dictionary_encode()
        values = denc.dictionary.to_pylist()
        vc = pc.value_counts(denc.indices)
        counts = dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
        declared = self.labels is not None
        tag_of: list[int | None] = []
        n_in = 0
        for j, v in enumerate(values):
            cnt = counts.get(j, 0)
            if tableschema.is_null_text(v, self.null_set):
                self.missing += cnt
                tag_of.append(None)
                continue
            if declared and v not in self.ids:
                self.outside += cnt
                name = str(v)
                if cnt and (name in self.outside_counts or len(self.outside_counts) < MAX_OUTSIDE_TRACKED):
                    self.outside_counts[name] = self.outside_counts.get(name, 0) + cnt
                tag_of.append(None)
                continue
            tag = self.ids[v] if declared else self.ids.setdefault(v, len(self.ids))
            tag_of.append(tag)
            n_in += cnt
            if cnt and (v in self.counts or len(self.counts) < MAX_LABELS):
                self.counts[v] = self.counts.get(v, 0) + cnt
        tags = pa.array(tag_of, pa.int32()).take(denc.indices)
        if not self.input_idx or not n_in:
            return
        in_set = pc.is_valid(tags)
        if len(self.input_idx) == 1:
            key = key_cols[self.input_idx[0]]
        else:
            key = pc.binary_join_element_wise(*[key_cols[i] for i in self.input_idx], SEP)
        if n_in != n:
            key, tags = key.filter(in_set), tags.filter(in_set)
        self.conflict_keys.add(key, tags)
        if near_cols is not None:
            near = join([near_cols[i] for i in self.input_idx])
            self.near_conflict_keys.add(near.filter(in_set) if n_in != n else near, tags)

    def final_jobs(self) -> dict[str, Callable[[], int]]:
        if not self.input_idx:
            return {}
        jobs = {"conflicts": self.conflict_keys.count_keys_with_multiple_tags}
        if self.near_conflict_keys is not None:
            jobs["near_conflicts"] = self.near_conflict_keys.count_keys_with_multiple_tags
        return jobs

    def result(self, rows: int, finals: dict[str, int]) -> dict[str, Any]:
        """The report's `labels` section."""
        counts = self.counts
        if self.labels is not None:
            dist = {lab: counts.get(lab, 0) for lab in self.labels}
        else:
            dist = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
        nz = [v for v in dist.values() if v]
        ratio = (max(nz) / min(nz)) if nz else None
        if not self.input_idx:
            finals = {}
        top_outside = sorted(self.outside_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:OUTSIDE_EXAMPLES]
        return {"column": self.column, "distribution": dist, "outside_set": self.outside,
                "outside_examples": [{"value": v, "count": c} for v, c in top_outside],
                "missing": self.missing, "imbalance_ratio": ratio, "conflicts": finals.get("conflicts", 0),
                "near_conflicts": finals.get("near_conflicts", 0) if self.near else None,
                "shares": label_shares(dist, rows), "outside_share": self.outside / rows if rows else 0.0,
                "missing_share": self.missing / rows if rows else 0.0,
                "input_fields": [self.header[i] for i in self.input_idx]}

    def close(self) -> None:
        for store in (self.conflict_keys, self.near_conflict_keys):
            if store is not None:
                store.close()
