"""Frictionless Table Schema validation (with the Shujiao extensions) and type checks."""

from __future__ import annotations

from typing import Any

TYPES = (
    "string", "number", "integer", "boolean", "object", "array", "list", "date", "time",
    "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "any",
)

TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]

# RE2 patterns (anchored) for the types checked by pattern alone.
_D2 = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_TZ = r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?"
INTEGER_RE = r"^[+-]?[0-9]+$"
NUMBER_RE = r"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|INF|-INF|[+-]?[Ii]nf(inity)?|[Nn]a[Nn])$"
PATTERNS = {
    "integer": INTEGER_RE,
    "number": NUMBER_RE,
    "date": rf"^[0-9]{{4}}-{_D2}-{_DAY}$",
    "time": rf"^{_TIME}{_TZ}$",
    "datetime": rf"^[0-9]{{4}}-{_D2}-{_DAY}[T ]{_TIME}{_TZ}$",
    "year": r"^-?[0-9]{4}$",
    "yearmonth": rf"^[0-9]{{4}}-{_D2}$",
    "duration": r"^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?$",
    "geopoint": r"^\s*[+-]?[0-9]+(\.[0-9]+)?\s*,\s*[+-]?[0-9]+(\.[0-9]+)?\s*$",
}
JSON_TYPES = {"object": dict, "array": list, "geojson": dict}


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def validate_table_schema(schema: Any) -> list[str]:
    """Return a list of human-readable errors (empty when the schema is valid).

    Each message names the offending property, e.g.
    "fields[2].type: 'integr' is not a Table Schema type".
    """
    errors: list[str] = []
    if not isinstance(schema, dict):
        return [f"schema: expected a JSON object, got {type(schema).__name__}"]
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        errors.append("fields: must be a non-empty list of field descriptors")
        fields = []
    names: list[str] = []
    for i, f in enumerate(fields):
        where = f"fields[{i}]"
        if not isinstance(f, dict):
            errors.append(f"{where}: expected an object, got {type(f).__name__}")
            continue
        name = f.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{where}.name: must be a non-empty string")
        elif name in names:
            errors.append(f"{where}.name: duplicate field name {name!r}")
        else:
            names.append(name)
        ftype = f.get("type", "string")
        if not isinstance(ftype, str) or ftype not in TYPES:
            errors.append(f"{where}.type: {ftype!r} is not a Table Schema type")
        for key in ("format", "title", "description"):
            if key in f and not isinstance(f[key], str):
                errors.append(f"{where}.{key}: must be a string")
        if "constraints" in f and not isinstance(f["constraints"], dict):
            errors.append(f"{where}.constraints: must be an object")
        for key in ("trueValues", "falseValues", "missingValues"):
            if key in f and not _is_str_list(f[key]):
                errors.append(f"{where}.{key}: must be a list of strings")
    if "missingValues" in schema and not _is_str_list(schema["missingValues"]):
        errors.append("missingValues: must be a list of strings")
    pk = schema.get("primaryKey")
    if pk is not None:
        pk_list = [pk] if isinstance(pk, str) else pk
        if not _is_str_list(pk_list) or not pk_list:
            errors.append("primaryKey: must be a field name or a non-empty list of field names")
        else:
            for n in pk_list:
                if n not in names:
                    errors.append(f"primaryKey: {n!r} is not a field name")
    label = schema.get("labelField")
    if label is not None:
        if not isinstance(label, str):
            errors.append("labelField: must be a field name (string)")
        elif label not in names:
            errors.append(f"labelField: {label!r} is not a field name")
    labels = schema.get("labels")
    if labels is not None:
        if not _is_str_list(labels) or not labels:
            errors.append("labels: must be a non-empty list of strings")
        else:
            if len(set(labels)) != len(labels):
                errors.append("labels: contains duplicate labels")
            if "" in labels:
                errors.append("labels: the empty string is not a label")
        if label is None:
            errors.append("labels: declared without labelField")
    inputs = schema.get("inputFields")
    if inputs is not None:
        if not _is_str_list(inputs) or not inputs:
            errors.append("inputFields: must be a non-empty list of field names")
        else:
            for n in inputs:
                if n not in names:
                    errors.append(f"inputFields: {n!r} is not a field name")
                elif n == label:
                    errors.append(f"inputFields: {n!r} is the labelField")
    pd = schema.get("personalData")
    if pd is not None and not isinstance(pd, bool):
        errors.append("personalData: must be true or false")
    return errors
