"""Django admin for exchange staff: review queues, moderation, and the audit trail.

Decisions go through the same services as every other face (so they are audited);
direct edits are limited to harmless fields and are audited too.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import (
    ApiKey,
    AuditEvent,
    Dataset,
    DatasetVersion,
    Listing,
    Membership,
    Offer,
    Organization,
    QualityReport,
)
from exchange.selectors import quality as quality_sel
from exchange.services.audit import audit_record, audit_verify_chain
from exchange.services.catalog import listing_moderate, listing_review
from exchange.services.catalog_flat import (
    listings_of_dataset_refresh,
    listings_of_seller_refresh,
    listings_refresh_flat,
)
from exchange.services.orgs import organization_review

admin.site.site_header = "Shujiao 数交 — exchange staff"
admin.site.site_title = "Shujiao staff"
admin.site.index_title = "Review, compliance and audit"


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=True,
                             help_text="Shown to the firm and kept in the audit trail.")


def _run_each(modeladmin, request, queryset, fn, done: str) -> None:
    """Apply a service to each selected object; report refusals as admin messages."""
    ok = 0
    for obj in queryset:
        try:
            fn(obj)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", messages.SUCCESS)


def _with_form(modeladmin, request, queryset, title: str, form_class, fn, done: str):
    """An action that first asks for input (a reason, an amount) on an intermediate page,
    then applies ``fn(obj, cleaned_data)`` to each selected object."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            _run_each(modeladmin, request, queryset, lambda obj: fn(obj, form.cleaned_data), done)
            return None
    else:
        form = form_class()
    return render(request, "admin/exchange/reason_form.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "objects": queryset, "form": form,
        "action": request.POST.get("action"), "opts": modeladmin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    })


def _with_reason(modeladmin, request, queryset, title: str, fn, done: str):
    """An action that first asks for a reason; ``fn(obj, reason)``."""
    return _with_form(modeladmin, request, queryset, title, ReasonForm,
                      lambda obj, data: fn(obj, data["reason"]), done)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look, never add, edit or delete: these rows change only through services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent; they change only through services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class AuditedModelAdmin(admin.ModelAdmin):
    """Direct admin edits and deletions are written to the audit trail."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(actor=Actor.from_request(request), action=f"admin.{'changed' if change else 'added'}",
                         obj=obj, details={"model": obj._meta.label, "fields": sorted(form.changed_data)})
            # Titles, summaries, descriptions and firm names feed the flat catalog columns.
            if isinstance(obj, Listing):
                listings_refresh_flat([obj.pk])
            elif isinstance(obj, Dataset):
                listings_of_dataset_refresh(obj.pk)
            elif isinstance(obj, Organization):
                listings_of_seller_refresh(obj.pk)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=Actor.from_request(request), action="admin.deleted", obj=obj,
                         details={"model": obj._meta.label, "repr": str(obj)})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "credit_code", "city", "verification_status", "created_at", "verified_at"]
    list_filter = ["verification_status", "city"]
    search_fields = ["name", "credit_code"]
    readonly_fields = ["verification_status", "verification_note", "verified_at", "created_at"]
    inlines = [MembershipInline]
    actions = ["verify", "reject"]

    @admin.action(description="Verify selected firms")
    def verify(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda o: organization_review(actor=actor, organization=o, approve=True), "firm(s) verified")

    @admin.action(description="Reject selected firms (asks for a reason)")
    def reject(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Reject firms",
                            lambda o, why: organization_review(actor=actor, organization=o, approve=False, note=why), "firm(s) rejected")


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__name"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "organization", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organization__name"]
    exclude = ["key_hash"]


class VersionInline(ReadOnlyInline):
    model = DatasetVersion
    fields = ["number", "original_filename", "format", "byte_size", "sha256", "status", "row_count"]
    show_change_link = True


@admin.register(Dataset)
class DatasetAdmin(AuditedModelAdmin):
    list_display = ["title", "owner", "category", "kind", "contains_personal_data", "created_at"]
    list_filter = ["category", "kind", "contains_personal_data"]
    search_fields = ["title", "description", "owner__name"]
    # the dialect is validated by services/catalog (web form, API); staff read it here
    readonly_fields = ["dialect"]
    inlines = [VersionInline]


def quality_html(version: DatasetVersion | None):
    """The quality report summary with personal-data findings highlighted (for reviewers).

    Shown in list and change views alike, so it is always the redacted report."""
    stored = quality_sel.stored_report(version)
    if stored is None:
        return format_html("<em>No quality report yet (version status: {}).</em>", version.status if version else "—")
    data = quality_sel.report_for_viewer(version) or quality_sel.report_typed({})
    pii = data.pii
    kinds = pii.KINDS
    pii_total = sum(int(getattr(pii, k) or 0) for k in kinds)
    failures = format_html_join("", "<li>{}</li>", ((f,) for f in data.failures)) or mark_safe("<li>none</li>")
    pii_rows = format_html_join("", "<li><b>{}</b>: {}</li>", ((k, getattr(pii, k)) for k in kinds))
    examples = ", ".join(pii.examples[:10])
    style = "background:#fde2e1;border:2px solid #c0392b;padding:6px" if pii_total else "padding:6px"
    return format_html(
        "<div><b>Score {} · grade {}</b> — gates {}<br>rows {} · malformed {} · duplicates {} · formula cells {}"
        "<ul>{}</ul><div style='{}'><b>Personal data found: {}</b> (dataset declares personal data: {})<ul>{}</ul>{}</div></div>",
        stored.score, stored.grade, "passed" if data.passed else "FAILED", data.rows,
        data.malformed_rows, data.duplicate_rows, data.formula_injection, failures, style,
        pii_total, "yes" if version.dataset.contains_personal_data else "no", pii_rows,
        format_html("Examples (redacted): {}", examples) if examples else "",
    )


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "number", "format", "byte_size", "status", "row_count", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["dataset__title", "sha256", "original_filename"]
    readonly_fields = [f.name for f in DatasetVersion._meta.fields] + ["quality"]

    @admin.display(description="Quality report")
    def quality(self, obj):
        return quality_html(obj)


@admin.register(QualityReport)
class QualityReportAdmin(ReadOnlyAdmin):
    list_display = ["version", "score", "grade", "passed", "created_at"]
    list_filter = ["passed", "grade"]
    readonly_fields = ["version", "score", "grade", "passed", "created_at", "pretty"]
    exclude = ["report"]

    @admin.display(description="Report JSON")
    def pretty(self, obj):
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>", json.dumps(obj.report, ensure_ascii=False, indent=2))


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ["name", "price_fen", "currency", "access_mode", "term_days", "download_limit", "redistribution", "is_active"]


@admin.register(Listing)
class ListingAdmin(AuditedModelAdmin):
    list_display = ["title", "seller_name", "status", "grade", "submitted_at", "published_at"]
    list_filter = ["status", "edited_since_review", "dataset__category", "dataset__kind"]
    search_fields = ["title", "dataset__title", "dataset__owner__name"]
    readonly_fields = ["dataset", "version", "status", "review_note", "edited_since_review", "submitted_at",
                       "reviewed_at", "published_at", "quality"]
    fields = ["title", "summary", *readonly_fields]
    inlines = [OfferInline]
    actions = ["publish", "reject", "suspend", "reinstate", "acknowledge_edits"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("dataset__owner", "version__quality_report")

    @admin.display(description="Seller", ordering="dataset__owner__name")
    def seller_name(self, obj):
        return obj.dataset.owner.name

    @admin.display(description="Grade")
    def grade(self, obj):
        report = quality_sel.stored_report(obj.version)
        return report.grade if report else "—"

    @admin.display(description="Quality report and personal-data findings")
    def quality(self, obj):
        return quality_html(obj.version)

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
    list_display = ["name", "listing", "price_fen", "currency", "access_mode", "is_active"]
    list_filter = ["access_mode", "is_active"]
    search_fields = ["name", "listing__title"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only audit viewer with chain verification."""

    list_display = ["seq", "created_at", "action", "actor_type", "actor_label", "organization_id", "object_type", "object_id", "origin_ip", "short_hash"]
    list_filter = ["action", "actor_type", "object_type"]
    search_fields = ["action", "object_id", "organization_id", "actor_label", "hash"]
    date_hierarchy = "created_at"
    actions = ["verify_chain"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return obj.hash[:12] + "…"

    @admin.action(description="Verify the whole audit chain")
    def verify_chain(self, request, queryset):
        result = audit_verify_chain()
        with transaction.atomic():
            audit_record(actor=Actor.from_request(request), action="audit.chain_verified",
                         details={"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq})
        if result.ok:
            self.message_user(request, f"Audit chain intact: {result.checked} events verified.", messages.SUCCESS)
        else:
            where = f" at event #{result.broken_seq}" if result.broken_seq is not None else ""
            self.message_user(request, f"Audit chain BROKEN{where}: {result.reason}", messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The verify action applies to the whole chain: allow running it with nothing selected.
        if request.method == "POST" and request.POST.get("action") == "verify_chain" and not request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME):
            post = request.POST.copy()
            first = AuditEvent.objects.order_by("seq").values_list("pk", flat=True).first()
            if first is not None:
                post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, [str(first)])
                request.POST = post
        return super().changelist_view(request, extra_context)


# Trading and delivery register their own ModelAdmins; importing them here lets the
# admin's autodiscovery (which loads only ``exchange.admin``) find them.
from exchange import admin_delivery, admin_revisions, admin_trading  # noqa: E402,F401
