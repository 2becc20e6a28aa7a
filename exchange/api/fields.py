"""Strict field types for money and counts: no floats, no numeric strings with decimals."""

from rest_framework import serializers

from exchange.validators import amount_digits


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON integer (or a plain digit string in multipart forms).

    DRF's IntegerField accepts 12.0 and "12.0"; for money that hides mistakes, so a
    fractional or float value is refused with a message instead.
    """

    default_error_messages = {"fractional": "Must be a whole number (integer fen, not a decimal).",
                              "script": "{message}"}

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kwargs):
        """``minimum``/``maximum`` are bounds a service enforces (with its own message); they are
        only written into the OpenAPI schema here. ``min_value``/``max_value`` are checked by DRF."""
        super().__init__(**kwargs)
        self.schema_minimum, self.schema_maximum = minimum, maximum

    def to_internal_value(self, data):
        if isinstance(data, bool) or isinstance(data, float):
            self.fail("fractional" if isinstance(data, float) else "invalid")
        if isinstance(data, str):
            try:
                data = amount_digits(data)
            except ValueError as exc:
                self.fail("script", message=str(exc))
        if isinstance(data, str) and not data.strip().lstrip("-").isascii():
            self.fail("invalid")
        if isinstance(data, str) and not data.strip().lstrip("-").isdigit():
            self.fail("fractional" if "." in data else "invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """Text given as a JSON string. DRF's CharField turns 12 or 1.5 into "12"/"1.5"; an API whose
    schema says ``string`` refuses a number instead."""

    default_error_messages = {"not_a_string": "Must be a string, not a {kind}."}

    def __init__(self, *, schema_max_length: int | None = None, **kwargs):
        """``schema_max_length``: a length a service enforces (with its own message), only stated in
        the OpenAPI schema here (``max_length`` is checked by DRF)."""
        self.schema_max_length = schema_max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            kind = ("boolean" if isinstance(data, bool) else "number" if isinstance(data, (int, float))
                    else "list" if isinstance(data, list) else "object" if isinstance(data, dict) else "null")
            self.fail("not_a_string", kind=kind)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false as JSON booleans. DRF's BooleanField also takes 0, 1, "yes", "on"…; a schema
    that says ``boolean`` refuses them instead."""

    default_error_messages = {"not_a_boolean": "Must be true or false, not {value!r}."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_a_boolean", value=data)
        return data
