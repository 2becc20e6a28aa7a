"""Staff admin for the audit trail: read-only, newest first, with chain verification."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin
from exchange.models import AuditEvent
from exchange.services.audit import audit_record, audit_verify_chain


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only audit viewer with chain verification."""

    list_display = ["seq", "when", "action", "who", "what", "summary"]
    list_display_links = ["seq", "action"]
    list_filter = ["action", "actor_type", "object_type"]
    search_fields = ["action", "object_id", "organization_id", "actor_label", "hash"]
    date_hierarchy = "created_at"
    ordering = ["-seq"]
    list_per_page = 50
    actions = ["verify_chain"]
    readonly_fields = [*(f.name for f in AuditEvent._meta.fields if f.name != "details"), "details_pretty"]
    exclude = ["details"]

    @admin.display(description="When", ordering="created_at")
    def when(self, obj):
        return obj.created_at.strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="Who", ordering="actor_label")
    def who(self, obj):
        return format_html("{} <span style='color:#777'>({})</span>", obj.actor_label or "—", obj.get_actor_type_display())

    @admin.display(description="Object")
    def what(self, obj):
        return f"{obj.object_type} {obj.object_id[:8]}…" if obj.object_id else obj.object_type or "—"

    @admin.display(description="Details")
    def summary(self, obj):
        text = ", ".join(f"{k}: {v}" for k, v in (obj.details or {}).items())
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description="Details")
    def details_pretty(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(obj.details, ensure_ascii=False, indent=2))

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

    def changelist_view(self, request, extra_context=None):
        # The verify action applies to the whole chain: allow running it with nothing selected.
        if request.method == "POST" and request.POST.get("action") == "verify_chain" and not request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME):
            post = request.POST.copy()
            first = AuditEvent.objects.order_by("seq").values_list("pk", flat=True).first()
            if first is not None:
                post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, [str(first)])
                request.POST = post
        return super().changelist_view(request, extra_context)
