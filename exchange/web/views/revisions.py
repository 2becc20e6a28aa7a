"""Web: publishing a new version to a listing (seller) and a revision's page with its diff (everyone)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import DatasetVersion, ListingRevision
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import revisions as revisions_sel
from exchange.services import revisions as revisions_svc
from exchange.web.forms import apply_domain_error
from exchange.web.views.common import current_firm, firm_required


class PublishVersionForm(forms.Form):
    version = forms.ModelChoiceField(queryset=DatasetVersion.objects.none(), empty_label=None,
                                     help_text="Passed versions newer than the listed one, newest first.")
    changelog = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                                help_text="What changed, for buyers: shown in the revision history.")

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = publishable_versions(listing)
        self.fields["version"].label_from_instance = lambda v: f"v{v.number} — {v.row_count or 0:,} rows"


def publishable_versions(listing):
    """The versions the seller may publish to the listing: passed, newer than the listed one, newest first."""
    return (DatasetVersion.objects.filter(dataset_id=listing.dataset_id, status=DatasetVersion.Status.PASSED,
                                          number__gt=listing.version.number)
            .defer("file").order_by("-number"))


@firm_required
def publish_version(request, listing_id):
    listing = get_object_or_404(catalog_sel.listings_of(request.current_firm).select_related("version"), pk=listing_id)
    form = PublishVersionForm(request.POST or None, listing=listing)
    if request.method == "POST" and form.is_valid():
        try:
            revision = revisions_svc.listing_publish_version(
                actor=Actor.from_request(request), listing=listing, version=form.cleaned_data["version"],
                changelog=form.cleaned_data["changelog"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            if revision.status == ListingRevision.Status.LIVE:
                messages.success(request, f"Version {revision.version.number} is live on the listing.")
            else:
                messages.info(request, f"Version {revision.version.number} waits for staff review: "
                                       + "; ".join(revision.review_reasons))
            return redirect("web:listing-manage", listing_id=listing.pk)
    return render(request, "exchange/sell/publish_version.html", {"listing": listing, "form": form})


def revision_detail(request, listing_id, revision_id):
    firm = current_firm(request)
    listing = catalog_sel.listing_visible(listing_id=listing_id, organization=firm)
    if listing is None:
        raise Http404("No such listing.")
    is_owner = firm is not None and listing.dataset.owner_id == firm.pk
    revision = revisions_sel.revision_with_diff(listing=listing, revision_id=revision_id, public=not is_owner)
    if revision is None:
        raise Http404("No such revision.")
    return render(request, "exchange/revision.html", {
        "listing": listing, "revision": revision, "diff": revisions_svc.revision_diff(revision)})


class ListingEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


@firm_required
def listing_edit(request, listing_id):
    from exchange.services.listings import listing_update

    listing = get_object_or_404(catalog_sel.listings_of(request.current_firm), pk=listing_id)
    form = ListingEditForm(request.POST or None, initial={"title": listing.title, "summary": listing.summary})
    if request.method == "POST" and form.is_valid():
        try:
            listing_update(actor=Actor.from_request(request), listing=listing, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Listing updated." + (
                " Staff are told of edits to a published listing." if listing.status == "published" else ""))
            return redirect("web:listing-manage", listing_id=listing.pk)
    return render(request, "exchange/sell/listing_edit.html", {"listing": listing, "form": form})


@firm_required
@require_POST
def offer_retire(request, listing_id, offer_id):
    from exchange.models import Offer
    from exchange.services.listings import offer_retire as retire

    listing = get_object_or_404(catalog_sel.listings_of(request.current_firm), pk=listing_id)
    offer = get_object_or_404(Offer.objects.filter(listing=listing), pk=offer_id)
    try:
        retire(actor=Actor.from_request(request), offer=offer)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Offer “{offer.name}” retired. Contracts already made are unaffected.")
    return redirect("web:listing-manage", listing_id=listing.pk)
