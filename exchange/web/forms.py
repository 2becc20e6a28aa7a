"""Web forms: they parse and shape input for one service call, and hold no business rule.

Rules (what a valid price, schema or credit code is) live in the services; a form only
turns text into the types a service takes, and `apply_domain_error` turns a service's
refusal back into form errors.
"""

from __future__ import annotations

import json
from datetime import datetime, time

from django import forms
from django.utils import timezone

from exchange.errors import DomainError
from exchange.models import ApiKey, Dataset, DatasetVersion, Membership, Offer
from exchange.models.catalog import Category
from exchange.models.webhooks import EVENT_TYPES as WEBHOOK_EVENT_TYPES
from exchange.money import AmountError, format_yuan, parse_yuan
from exchange.selectors.catalog import GRADES
from workers.metadata import ANNOTATIONS_PER_ITEM_MAX, RAI_FIELDS


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


# --- Catalog -----------------------------------------------------------------

ORDERINGS = [
    ("-published_at", "Newest first"),
    ("min_price_fen", "Price: low to high"),
    ("-min_price_fen", "Price: high to low"),
    ("-version__quality_report__score", "Quality: best first"),
    ("title", "Title A–Z"),
]


class CatalogFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"placeholder": "Search… 搜索", "type": "search"}))
    category = forms.ChoiceField(required=False, choices=[("", "Any category")] + list(Category.choices))
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind")] + list(Dataset.Kind.choices))
    price_min = YuanField(required=False, label="Min price (¥)")
    price_max = YuanField(required=False, label="Max price (¥)")
    min_grade = forms.ChoiceField(required=False, label="Minimum grade",
                                  choices=[("", "Any grade")] + [(g, f"{g} or better") for g in GRADES])
    ordering = forms.ChoiceField(required=False, choices=ORDERINGS)

    def clean(self):
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The maximum price is below the minimum price.")
        return data

    def search_arguments(self) -> dict:
        """Keyword arguments for selectors.catalog_search from whatever input was valid."""
        data = getattr(self, "cleaned_data", {}) or {}
        args = {"q": (data.get("q") or "").strip(), "category": data.get("category") or "",
                "kind": data.get("kind") or "", "min_grade": data.get("min_grade") or "",
                "ordering": data.get("ordering") or "-published_at"}
        if "price_max" not in self.errors:
            args["price_min"], args["price_max"] = data.get("price_min"), data.get("price_max")
        return args


# --- Accounts ----------------------------------------------------------------

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


# --- Seller --------------------------------------------------------------------

SCHEMA_PLACEHOLDER = """{
  "fields": [
    {"name": "id", "type": "integer", "description": "Row id"},
    {"name": "text", "type": "string", "description": "Utterance transcript"},
    {"name": "label", "type": "string", "description": "Intent"}
  ],
  "primaryKey": "id",
  "labelField": "label",
  "labels": ["greeting", "complaint", "other"]
}"""


DIALECT_PLACEHOLDER = '{"delimiter": ";", "header": false}'


def _rai_form_fields() -> dict[str, forms.Field]:
    """The Responsible-AI declaration's inputs, from the one table of RAI fields."""
    fields: dict[str, forms.Field] = {
        f"rai_{f.attr}": forms.CharField(
            label=f.label, required=False, strip=False,
            help_text=f"{f.help} At most {f.max_length} characters.",
            widget=forms.Textarea(attrs={"rows": 3 if f.max_length > 1000 else 2}))
        for f in RAI_FIELDS
    }
    fields["rai_annotations_per_item"] = forms.IntegerField(
        label="Annotators per item", required=False, min_value=1, max_value=ANNOTATIONS_PER_ITEM_MAX,
        help_text="How many people labelled each item (e.g. 3 with majority vote).")
    return fields


# Built from RAI_FIELDS (the declarative metaclass collects fields given to type() as well).
RaiDeclarationForm = type("RaiDeclarationForm", (forms.Form,), {
    **_rai_form_fields(),
    "__doc__": "The seller's optional Responsible-AI declaration (Croissant RAI) on a dataset.",
    "service_arguments": lambda self: dict(self.cleaned_data),
    "rai_names": [f"rai_{f.attr}" for f in RAI_FIELDS] + ["rai_annotations_per_item"],
})


class DatasetCreateForm(RaiDeclarationForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ChoiceField(choices=Category.choices)
    kind = forms.ChoiceField(choices=Dataset.Kind.choices, widget=forms.RadioSelect, initial=Dataset.Kind.LABELLED)
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated, e.g. speech, Mandarin, 客服")
    schema = forms.CharField(label="Table Schema (JSON)", widget=forms.Textarea(
        attrs={"rows": 12, "class": "mono", "placeholder": SCHEMA_PLACEHOLDER, "spellcheck": "false"}),
        help_text="Frictionless Table Schema: fields (name, type, description), primaryKey; "
                  "for labelled data labelField and labels.")
    dialect = forms.CharField(label="CSV dialect (JSON, optional)", required=False, widget=forms.Textarea(
        attrs={"rows": 3, "class": "mono", "placeholder": DIALECT_PLACEHOLDER, "spellcheck": "false"}),
        help_text="Frictionless CSV Dialect, only for what cannot be sniffed: delimiter, header, headerRows, "
                  "lineTerminator, quoteChar, doubleQuote, escapeChar, skipInitialSpace, commentChar. "
                  "Leave empty to detect everything.")
    contains_personal_data = forms.BooleanField(required=False, label="This dataset contains personal information")
    legal_basis = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Required when the dataset contains personal information.")
    field_order = ["title", "description", "category", "kind", "tags", "schema", "dialect", "contains_personal_data",
                   "legal_basis"]  # then the RAI declaration

    def main_fields(self):
        return [f for f in self.visible_fields() if f.name not in self.rai_names]

    def declaration_fields(self):
        return [f for f in self.visible_fields() if f.name in self.rai_names]

    def clean_dialect(self):
        text = (self.cleaned_data.get("dialect") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                                        code="invalid_json") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(f"The dialect must be a JSON object ({{…}}), not a {type(value).__name__}.",
                                        code="not_object")
        return value

    def clean_schema(self):
        text = self.cleaned_data["schema"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                                        code="invalid_json") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(f"The schema must be a JSON object ({{…}}), not a {type(value).__name__}.",
                                        code="not_object")
        return value

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)


class VersionUploadForm(forms.Form):
    file = forms.FileField(label="Data file", help_text="CSV, TSV, JSON Lines or Parquet; UTF-8, UTF-16 (with BOM), GB18030/GBK, Big5 or Windows-1252.")
    changelog = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ListingCreateForm(forms.Form):
    version = forms.ModelChoiceField(queryset=DatasetVersion.objects.none(), empty_label=None)
    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the dataset's title.")
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, dataset: Dataset, **kwargs):
        super().__init__(*args, **kwargs)
        # only versions that may be listed (passed their checks), newest first
        self.fields["version"].queryset = dataset.versions.filter(status=DatasetVersion.Status.PASSED).order_by("-number")
        self.fields["version"].label_from_instance = (
            lambda v: f"v{v.number} · {v.original_filename} · {v.row_count or 0:,} rows")


class OfferCreateForm(forms.Form):
    name = forms.CharField(max_length=100, initial="Standard licence")
    price = YuanField(label="Price (¥, CNY)")
    access_mode = forms.ChoiceField(choices=Offer.AccessMode.choices, initial=Offer.AccessMode.APPROVAL)
    # not required: a form without it (an older page, a script) sells a one-off licence, as before subscriptions
    kind = forms.ChoiceField(required=False, choices=Offer.Kind.choices, initial=Offer.Kind.ONE_OFF, label="Kind 类型",
                             help_text="A subscription delivers every version you publish to this listing during "
                                       "the term, each as a new signed package with what changed.")
    purpose_restriction = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                          help_text="e.g. model training only; no re-identification")
    term_days = forms.IntegerField(initial=365, label="Term (days)")
    download_limit = forms.IntegerField(initial=5)
    redistribution = forms.BooleanField(required=False, label="Redistribution allowed")
    acceptance_days = forms.IntegerField(initial=3, required=False, label="Acceptance window (days)",
                                         help_text="0–30. The buyer may accept or report a problem this long after "
                                                   "delivery; you are paid then. 0: paid as soon as it is delivered.")
    # Quality guarantee (optional): checked against the listed version's report when the offer is made.
    g_min_score = forms.IntegerField(required=False, label="Guarantee: minimum score (0–100)")
    g_min_rows = forms.IntegerField(required=False, label="Guarantee: minimum rows")
    g_max_duplicate_pct = forms.DecimalField(required=False, max_digits=5, decimal_places=2,
                                             label="Guarantee: maximum exact-duplicate rows (%)")
    g_max_null = forms.CharField(required=False, label="Guarantee: maximum empty values per column (%)",
                                 help_text="e.g. text=1, label=0")
    g_label_tolerance_pp = forms.DecimalField(required=False, max_digits=5, decimal_places=2,
                                              label="Guarantee: label shares within ± percentage points")
    g_no_undeclared_pii = forms.BooleanField(required=False, label="Guarantee: no undeclared personal data")
    fingerprint = forms.BooleanField(required=False, label="Fingerprint each buyer's copy",
                                     help_text="Keyed marks in the last declared decimal of numeric columns trace a "
                                               "leaked copy to its buyer. Labels and keys are never changed.")
    fingerprint_gamma = forms.IntegerField(initial=20, required=False, label="At most 1 row in",
                                           help_text="changes (5 to 1000; more rows per change: fewer changes, "
                                                     "more rows needed to trace a leak).")
    fingerprint_exclude = forms.CharField(required=False, max_length=2000, label="Columns never marked",
                                          help_text="Comma-separated column names, e.g. reading_kwh, tariff.")
    fingerprint_text = forms.BooleanField(required=False, label="Text may carry whitespace marks",
                                          help_text="A trailing space added to or removed from a text value in "
                                                    "marked rows (for data with few numeric columns).")
    derivatives_allowed = forms.BooleanField(required=False, label="Derivatives allowed 允许衍生",
                                             help_text="Licensees may sell data derived from this version.")
    derivative_share_bp = forms.IntegerField(required=False, initial=0, label="Revenue share (basis points)",
                                             help_text="100 = 1 % of each sale of derived data, after commission.")

    confirm_low_price = forms.BooleanField(required=False, label="Yes, this low price is right",
                                           help_text="Needed for a price under ¥10: it is easy to type 1.5 for 1,500.")

    # Service field names that differ from ours.
    # A typing slip guard, not a rule: the service accepts any price from ¥0.01.
    LOW_PRICE_FEN = 1000
    FIELD_MAP = {"price_fen": "price", "guarantee.min_score": "g_min_score", "guarantee.min_rows": "g_min_rows",
                 "guarantee.max_duplicate_share": "g_max_duplicate_pct", "guarantee.max_null_share": "g_max_null",
                 "guarantee.label_tolerance_pp": "g_label_tolerance_pp"}

    def clean_g_max_null(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (self.cleaned_data.get("g_max_null") or "").split(","))):
            column, sep, pct = part.partition("=")
            try:
                value = float(pct)
            except ValueError:
                value = -1.0
            if not sep or not column.strip() or not 0 <= value <= 100:
                raise forms.ValidationError(f"Write column=percent pairs, e.g. text=1, label=0 (not {part!r}).")
            out[column.strip()] = value / 100
        return out

    def guarantee(self) -> dict | None:
        d = self.cleaned_data
        pct = d.get("g_max_duplicate_pct")
        tol = d.get("g_label_tolerance_pp")
        raw = {"min_score": d.get("g_min_score"), "min_rows": d.get("g_min_rows"),
               "max_duplicate_share": float(pct) / 100 if pct is not None else None,
               "max_null_share": d.get("g_max_null") or None,
               "label_tolerance_pp": float(tol) if tol is not None else None,
               "no_undeclared_personal_data": bool(d.get("g_no_undeclared_pii"))}
        return {k: v for k, v in raw.items() if v not in (None, False)} or None

    def clean(self):
        data = super().clean()
        price = data.get("price")
        if price is not None and 0 < price < self.LOW_PRICE_FEN and not data.get("confirm_low_price"):
            self.add_error("price", f"{format_yuan(price)} is under ¥10. If that is right, tick "
                                    "“Yes, this low price is right” and add the offer again.")
        return data

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        gamma = d.get("fingerprint_gamma")
        return {"name": d["name"], "price_fen": d["price"], "access_mode": d["access_mode"], "kind": d.get("kind") or Offer.Kind.ONE_OFF,
                "purpose_restriction": d["purpose_restriction"], "term_days": d["term_days"],
                "download_limit": d["download_limit"], "redistribution": d["redistribution"],
                "acceptance_days": 3 if d.get("acceptance_days") is None else d["acceptance_days"],
                "guarantee": self.guarantee(),
                "fingerprint": d["fingerprint"], "fingerprint_gamma": 20 if gamma is None else gamma,
                "fingerprint_exclude": d["fingerprint_exclude"], "fingerprint_text": d["fingerprint_text"],
                "derivatives_allowed": d["derivatives_allowed"],
                "derivative_share_bp": d.get("derivative_share_bp") or 0}


# --- Trading -------------------------------------------------------------------

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
