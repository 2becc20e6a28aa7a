"""Staff admin for deliveries (read-only, with an audited revoke that asks for a reason)
and the exchange's signing keys (public parts only; keys change via ``manage.py signing_key``)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin, ReadOnlyInline, _with_reason
from exchange.models import AuditCheckpoint, Delivery, DownloadLink, SharingToken, SigningKey
from exchange.services.delivery import delivery_revoke


class DownloadLinkInline(ReadOnlyInline):
    model = DownloadLink
    fields = ["kind", "created_at", "created_by", "expires_at", "first_used_at", "requests"]


class SharingTokenInline(ReadOnlyInline):
    """Delta Sharing tokens of the delivery (never the hash); revoking the delivery revokes them."""

    model = SharingToken
    fields = ["created_at", "created_by", "expires_at", "revoked_at", "revoke_reason", "last_used_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["short_id", "listing", "version", "buyer", "seller", "status", "attempts", "downloads", "key_id",
                    "ready_at", "expires_at"]
    list_filter = ["status", "initial", "key_id"]
    search_fields = ["id", "contract__id", "contract__buyer__name", "contract__seller__name", "contract__listing__title"]
    list_select_related = ["contract__buyer", "contract__seller", "contract__listing", "dataset_version", "diff_from"]
    exclude = ["manifest", "claim_token", "parquet_schema"]
    readonly_fields = ["contract", "dataset_version", "initial", "diff_from", "status", "attempts", "queued_at", "heartbeat_at", "bytes_done", "bytes_total",
                       "package_name", "package_size", "package_sha256", "data_path", "key_id", "issued_at",
                       "expires_at", "downloads_used", "error", "revoke_reason", "created_at", "ready_at", "ended_at",
                       "encrypted_to", "fingerprint", "parquet_name", "parquet_size", "parquet_sha256", "parquet_rows",
                       "parquet_error", "manifest_pretty"]
    inlines = [DownloadLinkInline, SharingTokenInline]
    actions = ["revoke"]
    change_list_template = "admin/exchange/delivery/change_list.html"

    def get_urls(self):
        from django.urls import path

        from exchange.admin_trace import trace_view

        return [path("trace/", self.admin_site.admin_view(lambda r: trace_view(self, r)),
                     name="exchange_delivery_trace"), *super().get_urls()]

    @admin.display(description="delivery")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="version")
    def version(self, obj):
        update = "" if obj.initial else f" (update from v{obj.diff_from.number})"
        return f"v{obj.dataset_version.number}{update}"

    @admin.display(description="listing")
    def listing(self, obj):
        return obj.contract.listing.title[:50]

    @admin.display(description="buyer")
    def buyer(self, obj):
        return obj.contract.buyer.name

    @admin.display(description="seller")
    def seller(self, obj):
        return obj.contract.seller.name

    @admin.display(description="downloads")
    def downloads(self, obj):
        return f"{obj.downloads_used}/{obj.contract.download_limit}"

    @admin.display(description="manifest.json")
    def manifest_pretty(self, obj):
        if not obj.manifest:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.action(description="Revoke selected deliveries (asks for a reason)")
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Revoke deliveries",
                            lambda d, why: delivery_revoke(actor=actor, delivery_id=d.pk, reason=why),
                            "delivery(ies) revoked")


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    """Public parts only: the encrypted private key is never shown, not even to staff."""

    list_display = ["kid", "purpose", "status", "created_at", "retired_at"]
    list_filter = ["purpose", "status"]
    fields = ["kid", "purpose", "status", "created_at", "retired_at", "public_key_pem"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key_pem_encrypted")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Signed audit-log checkpoints (SPEC §11), as published."""

    list_display = ["tree_size", "key", "created_at"]
    fields = ["tree_size", "key", "created_at", "note"]
    readonly_fields = fields
