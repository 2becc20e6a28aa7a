"""Seller pages: datasets, version uploads with live check progress, listings and offers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import DatasetVersion
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.selectors import quality as quality_sel
from exchange.services import catalog as catalog_svc
from exchange.uploads import (
    CHUNKED_MESSAGE,
    upload_storage_error,
    upload_too_large,
    upload_without_length,
)
from exchange.web import present
from exchange.web.forms import (
    DatasetCreateForm,
    ListingCreateForm,
    OfferCreateForm,
    RaiDeclarationForm,
    VersionUploadForm,
    apply_domain_error,
)
from exchange.web.views.common import firm_required, wants_json

IN_PROGRESS = (DatasetVersion.Status.UPLOADED, DatasetVersion.Status.CHECKING)


def _report_of(version):
    """The stored report row (its score / grade columns), or None."""
    return quality_sel.stored_report(version)


def version_status_data(version: DatasetVersion) -> dict:
    """What the versions table shows of a check, the page and its poller alike (one text)."""
    report = _report_of(version)
    percent = round(min(max(version.check_percent or 0, 0), 100), 1)
    return {
        "id": str(version.pk), "status": version.status, "status_label": version.get_status_display(),
        "rows_seen": version.check_rows_seen, "bytes_seen": version.check_bytes_seen,
        "percent": percent, "bar_percent": min(percent, 99.0) if version.status == DatasetVersion.Status.CHECKING else percent,
        "progress_text": present.check_progress_text(version.status, version.check_rows_seen, percent),
        "grade": report.grade if report else None, "score": report.score if report else None,
        "passed": report.passed if report else None,
        "check_error": version.check_error,
    }


# --- Datasets --------------------------------------------------------------------

@firm_required
def dataset_list(request):
    datasets = catalog_sel.datasets_of(request.current_firm).prefetch_related("versions")
    return render(request, "exchange/sell/datasets.html", {"datasets": datasets})


@firm_required
def dataset_new(request):
    form = DatasetCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = catalog_svc.dataset_create(actor=Actor.from_request(request), **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"Dataset “{dataset.title}” created. Upload its first version.")
            return redirect("web:dataset", dataset_id=dataset.pk)
    return render(request, "exchange/sell/dataset_new.html", {"form": form})


@firm_required
def dataset_declaration(request, dataset_id):
    """Edit the dataset's Responsible-AI declaration (the RAI fields of its Croissant)."""
    dataset = get_object_or_404(catalog_sel.datasets_of(request.current_firm), pk=dataset_id)
    initial = {name: getattr(dataset, name) for name in RaiDeclarationForm.rai_names}
    form = RaiDeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog_svc.dataset_update(actor=Actor.from_request(request), dataset=dataset, **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Responsible-AI declaration saved.")
            return redirect("web:dataset", dataset_id=dataset.pk)
    return render(request, "exchange/sell/dataset_declaration.html", {"dataset": dataset, "form": form})


def _too_large_message() -> str:
    return f"The file is larger than the exchange's upload limit of {present.filesize(settings.MAX_UPLOAD_BYTES)}."


def _too_large_form(message: str = "", *, licences=()) -> VersionUploadForm:
    form = VersionUploadForm(data={}, files={}, licences=licences)
    form.is_valid()
    form.errors["file"] = form.error_class([message or _too_large_message()])
    return form


@firm_required
def dataset_detail(request, dataset_id):
    dataset = get_object_or_404(catalog_sel.datasets_of(request.current_firm), pk=dataset_id)
    licences = list(lineage_sel.licensed_versions(request.current_firm))  # the "derived from" choices
    form = VersionUploadForm(licences=licences)
    if request.method == "POST":
        if upload_without_length(request):  # chunked: Django would see no file at all
            form = _too_large_form(CHUNKED_MESSAGE, licences=licences)
        elif upload_too_large(request):  # declared too large: refuse without reading the body
            form = _too_large_form(licences=licences)
        else:
            form = VersionUploadForm(request.POST, request.FILES, licences=licences)
            if upload_too_large(request):  # the stream went over the limit while being read
                form = _too_large_form(licences=licences)
            elif (storage_failure := upload_storage_error(request)) is not None:  # disk full while receiving
                form = _too_large_form(storage_failure.message, licences=licences)
            elif form.is_valid():
                try:
                    version = catalog_svc.version_upload(
                        actor=Actor.from_request(request), dataset=dataset,
                        upload=form.cleaned_data["file"], changelog=form.cleaned_data["changelog"],
                        lineage=form.lineage())
                except DomainError as exc:
                    apply_domain_error(form, exc)
                else:
                    url = reverse("web:dataset", kwargs={"dataset_id": dataset.pk})
                    text = f"Version {version.number} uploaded ({present.filesize(version.byte_size)}); its quality check is queued."
                    messages.success(request, text)  # shown on the page the script reloads, too
                    if wants_json(request):
                        return JsonResponse({"ok": True, "redirect": url, "message": text,
                                             "version": version_status_data(version)}, status=201)
                    return redirect(url)
        if wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
    versions = dataset.versions.select_related("quality_report", "lineage__upstream__dataset")
    return render(request, "exchange/sell/dataset_detail.html", {
        "dataset": dataset, "form": form,
        "versions": [{"v": v, "size": present.filesize(v.byte_size), "report": _report_of(v),
                      "live": v.status in IN_PROGRESS, "data": version_status_data(v)} for v in versions],
        "listings": dataset.listings.all(),
        "schema_fields": present.schema_fields(dataset.schema),
        "max_upload": present.filesize(settings.MAX_UPLOAD_BYTES),
    })


@firm_required
@require_GET
def version_status(request, version_id):
    version = get_object_or_404(catalog_sel.versions_of(request.current_firm).select_related("quality_report"),
                                pk=version_id)
    return JsonResponse(version_status_data(version))


# --- Listings --------------------------------------------------------------------

@firm_required
def listing_list(request):
    listings = catalog_sel.listings_of(request.current_firm).order_by("-created_at")
    return render(request, "exchange/sell/listings.html", {
        "rows": [{"listing": li, "price": present.money(li.min_price_fen)} for li in listings]})


@firm_required
def listing_new(request):
    datasets = catalog_sel.datasets_of(request.current_firm)
    raw = request.GET.get("dataset") or request.POST.get("dataset") or ""
    try:
        dataset_id = uuid.UUID(raw) if raw else None
    except ValueError:
        raise Http404("No such dataset.") from None
    if dataset_id is None:
        return render(request, "exchange/sell/listing_new.html", {"datasets": datasets, "dataset": None})
    dataset = get_object_or_404(datasets, pk=dataset_id)
    form = ListingCreateForm(request.POST or None, dataset=dataset)
    if request.method == "POST" and form.is_valid():
        try:
            listing = catalog_svc.listing_create(actor=Actor.from_request(request), dataset=dataset,
                                                 version=form.cleaned_data["version"], title=form.cleaned_data["title"],
                                                 summary=form.cleaned_data["summary"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Listing created as a draft. Add an offer, then submit it for review.")
            return redirect("web:listing-manage", listing_id=listing.pk)
    return render(request, "exchange/sell/listing_new.html", {"datasets": datasets, "dataset": dataset, "form": form})


def _own_listing(request, listing_id):
    return get_object_or_404(catalog_sel.listings_of(request.current_firm).select_related("version__quality_report"),
                             pk=listing_id)


def _manage_page(request, listing, offer_form=None):
    version = listing.version
    return render(request, "exchange/sell/listing_manage.html", {
        "listing": listing, "version": version, "report": _report_of(version),
        "offers": [{"offer": o, "price": present.money(o.price_fen)} for o in listing.offers.all()],
        "offer_form": offer_form or OfferCreateForm(),
        "editable": listing.status in ("draft", "rejected"),
        "offers_addable": listing.status in ("draft", "rejected", "published"),
    })


@firm_required
def listing_manage(request, listing_id):
    return _manage_page(request, _own_listing(request, listing_id))


@firm_required
@require_POST
def offer_add(request, listing_id):
    listing = _own_listing(request, listing_id)
    form = OfferCreateForm(request.POST)
    if form.is_valid():
        try:
            offer = catalog_svc.offer_create(actor=Actor.from_request(request), listing=listing,
                                             **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc, field_map=OfferCreateForm.FIELD_MAP)
        else:
            messages.success(request, f"Offer “{offer.name}” at {present.money(offer.price_fen)} added.")
            return redirect("web:listing-manage", listing_id=listing.pk)
    return _manage_page(request, listing, offer_form=form)


@firm_required
@require_POST
def listing_submit(request, listing_id):
    listing = _own_listing(request, listing_id)
    try:
        catalog_svc.listing_submit(actor=Actor.from_request(request), listing=listing)
    except DomainError as exc:
        messages.error(request, exc.message)
        for field, problems in (exc.fields or {}).items():
            for problem in problems:
                if problem != exc.message:
                    messages.error(request, f"{field}: {problem}")
    else:
        messages.success(request, "Submitted for review by exchange staff.")
    return redirect("web:listing-manage", listing_id=listing.pk)


@firm_required
@require_POST
def listing_retire(request, listing_id):
    listing = _own_listing(request, listing_id)
    try:
        catalog_svc.listing_retire(actor=Actor.from_request(request), listing=listing)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The listing is retired; existing contracts are unaffected.")
    return redirect("web:listing-manage", listing_id=listing.pk)
