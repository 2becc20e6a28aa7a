"""Passes: each owns the figures of one concern and sees every batch once.

| pass | module | thread | owns |
|---|---|---|---|
| sample | sample.py | main | the first rows |
| columns | columns.py | main | null / invalid counts, min / max, inferred types, Table Schema checks |
| content | content.py | main | personal data, formula-like cells, control characters |
| keys | keys.py | keys | duplicate and near-duplicate rows, primary-key duplicates |
| labels | labels.py | keys | label counts, outside-set / missing labels, conflicts |
| row numbers | rownumbers.py | reader (malformed rows), keys (newlines) | malformed-row line numbers |
| distinct | distinct.py | distinct | distinct counts |
| statistics | ../stats.py | distinct | numeric and text statistics |

pipeline.py coordinates them. A pass writes only its own fields; another thread reads
them only after Pipeline.wait().
"""

from .pipeline import Pipeline

__all__ = ["Pipeline"]
