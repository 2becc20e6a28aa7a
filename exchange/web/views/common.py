"""Small helpers shared by the web views: who is asking, and what a firm-only page needs."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from exchange.actor import Actor


def current_firm(request):
    """The signed-in user's Organization (a real instance, not the lazy proxy), or None."""
    return Actor.from_request(request).organization if request.user.is_authenticated else None


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def firm_required(view):
    """Signed-in users who belong to a firm; others go to login, or get a 403 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        firm = current_firm(request)
        if firm is None:
            return render(request, "exchange/error.html", {
                "status": 403, "message": "Your account does not belong to a firm. Sign up a firm to sell or buy."},
                status=403)
        request.current_firm = firm
        return view(request, *args, **kwargs)

    return wrapper



@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico, which browsers ask for on pages without an icon link (admin, API docs,
    JSON): a redirect to the site's icon, a static SVG."""
    return redirect(static("exchange/favicon.svg"), permanent=True)
