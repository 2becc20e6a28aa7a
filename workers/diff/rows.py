"""Row-level diff of two tables in bounded memory (no Django).

Both tables are streamed once. Each row becomes a small record — a 16-byte hash of its key,
a 16-byte hash of its compared values, its label and a printable key — written to one of
``buckets`` spill files chosen by the key hash. Rows with the same key land in the same
bucket of both tables, so the bucket pairs are then compared one at a time: only one old
bucket is held in a dict. Memory is the number of buckets times a write buffer plus one
bucket's records; the caller picks ``buckets`` from the files' size (``buckets_for``).

Matching:
- ``key`` mode (the seller declared a primary key that both versions have): rows match by
  key; a matched row is *changed* when any compared value differs, *relabelled* when its
  label differs. Rows after the first with the same key are counted as duplicates, not compared.
- ``content`` mode (no usable key): rows match by their values without the label, as
  multisets. Equal values with the same label are unchanged; equal values whose label
  differs are paired as relabelled (so relabelling is still found without a key); the rest
  are added or removed. Without a label nothing can be "changed": a changed row shows as
  one removed and one added.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter

from .batches import BatchesUnsupported
from .report import LabelShift, RowDiff, RowExample

Value = str | None

BUCKET_BYTES = 48 * 1024 * 1024  # input bytes per bucket: its records and dict stay well under 200 MiB
MAX_LABELS = 10_000  # a "label" column with more distinct values is not a label: shares are not kept
EXAMPLES = 5
_KEY_TEXT = 120  # bytes of the printable key kept per row (examples only)
_LABEL_TEXT = 200  # bytes of a label kept per row (longer labels compare by their prefix and hash)
_HEAD = struct.Struct(">16s16sHH")


@dataclass(frozen=True)
class Table:
    """A table to compare: its column names and a way to stream its rows (values as text, None = null)."""

    columns: tuple[str, ...]
    rows: Callable[[], Iterable[Sequence[Value]]]
    # optional, faster: the same rows as lists of pyarrow string arrays, one per column (``batches.py``); a stream
    # that cannot give the file this way raises ``BatchesUnsupported`` and the rows are read instead
    batches: Callable[[], Iterable[Sequence[object]]] | None = None


def buckets_for(total_bytes: int) -> int:
    return max(1, min(1024, math.ceil(total_bytes / BUCKET_BYTES)))


def _canon_slow(values: Sequence[Value]) -> bytes:
    # one more separator than the fast path ever has, and escaped values: never equal to it or each other
    return ("\x1f" + "\x1f".join("\x00" if v is None else "\x02" + v.replace("\x02", "\x02\x02").replace("\x1f", "\x02f")
                                 for v in values)).encode("utf-8", "surrogatepass")


def _canon_getter(ix: Sequence[int]) -> Callable[[Sequence[Value]], bytes]:
    """Bytes that identify the values at ``ix`` exactly (null differs from empty text)."""
    n = len(ix)
    if n == 0:
        return lambda row: b""
    get = itemgetter(*ix)

    def canon(row: Sequence[Value]) -> bytes:
        values = (get(row),) if n == 1 else get(row)
        if None not in values:
            joined = "\x1f".join(values)
            if joined.count("\x1f") == n - 1:  # no value holds the separator: the common, fast case
                return joined.encode("utf-8", "surrogatepass")
        return _canon_slow(values)

    return canon


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _cut(text: str, limit: int) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return raw if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore").encode()


class _Spill:
    """``n`` buffered bucket files in a private temporary directory."""

    def __init__(self, directory: str, name: str, n: int):
        self.paths = [os.path.join(directory, f"{name}-{i}") for i in range(n)]
        self.files = [open(p, "wb", buffering=64 * 1024) for p in self.paths]

    def put(self, kh: bytes, ch: bytes, label: bytes, key: bytes) -> None:
        f = self.files[int.from_bytes(kh[:4], "big") % len(self.files)]
        f.write(_HEAD.pack(kh, ch, len(label), len(key)) + label + key)

    def close(self) -> None:
        for f in self.files:
            f.close()

    def read(self, i: int) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
        with open(self.paths[i], "rb", buffering=256 * 1024) as f:
            while head := f.read(_HEAD.size):
                kh, ch, ll, kl = _HEAD.unpack(head)
                yield kh, ch, f.read(ll), f.read(kl)
        os.unlink(self.paths[i])


@dataclass
class _Side:
    rows: int = 0
    duplicates: int = 0
    labels: Counter | None = None


def _spill_table(table: Table, spill: _Spill, *, key: tuple[str, ...], compared: tuple[str, ...],
                 label: str | None, mode: str) -> _Side:
    pos = {c: i for i, c in enumerate(table.columns)}
    key_ix = [pos[c] for c in key]
    label_ix = pos[label] if label is not None else None
    cmp_of = _canon_getter([pos[c] for c in compared])
    # content mode: the row's identity is its values without the label
    ident_of = _canon_getter(key_ix if mode == "key" else [pos[c] for c in compared if c != label])
    key_of = _canon_getter(key_ix) if mode == "key" else (lambda row: b"")
    side = _Side(labels=Counter() if label is not None else None)
    labels = side.labels
    width = len(table.columns)
    put, h = spill.put, _h
    for row in table.rows():
        if len(row) < width:  # a short row: the missing trailing values are null
            row = list(row) + [None] * (width - len(row))
        side.rows += 1
        lab = row[label_ix] if label_ix is not None else None
        if labels is not None:
            if lab in labels:
                labels[lab] += 1
            elif len(labels) < MAX_LABELS:
                labels[lab] = 1
            else:
                labels = side.labels = None  # too many distinct values: not a label column
        key_text = key_of(row)
        put(h(ident_of(row)), h(cmp_of(row)), b"" if lab is None else b"S" + _cut(lab, _LABEL_TEXT),
            key_text if len(key_text) <= _KEY_TEXT else key_text[:_KEY_TEXT].decode("utf-8", "ignore").encode())
    spill.close()
    return side


def _key_display(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if text.startswith("\x1f"):  # the escaped form (a null or a separator in the key)
        text = text[1:].replace("\x02f", "\x1e").replace("\x02\x02", "\x02").replace("\x02", "")
    return text.replace("\x1f", ", ").replace("\x1e", "\x1f").replace("\x00", "∅")


def _label_text(raw: bytes) -> str | None:
    return raw[1:].decode("utf-8", "replace") if raw else None


def _shares(old: Counter | None, new: Counter | None, old_rows: int, new_rows: int) -> tuple[LabelShift, ...]:
    if old is None or new is None:
        return ()
    out = []
    for lab in sorted(set(old) | set(new), key=lambda v: ("" if v is None else v)):
        if lab is None:
            continue  # rows without a label are the "missing" share of the quality report, not a label
        o, n = old.get(lab, 0), new.get(lab, 0)
        out.append(LabelShift(label=lab, old_count=o, new_count=n, old_share=round(o / old_rows, 6) if old_rows else 0.0,
                              new_share=round(n / new_rows, 6) if new_rows else 0.0))
    return tuple(out)


def diff_rows(old: Table, new: Table, *, key: Sequence[str] = (), label: str | None = None,
              buckets: int = 1, workdir: str | None = None) -> RowDiff:
    """Compare ``new`` against ``old`` (the version it replaces)."""
    key = tuple(key)
    compared = tuple(c for c in old.columns if c in set(new.columns))
    note = ""
    mode = "key"
    if not key:
        mode, note = "content", "no primary key: rows are matched by their values"
    elif missing := [c for c in key if c not in compared]:
        mode, key = "content", ()
        note = f"primary key field {missing[0]!r} is not in both versions: rows are matched by their values"
    if label is not None and label not in compared:
        note = (note + "; " if note else "") + f"label field {label!r} is not in both versions"
        label = None
    counts = Counter()
    examples: dict[str, list[RowExample]] = {k: [] for k in ("added", "removed", "changed", "relabelled")}

    def example(kind: str, key_text: bytes, old_label: bytes | None = None, new_label: bytes | None = None):
        counts[kind] += 1
        if len(examples[kind]) < EXAMPLES and mode == "key":
            examples[kind].append(RowExample(key=_key_display(key_text),
                                             old_label=None if old_label is None else _label_text(old_label),
                                             new_label=None if new_label is None else _label_text(new_label)))

    sides = None
    if old.batches is not None and new.batches is not None:
        try:
            sides = _diff_batches(old, new, key=key, compared=compared, label=label, mode=mode, buckets=buckets,
                                  workdir=workdir, counts=counts, examples=examples)
        except BatchesUnsupported:
            counts.clear()
            for v in examples.values():
                v.clear()
    if sides is None:
        sides = _diff_row_path(old, new, key=key, compared=compared, label=label, mode=mode, buckets=buckets,
                               workdir=workdir, counts=counts, example=example)
    old_side, new_side = sides
    return RowDiff(
        mode=mode, key_fields=key, compared_fields=compared, old_rows=old_side.rows, new_rows=new_side.rows,
        added=counts["added"], removed=counts["removed"], changed=counts["changed"], unchanged=counts["unchanged"],
        relabelled=counts["relabelled"], duplicate_keys_old=old_side.duplicates,
        duplicate_keys_new=new_side.duplicates, label_field=label,
        label_shift=_shares(old_side.labels, new_side.labels, old_side.rows, new_side.rows),
        examples={k: tuple(v) for k, v in examples.items() if v}, note=note)


def _diff_batches(old: Table, new: Table, *, key, compared, label, mode, buckets, workdir, counts,
                  examples) -> tuple[_Side, _Side]:
    """The vectorised path (``batches.py``): same counts, full-text matching, Arrow spill files."""
    from . import batches as B

    def example(kind: str, key_text: str, old_label: str | None, new_label: str | None) -> None:
        if len(examples[kind]) < EXAMPLES and mode == "key":
            examples[kind].append(RowExample(key=key_text, old_label=old_label, new_label=new_label))

    with tempfile.TemporaryDirectory(prefix="shujiao-diff-", dir=workdir) as tmp:
        schema = B.spill_schema(mode)
        spills = B._Spill(tmp, "old", buckets, schema), B._Spill(tmp, "new", buckets, schema)
        args = {"key": key, "compared": compared, "label": label, "mode": mode, "max_labels": MAX_LABELS}
        sides = []
        for table, spill in zip((old, new), spills, strict=True):
            rows, labels = B.spill_batches(table.batches, table.columns, spill, **args)
            sides.append(_Side(rows=rows, labels=labels))
        for b in range(buckets):
            o, n = spills[0].read(b), spills[1].read(b)
            if mode == "key":
                d_old, d_new = B.compare_key_bucket(o, n, counts, examples, example, labelled=label is not None)
                sides[0].duplicates += d_old
                sides[1].duplicates += d_new
            else:
                B.compare_content_bucket(o, n, counts, labelled=label is not None)
    return sides[0], sides[1]


def _diff_row_path(old: Table, new: Table, *, key, compared, label, mode, buckets, workdir, counts,
                   example) -> tuple[_Side, _Side]:
    with tempfile.TemporaryDirectory(prefix="shujiao-diff-", dir=workdir) as tmp:
        spills = _Spill(tmp, "old", buckets), _Spill(tmp, "new", buckets)
        args = {"key": key, "compared": compared, "label": label, "mode": mode}
        old_side = _spill_table(old, spills[0], **args)
        new_side = _spill_table(new, spills[1], **args)
        for b in range(buckets):
            if mode == "key":
                held: dict[bytes, tuple[bytes, bytes, bytes] | None] = {}
                for kh, ch, lab, kt in spills[0].read(b):
                    if kh in held:
                        old_side.duplicates += 1
                    else:
                        held[kh] = (ch, lab, kt)
                for kh, ch, lab, kt in spills[1].read(b):
                    if kh not in held:
                        held[kh] = None  # seen in new only: a repeat of it is a duplicate, not another add
                        example("added", kt, new_label=lab)
                        continue
                    prev = held[kh]
                    if prev is None or prev == ():
                        new_side.duplicates += 1
                        continue
                    held[kh] = ()  # matched
                    if prev[0] == ch:
                        counts["unchanged"] += 1
                        continue
                    example("changed", kt, prev[1], lab)
                    if label is not None and prev[1] != lab:
                        example("relabelled", kt, prev[1], lab)
                for prev in held.values():
                    if prev:
                        example("removed", prev[2], old_label=prev[1])
            else:
                groups: dict[bytes, Counter] = {}
                for kh, _ch, lab, _kt in spills[0].read(b):
                    groups.setdefault(kh, Counter())[lab] += 1
                news: dict[bytes, Counter] = {}
                for kh, _ch, lab, _kt in spills[1].read(b):
                    news.setdefault(kh, Counter())[lab] += 1
                for kh in groups.keys() | news.keys():
                    o, n = groups.get(kh, Counter()), news.get(kh, Counter())
                    same = sum((o & n).values())
                    left_o, left_n = sum((o - n).values()), sum((n - o).values())
                    pairs = min(left_o, left_n) if label is not None else 0
                    counts["unchanged"] += same
                    counts["changed"] += pairs
                    counts["relabelled"] += pairs
                    counts["added"] += left_n - pairs
                    counts["removed"] += left_o - pairs
    return old_side, new_side
