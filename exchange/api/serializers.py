"""Input serializers parse requests; output serializers render models. None of them writes."""

from __future__ import annotations

from rest_framework import serializers

from exchange.api.fields import StrictIntegerField
from exchange.models import (
    ApiKey,
    Dataset,
    DatasetVersion,
    Listing,
    Membership,
    Offer,
    Organization,
)
from exchange.selectors import quality as quality_sel
from workers.metadata import ANNOTATIONS_PER_ITEM_MAX, RAI_FIELDS

RAI_OUT_FIELDS = [*(f"rai_{f.attr}" for f in RAI_FIELDS), "rai_annotations_per_item"]


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

    class Meta:
        model = DatasetVersion
        fields = ["id", "dataset", "number", "original_filename", "format", "byte_size", "sha256", "row_count",
                  "changelog", "status", "progress", "quality", "check_error", "created_at"]

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
        fields = ["id", "listing", "name", "price_fen", "currency", "access_mode", "purpose_restriction",
                  "term_days", "download_limit", "redistribution", "acceptance_days", "guarantee", "fingerprint",
                  "fingerprint_bound", "is_active"]


class PublicVersionOut(VersionOut):
    """A version as the public catalog shows it: no original file name (private to the seller and staff)."""

    class Meta(VersionOut.Meta):
        fields = [f for f in VersionOut.Meta.fields if f not in ("original_filename", "check_error")]


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
class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


# The Responsible-AI declaration (Croissant RAI): optional texts, normalised and
# length-checked by services.rai (the limits are in each field's help text).
RaiIn = type("RaiIn", (serializers.Serializer,), {
    **{f"rai_{f.attr}": serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
        help_text=f"{f.help} Croissant rai:{f.term}; at most {f.max_length} characters.") for f in RAI_FIELDS},
    "rai_annotations_per_item": StrictIntegerField(
        required=False, allow_null=True,
        help_text=f"How many annotators labelled each item (1-{ANNOTATIONS_PER_ITEM_MAX}); rai:annotationsPerItem."),
})


class DatasetIn(RaiIn):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField()
    kind = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    schema = serializers.JSONField(required=False)
    dialect = serializers.JSONField(required=False, help_text=(
        "Frictionless CSV Dialect for CSV/TSV files: delimiter, header, headerRows, lineTerminator, quoteChar, "
        "doubleQuote, escapeChar, skipInitialSpace, commentChar. Declared values beat sniffed ones."))
    contains_personal_data = serializers.BooleanField(required=False)
    legal_basis = serializers.CharField(required=False, allow_blank=True)


class VersionIn(serializers.Serializer):
    file = serializers.FileField(required=False, allow_empty_file=True)
    changelog = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ListingIn(serializers.Serializer):
    dataset = serializers.UUIDField()
    version = serializers.UUIDField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True)


class ListingEditIn(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class OfferIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    price_fen = StrictIntegerField(help_text="Price in fen (1 CNY = 100 fen), a whole number ≥ 1.")
    currency = serializers.CharField(required=False, default="CNY")
    access_mode = serializers.CharField(required=False, default=Offer.AccessMode.APPROVAL)
    purpose_restriction = serializers.CharField(required=False, allow_blank=True, default="")
    term_days = StrictIntegerField(required=False, default=365)
    download_limit = StrictIntegerField(required=False, default=5)
    redistribution = serializers.BooleanField(required=False, default=False)
    acceptance_days = StrictIntegerField(required=False, default=3,
                                         help_text="Days the buyer has to accept or dispute a delivery (0–30; 0: "
                                                   "escrow is released as soon as the delivery is ready).")
    guarantee = serializers.JSONField(required=False, default=None, help_text=(
        "Optional quality guarantee: min_score, min_rows, max_duplicate_share (0–1), max_null_share "
        "({column: 0–1}), label_tolerance_pp, no_undeclared_personal_data. Refused if the listed version fails it."))
    fingerprint = serializers.BooleanField(required=False, default=False,
                                           help_text="Mark each buyer's copy with a per-contract fingerprint (SPEC §12).")
    fingerprint_gamma = StrictIntegerField(required=False, default=20,
                                           help_text="Distortion bound: at most 1 row in this many changes (5-1000).")
    fingerprint_exclude = serializers.ListField(child=serializers.CharField(max_length=200), required=False,
                                                default=list, max_length=500, help_text="Columns never marked.")
    fingerprint_text = serializers.BooleanField(required=False, default=False,
                                                help_text="Allow trailing-space marks on text values.")


class CatalogQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    category = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.CharField(required=False, allow_blank=True, default="")
    price_min = StrictIntegerField(required=False, allow_null=True, default=None, min_value=0)
    price_max = StrictIntegerField(required=False, allow_null=True, default=None, min_value=0)
    min_grade = serializers.ChoiceField(choices=["", "A", "B", "C", "D", "E"], required=False, default="")
    ordering = serializers.CharField(required=False, default="-published_at")
