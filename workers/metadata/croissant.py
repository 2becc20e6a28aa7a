"""MLCommons Croissant 1.1 JSON-LD with the Responsible-AI (RAI 1.0) fields.

Two uses, one builder:

* in a buyer's package (``metadata/croissant.json``): ``files`` are the delivered files,
  each a ``cr:FileObject`` with its SHA-256 and a ``contentUrl`` relative to the
  croissant file (``../data/…``), so ``mlcroissant`` loads the delivered records;
* the public listing's Croissant (``/api/v1/catalog/{id}/croissant``): no files at all —
  the single ``cr:FileObject`` names the version's public SHA-256 and size and points at
  the listing page, where the data is bought; never at a stored file.

The record set ``records`` has one ``cr:Field`` per Table Schema field (types mapped by
:data:`DATA_TYPES`), the primary key as its ``key`` and the label field typed
``cr:Label``. The quality report's label statistics form a second, inline record set
``label_statistics`` and a sentence in ``rai:dataAnnotationAnalysis``.
"""

from __future__ import annotations

import posixpath
import re
from datetime import UTC, datetime
from typing import Any

from .model import DataFile, DatasetMeta, LabelStats, Party, iso_z

CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
CROISSANT_RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"
RECORDS = "records"
LABEL_STATISTICS = "label_statistics"
DATA_FILE_ID = "data-file"
LICENCE_FILE_ID = "licence-file"

# The standard @context of Croissant 1.1 documents (as the reference implementation
# writes it); an unchanged context keeps JSON-LD processors and validators quiet.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# Table Schema type → Croissant dataType. Types without a faithful schema.org
# counterpart (yearmonth, duration, geo*, object, array, any) are carried as text: the
# Table Schema in datapackage.json keeps the precise type.
DATA_TYPES = {
    "string": "sc:Text", "integer": "sc:Integer", "number": "sc:Float", "boolean": "sc:Boolean",
    "date": "sc:Date", "datetime": "sc:DateTime", "time": "sc:Time", "year": "sc:Integer",
}
MEDIA_TYPES = {
    "csv": "text/csv", "tsv": "text/tab-separated-values", "jsonl": "application/jsonlines",
    "parquet": "application/x-parquet",
}


def data_type(table_schema_type: str | None) -> str:
    return DATA_TYPES.get(str(table_schema_type or "string").lower(), "sc:Text")


def media_type(fmt: str) -> str:
    return MEDIA_TYPES.get(str(fmt).lower(), "application/octet-stream")


def _organization(party: Party, *, private: bool) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "sc:Organization", "name": party.name}
    if party.url:
        org["url"] = party.url
    if private and party.identifier:
        org["identifier"] = party.identifier
    return org


def field_ids(names: list[str]) -> dict[str, str]:
    """The ``@id`` of each record field: ``records/<name>`` with ``%`` and ``/`` escaped
    (Croissant reads ``/`` in an id as nesting) and whitespace runs as ``_`` (mlcroissant
    refuses whitespace in ids, even escaped); a clash after that gets ``~2``, ``~3``…
    The field's ``name`` and its ``extract.column`` stay the real column name."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = f"{RECORDS}/" + re.sub(r"\s+", "_", str(name).replace("%", "%25").replace("/", "%2F"))
        fid, n = base, 1
        while fid in taken:
            n += 1
            fid = f"{base}~{n}"
        taken.add(fid)
        out[name] = fid
    return out


def _schema_fields(schema: dict) -> list[dict]:
    return [f for f in schema.get("fields") or [] if isinstance(f, dict) and f.get("name")]


def _record_fields(meta: DatasetMeta, source_id: str, ids: dict[str, str]) -> list[dict[str, Any]]:
    schema = meta.schema if isinstance(meta.schema, dict) else {}
    label = schema.get("labelField")
    fields = []
    for f in _schema_fields(schema):
        name = str(f["name"])
        dtype: Any = data_type(f.get("type"))
        if name == label:
            dtype = [dtype, "cr:Label"]
        out: dict[str, Any] = {"@type": "cr:Field", "@id": ids[name], "name": name, "dataType": dtype,
                               "source": {"fileObject": {"@id": source_id}, "extract": {"column": name}}}
        text = " — ".join(str(f[k]) for k in ("title", "description") if f.get(k))
        if name == label and schema.get("labels"):
            text = (text + ". " if text else "") + "Declared labels: " + ", ".join(map(str, schema["labels"]))
        if text:
            out["description"] = text
        fields.append(out)
    return fields


def _primary_key(schema: dict) -> list[str]:
    pk = schema.get("primaryKey") if isinstance(schema, dict) else None
    if isinstance(pk, str):
        pk = [pk]
    return [str(k) for k in pk or [] if isinstance(k, str)]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def label_summary(stats: LabelStats, *, version: int) -> str:
    """One sentence a person reads: the label counts and the label problems found."""
    parts = [f"{label!r}: {n:,} rows ({_percent(n, stats.rows)})" for label, n in stats.counts]
    text = (f"Label column {stats.column!r} in the exchange's quality check of version {version} "
            f"({stats.rows:,} rows): " + ("; ".join(parts) if parts else "no labels") + ".")
    if stats.missing:
        text += f" {stats.missing:,} rows without a label."
    if stats.outside_set:
        text += f" {stats.outside_set:,} rows with a label outside the declared set."
    if stats.conflicts:
        text += f" {stats.conflicts:,} inputs carry conflicting labels."
    if stats.imbalance_ratio is not None:
        text += f" Imbalance ratio (largest / smallest class) {stats.imbalance_ratio:.2f}."
    return text


def _label_record_set(stats: LabelStats) -> dict[str, Any]:
    rid = LABEL_STATISTICS
    return {
        "@type": "cr:RecordSet", "@id": rid, "name": rid,
        "description": f"Label distribution of column {stats.column!r} measured by the exchange's quality check.",
        "key": {"@id": f"{rid}/label"},
        "field": [
            {"@type": "cr:Field", "@id": f"{rid}/label", "name": "label", "dataType": "sc:Text"},
            {"@type": "cr:Field", "@id": f"{rid}/rows", "name": "rows", "dataType": "sc:Integer"},
            {"@type": "cr:Field", "@id": f"{rid}/share", "name": "share", "dataType": "sc:Float"},
        ],
        "data": [{f"{rid}/label": label, f"{rid}/rows": n,
                  f"{rid}/share": round(n / stats.rows, 6) if stats.rows else 0.0}
                 for label, n in stats.counts],
    }


PII_KINDS = {"mobile": "mainland mobile numbers", "email": "e-mail addresses",
             "resident_id": "resident identity numbers", "bank_card": "bank card numbers"}


def personal_information_facts(meta: DatasetMeta) -> list[str]:
    """What the exchange knows besides the seller's text: the declaration's flag and legal
    basis, and what the quality check's detectors found (counts only, never values)."""
    facts = []
    if meta.contains_personal_data:
        facts.append("The seller declares that the data contains personal information"
                     + (f"; legal basis stated: {meta.legal_basis}" if meta.legal_basis else "") + ".")
    if meta.pii_counts is not None:
        found = [f"{n:,} {PII_KINDS.get(kind, kind)}" for kind, n in meta.pii_counts if n]
        names = [PII_KINDS.get(kind, kind) for kind, _ in meta.pii_counts]
        checked = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)
        facts.append(f"The exchange's quality check of version {meta.version} found "
                     + ("; ".join(found) if found else f"no {checked}") + ".")
    return facts


def _rai(meta: DatasetMeta) -> dict[str, Any]:
    out: dict[str, Any] = {f"rai:{f.term}": text for f, text in meta.rai.declared()}
    facts = personal_information_facts(meta)
    if facts:
        declared = out.get("rai:personalSensitiveInformation")
        values = ([declared] if declared else []) + facts
        out["rai:personalSensitiveInformation"] = values[0] if len(values) == 1 else values
    if meta.rai.annotations_per_item is not None:
        out["rai:annotationsPerItem"] = str(meta.rai.annotations_per_item)
    if meta.label_stats is not None:
        out["rai:dataAnnotationAnalysis"] = label_summary(meta.label_stats, version=meta.version)
    return out


def croissant(meta: DatasetMeta, files: list[DataFile] | None = None, *, licence_file: DataFile | None = None,
              location: str = "metadata/croissant.json") -> dict[str, Any]:
    """The Croissant document for ``meta``.

    With ``files`` (a delivery): the first is the data file; ``contentUrl`` values are
    relative to ``location`` (the croissant file's own path in the package). Without
    (public): the data is described by the version's public hash and the listing URL.
    """
    private = files is not None
    here = posixpath.dirname(location) or "."
    distribution: list[dict[str, Any]] = []
    name = meta.name
    if private:
        if not files:
            raise ValueError("a delivery's Croissant needs the delivered data file")
        data = files[0]
        note = f"The dataset file as delivered in this package ({data.path})."
        if meta.format in ("csv", "tsv", "jsonl") and meta.layout.encoding == "gb18030":
            # Croissant has no charset property and its loaders read UTF-8: say so where a person looks.
            note += (" Its text encoding is GB18030 (see datapackage.json); convert it with "
                     "`iconv -f GB18030 -t UTF-8` before loading it with tools that read UTF-8 only.")
        distribution.append({
            "@type": "cr:FileObject", "@id": DATA_FILE_ID, "name": posixpath.basename(data.path),
            "description": note,
            "contentUrl": posixpath.relpath(data.path, here), "contentSize": f"{data.size} B",
            "encodingFormat": media_type(meta.format), "sha256": data.sha256,
        })
        if licence_file is not None:
            distribution.append({
                "@type": "cr:FileObject", "@id": LICENCE_FILE_ID, "name": posixpath.basename(licence_file.path),
                "description": "The licence of this delivery's contract.",
                "contentUrl": posixpath.relpath(licence_file.path, here), "contentSize": f"{licence_file.size} B",
                "encodingFormat": "text/plain", "sha256": licence_file.sha256,
            })
    else:
        distribution.append({
            "@type": "cr:FileObject", "@id": DATA_FILE_ID, "name": f"{meta.listing_id}.{meta.format}",
            "description": "Delivered to buyers in a signed package after purchase on the listing page; "
                           "the package carries its own Croissant file pointing at the delivered bytes.",
            "contentUrl": meta.url, "encodingFormat": media_type(meta.format),
            **({"contentSize": f"{meta.byte_size} B"} if meta.byte_size is not None else {}),
            **({"sha256": meta.sha256} if meta.sha256 else {}),
        })
    schema = meta.schema if isinstance(meta.schema, dict) else {}
    ids = field_ids([str(f["name"]) for f in _schema_fields(schema)])
    records: dict[str, Any] = {
        "@type": "cr:RecordSet", "@id": RECORDS, "name": RECORDS,
        "description": f"The rows of the dataset ({meta.row_count:,} in version {meta.version})."
        if meta.row_count is not None else "The rows of the dataset.",
        "field": _record_fields(meta, DATA_FILE_ID, ids),
    }
    pk = [k for k in _primary_key(schema) if k in ids]
    if pk:
        records["key"] = [{"@id": ids[k]} for k in pk] if len(pk) > 1 else {"@id": ids[pk[0]]}
    record_sets = [records]
    if meta.label_stats is not None and meta.label_stats.counts:
        record_sets.append(_label_record_set(meta.label_stats))

    year = (meta.date_published or meta.date_modified or datetime.now(UTC)).year
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CROISSANT_1_1, CROISSANT_RAI_1_0],
        "name": name,
        "description": meta.description or name,
        "url": meta.url,
        "creator": _organization(meta.creator, private=private),
        "publisher": _organization(meta.publisher, private=False),
        "version": f"{meta.version}.0.0",
        "citeAs": f"{meta.creator.name} ({year}). {name}, version {meta.version}. {meta.publisher.name}. {meta.url}",
        "isLiveDataset": False,
        "distribution": distribution,
        "recordSet": record_sets,
    }
    if meta.keywords:
        doc["keywords"] = list(meta.keywords)
    if meta.licence is not None:
        lic: dict[str, Any] = {"@type": "sc:CreativeWork", "name": meta.licence.name}
        if meta.licence.path and private:
            lic["url"] = posixpath.relpath(meta.licence.path, here)
        elif meta.licence.url:
            lic["url"] = meta.licence.url
        doc["license"] = lic
    for key, when in (("datePublished", meta.date_published), ("dateModified", meta.date_modified)):
        if when is not None:
            doc[key] = iso_z(when)
    doc.update(_rai(meta))
    return doc
