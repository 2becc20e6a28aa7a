"""Lineage serializers: the steps input, a seller's own declaration (``LineageOut``, with its licence),
and the public catalog's chain (``PublicLineageOut``): what a listed version was derived from and
which published listings were derived from its dataset (selectors.lineage.listing_lineage, the
listing page's chain). The public chain is the same for every caller; a side that is not on a
published listing is only "not listed": no id, title, seller or version number of it is shown."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exchange.models import LineageStep, VersionLineage
from exchange.selectors.lineage import LineageLink, ListingLineage


def steps_field(**kwargs) -> serializers.ListField:
    """Lineage steps: a list of LineageStep names (each at most once)."""
    return serializers.ListField(
        child=serializers.ChoiceField(choices=LineageStep.choices, error_messages={
            "invalid_choice": f"Choose from: {', '.join(LineageStep.values)}."}),
        max_length=len(LineageStep.values), **kwargs)


class LineageOut(serializers.ModelSerializer):
    """What a version was derived from (services.lineage)."""

    derived_from = serializers.UUIDField(source="upstream_id")
    derived_from_number = serializers.IntegerField(source="upstream.number")
    licence = serializers.UUIDField(source="licence_id", help_text="Your contract that licensed the upstream data.")
    share_bp = serializers.IntegerField(help_text="Basis points of each sale's proceeds after commission paid "
                                                  "upstream, frozen from the licence's offer.")
    steps = serializers.ListField(child=serializers.ChoiceField(choices=LineageStep.choices))

    class Meta:
        model = VersionLineage
        fields = ["derived_from", "derived_from_number", "licence", "share_bp", "steps", "notes", "created_at"]


class PublicLineageLinkOut(serializers.Serializer):
    listed = serializers.BooleanField(help_text="False: the other side is not on a published listing; "
                                                "then listing, title, seller and version_number are null.")
    listing = serializers.SerializerMethodField(help_text="The published listing (GET /catalog/{id}/).")
    title = serializers.SerializerMethodField()
    seller = serializers.SerializerMethodField()
    version_number = serializers.SerializerMethodField()
    steps = serializers.ListField(source="step_codes", child=serializers.ChoiceField(choices=LineageStep.choices))
    notes = serializers.CharField(help_text="The derived data's seller's account of the steps.")
    share_bp = serializers.IntegerField(help_text="Basis points of each sale of the derived data paid upstream "
                                                  "(after commission).")

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_listing(self, link: LineageLink) -> str | None:
        return link.listing_id

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_title(self, link: LineageLink) -> str | None:
        return link.title if link.listed else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_seller(self, link: LineageLink) -> str | None:
        return link.seller if link.listed else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_version_number(self, link: LineageLink) -> int | None:
        return link.version_number if link.listed else None


class PublicLineageOut(serializers.Serializer):
    derived_from = PublicLineageLinkOut(allow_null=True, help_text="What the listed version was derived from, "
                                                                   "or null.")
    used_in = PublicLineageLinkOut(many=True, help_text="Published listings of data derived from this dataset.")


def public_lineage(lineage: ListingLineage) -> dict:
    return PublicLineageOut(lineage).data
