"""Machine-readable descriptions of a dataset that buyers' tools read (SPEC §5, issue 14).

Pure Python, no Django: the Django side builds the typed inputs (:mod:`.model`) and
calls these builders.

* :func:`croissant` — MLCommons Croissant 1.1 JSON-LD with the Responsible-AI fields
  (``metadata/croissant.json`` in every delivery; the public listing's Croissant);
* :func:`datapackage` — the Frictionless Data Package (``datapackage.json``);
* :func:`dataset_jsonld` — the schema.org ``Dataset`` embedded in the listing page;
* :func:`delivery_metadata_files` — the two files a delivery package carries, as bytes.
"""

from __future__ import annotations

import json
from typing import Any

from .croissant import (
    CROISSANT_1_1,
    CROISSANT_RAI_1_0,
    DATA_TYPES,
    croissant,
    data_type,
    field_ids,
    label_summary,
)
from .datapackage import datapackage, table_schema
from .model import (
    ANNOTATIONS_PER_ITEM_MAX,
    RAI_ATTRS,
    RAI_FIELDS,
    DataFile,
    DatasetMeta,
    LabelStats,
    Licence,
    Offer,
    Party,
    Rai,
    RaiField,
    TextLayout,
)
from .schemaorg import dataset_jsonld, script_json, yuan

CROISSANT_PATH = "metadata/croissant.json"
DATAPACKAGE_PATH = "datapackage.json"


def metadata_json(doc: dict[str, Any]) -> bytes:
    """Readable, stable JSON bytes: UTF-8, two-space indent, keys in the builder's order."""
    return (json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def delivery_metadata_files(meta: DatasetMeta, data: DataFile, licence: DataFile) -> list[tuple[str, bytes]]:
    """``[(path, bytes)]`` of ``datapackage.json`` and ``metadata/croissant.json`` for a
    package whose data file is ``data`` and licence file ``licence``."""
    return [
        (DATAPACKAGE_PATH, metadata_json(datapackage(meta, data, licence_path=licence.path))),
        (CROISSANT_PATH, metadata_json(croissant(meta, [data], licence_file=licence, location=CROISSANT_PATH))),
    ]


__all__ = [
    "ANNOTATIONS_PER_ITEM_MAX", "CROISSANT_1_1", "CROISSANT_PATH", "CROISSANT_RAI_1_0", "DATAPACKAGE_PATH",
    "DATA_TYPES", "RAI_ATTRS", "RAI_FIELDS", "DataFile", "DatasetMeta", "LabelStats", "Licence", "Offer", "Party",
    "Rai", "RaiField", "TextLayout", "croissant", "data_type", "datapackage", "dataset_jsonld",
    "delivery_metadata_files", "field_ids", "label_summary", "metadata_json", "script_json", "table_schema", "yuan",
]
