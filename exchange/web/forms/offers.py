"""The seller's offer form: price, licence terms, quality guarantee, fingerprinting, derivatives."""

from __future__ import annotations

from django import forms

from exchange.models import Offer
from exchange.money import format_yuan
from exchange.web.forms.common import YuanField


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
