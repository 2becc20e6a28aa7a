"""The site's URLs plus ``/bench/bare/``: a bare Django JSON view, the catalog benchmark's yardstick."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True, "items": []})


urlpatterns = [path("bench/bare/", bare), path("", include("marketplace.urls"))]
handler404 = "exchange.web.views.not_found"
