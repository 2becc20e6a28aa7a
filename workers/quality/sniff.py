"""Delimiter sniffing by consistency of field counts over a sample of lines.

Each candidate (tab, comma, semicolon, pipe) splits the first lines quote-aware (csv
module); the winner is the one whose field count is the same on the most lines (header
included) with at least two fields. On a tie the tab wins, then comma, semicolon, pipe:
a tab inside values is rare, commas inside TSV values are common ("Smith, John").
"""

from __future__ import annotations

import csv
import io
from collections import Counter

PREFERENCE = ("\t", ",", ";", "|")
SAMPLE_LINES = 50


def field_counts(lines: list[str], delim: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
    except csv.Error:
        return [ln.count(delim) + 1 for ln in lines]


def sniff_delimiter(text: str) -> str:
    """text: the decoded head, line breaks already LF."""
    lines = [ln for ln in text.split("\n")[: SAMPLE_LINES + 1] if ln.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut
    lines = lines[:SAMPLE_LINES]
    if not lines:
        return ","
    best, best_key = ",", None
    for rank, d in enumerate(PREFERENCE):
        if d not in lines[0]:
            continue  # the header must be split by it
        counts = field_counts(lines, d)
        if not counts:
            continue
        modal, same = Counter(counts).most_common(1)[0]
        if modal < 2:
            continue
        key = (same / len(counts), counts[0] == modal, -rank)
        if best_key is None or key > best_key:
            best, best_key = d, key
    return best
