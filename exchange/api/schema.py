"""The OpenAPI schema's own rules (drf-spectacular): every operation documents the error
bodies it can answer with, and fields document what the server really enforces.

What lives here: the uniform error body component, which 4xx codes an operation lists
(derived from what the view can raise), and small field-level refinements. What must not:
business rules — a rule is enforced in exchange/services and only *described* here.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Written in the same order as exchange.api.errors.error_body builds it.
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `error.fields` names each field and what is wrong with it.",
    "401": "No credentials, or an unknown, revoked or expired API key (`WWW-Authenticate: Api-Key`).",
    "403": "Not allowed: another firm's object, a key without the needed scope (`missing_scope`), "
           "a member who is not an owner, or a caller without a firm (`no_firm`).",
    "404": "No such object (another firm's object answers the same), or a page past the last.",
    "409": "The object's state does not allow this (e.g. paying a paid contract).",
    "410": "Gone: the link, delivery or licence has expired or was revoked.",
    "411": "An upload without Content-Length (chunked transfer) is refused.",
    "413": "The upload is larger than the exchange's limit.",
    "416": "The Range cannot be satisfied (or asks for several parts).",
    "422": "The Idempotency-Key was used before with another request body.",
    "429": "Too many requests: wait `Retry-After` seconds.",
    "503": "The file store failed; nothing was kept. Try again later.",
    "507": "The exchange's storage is full; nothing was kept. Try again later.",
}


class ErrorDetailOut(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid_input`, `missing_scope`.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Input field name → messages (empty unless the input was at fault).")


class ErrorOut(serializers.Serializer):
    """The body of every 4xx/5xx answer of the API (exchange.api.errors)."""

    error = ErrorDetailOut()


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can return.

    A view may add codes with ``schema_error_codes = {"action": ["410"]}`` (or ``"*"`` for
    all its actions) and mark list-named actions that answer one object with
    ``schema_single_object_actions``.
    """

    def _is_list_view(self, serializer=None) -> bool:
        action = getattr(self.view, "action", None)
        if action in getattr(self.view, "schema_single_object_actions", ()):
            return False
        return super()._is_list_view(serializer)

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            # DRF serializers and django-filter read `?x=` as "x not given": say so.
            if (parameter.get("in") == "query" and not parameter.get("required")
                    and parameter["name"] not in ("page", "page_size")):
                parameter["allowEmptyValue"] = True
        return parameters

    def _error_codes(self, responses: dict) -> list[str]:
        codes = {"401", "429"}  # every request is authenticated when it carries a key, and throttled
        path_has_params = "{" in self.path
        has_query = any(p.get("in") == "query" or p.get("name") == "Idempotency-Key" for p in self._get_parameters())
        if self.method in ("POST", "PUT", "PATCH") or has_query:
            codes.add("400")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.add("403")
        if path_has_params or (self._is_list_view() and self._get_paginator() is not None):
            codes.add("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and path_has_params:
            codes.add("409")
        if any(p.get("name") == "Idempotency-Key" for p in self._get_parameters()):
            codes.add("422")
        extra = getattr(self.view, "schema_error_codes", {})
        codes.update(extra.get("*", ()))
        codes.update(extra.get(getattr(self.view, "action", None) or self.method.lower(), ()))
        return sorted(c for c in codes if c not in responses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes(responses):
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorOut, description=ERROR_DESCRIPTIONS.get(code, "Error.")), code, direction=direction)
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        for attribute, key in (("schema_minimum", "minimum"), ("schema_maximum", "maximum"),
                               ("schema_max_length", "maxLength")):
            if getattr(field, attribute, None) is not None:
                schema[key] = getattr(field, attribute)
        # DRF trims surrounding whitespace and then refuses a blank value: say "a non-space character".
        # (requests only: an answer may well carry an empty text, e.g. a first revision's changelog)
        if (direction == "request" and isinstance(field, serializers.CharField)
                and not isinstance(field, serializers.ChoiceField)
                and not field.allow_blank and field.trim_whitespace and schema.get("type") == "string"
                and "format" not in schema and "pattern" not in schema):
            schema["pattern"] = r"\S"
        return schema
