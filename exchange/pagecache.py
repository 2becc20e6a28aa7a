"""Whole-response caching of public pages, keyed on the catalog generation.

A public catalog or market page depends only on its URL and the catalog's state, so once its
queries are cheap (the flat catalog) a rendered copy is kept per catalog generation: a publish,
an offer change or a trade moves the generation and every cached page is simply not found any
more (no stampede of slow recomputations: recomputing one is a few milliseconds). Web pages are
cached only for visitors without a session or messages cookie (a signed-in page shows the firm);
the API's public catalog list and market figures are the same for every caller.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from exchange.services.catalog_flat import catalog_generation

PAGE_SECONDS = 120


def page_key(request, kind: str) -> str:
    """The cache key of this URL (scheme, host, path and query) in the current generation."""
    digest = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
    return f"page:{catalog_generation()}:{kind}:{digest}"


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
        key = page_key(request, "web")
        hit = cache.get(key)
        if hit is not None:
            content_type, body = hit
            response = HttpResponse(body, content_type=content_type)
            response["Vary"] = "Cookie"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            cache.set(key, (response["Content-Type"], response.content), PAGE_SECONDS)
        return response

    return wrapper


def cached_data(request, kind: str, compute):
    """The API's public data for this URL: cached per generation, computed by ``compute()`` when missing."""
    key = page_key(request, kind)
    data = cache.get(key)
    if data is None:
        data = compute()
        cache.set(key, data, PAGE_SECONDS)
    return data
