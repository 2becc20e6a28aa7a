"""Seller web pages for lineage: declare what a version was derived from (services.lineage)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.services import lineage as lineage_svc
from exchange.web.forms import LineageForm, apply_domain_error
from exchange.web.views.common import firm_required


@firm_required
def version_lineage(request, version_id):
    firm = request.current_firm
    version = get_object_or_404(catalog_sel.versions_of(firm), pk=version_id)
    existing = lineage_sel.version_lineage(version)
    licences = list(lineage_sel.licensed_versions(firm)) if existing is None else []
    form = LineageForm(request.POST or None, licences=licences)
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            lineage_svc.lineage_declare(actor=Actor.from_request(request), version=version,
                                        derived_from=form.cleaned_data["derived_from"],
                                        steps=form.cleaned_data["steps"], notes=form.cleaned_data["notes"])
        except DomainError as exc:
            apply_domain_error(form, exc, field_map=LineageForm.FIELD_MAP)
        else:
            messages.success(request, f"Version {version.number} now declares its lineage.")
            return redirect("web:dataset", dataset_id=version.dataset_id)
    status = 400 if request.method == "POST" and existing is None else 200
    return render(request, "exchange/sell/version_lineage.html", {
        "version": version, "dataset": version.dataset, "existing": existing, "form": form,
        "has_licences": bool(licences)}, status=status)
