"""Error pages (wired as handler400/403/404 in marketplace.urls).

Under the REST API and the download endpoint a URL that matches no route still answers
with the API's error body (JSON), never an HTML page: clients parse one shape.
"""

from django.http import JsonResponse
from django.shortcuts import render

from exchange.api.errors import error_body

_API_PREFIXES = ("/api/", "/d/")


def _is_api(request) -> bool:
    return request.path.startswith(_API_PREFIXES)


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return render(request, "exchange/error.html", {"status": 404, "message": "This page does not exist, or it is not yours to see."}, status=404)


def forbidden(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", str(exception) or "You are not allowed to do this."), status=403)
    return render(request, "exchange/error.html", {"status": 403, "message": str(exception) or "You are not allowed to do this."}, status=403)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)
    return render(request, "exchange/error.html", {"status": 400, "message": "The request could not be understood."}, status=400)
