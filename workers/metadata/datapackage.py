"""Frictionless Data Package (``datapackage.json``) describing a delivery's data file.

One tabular resource: the delivered file's path (relative to the package root, where
``datapackage.json`` lies), format and media type, its Table Schema (the seller's, with
the exchange's ``labelField``/``labels`` extensions kept: Table Schema allows extra
properties), the CSV dialect and encoding the quality check found, its byte count and
``sha256:`` hash. ``frictionless validate datapackage.json`` checks the rows against
the schema and the file against the bytes and hash.
"""

from __future__ import annotations

import copy
import posixpath
import re
from typing import Any

from .croissant import media_type
from .model import DataFile, DatasetMeta, iso_z

# Table Schema (v1) field properties a consumer reads; others the seller may have set are
# kept only if they are in this list or are the exchange's own extensions.
_FIELD_KEYS = ("name", "title", "description", "type", "format", "constraints", "missingValues",
               "trueValues", "falseValues", "bareNumber", "groupChar", "decimalChar", "example", "rdfType")
_SCHEMA_KEYS = ("fields", "primaryKey", "foreignKeys", "missingValues", "labelField", "labels", "inputFields",
                "personalData")
_NAME_RE = re.compile(r"[^a-z0-9._-]+")


def resource_name(path: str) -> str:
    """A Data Package resource name (``^[a-z0-9._-]+$``) from a file path."""
    stem = posixpath.basename(path).rsplit(".", 1)[0].lower()
    return _NAME_RE.sub("-", stem).strip("-._") or "data"


def table_schema(schema: dict) -> dict[str, Any]:
    """The Table Schema as written into the Data Package: known keys only, deep-copied."""
    schema = schema if isinstance(schema, dict) else {}
    out: dict[str, Any] = {}
    for key in _SCHEMA_KEYS:
        if key in schema:
            out[key] = copy.deepcopy(schema[key])
    out["fields"] = [{k: copy.deepcopy(f[k]) for k in _FIELD_KEYS if k in f}
                     for f in schema.get("fields") or [] if isinstance(f, dict) and f.get("name")]
    return out


def datapackage(meta: DatasetMeta, data: DataFile, *, licence_path: str = "") -> dict[str, Any]:
    """The ``datapackage.json`` document for a delivery whose data file is ``data``."""
    fmt = str(meta.format).lower()
    resource: dict[str, Any] = {
        "name": resource_name(data.path),
        "type": "table",
        "path": data.path,
        "scheme": "file",
        "format": fmt,
        "mediatype": media_type(fmt),
        "bytes": data.size,
        "hash": f"sha256:{data.sha256}",
        "schema": table_schema(meta.schema),
    }
    if meta.row_count is not None:
        resource["description"] = f"{meta.row_count} rows (version {meta.version})."
    if fmt in ("csv", "tsv", "jsonl"):
        resource["encoding"] = meta.layout.encoding or "utf-8"
    if fmt in ("csv", "tsv"):
        resource["dialect"] = {"delimiter": "\t" if fmt == "tsv" else (meta.layout.delimiter or ","),
                               "header": meta.layout.header}
    package: dict[str, Any] = {
        "name": resource_name(meta.listing_id) if meta.listing_id else "dataset",
        "id": meta.url,
        "title": meta.name,
        "description": meta.description or meta.name,
        "homepage": meta.url,
        "version": f"{meta.version}.0.0",
        "contributors": [{"title": meta.creator.name, "role": "author"},
                         {"title": meta.publisher.name, "role": "publisher"}],
        "resources": [resource],
    }
    if meta.keywords:
        package["keywords"] = list(meta.keywords)
    if licence_path:
        package["licenses"] = [{"path": licence_path, "title": meta.licence.name if meta.licence else "Licence"}]
    created = meta.date_modified or meta.date_published
    if created is not None:
        package["created"] = iso_z(created)
    return package
