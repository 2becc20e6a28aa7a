"""Admin for cleaning lineage: staff see each declaration and each revenue share paid, read-only
(they change only through services.lineage and services.escrow)."""

from __future__ import annotations

from django.contrib import admin

from exchange.admin import ReadOnlyAdmin
from exchange.models import RevenueShare, VersionLineage
from exchange.money import format_yuan


@admin.register(VersionLineage)
class VersionLineageAdmin(ReadOnlyAdmin):
    list_display = ("version", "upstream", "share_bp", "step_list", "created_at")
    list_select_related = ("version__dataset", "upstream__dataset")
    search_fields = ("version__dataset__title", "upstream__dataset__title")
    ordering = ("-created_at",)
    fields = ("version", "upstream", "licence", "share_bp", "steps", "notes", "declared_by", "created_at")
    readonly_fields = fields

    @admin.display(description="Steps")
    def step_list(self, obj):
        return ", ".join(obj.step_labels) or "—"


@admin.register(RevenueShare)
class RevenueShareAdmin(ReadOnlyAdmin):
    list_display = ("contract", "upstream_seller", "base", "share_bp", "share", "created_at")
    list_select_related = ("contract__listing", "contract__buyer", "upstream_seller")
    search_fields = ("upstream_seller__name", "contract__listing__title")
    ordering = ("-created_at",)
    fields = ("contract", "lineage", "upstream_seller", "transfer", "base", "share_bp", "share", "created_at")
    readonly_fields = fields

    @admin.display(description="Proceeds after commission", ordering="base_fen")
    def base(self, obj):
        return format_yuan(obj.base_fen)

    @admin.display(description="Share paid", ordering="share_fen")
    def share(self, obj):
        return format_yuan(obj.share_fen)
