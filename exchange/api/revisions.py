"""REST: a listing's revisions (public history), publishing a new version (seller), and the diff."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.actor import Actor
from exchange.api.serializers import OfferOut
from exchange.errors import Forbidden, NotFound
from exchange.models import DatasetVersion, Listing, ListingRevision
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import revisions as revisions_sel
from exchange.services import revisions as revisions_svc


class RevisionOut(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(source="version.number")
    version_id = serializers.UUIDField()
    previous_version = serializers.IntegerField(source="previous_version.number", allow_null=True, default=None)
    changelog = serializers.CharField()
    status = serializers.ChoiceField(choices=ListingRevision.Status.choices)
    live_at = serializers.DateTimeField(allow_null=True)
    rows = serializers.IntegerField(source="version.row_count", allow_null=True)
    grade = serializers.CharField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    diff_status = serializers.ChoiceField(choices=ListingRevision.DiffStatus.choices)


class SellerRevisionOut(RevisionOut):
    review_reasons = serializers.ListField(child=serializers.CharField())
    review_note = serializers.CharField()


class RevisionIn(serializers.Serializer):
    version = serializers.UUIDField(help_text="A passed version of the listing's dataset, newer than the listed one")
    changelog = serializers.CharField(max_length=2000, help_text="What changed, for buyers")


DiffOut = inline_serializer("VersionDiff", fields={
    "revision": serializers.UUIDField(), "diff_status": serializers.CharField(),
    "diff": serializers.JSONField(allow_null=True, help_text="workers.diff.VersionDiff.to_dict(), schema_version 1"),
})


def _public_listing(pk) -> Listing:
    return get_object_or_404(catalog_sel.listings_public(), pk=pk)


class CatalogRevisionsView(APIView):
    """A published listing's revision history: version, date, rows, grade, changelog."""

    permission_classes = [AllowAny]

    @extend_schema(tags=["catalog"], responses=RevisionOut(many=True))
    def get(self, request, pk):
        return Response(RevisionOut(revisions_sel.listing_revisions_public(_public_listing(pk)), many=True).data)


class CatalogRevisionDiffView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=["catalog"], responses=DiffOut)
    def get(self, request, pk, revision_pk):
        revision = revisions_sel.revision_with_diff(listing=_public_listing(pk), revision_id=revision_pk, public=True)
        if revision is None:
            raise NotFound("No such revision.")
        return Response({"revision": str(revision.pk), "diff_status": revision.diff_status, "diff": revision.diff})


class ListingRevisionsView(APIView):
    """Your listing's revisions (GET) and publishing a newer passed version to it (POST)."""

    def _listing(self, request, pk) -> tuple[Actor, Listing]:
        actor = Actor.from_request(request)
        if actor.organization is None:
            raise Forbidden("Your account does not belong to a firm.", code="no_firm")
        listing = catalog_sel.listings_of(actor.organization).select_related("dataset", "version").filter(pk=pk).first()
        if listing is None:
            raise NotFound("No such listing.")
        return actor, listing

    @extend_schema(tags=["listings"], responses=SellerRevisionOut(many=True))
    def get(self, request, pk):
        actor, listing = self._listing(request, pk)
        return Response(SellerRevisionOut(revisions_sel.listing_revisions_of(listing, actor.organization),
                                          many=True).data)

    @extend_schema(tags=["listings"], request=RevisionIn, responses={201: SellerRevisionOut})
    def post(self, request, pk):
        actor, listing = self._listing(request, pk)
        data = RevisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        version = DatasetVersion.objects.filter(pk=data.validated_data["version"], dataset__owner=actor.organization
                                                ).first()
        if version is None:
            raise NotFound("No such version.")
        revision = revisions_svc.listing_publish_version(actor=actor, listing=listing, version=version,
                                                         changelog=data.validated_data["changelog"])
        out = revisions_sel.listing_revisions_of(listing, actor.organization).get(pk=revision.pk)
        return Response(SellerRevisionOut(out).data, status=status.HTTP_201_CREATED)


class OfferRetireView(APIView):
    """Retire one of your listing's offers: no longer purchasable; contracts stand; waiting requests are cancelled."""

    @extend_schema(tags=["listings"], request=None, responses=OfferOut)
    def post(self, request, pk, offer_pk):
        from exchange.models import Offer
        from exchange.services.listings import offer_retire

        actor = Actor.from_request(request)
        if actor.organization is None:
            raise Forbidden("Your account does not belong to a firm.", code="no_firm")
        offer = Offer.objects.select_related("listing__dataset").filter(
            pk=offer_pk, listing_id=pk, listing__dataset__owner=actor.organization).first()
        if offer is None:
            raise NotFound("No such offer.")
        return Response(OfferOut(offer_retire(actor=actor, offer=offer)).data)
