"""Input serializers parse requests; output serializers render models. None of them writes."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exchange.api.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from exchange.api.lineage_serializers import (
    LineageOut,
    PublicLineageOut,
    public_lineage,
    steps_field,
)
from exchange.models import (
    ApiKey,
    Dataset,
    DatasetVersion,
    Listing,
    Membership,
    Offer,
    Organization,
    VersionLineage,
)
from exchange.models.catalog import Category
from exchange.selectors import lineage as lineage_sel
from exchange.selectors import quality as quality_sel
from exchange.selectors.catalog import ORDERINGS
from workers.metadata import ANNOTATIONS_PER_ITEM_MAX, RAI_FIELDS

RAI_OUT_FIELDS = [*(f"rai_{f.attr}" for f in RAI_FIELDS), "rai_annotations_per_item"]

# "-x" sorts descending; an unknown ordering is refused (400), not silently replaced.
CATALOG_ORDERINGS = [o for name in ORDERINGS for o in (name, f"-{name}")]


# --- Output -------------------------------------------------------------------
class OrganizationOut(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "credit_code", "city", "description", "verification_status", "verified_at"]


class SellerOut(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "city", "verification_status"]


class MembershipOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")

    class Meta:
        model = Membership
        fields = ["username", "email", "role", "created_at"]


class ApiKeyOut(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.SerializerMethodField(help_text="The secret. Shown once; store it now.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]

    def get_key(self, obj) -> str:
        return self.context["secret"]


class VersionOut(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    quality = serializers.SerializerMethodField()
    lineage = serializers.SerializerMethodField(help_text="What this version was derived from, or null.")

    class Meta:
        model = DatasetVersion
        fields = ["id", "dataset", "number", "original_filename", "format", "byte_size", "sha256", "row_count",
                  "changelog", "status", "progress", "quality", "check_error", "lineage", "created_at"]

    @extend_schema_field(LineageOut(allow_null=True))
    def get_lineage(self, obj) -> dict | None:
        try:
            link = obj.lineage
        except VersionLineage.DoesNotExist:
            return None
        return LineageOut(link).data

    def get_progress(self, obj) -> dict:
        return {"rows_seen": obj.check_rows_seen, "bytes_seen": obj.check_bytes_seen, "percent": round(obj.check_percent, 1)}

    def get_quality(self, obj) -> dict | None:
        report = quality_sel.stored_report(obj)
        if report is None:
            return None
        return {"score": report.score, "grade": report.grade, "passed": report.passed}


class DatasetOut(serializers.ModelSerializer):
    owner = SellerOut()

    class Meta:
        model = Dataset
        fields = ["id", "owner", "title", "description", "category", "kind", "tags", "schema", "dialect",
                  "contains_personal_data", "legal_basis", *RAI_OUT_FIELDS, "created_at", "updated_at"]


class OfferOut(serializers.ModelSerializer):
    fingerprint_bound = serializers.CharField(read_only=True, help_text="The distortion bound in words; empty "
                                              "when copies are not fingerprinted.")

    class Meta:
        model = Offer
        fields = ["id", "listing", "name", "price_fen", "currency", "access_mode", "kind", "purpose_restriction",
                  "term_days", "download_limit", "redistribution", "acceptance_days", "guarantee", "fingerprint",
                  "fingerprint_bound", "derivatives_allowed", "derivative_share_bp", "is_active"]
        extra_kwargs = {"kind": {"help_text": "one_off: the version listed at purchase; subscription: every version "
                                              "published to the listing during term_days, each a new delivery."}}


class PublicVersionOut(VersionOut):
    """A version as the public catalog shows it: no original file name (private to the seller and staff),
    no lineage declaration (its licence is the seller's; the listing page shows the public chain)."""

    class Meta(VersionOut.Meta):
        fields = [f for f in VersionOut.Meta.fields if f not in ("original_filename", "check_error", "lineage")]


class ListingOut(serializers.ModelSerializer):
    dataset = DatasetOut()
    version = VersionOut()
    offers = OfferOut(many=True)
    min_price_fen = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Listing
        fields = ["id", "title", "summary", "status", "review_note", "dataset", "version", "offers",
                  "min_price_fen", "submitted_at", "published_at", "created_at"]


class PublicListingOut(ListingOut):
    version = PublicVersionOut()
    lineage = serializers.SerializerMethodField(help_text="The public lineage chain, as the listing page shows it.")

    class Meta(ListingOut.Meta):
        fields = [*ListingOut.Meta.fields, "lineage"]

    @extend_schema_field(PublicLineageOut)
    def get_lineage(self, obj) -> dict:
        return public_lineage(lineage_sel.listing_lineage(obj))


class CatalogItemOut(serializers.ModelSerializer):
    """A catalog row, read from the listing's flat columns (no offers, no report JSON)."""

    seller = SellerOut(source="dataset.owner")
    summary = serializers.CharField(source="blurb")
    tags = serializers.JSONField(source="dataset.tags")
    min_price_fen = serializers.IntegerField(source="best_price_fen", read_only=True, allow_null=True)
    quality_grade = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = ["id", "title", "summary", "seller", "category", "kind", "tags", "min_price_fen",
                  "quality_grade", "quality_score", "row_count", "published_at"]

    def get_quality_grade(self, obj) -> str | None:
        return obj.quality_grade or None


# --- Input --------------------------------------------------------------------
def choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field whose refusal lists the allowed values (the schema shows them as an enum)."""
    values = [c[0] if isinstance(c, tuple) else c for c in choices]
    shown = ", ".join(v for v in values if v)
    return serializers.ChoiceField(choices=choices, error_messages={
        "invalid_choice": f"Choose one of: {shown}."}, **kwargs)


@extend_schema_field({"type": "array", "minItems": 1,
                      "items": {"type": "string", "enum": list(ApiKey.Scope.values)}})
class ScopesField(serializers.ListField):
    """The scope rules (known names, at least one) are checked by services.orgs.api_key_create."""


class ApiKeyIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = ScopesField(child=StrictCharField(), help_text="What the key may do: read, sell, buy, webhooks.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="In the future; none: never expires.")


class TableSchemaIn(serializers.JSONField):
    """A Frictionless Table Schema (docs/quality.md); the rules JSON Schema cannot state are in the description."""


TABLE_SCHEMA_DOC = {
    "type": "object",
    "description": "A Frictionless Table Schema: `fields` lists the columns in file order. Also checked by the "
                   "server (400 naming the property): field names are unique; `labelField`, `inputFields` and "
                   "`primaryKey` name declared fields; a labelled dataset declares `labelField`; type-specific "
                   "keys and `constraints` match the field's type. See docs/quality.md.",
    "required": ["fields"],
    "properties": {
        "fields": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "type": {"type": "string", "enum": ["string", "number", "integer", "boolean", "object", "array",
                                                     "list", "date", "time", "datetime", "year", "yearmonth",
                                                     "duration", "geopoint", "geojson", "any"], "default": "string"},
                "format": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                "example": {}, "constraints": {"type": "object"},
                "missingValues": {"type": "array", "items": {"type": "string"}},
                "decimalChar": {"type": "string", "minLength": 1, "maxLength": 1},
                "groupChar": {"type": "string", "minLength": 1, "maxLength": 1},
                "bareNumber": {"type": "boolean"},
                "trueValues": {"type": "array", "items": {"type": "string"}},
                "falseValues": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        }},
        "primaryKey": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
        "missingValues": {"type": "array", "items": {"type": "string"}},
        "labelField": {"type": "string"},
        "labels": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "minLength": 1}},
        "inputFields": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "personalData": {"type": "boolean"},
        "name": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
    },
    "additionalProperties": False,
}
extend_schema_field(TABLE_SCHEMA_DOC)(TableSchemaIn)


class DialectIn(serializers.JSONField):
    """A Frictionless CSV Dialect (validated by the catalog service, workers.quality.dialect)."""


_ONE_CHAR = {"type": "string", "minLength": 1, "maxLength": 1}
DIALECT_DOC = {
    "type": "object",
    "properties": {
        "delimiter": _ONE_CHAR, "quoteChar": _ONE_CHAR, "escapeChar": _ONE_CHAR, "commentChar": _ONE_CHAR,
        "header": {"type": "boolean"}, "doubleQuote": {"type": "boolean"}, "skipInitialSpace": {"type": "boolean"},
        "lineTerminator": {"type": "string", "enum": ["\n", "\r\n", "\r"]},
        "headerRows": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 100}, "maxItems": 100,
                       "uniqueItems": True},
    },
    "additionalProperties": False,
}
extend_schema_field(DIALECT_DOC)(DialectIn)


# The Responsible-AI declaration (Croissant RAI): optional texts, normalised and
# length-checked by services.rai (the limits are in each field's help text).
RaiIn = type("RaiIn", (serializers.Serializer,), {
    # the limits are the service's (services.rai, with its own messages); the schema states them
    **{f"rai_{f.attr}": StrictCharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, schema_max_length=f.max_length,
        help_text=f"{f.help} Croissant rai:{f.term}; at most {f.max_length} characters.") for f in RAI_FIELDS},
    "rai_annotations_per_item": StrictIntegerField(
        required=False, allow_null=True, minimum=1, maximum=ANNOTATIONS_PER_ITEM_MAX,
        help_text=f"How many annotators labelled each item (1-{ANNOTATIONS_PER_ITEM_MAX}); rai:annotationsPerItem."),
})


class DatasetIn(RaiIn):
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True)
    category = choice(Category.choices)
    kind = choice(Dataset.Kind.choices, help_text="labelled: rows carry a label column; cleaned: no label.")
    tags = serializers.ListField(child=StrictCharField(max_length=40), required=False, max_length=20)
    schema = TableSchemaIn(help_text="The Table Schema of the data file.")
    dialect = DialectIn(required=False, help_text=(
        "Frictionless CSV Dialect for CSV/TSV files. Declared values beat sniffed ones. Refused with 400 "
        "naming the property: two roles for one character, headerRows with header false."))
    contains_personal_data = StrictBooleanField(required=False)
    legal_basis = StrictCharField(required=False, allow_blank=True,
                                        help_text="Required (non-blank) when contains_personal_data is true.")


class VersionIn(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True,  # the service refuses an empty file with its own message
                                 help_text="The data file: CSV, JSON Lines or Parquet (by its name's extension).")
    changelog = StrictCharField(required=False, allow_blank=True, max_length=5000)
    derived_from = serializers.UUIDField(required=False, allow_null=True, default=None, help_text=(
        "Optional lineage: the upstream version this file was derived from (an active licence of your firm "
        "whose offer allows derivatives). Refused uploads store nothing."))
    lineage_steps = steps_field(required=False, default=list, help_text="With derived_from: the steps applied.")
    lineage_notes = StrictCharField(required=False, allow_blank=True, default="", max_length=2000,
                                    help_text="With derived_from: the steps in words.")


class LineageIn(serializers.Serializer):
    derived_from = serializers.UUIDField(help_text="The upstream dataset version: one your firm holds an active "
                                                   "licence to whose offer allows derivatives.")
    steps = steps_field(required=False, default=list, help_text="What was done to the upstream data.")
    notes = StrictCharField(required=False, allow_blank=True, default="", max_length=2000,
                            help_text="The steps in words (required when no step is chosen).")


class ListingIn(serializers.Serializer):
    dataset = serializers.UUIDField()
    version = serializers.UUIDField()
    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    summary = StrictCharField(required=False, allow_blank=True)


class ListingEditIn(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class GuaranteeIn(serializers.JSONField):
    """A quality guarantee (checked by services.guarantee against the listed version's report)."""


_SHARE = {"type": "number", "minimum": 0, "maximum": 1}
GUARANTEE_DOC = {
    "type": "object", "nullable": True,
    # each threshold may be left out or null (no such promise)
    "properties": {
        "min_score": {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True},
        "min_rows": {"type": "integer", "minimum": 0, "nullable": True},
        "max_duplicate_share": {**_SHARE, "nullable": True},
        "max_null_share": {"type": "object", "additionalProperties": _SHARE, "nullable": True},
        "label_tolerance_pp": {"type": "number", "minimum": 0, "maximum": 100, "nullable": True},
        "no_undeclared_personal_data": {"type": "boolean", "nullable": True},
    },
    "additionalProperties": False,
}
extend_schema_field(GUARANTEE_DOC)(GuaranteeIn)


class OfferIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    price_fen = StrictIntegerField(minimum=1, maximum=settings.MAX_PRICE_FEN,
                                   help_text="Price in fen (1 CNY = 100 fen), a whole number ≥ 1.")
    currency = choice(["CNY"], required=False, default="CNY")
    access_mode = choice(Offer.AccessMode.choices, required=False, default=Offer.AccessMode.APPROVAL,
                         help_text="instant: paid and delivered at once; approval: the seller decides each request.")
    kind = choice(Offer.Kind.choices, required=False, default=Offer.Kind.ONE_OFF,
                  help_text="one_off: the version listed at purchase; subscription: a term licence (term_days from "
                            "payment) delivering every version published to the listing during the term.")
    purpose_restriction = StrictCharField(required=False, allow_blank=True, default="")
    term_days = StrictIntegerField(required=False, default=365, minimum=1, maximum=3650)
    download_limit = StrictIntegerField(required=False, default=5, minimum=1, maximum=1000)
    redistribution = StrictBooleanField(required=False, default=False)
    acceptance_days = StrictIntegerField(required=False, default=3, minimum=0, maximum=30,
                                         help_text="Days the buyer has to accept or dispute a delivery (0–30; 0: "
                                                   "escrow is released as soon as the delivery is ready).")
    guarantee = GuaranteeIn(required=False, allow_null=True, default=None, help_text=(
        "Optional quality guarantee: min_score, min_rows, max_duplicate_share (0–1), max_null_share "
        "({column: 0–1}), label_tolerance_pp, no_undeclared_personal_data. Refused if the listed version fails it."))
    fingerprint = StrictBooleanField(required=False, default=False,
                                           help_text="Mark each buyer's copy with a per-contract fingerprint (SPEC §12).")
    fingerprint_gamma = StrictIntegerField(required=False, default=20, minimum=5, maximum=1000,
                                           help_text="Distortion bound: at most 1 row in this many changes (5-1000).")
    fingerprint_exclude = serializers.ListField(child=StrictCharField(max_length=200), required=False,
                                                default=list, max_length=500, help_text="Columns never marked.")
    fingerprint_text = StrictBooleanField(required=False, default=False,
                                                help_text="Allow trailing-space marks on text values.")
    derivatives_allowed = StrictBooleanField(required=False, default=False, help_text=(
        "Licensees may sell data derived from this version, declaring its lineage."))
    derivative_share_bp = StrictIntegerField(required=False, default=0, minimum=0, maximum=10000, help_text=(
        "Basis points (100 = 1 %) of each sale of derived data, after commission, paid to you; needs "
        "derivatives_allowed."))


class CatalogQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                              help_text="Text search in titles, descriptions and seller names.")
    category = choice(["", *Category.values], required=False, default="")
    kind = choice(["", *Dataset.Kind.values], required=False, default="")
    price_min = StrictIntegerField(required=False, allow_null=True, default=None, min_value=0,
                                   help_text="Lowest price in fen.")
    price_max = StrictIntegerField(required=False, allow_null=True, default=None, min_value=0,
                                   help_text="Highest price in fen.")
    min_grade = choice(["", "A", "B", "C", "D", "E"], required=False, default="",
                       help_text="Quality grade at least this good (A best).")
    ordering = choice(CATALOG_ORDERINGS, required=False, default="-published_at")
