"""Error pages (wired as handler400/403/404 in marketplace.urls)."""

from django.shortcuts import render


def not_found(request, exception=None):
    return render(request, "exchange/error.html", {"status": 404, "message": "This page does not exist, or it is not yours to see."}, status=404)


def forbidden(request, exception=None):
    return render(request, "exchange/error.html", {"status": 403, "message": str(exception) or "You are not allowed to do this."}, status=403)


def bad_request(request, exception=None):
    return render(request, "exchange/error.html", {"status": 400, "message": "The request could not be understood."}, status=400)
