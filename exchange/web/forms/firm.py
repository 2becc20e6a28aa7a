"""Accounts and a firm's settings: sign-up, members, age keys, API keys, webhook endpoints."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from exchange.models import ApiKey, Membership
from exchange.models.webhooks import EVENT_TYPES as WEBHOOK_EVENT_TYPES


class _PasswordTwiceMixin:
    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return data


class SignupForm(_PasswordTwiceMixin, forms.Form):
    name = forms.CharField(label="Firm name", max_length=200)
    credit_code = forms.CharField(label="Unified social credit code (统一社会信用代码)", max_length=30,
                                  help_text="18 characters, as printed on the business licence.")
    city = forms.CharField(max_length=100, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    username = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "credit_code": d["credit_code"], "city": d["city"], "description": d["description"],
                "username": d["username"], "email": d["email"], "password": d["password1"]}


class MemberAddForm(_PasswordTwiceMixin, forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    password1 = forms.CharField(label="Initial password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        return {"username": d["username"], "email": d["email"], "password": d["password1"], "role": d["role"]}


class AgeRecipientAddForm(forms.Form):
    recipient = forms.CharField(max_length=100, label="age public key",
                                help_text="The age1… line age-keygen prints (never the AGE-SECRET-KEY line).",
                                widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off", "spellcheck": "false"}))
    label = forms.CharField(max_length=100, required=False, help_text="e.g. data team laptop")


class AgeRecipientVerifyForm(forms.Form):
    answer = forms.CharField(max_length=200, label="Decrypted challenge",
                             widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}))


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "e.g. ETL pipeline"}))
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiKey.Scope.READ])
    expires_on = forms.DateField(required=False, label="Expires on (optional)",
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        expires_at = None
        if d.get("expires_on"):
            # The key stays valid through the whole chosen day, in the exchange's time zone.
            expires_at = timezone.make_aware(datetime.combine(d["expires_on"], time(23, 59, 59)))
        return {"name": d["name"], "scopes": list(d["scopes"]), "expires_at": expires_at}


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL", widget=forms.TextInput(
        attrs={"placeholder": "https://erp.example.com/shujiao/webhooks", "inputmode": "url"}))
    event_types = forms.MultipleChoiceField(label="Events", widget=forms.CheckboxSelectMultiple,
                                            choices=[(e, e) for e in WEBHOOK_EVENT_TYPES])
    description = forms.CharField(max_length=200, required=False)
