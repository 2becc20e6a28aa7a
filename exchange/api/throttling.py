"""Request throttles: one bucket per API key, per firm, per signed-in user and per anonymous IP.

DRF's stock ``UserRateThrottle`` keys on ``request.user.pk``; an API-key request has no
person, so every key of every firm fell back to one shared bucket (the proxy's IP).
Each class here builds its own cache key and returns None (not throttled by this class)
for requests it does not govern.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle as _DrfSimpleRateThrottle

from exchange.models import ApiKey


class SimpleRateThrottle(_DrfSimpleRateThrottle):
    """Reads the rate from the current settings (DRF binds them once at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


def _api_key(request) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Calls made with one API key."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        key = _api_key(request)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}


class FirmRateThrottle(SimpleRateThrottle):
    """All calls of one firm, by all its keys and members together."""

    scope = "firm"

    def get_cache_key(self, request, view):
        key = _api_key(request)
        if key is not None:
            firm_id = key.organization_id
        elif request.user and request.user.is_authenticated:
            membership = getattr(request.user, "membership", None)
            firm_id = membership.organization_id if membership is not None else None
        else:
            firm_id = None
        if firm_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": firm_id}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Calls of one signed-in person (web session)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if _api_key(request) is not None or not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousIpRateThrottle(SimpleRateThrottle):
    """Calls without credentials, by client IP (``get_ident`` honours NUM_PROXIES)."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if _api_key(request) is not None or (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class KeyBootstrapIpThrottle(SimpleRateThrottle):
    """Password attempts at ``auth/keys/`` by client IP, whoever they name: guessing stays slow."""

    scope = "key_bootstrap"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignupIpThrottle(KeyBootstrapIpThrottle):
    """Firm sign-ups over the API (``auth/signup/``) by client IP."""

    scope = "signup"
