"""Lineage inputs: what a version was derived from, on its own page and on the upload form.

The choices list the firm's bought licences with their terms; which one qualifies (current,
allowing derivatives, not the firm's own data, no cycle) is decided by ``services.lineage`` alone,
so a form accepts any chosen id and lets the service name the refusal.
"""

from __future__ import annotations

from django import forms

from exchange.models import LineageStep
from exchange.services.lineage import NOTES_MAX, licence_is_current


def licence_choices(licences, *, blank: str) -> list[tuple[str, str]]:
    """(version id, label) for each licensed version once, newest licence first, its terms in the label."""
    choices, seen = [("", blank)], set()
    for contract in licences:
        version = contract.dataset_version
        if version.pk in seen:
            continue
        seen.add(version.pk)
        terms = []
        if not contract.offer.derivatives_allowed:
            terms.append("derivatives not allowed")
        elif contract.offer.derivative_share_bp:
            terms.append(f"share {contract.offer.derivative_share_percent}")
        if not licence_is_current(contract):
            terms.append("licence ended or refunded")
        label = f"{contract.listing.title} v{version.number}" + (f" ({'; '.join(terms)})" if terms else "")
        choices.append((str(version.pk), label))
    return choices


class SourceVersionField(forms.ChoiceField):
    """A version id picked from the licence list. Any value passes the form: an id that is not in
    the list (unknown, not licensed, not visible) is refused by the service, which names why."""

    def valid_value(self, value) -> bool:
        return True


def steps_field(label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(choices=LineageStep.choices, required=False, label=label,
                                     widget=forms.CheckboxSelectMultiple)


def notes_field(label: str) -> forms.CharField:
    return forms.CharField(required=False, max_length=NOTES_MAX, label=label, widget=forms.Textarea(attrs={"rows": 3}))


class LineageForm(forms.Form):
    """Declare the lineage of an existing version (services.lineage.lineage_declare)."""

    derived_from = SourceVersionField(label="Derived from 来源版本", help_text="A version your firm bought a licence to.")
    steps = steps_field("Steps applied 处理步骤")
    notes = notes_field("What was done, in words")
    FIELD_MAP = {"lineage_steps": "steps", "lineage_notes": "notes"}

    def __init__(self, *args, licences=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["derived_from"].choices = licence_choices(licences, blank="— choose a licensed version —")
