"""Staff admin for the catalog: datasets, versions, quality reports, listings and offers.

Nothing here writes a row directly. Dataset corrections go through ``dataset_update`` (the form
shows its refusals as form errors); listing decisions through ``listing_review`` and
``listing_moderate``; everything else is view-only.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceFormAdmin, _run_each, _with_reason
from exchange.errors import DomainError
from exchange.models import Dataset, DatasetVersion, Listing, Offer, QualityReport
from exchange.selectors import quality as quality_sel
from exchange.services.catalog import (
    dataset_changes_clean,
    dataset_update,
    listing_moderate,
    listing_review,
)
from exchange.services.rai import RAI_INPUTS
from exchange.web import present
from exchange.web.present import money


class VersionInline(ReadOnlyInline):
    model = DatasetVersion
    fields = ["number", "original_filename", "format", "byte_size", "sha256", "status", "row_count"]
    show_change_link = True


@admin.register(Dataset)
class DatasetAdmin(ServiceFormAdmin):
    """Staff may correct a dataset's description and declarations, with the seller's own rules;
    the owner firm is shown, never changed."""

    list_display = ["title", "owner", "category", "kind", "contains_personal_data", "created_at"]
    list_filter = ["category", "kind", "contains_personal_data"]
    search_fields = ["title", "description", "owner__name"]
    fieldsets = [
        (None, {"fields": ["owner", "title", "description", "category", "kind", "tags", "schema", "dialect",
                           "contains_personal_data", "legal_basis", "created_at", "updated_at"]}),
        # normalised and bounded by dataset_update like the seller's own (services.rai)
        ("Responsible-AI declaration (Croissant RAI)", {"classes": ["collapse"], "fields": list(RAI_INPUTS)}),
    ]
    # the CSV dialect is the seller's declaration (validated by dataset_create/dataset_update): shown only
    readonly_fields = ["owner", "dialect", "created_at", "updated_at"]
    inlines = [VersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def check_changes(self, obj, changes):
        dataset_changes_clean(dataset=obj, **changes)

    def apply_changes(self, actor, obj, changes):
        dataset_update(actor=actor, dataset=obj, **changes)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "number", "format", "byte_size", "status", "row_count", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["dataset__title", "sha256", "original_filename"]
    readonly_fields = [f.name for f in DatasetVersion._meta.fields]
    change_form_template = "admin/exchange/quality_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        report = quality_sel.report_for_viewer(version) if version is not None else None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "quality": present.quality_view(report)})


@admin.register(QualityReport)
class QualityReportAdmin(ReadOnlyAdmin):
    list_display = ["version", "score", "grade", "passed", "created_at"]
    list_filter = ["passed", "grade"]
    readonly_fields = ["version", "score", "grade", "passed", "created_at", "pretty"]
    exclude = ["report"]
    change_form_template = "admin/exchange/quality_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report_obj = self.get_object(request, object_id)
        report = quality_sel.report_for_viewer(report_obj.version) if report_obj is not None else None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "quality": present.quality_view(report)})

    @admin.display(description="Report JSON (redacted as stored)")
    def pretty(self, obj):
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>", json.dumps(obj.report, ensure_ascii=False, indent=2))


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ["name", "price", "access_mode", "kind", "term_days", "download_limit", "redistribution",
              "derivatives_allowed", "derivative_share_bp", "is_active"]
    readonly_fields = fields

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="Price")
    def price(self, obj):
        return money(obj.price_fen)


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["title", "seller_name", "status", "grade", "submitted_at", "published_at"]
    list_filter = ["status", "edited_since_review", "dataset__category", "dataset__kind"]
    search_fields = ["title", "dataset__title", "dataset__owner__name"]
    fields = ["title", "summary", "dataset", "version", "status", "review_note", "edited_since_review", "submitted_at",
              "reviewed_at", "published_at"]
    readonly_fields = fields
    inlines = [OfferInline]
    actions = ["publish", "reject", "suspend", "reinstate", "acknowledge_edits"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("dataset__owner", "version__quality_report")

    def get_urls(self):
        review = self.admin_site.admin_view(require_POST(self.review_view))
        return [path("<path:object_id>/review/", review, name="exchange_listing_review"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        listing = self.get_object(request, object_id)
        if listing is not None:
            extra_context = {**(extra_context or {}), "review": _review_context(listing)}
        return super().change_view(request, object_id, form_url, extra_context)

    _DECISIONS = {
        "publish": ("published", lambda actor, o, why: listing_review(actor=actor, listing=o, approve=True, note=why)),
        "reject": ("rejected", lambda actor, o, why: listing_review(actor=actor, listing=o, approve=False, note=why)),
        "suspend": ("suspended", lambda actor, o, why: listing_moderate(actor=actor, listing=o, action="suspend", note=why)),
        "reinstate": ("reinstated", lambda actor, o, why: listing_moderate(actor=actor, listing=o, action="reinstate", note=why)),
    }

    def review_view(self, request, object_id):
        """The Publish / Reject / Suspend / Reinstate buttons of the review page: one service call each."""
        listing = get_object_or_404(Listing, pk=object_id)
        decision = self._DECISIONS.get(request.POST.get("decision", ""))
        if decision is None:
            self.message_user(request, "Unknown decision.", messages.ERROR)
        else:
            done, call = decision
            try:
                call(Actor.from_request(request), listing, request.POST.get("reason", ""))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"“{listing.title}” {done}.", messages.SUCCESS)
        return redirect("admin:exchange_listing_change", listing.pk)

    @admin.display(description="Seller", ordering="dataset__owner__name")
    def seller_name(self, obj):
        return obj.dataset.owner.name

    @admin.display(description="Grade")
    def grade(self, obj):
        report = getattr(obj.version, "quality_report", None) if hasattr(obj.version, "quality_report") else None
        return report.grade if report else "—"

    @admin.action(description="Let the sellers' edits of selected listings stand")
    def acknowledge_edits(self, request, queryset):
        from exchange.services.listings import listing_edits_acknowledge

        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda o: listing_edits_acknowledge(actor=actor, listing=o),
                  "listing edit(s) acknowledged")

    @admin.action(description="Publish selected listings (review approved)")
    def publish(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda o: listing_review(actor=actor, listing=o, approve=True), "listing(s) published")

    @admin.action(description="Reject selected listings (asks for a reason)")
    def reject(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Reject listings",
                            lambda o, why: listing_review(actor=actor, listing=o, approve=False, note=why), "listing(s) rejected")

    @admin.action(description="Suspend selected listings (asks for a reason)")
    def suspend(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Suspend listings",
                            lambda o, why: listing_moderate(actor=actor, listing=o, action="suspend", note=why), "listing(s) suspended")

    @admin.action(description="Reinstate selected suspended listings (asks for a reason)")
    def reinstate(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Reinstate listings",
                            lambda o, why: listing_moderate(actor=actor, listing=o, action="reinstate", note=why), "listing(s) reinstated")


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ["name", "listing", "price", "access_mode", "kind", "is_active"]
    list_filter = ["access_mode", "kind", "is_active"]
    search_fields = ["name", "listing__title"]
    exclude = ["price_fen"]
    readonly_fields = ["price"]

    @admin.display(description="Price", ordering="price_fen")
    def price(self, obj):
        return money(obj.price_fen)


def _review_context(listing: Listing) -> dict:
    """What a reviewer reads before deciding. The report is the redacted one everybody but the
    seller sees: a reviewer judges that personal data is present, not what it says."""
    version = listing.version
    report = quality_sel.report_for_viewer(version) if version is not None else None
    quality = present.quality_view(report)
    fields = present.schema_fields(listing.dataset.schema)
    return {
        "seller": listing.dataset.owner,
        "dataset": listing.dataset,
        "quality": quality,
        "pii_total": quality["pii_total"] if quality else 0,
        "sample": present.sample_table(report, [f["name"] for f in fields]),
        "offers": [{"offer": o, "price": money(o.price_fen)} for o in listing.offers.order_by("price_fen")],
    }
