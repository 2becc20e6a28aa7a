"""schema.org ``Dataset`` JSON-LD for a public listing page (search engines, catalogues).

Only public facts: the listing's name and description, the seller firm's name, the
licence terms' name, keywords, the variables of the Table Schema, the version's size,
hash and date, and the active offers' prices in CNY (fen as yuan with two decimals —
the string form, so no float ever rounds a price). Never the credit code, the seller's
file name, sample rows or anything from the quality report's personal-data findings.
"""

from __future__ import annotations

import json
from typing import Any

from .croissant import media_type
from .model import DatasetMeta, iso_z

_PROPERTY_TYPES = {"integer": "Integer", "number": "Number", "boolean": "Boolean", "date": "Date",
                   "datetime": "DateTime", "time": "Time", "string": "Text"}


def yuan(fen: int) -> str:
    """``123456`` → ``"1234.56"`` (integer arithmetic only)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _variables(schema: dict) -> list[dict[str, Any]]:
    label = schema.get("labelField") if isinstance(schema, dict) else None
    out = []
    for f in (schema.get("fields") or []) if isinstance(schema, dict) else []:
        if not isinstance(f, dict) or not f.get("name"):
            continue
        v: dict[str, Any] = {"@type": "PropertyValue", "name": str(f["name"])}
        text = str(f.get("description") or f.get("title") or "")
        kind = _PROPERTY_TYPES.get(str(f.get("type") or "string"), "Text")
        v["description"] = (f"{text} " if text else "") + (f"({kind}, label column)" if f["name"] == label else f"({kind})")
        out.append(v)
    return out


def dataset_jsonld(meta: DatasetMeta, *, croissant_url: str = "") -> dict[str, Any]:
    """The ``Dataset`` object for the listing page of ``meta``."""
    doc: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": meta.url,
        "name": meta.name,
        "description": meta.description or meta.name,
        "url": meta.url,
        "version": str(meta.version),
        "isAccessibleForFree": False,
        "creator": {"@type": "Organization", "name": meta.creator.name},
        "publisher": {"@type": "Organization", "name": meta.publisher.name},
        "variableMeasured": _variables(meta.schema),
    }
    if meta.keywords:
        doc["keywords"] = list(meta.keywords)
    if meta.licence is not None:
        doc["license"] = meta.licence.url or meta.licence.name
    for key, when in (("datePublished", meta.date_published), ("dateModified", meta.date_modified)):
        if when is not None:
            doc[key] = iso_z(when)
    dist: dict[str, Any] = {"@type": "DataDownload", "encodingFormat": media_type(meta.format),
                            "contentUrl": meta.url}
    if meta.byte_size is not None:
        dist["contentSize"] = f"{meta.byte_size} B"
    if meta.sha256:
        dist["sha256"] = meta.sha256
    doc["distribution"] = [dist]
    if croissant_url:
        doc["subjectOf"] = {"@type": "DigitalDocument", "encodingFormat": "application/ld+json",
                            "url": croissant_url, "name": "Croissant metadata"}
    offers = [{"@type": "Offer", "name": o.name, "price": yuan(o.price_fen), "priceCurrency": o.currency,
               "url": meta.url} for o in meta.offers]
    if offers:
        doc["offers"] = offers if len(offers) > 1 else offers[0]
    return doc


def script_json(doc: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/ld+json">``: ``<``, ``>`` and ``&``
    escaped as ``\\u003c`` etc., so no value can close the script element."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
