"""Staff admin for trading: contracts (with refunds), access requests, wallets (with top-ups)
and the ledger, read-only.

Money only moves through exchange.services.trading, so every staff action is audited;
ledger rows are never added, edited or deleted here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin, ReadOnlyInline, _with_form, _with_reason
from exchange.models import AccessRequest, Account, Contract, LedgerEntry, LedgerTransfer
from exchange.money import format_yuan
from exchange.services.escrow import contract_partial_refund, contract_refund
from exchange.services.trading import wallet_topup
from exchange.web.forms import YuanField


def _fen(value: int) -> str:
    """Amounts in the admin read as yuan, like everywhere a person reads them."""
    return format_yuan(value)


class _EntryAmounts:
    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return format_yuan(obj.amount)

    @admin.display(description="Balance after", ordering="balance_after")
    def balance_after_display(self, obj):
        return format_yuan(obj.balance_after)


class TopupForm(forms.Form):
    amount = YuanField(label="Amount (yuan)", help_text="In yuan, e.g. 100 or 99.50 (digits 0-9 or ０-９). Must be positive.")
    memo = forms.CharField(max_length=300, help_text="Where the money came from, e.g. the bank reference. Audited.")

    def clean_amount(self):
        fen = self.cleaned_data["amount"]
        if not fen:
            raise forms.ValidationError("Enter a positive amount (at least ¥0.01).")
        return fen


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "organization", "balance_display", "created_at"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "organization__credit_code"]
    readonly_fields = ["kind", "organization", "currency", "balance_display", "created_at"]
    actions = ["top_up"]

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj):
        return _fen(obj.balance)

    @admin.action(description="Top up the selected wallets")
    def top_up(self, request, queryset):
        wallets = queryset.filter(kind=Account.Kind.WALLET).select_related("organization")
        if not wallets.exists():
            self.message_user(request, "Only firm wallets can be topped up.", messages.ERROR)
            return None
        actor = Actor.from_request(request)
        return _with_form(self, request, wallets, "Top up wallets", TopupForm, lambda wallet, data: wallet_topup(
            actor=actor, organization=wallet.organization, amount_fen=data["amount"], memo=data["memo"]),
            "wallets topped up")


class EntryInline(_EntryAmounts, ReadOnlyInline):
    model = LedgerEntry
    fields = ["account", "amount_display", "balance_after_display"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransfer)
class LedgerTransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "contract", "memo", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["memo", "contract__id"]
    readonly_fields = ["id", "kind", "contract", "memo", "created_by", "created_at"]
    inlines = [EntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_EntryAmounts, ReadOnlyAdmin):
    list_display = ["id", "account", "amount_display", "balance_after_display", "transfer", "created_at"]
    list_filter = ["account__kind", "transfer__kind"]
    search_fields = ["account__organization__name"]
    readonly_fields = ["transfer", "account", "amount_display", "balance_after_display", "created_at"]


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "buyer", "seller", "listing", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["buyer__name", "seller__name", "listing__title", "purpose"]
    readonly_fields = ["buyer", "seller", "offer", "listing", "purpose", "status", "decision_reason", "requested_by",
                       "created_at", "decided_at"]


class PartialRefundForm(forms.Form):
    amount = YuanField(label="Refund to the buyer (yuan)",
                       help_text="In yuan, at most the price; the seller keeps the rest, less commission on it.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text="Shown to both firms and kept in the audit trail.")


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "buyer", "seller", "listing", "price_display", "status", "paid_at", "delivered_at",
                    "settled_at", "refunded_at"]
    list_filter = ["status", "release"]
    search_fields = ["id", "buyer__name", "seller__name", "listing__title"]
    readonly_fields = ["access_request", "buyer", "seller", "listing", "offer", "dataset_version", "price_display", "currency",
                       "commission_bp", "purpose", "purpose_restriction", "term_days", "download_limit", "redistribution",
                       "acceptance_days", "guarantee", "licence_sha256", "licence_text", "status", "created_at", "paid_at",
                       "delivered_at", "window_ends_at", "window_remaining_seconds", "window_reminded_at", "accepted_at",
                       "release", "settled_at", "refunded_at", "refunded_display", "refund_reason"]
    actions = ["refund", "partial_refund"]

    @admin.display(description="Price", ordering="price_fen")
    def price_display(self, obj):
        return _fen(obj.price_fen)

    @admin.display(description="Refunded to the buyer", ordering="refunded_fen")
    def refunded_display(self, obj):
        return _fen(obj.refunded_fen)

    @admin.action(description="Refund part of the price of delivered contracts (amount and reason required)")
    def partial_refund(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_form(self, request, queryset, "Refund part of the price", PartialRefundForm,
                          lambda contract, data: contract_partial_refund(
                              contract_id=contract.pk, refund_fen=data["amount"], reason=data["reason"], actor=actor),
                          "contracts partly refunded")

    @admin.action(description="Refund the buyer from escrow (reason required)")
    def refund(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Refund contracts",
                            lambda contract, reason: contract_refund(contract_id=contract.pk, reason=reason, actor=actor),
                            "contracts refunded")
