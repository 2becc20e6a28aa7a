"""Seller web pages for lineage: declare what a version was derived from (services.lineage)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import LineageStep
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.services import lineage as lineage_svc
from exchange.web.forms import apply_domain_error
from exchange.web.views.common import firm_required


class LineageForm(forms.Form):
    derived_from = forms.ChoiceField(label="Derived from 来源版本", help_text="A version your firm bought a licence to.")
    steps = forms.MultipleChoiceField(choices=LineageStep.choices, required=False, label="Steps applied 处理步骤",
                                      widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(required=False, max_length=lineage_svc.NOTES_MAX, label="What was done, in words",
                            widget=forms.Textarea(attrs={"rows": 3}))
    FIELD_MAP = {"lineage_steps": "steps", "lineage_notes": "notes"}

    def __init__(self, *args, licences=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices, seen = [("", "— choose a licensed version —")], set()
        for contract in licences:
            version = contract.dataset_version
            if version.pk in seen:
                continue
            seen.add(version.pk)
            terms = []
            if not contract.offer.derivatives_allowed:
                terms.append("derivatives not allowed")
            elif contract.offer.derivative_share_bp:
                terms.append(f"share {contract.offer.derivative_share_percent}")
            if not lineage_svc.licence_is_current(contract):
                terms.append("licence ended or refunded")
            label = f"{contract.listing.title} v{version.number}" + (f" ({'; '.join(terms)})" if terms else "")
            choices.append((str(version.pk), label))
        self.fields["derived_from"].choices = choices


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
