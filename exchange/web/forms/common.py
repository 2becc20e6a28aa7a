"""What every web form shares: amounts typed in yuan, and a service's refusal put back on a form."""

from __future__ import annotations

from django import forms

from exchange.errors import DomainError
from exchange.money import AmountError, parse_yuan


def yuan_to_fen(text: str) -> int:
    """'1,234.50' -> 123450 (exchange.money.parse_yuan, the one parser); its refusal as a form error."""
    try:
        return parse_yuan(text)
    except AmountError as exc:
        raise forms.ValidationError(str(exc), code=exc.code) from None


class YuanField(forms.CharField):
    """A CNY amount typed in yuan, cleaned to integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}))
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if text in self.empty_values:
            return None
        return yuan_to_fen(text)


def apply_domain_error(form: forms.Form, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: field messages on their fields, the rest on top.

    ``field_map`` renames service field names to form field names (e.g. price_fen -> price).
    Messages for fields the form does not have become non-field errors, so nothing is lost.
    """
    field_map = field_map or {}
    on_fields = {str(m) for name, messages in (exc.fields or {}).items()
                 if field_map.get(name, name) in form.fields
                 for m in (messages if isinstance(messages, (list, tuple)) else [messages])}
    if exc.message not in on_fields:  # said once: under its field when that is where it belongs
        form.add_error(None, exc.message)
    for name, messages in (exc.fields or {}).items():
        target = field_map.get(name, name)
        for message in messages if isinstance(messages, (list, tuple)) else [messages]:
            if target in form.fields:
                form.add_error(target, str(message))
            elif str(message) != exc.message:
                form.add_error(None, str(message))
