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


# Every property accepted here is applied by the profiler; anything else is refused.
SCHEMA_KEYS = ("fields", "primaryKey", "missingValues", "labelField", "labels", "inputFields",
               "personalData", "name", "title", "description")
FIELD_KEYS = ("name", "type", "format", "title", "description", "example", "constraints",
              "missingValues")
TYPE_KEYS = {"number": ("decimalChar", "groupChar", "bareNumber"), "integer": ("groupChar", "bareNumber"),
             "boolean": ("trueValues", "falseValues")}
ORDERED = ("integer", "number", "date", "datetime", "time", "year", "yearmonth")
CONSTRAINTS = {  # as frictionless: which constraints each type supports (unique: all)
    "string": ("required", "unique", "enum", "minLength", "maxLength", "pattern"),
    **{t: ("required", "unique", "enum", "minimum", "maximum") for t in ORDERED},
}
DEFAULT_CONSTRAINTS = ("required", "unique", "enum")
FORMATS = {"string": ("default", "email", "uri", "uuid", "binary")}


def _field_support_errors(where: str, f: dict, ftype: str, schema: dict) -> list[str]:
    """Refuse what the profiler would not apply; check the values of what it applies."""
    from .fields import FieldSpec, parse_value, pattern_regex

    errors: list[str] = []
    allowed = FIELD_KEYS + TYPE_KEYS.get(ftype, ())
    for key in f:
        if key in allowed:
            continue
        owner = next((t for t, keys in TYPE_KEYS.items() if key in keys), None)
        if owner:
            errors.append(f"{where}.{key}: applies to {owner} fields only, not {ftype}")
        else:
            errors.append(f"{where}.{key}: not supported by Shujiao")
    for key in ("decimalChar", "groupChar"):
        if key in f and not (isinstance(f[key], str) and len(f[key]) == 1):
            errors.append(f"{where}.{key}: must be one character")
    if "bareNumber" in f and not isinstance(f["bareNumber"], bool):
        errors.append(f"{where}.bareNumber: must be true or false")
    fmt = f.get("format", "default")
    if isinstance(fmt, str) and fmt != "default":
        if ftype in ("date", "datetime", "time"):
            if fmt != "any":
                pat = fmt[4:] if fmt.startswith("fmt:") else fmt
                if "%" not in pat:
                    errors.append(f"{where}.format: {fmt!r} is not 'default', 'any' or a strptime pattern")
                else:
                    try:
                        pattern_regex(pat)
                    except ValueError as exc:
                        errors.append(f"{where}.format: {exc}")
        elif fmt not in FORMATS.get(ftype, ("default",)):
            errors.append(f"{where}.format: {fmt!r} is not supported for {ftype} fields "
                          f"(supported: {', '.join(FORMATS.get(ftype, ('default',)))})")
    cons = f.get("constraints")
    if not isinstance(cons, dict) or errors or not isinstance(f.get("name"), str):
        return errors
    supported = CONSTRAINTS.get(ftype, DEFAULT_CONSTRAINTS)
    spec = FieldSpec.from_descriptor(f, schema if isinstance(schema.get("missingValues"), list) else None)
    for key, value in cons.items():
        at = f"{where}.constraints.{key}"
        if key not in supported:
            errors.append(f"{at}: not supported for {ftype} fields (supported: {', '.join(supported)})")
        elif key in ("required", "unique"):
            if not isinstance(value, bool):
                errors.append(f"{at}: must be true or false")
        elif key in ("minLength", "maxLength"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append(f"{at}: must be a non-negative integer")
        elif key == "pattern":
            if not isinstance(value, str):
                errors.append(f"{at}: must be a string")
            else:
                try:
                    import pyarrow as pa
                    import pyarrow.compute as pc

                    pc.match_substring_regex(pa.array([""]), f"^(?:{value})$")
                except Exception as exc:  # noqa: BLE001 - RE2 reports its own syntax errors
                    errors.append(f"{at}: not a valid RE2 regular expression ({str(exc).splitlines()[0][:120]})")
        elif key == "enum":
            if not isinstance(value, list) or not value:
                errors.append(f"{at}: must be a non-empty list")
                continue
            for v in value:
                try:
                    parse_value(spec, v)
                except ValueError as exc:
                    errors.append(f"{at}: {exc}")
                    break
        else:  # minimum / maximum
            try:
                parse_value(spec, value)
            except ValueError as exc:
                errors.append(f"{at}: {exc}")
    return errors


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
        if isinstance(ftype, str) and ftype in TYPES:
            errors.extend(_field_support_errors(where, f, ftype, schema))
    if "missingValues" in schema and not _is_str_list(schema["missingValues"]):
        errors.append("missingValues: must be a list of strings")
    for key in schema:
        if key not in SCHEMA_KEYS:
            errors.append(f"{key}: not supported by Shujiao (supported: {', '.join(SCHEMA_KEYS)})")
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
