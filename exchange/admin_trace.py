"""Staff admin page: upload a leaked file, see which contract(s) it traces to (audited)."""

from __future__ import annotations

from django import forms
from django.template.response import TemplateResponse

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import Listing
from exchange.services.fingerprint_trace import fingerprint_trace


class TraceForm(forms.Form):
    file = forms.FileField(help_text="The leaked CSV, TSV, JSON Lines or Parquet file.")
    listing = forms.ModelChoiceField(queryset=Listing.objects.filter(offers__fingerprint=True).distinct()
                                     .order_by("title"), required=False,
                                     help_text="The listing it is a copy of (empty: every fingerprinted listing).")


def trace_view(model_admin, request):
    reports, status = None, 200
    if not request.user.is_staff or not model_admin.has_view_permission(request):
        from django.core.exceptions import PermissionDenied
        raise PermissionDenied
    form = TraceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        listing = form.cleaned_data["listing"]
        upload = form.cleaned_data["file"]
        try:
            reports = fingerprint_trace(actor=Actor.from_request(request), upload=upload, filename=upload.name,
                                        listing_id=listing.pk if listing else None)
        except DomainError as exc:
            form.add_error("file", exc.message)
            status = 400
    elif request.method == "POST":
        status = 400
    context = {**model_admin.admin_site.each_context(request), "title": "Trace a leaked file", "form": form,
               "reports": reports, "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/exchange/trace.html", context, status=status)
