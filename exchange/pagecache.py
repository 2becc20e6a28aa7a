"""Caching of public pages and page fragments, keyed on the URL and checked against the catalog generation.

A public catalog or market page depends only on its URL and the catalog's state, so once its
queries are cheap (the flat catalog) a rendered copy is kept with the generation it was made in:
a publish, an offer change or a trade moves the generation and every cached copy stops matching
(no stampede of slow recomputations: recomputing one is a few milliseconds). With a shared cache
the generation and the copy are read in one round trip (``get_many``), without the database.

- ``cached_public_page``: whole web pages, only for visitors without a session or messages
  cookie (a signed-in page shows the firm).
- ``cached_fragment``: the user-independent body of a web page (the catalog's filters, facets,
  cards and pagination), shared by every visitor; the page around it (header with the signed-in
  firm, CSRF token, messages) is rendered per request. Never holds per-user data.
- ``cached_json``: the rendered bytes of the API's public catalog list and market figures, the same
  for every caller (throttles and authentication still run per request).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.safestring import SafeString, mark_safe

from exchange.services.catalog_flat import (
    GENERATION_KEY,
    catalog_generation,
    generation_in_cache,
    seed_cached_generation,
)

PAGE_SECONDS = 120


def page_key(request, kind: str) -> str:
    """The cache key of this URL (scheme, host, path and query) for one kind of cached copy."""
    digest = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
    return f"page:{kind}:{digest}"


def _lookup(key: str):
    """(current generation, the copy stored under ``key`` in that generation or None)."""
    if generation_in_cache():
        got = cache.get_many([GENERATION_KEY, key])
        generation = got.get(GENERATION_KEY)
        if generation is None:
            generation = seed_cached_generation()
        entry = got.get(key)
    else:
        generation, entry = catalog_generation(), cache.get(key)
    if entry is not None and entry[0] == generation:
        return generation, entry[1]
    return generation, None


def _cached(key: str, compute: Callable[[], object | None]):
    """The copy for this generation, or ``compute()`` stored with the generation read before computing
    (a change committed meanwhile moves the generation, so a copy made from older rows is never hit)."""
    generation, value = _lookup(key)
    if value is None:
        value = compute()
        if value is not None:
            cache.set(key, (generation, value), PAGE_SECONDS)
    return value


def _anonymous_without_state(request) -> bool:
    cookies = request.COOKIES
    return (request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in cookies
            and "messages" not in cookies and not request.user.is_authenticated)


def cached_public_page(view):
    """Serve a cached copy of a public web page to visitors without a session."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _anonymous_without_state(request):
            return view(request, *args, **kwargs)
        rendered: list = []

        def render():
            response = view(request, *args, **kwargs)
            rendered.append(response)
            if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
                return response["Content-Type"], response.content
            return None

        hit = _cached(page_key(request, "web"), render)
        if rendered:
            return rendered[0]
        content_type, body = hit
        response = HttpResponse(body, content_type=content_type)
        response["Vary"] = "Cookie"
        return response

    return wrapper


def cached_fragment(request, kind: str, render: Callable[[], str]) -> SafeString:
    """A rendered, user-independent part of a page for this URL (same for every visitor)."""
    return mark_safe(_cached(page_key(request, kind), render))  # noqa: S308 - our own rendered template


def cached_json(request, kind: str, compute: Callable[[], bytes]) -> HttpResponse:
    """A public JSON answer for this URL: the rendered bytes, cached per generation."""
    return HttpResponse(_cached(page_key(request, kind), compute), content_type="application/json")
