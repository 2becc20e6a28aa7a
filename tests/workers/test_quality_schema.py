"""validate_table_schema messages name the offending property."""

from __future__ import annotations

from workers.quality import validate_table_schema


def test_valid_schema_has_no_errors():
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "text"}, {"name": "y"}],
              "primaryKey": "id", "labelField": "y", "labels": ["a", "b"], "inputFields": ["text"],
              "personalData": False, "missingValues": ["", "NA"]}
    assert validate_table_schema(schema) == []


def test_each_error_is_named():
    schema = {"fields": [{"name": "id"}, {"name": "id"}, {"type": "string"}, {"name": "z", "type": "integr"}],
              "primaryKey": ["nope"], "labelField": "y", "labels": ["a", "a"], "inputFields": ["q"],
              "personalData": "no"}
    assert validate_table_schema(schema) == [
        "fields[1].name: duplicate field name 'id'",
        "fields[2].name: must be a non-empty string",
        "fields[3].type: 'integr' is not a Table Schema type",
        "primaryKey: 'nope' is not a field name",
        "labelField: 'y' is not a field name",
        "labels: contains duplicate labels",
        "inputFields: 'q' is not a field name",
        "personalData: must be true or false",
    ]


def test_fields_required():
    assert validate_table_schema({}) == ["fields: must be a non-empty list of field descriptors"]
    assert validate_table_schema([]) == ["schema: expected a JSON object, got list"]


def test_label_field_cannot_be_an_input():
    schema = {"fields": [{"name": "x"}, {"name": "y"}], "labelField": "y", "inputFields": ["x", "y"]}
    assert validate_table_schema(schema) == ["inputFields: 'y' is the labelField"]
