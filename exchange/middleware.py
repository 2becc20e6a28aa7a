"""Attach the signed-in user's firm to the request as ``request.firm`` (or None)."""

from django.utils.functional import SimpleLazyObject


def _firm_of(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    membership = getattr(user, "membership", None) if hasattr(user, "membership") else None
    return membership.organization if membership else None


class CurrentOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.firm = SimpleLazyObject(lambda: _firm_of(request))
        return self.get_response(request)
