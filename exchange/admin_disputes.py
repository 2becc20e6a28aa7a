"""Staff admin for after-sales: the dispute queue (counts per status), each dispute with its
timeline and the re-check of the delivered file, and the decision form on the object page.

Decisions go through exchange.services.disputes.dispute_decide (audited, balanced ledger);
dispute rows are never edited here. Notifications are read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from exchange.actor import Actor
from exchange.admin import ReadOnlyAdmin
from exchange.errors import DomainError
from exchange.models import Dispute, Notification
from exchange.selectors.disputes import dispute_counts
from exchange.selectors.quality import report_typed
from exchange.services.disputes import Outcome, dispute_decide
from exchange.web.forms import YuanField
from workers.quality.guarantee import describe


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(Outcome.REFUND, "Refund the buyer in full (downloads revoked)"),
                                         (Outcome.PARTIAL, "Refund part of the price"),
                                         (Outcome.REJECT, "Reject (the acceptance window resumes)")])
    refund = YuanField(label="Partial refund (yuan)", required=False,
                       help_text="Only for a partial refund: from 0.01 to the price. Commission is charged only on "
                                 "what the seller keeps.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown to both firms. Audited.")

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.PARTIAL and not data.get("refund"):
            self.add_error("refund", "Enter the amount to refund.")
        return data


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "buyer", "seller", "listing_title", "recheck_passed", "created_at",
                    "decided_at"]
    list_filter = ["status", "kind"]
    search_fields = ["id", "contract__id", "buyer__name", "seller__name", "contract__listing__title"]
    list_select_related = ["buyer", "seller", "contract__listing"]
    ordering = ["status", "created_at"]
    readonly_fields = ["contract", "buyer", "seller", "kind", "text", "status", "seller_response", "seller_responded_at",
                       "guarantee", "recheck", "decision_reason", "decided_by", "decided_at", "refund_fen",
                       "created_at"]
    exclude = ["recheck_token", "recheck_heartbeat_at", "recheck_report", "recheck_result", "opened_by"]
    change_form_template = "admin/exchange/dispute/change_form.html"
    change_list_template = "admin/exchange/dispute/change_list.html"

    @admin.display(description="Listing")
    def listing_title(self, obj):
        return obj.contract.listing.title

    @admin.display(description="Quality guarantee (frozen)")
    def guarantee(self, obj):
        lines = describe(obj.contract.guarantee)
        return format_html_join("", "<li>{}</li>", ((line,) for line in lines)) if lines else "None"

    @admin.display(description="Re-check of the delivered file")
    def recheck(self, obj):
        if obj.kind != Dispute.Kind.QUALITY:
            return "Not a quality dispute."
        if obj.recheck_result is None:
            return obj.recheck_error or f"Running (attempt {obj.recheck_attempts})."
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (c["expected"], c["actual"], "held" if c["passed"] else "FAILED") for c in obj.recheck_result["checks"]))
        typed = report_typed(obj.recheck_report or {})
        return format_html("<p><strong>{}</strong> · score {} · {} rows · finished {}</p><table>{}</table>",
                           "Guarantee held" if obj.recheck_passed else "Guarantee failed", typed.score,
                           typed.rows, obj.recheck_finished_at, rows)

    def changelist_view(self, request, extra_context=None):
        counts = dispute_counts()
        return super().changelist_view(request, {**(extra_context or {}), "dispute_counts": [
            (Dispute.Status(s).label, n, s) for s, n in counts.items()]})

    def get_urls(self):
        return [path("<uuid:dispute_id>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="exchange_dispute_decide"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dispute = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if dispute is not None and dispute.status == Dispute.Status.OPEN:
            extra["decision_form"] = getattr(request, "_decision_form", None) or DecisionForm()
            extra["decide_url"] = reverse("admin:exchange_dispute_decide", args=[dispute.pk])
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request, dispute_id):
        dispute = get_object_or_404(Dispute, pk=dispute_id)
        back = reverse("admin:exchange_dispute_change", args=[dispute.pk])
        if request.method != "POST":
            return redirect(back)
        form = DecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                dispute_decide(actor=Actor.from_request(request), dispute_id=dispute.pk, outcome=data["outcome"],
                               reason=data["reason"], refund_fen=data.get("refund"))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return redirect(back)
            self.message_user(request, "Dispute decided.", messages.SUCCESS)
            return redirect(back)
        request.method = "GET"  # render the object page again, with the form's errors
        request._decision_form = form
        response = self.change_view(request, str(dispute.pk))
        response.status_code = 400
        return response


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "title", "organization", "recipient", "read_at", "email_sent_at"]
    list_filter = ["event"]
    search_fields = ["title", "organization__name"]
    readonly_fields = ["recipient", "organization", "event", "title", "body", "link", "created_at", "read_at",
                       "email_sent_at", "email_attempts"]
