"""Seller forms for datasets: creating one (with its Responsible-AI declaration), uploading a
version, listing a version."""

from __future__ import annotations

import json

from django import forms

from exchange.models import Dataset, DatasetVersion
from exchange.models.catalog import Category
from exchange.web.forms.lineage import SourceVersionField, licence_choices, notes_field, steps_field
from workers.metadata import ANNOTATIONS_PER_ITEM_MAX, RAI_FIELDS

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
        return _json_object(text, "dialect")

    def clean_schema(self):
        text = self.cleaned_data["schema"]
        return _json_object(text, "schema")

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)


class VersionUploadForm(forms.Form):
    """A new version's file and changelog, and optionally what it was derived from (its lineage,
    checked by services.lineage before the file is stored; field names as the service's)."""

    file = forms.FileField(label="Data file", help_text="CSV, TSV, JSON Lines or Parquet; UTF-8, UTF-16 (with BOM), GB18030/GBK, Big5 or Windows-1252.")
    changelog = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    derived_from = SourceVersionField(required=False, label="Derived from 来源版本", help_text=(
        "Only if this file was made from data your firm licensed from another seller; the licence's offer must "
        "allow derivatives. Fixed once uploaded."))
    lineage_steps = steps_field("Steps applied 处理步骤")
    lineage_notes = notes_field("What was done, in words")
    LINEAGE_FIELDS = ("derived_from", "lineage_steps", "lineage_notes")

    def __init__(self, *args, licences=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = licence_choices(licences, blank="— not derived from licensed data —")
        self.fields["derived_from"].choices = choices
        self.has_licences = len(choices) > 1

    def main_fields(self):
        return [f for f in self.visible_fields() if f.name not in self.LINEAGE_FIELDS]

    def lineage_fields(self):
        return [f for f in self.visible_fields() if f.name in self.LINEAGE_FIELDS]

    @property
    def shows_lineage(self) -> bool:
        """The lineage inputs are drawn when the firm has a licence to choose from, or when they carry an error."""
        return self.has_licences or any(name in self.errors for name in self.LINEAGE_FIELDS)

    def lineage(self) -> dict | None:
        """The ``lineage`` argument of services.catalog.version_upload, or None when no source was chosen."""
        d = self.cleaned_data
        if not d.get("derived_from"):
            return None
        return {"derived_from": d["derived_from"], "steps": list(d.get("lineage_steps") or []),
                "notes": d.get("lineage_notes") or ""}


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


def _json_object(text: str, what: str) -> dict:
    """``text`` parsed as one JSON object, or a form error naming the problem and where it is."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                                    code="invalid_json") from exc
    if not isinstance(value, dict):
        raise forms.ValidationError(f"The {what} must be a JSON object ({{…}}), not a {type(value).__name__}.",
                                    code="not_object")
    return value
