"""Admin for listing revisions: staff see what changed and why a revision waits, and approve or
reject it through ``services.revisions.listing_revision_review`` (never by editing the row)."""

from __future__ import annotations

from django.contrib import admin

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin, _run_each, _with_reason
from exchange.models import ListingRevision
from exchange.services.revisions import listing_revision_review


@admin.register(ListingRevision)
class ListingRevisionAdmin(ReadOnlyAdmin):
    list_display = ("listing", "version_number", "status", "reasons", "diff_status", "created_at")
    list_filter = ("status", "diff_status")
    list_select_related = ("listing", "version")
    search_fields = ("listing__title",)
    ordering = ("-created_at",)
    fields = ("listing", "version", "previous_version", "changelog", "status", "review_reasons", "review_note",
              "created_at", "live_at", "decided_at", "diff_status", "diff", "diff_error")
    readonly_fields = fields
    actions = ["approve", "reject"]

    @admin.display(description="Version")
    def version_number(self, obj):
        return f"v{obj.version.number}"

    @admin.display(description="Why it waits")
    def reasons(self, obj):
        return "; ".join(obj.review_reasons) or "—"

    @admin.action(description="Approve selected revisions (they go live)")
    def approve(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda o: listing_revision_review(actor=actor, revision=o, approve=True),
                  "revision(s) approved")

    @admin.action(description="Reject selected revisions (asks for a reason)")
    def reject(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Reject revisions",
                            lambda o, why: listing_revision_review(actor=actor, revision=o, approve=False, note=why),
                            "revision(s) rejected")
