"""The public catalog's search and filter form."""

from __future__ import annotations

from django import forms

from exchange.models import Dataset
from exchange.models.catalog import Category
from exchange.selectors.catalog import GRADES
from exchange.web.forms.common import YuanField

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
