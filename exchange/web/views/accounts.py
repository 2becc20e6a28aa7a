"""Sign-up of a firm with its first user. Login and logout are Django's own views (see urls)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.services import orgs as orgs_svc
from exchange.web.forms import SignupForm, apply_domain_error


def signup(request):
    if request.user.is_authenticated:
        return redirect("web:firm")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = orgs_svc.organization_register(actor=Actor.from_request(request), **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            user = org.memberships.get().user
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {org.name}. Your firm is pending verification by exchange staff.")
            return redirect("web:firm")
    return render(request, "exchange/signup.html", {"form": form})
