"""Error pages for people (wired as handler400/403/404/500 in marketplace.urls), and the
content negotiation that lets one endpoint answer browsers with a page and API clients with
JSON (the download link ``/d/<token>``).

Under the REST API (and under ``/d/`` for anything but a browser) a URL that matches no route
answers with the API's error body (JSON), never an HTML page: clients parse one shape.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from exchange.api.errors import error_body

logger = logging.getLogger(__name__)

TITLES = {
    400: ("Bad request", "请求有误"),
    401: ("Please sign in", "请先登录"),
    403: ("Not allowed", "无权访问"),
    404: ("Not found", "页面不存在"),
    410: ("No longer available", "已失效"),
    500: ("Something went wrong", "服务器出错"),
}


def error_page(request, status: int, message: str, *, actions: list[tuple[str, str]] | None = None,
               code: str = "") -> HttpResponse:
    """The site's error page: status, a bilingual title, the message and what to do next."""
    english, chinese = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    context = {"status": status, "title": english, "title_zh": chinese, "message": message, "code": code,
               "actions": actions if actions is not None else [("Back to the catalog 返回目录", reverse("web:catalog"))]}
    return render(request, "exchange/error.html", context, status=status)


def wants_html(request) -> bool:
    """A browser navigating (``Accept: text/html…``) rather than an API client with a key."""
    if request.META.get("HTTP_AUTHORIZATION"):
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" in accept or "application/xhtml+xml" in accept



def _is_api(request) -> bool:
    """An API client's request: under /api/, or under /d/ from anything but a browser."""
    if request.path.startswith("/api/"):
        return True
    return request.path.startswith("/d/") and not wants_html(request)


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return error_page(request, 404, "This page does not exist, or it is not yours to see. 该页面不存在或您无权查看。")


def forbidden(request, exception=None):
    message = str(exception) if exception and str(exception) else "You are not allowed to do this."
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", message), status=403)
    return error_page(request, 403, message)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)
    return error_page(request, 400, "The request could not be understood. 无法理解该请求。")


def server_error(request):
    """500: rendered without the database or the request context (either may be what failed)."""
    try:
        body = render_to_string("exchange/error_500.html")
    except Exception:  # the template machinery itself failed: plain text still helps the person
        logger.exception("the 500 page could not be rendered")
        body = "<h1>Something went wrong 服务器出错</h1><p>Please try again in a minute.</p>"
    return HttpResponse(body, status=500)
