"""The seller's Responsible-AI declaration on a dataset: validation and normalisation.

The fields (names, Croissant terms, labels, length limits) are defined once in
``workers.metadata.model.RAI_FIELDS``; every face (web form, REST, admin) goes through
:func:`rai_clean` via ``services.catalog``.
"""

from __future__ import annotations

from typing import Any

from exchange.validators import paragraphs
from workers.metadata import ANNOTATIONS_PER_ITEM_MAX, RAI_FIELDS

RAI_INPUTS: tuple[str, ...] = (*(f"rai_{f.attr}" for f in RAI_FIELDS), "rai_annotations_per_item")


def rai_clean(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The RAI inputs present in ``fields``, normalised, and the errors found (by input name)."""
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in RAI_FIELDS:
        name = f"rai_{f.attr}"
        if name not in fields:
            continue
        value = fields[name]
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = [f"{f.label}: expected text, not {type(value).__name__}."]
            continue
        text = paragraphs(value)
        if len(text) > f.max_length:
            errors[name] = [f"{f.label}: at most {f.max_length} characters (this has {len(text)})."]
        clean[name] = text
    name = "rai_annotations_per_item"
    if name in fields:
        value = fields[name]
        if value in (None, ""):
            clean[name] = None
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[name] = ["Annotations per item: a whole number."]
        elif not 1 <= value <= ANNOTATIONS_PER_ITEM_MAX:
            errors[name] = [f"Annotations per item: between 1 and {ANNOTATIONS_PER_ITEM_MAX} (got {value})."]
        else:
            clean[name] = value
    return clean, errors
