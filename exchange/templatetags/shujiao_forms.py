"""Form helpers for templates: whether a form has password inputs (which are never refilled)."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.filter
def has_password_input(form) -> bool:
    """True when a field of the form renders as a password input.

    Browsers and Django rightly never send a password back in a page, so after an error the
    form keeps every other field and says that the passwords were cleared on purpose."""
    return any(isinstance(f.widget, forms.PasswordInput) for f in getattr(form, "fields", {}).values())
