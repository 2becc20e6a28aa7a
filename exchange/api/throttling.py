"""Request throttles: one bucket per API key, per firm, per signed-in user and per anonymous IP.

DRF's stock ``UserRateThrottle`` keys on ``request.user.pk``; an API-key request has no
person, so every key of every firm fell back to one shared bucket (the proxy's IP).
Each class here builds its own cache key and returns None (not throttled by this class)
for requests it does not govern.

Counting is a sliding-window counter (two integer counters per bucket, the current and the
previous window, the previous one weighted by how much of it still overlaps the last
``duration`` seconds), not DRF's log of every request's time: DRF reads and rewrites a pickled list
as long as the rate (3,000 entries for a busy firm) on each call, this reads two integers in one
round trip and increments one, whatever the rate.
"""

from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle as _DrfSimpleRateThrottle

from exchange.models import ApiKey


class SimpleRateThrottle(_DrfSimpleRateThrottle):
    """Reads the rate from the current settings (DRF binds them once at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        current, previous = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        counts = self.cache.get_many([current, previous])
        self._current, self._previous = counts.get(current, 0), counts.get(previous, 0)
        self._elapsed = self.now - window * self.duration
        overlap = 1 - self._elapsed / self.duration
        # Rounded up: the estimate never drops below the true count at a window boundary.
        if math.ceil(self._previous * overlap) + self._current >= self.num_requests:
            return self.throttle_failure()
        self._count(current, known=current in counts)
        return True

    def _count(self, key: str, *, known: bool) -> None:
        if known:
            try:
                self.cache.incr(key)
                return
            except ValueError:  # expired between the read and now
                pass
        if not self.cache.add(key, 1, 2 * self.duration):
            self.cache.incr(key)

    def wait(self):
        """Seconds until the estimate falls below the limit again (at least 1, Retry-After is whole seconds)."""
        room = self.num_requests - self._current - 1  # what the previous window may still contribute
        if room < 0:  # the current window alone is full: it becomes the previous one and decays
            seconds = self.duration - self._elapsed + self.duration * (1 - (self.num_requests - 1) / self._current)
        else:
            seconds = self.duration * (1 - room / self._previous) - self._elapsed if self._previous else 0
        return max(seconds, 1.0)


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
