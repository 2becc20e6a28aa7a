"""``Authorization: Api-Key <key>`` authentication for firms' systems."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from exchange.services.orgs import api_key_authenticate

KEYWORD = "Api-Key"


class ApiKeyUser(AnonymousUser):
    """The request.user of an API-key request: authenticated, but no person."""

    def __init__(self, api_key):
        super().__init__()
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    def __str__(self) -> str:
        return f"api-key {self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header; expected 'Api-Key <key>'.")
        key = api_key_authenticate(secret=parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown, revoked or expired API key.")
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "exchange.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>` — create keys under Firm settings → API keys."}
