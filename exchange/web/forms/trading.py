"""Buyer and seller forms of a trade: the stated purpose, a rejection's reason, a sandbox top-up."""

from __future__ import annotations

from django import forms

from exchange.web.forms.common import YuanField


class PurchaseForm(forms.Form):
    """The purpose a buyer states for an offer ("Buy now" or "Request access"). The service judges it."""

    purpose = forms.CharField(
        label="Purpose of use", max_length=4000,
        error_messages={"required": "State the purpose you will use the data for."},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. Training an intent classifier for our customer service."}),
        help_text="At least a sentence; it becomes part of the licence.")


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=2000,
                             error_messages={"required": "Give the buyer a reason."},
                             widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Tell the buyer why"}))


class SandboxTopupForm(forms.Form):
    amount = YuanField(label="Amount (¥, demo money)", initial="10000.00")

    FIELD_MAP = {"amount_fen": "amount"}
