"""API views: parse with an input serializer, call one service, render an output serializer."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from exchange import pagecache
from exchange.actor import Actor
from exchange.api import serializers as s
from exchange.errors import Forbidden, LengthRequired, NotFound, PayloadTooLarge
from exchange.models import ApiKey, Dataset, DatasetVersion, Listing, Offer
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import quality as quality_sel
from exchange.services import catalog as catalog_svc
from exchange.services import orgs as orgs_svc
from exchange.uploads import (
    CHUNKED_MESSAGE,
    upload_storage_error,
    upload_too_large,
    upload_without_length,
)


def public_json(view, request, kind: str, compute_data):
    """A public answer that is the same for every caller, as JSON bytes cached per URL and catalog
    generation (``exchange.pagecache``); other renderers (the browsable API) render each time."""
    renderer, media_type = request.accepted_renderer, request.accepted_media_type
    if renderer.format != "json":
        return Response(compute_data())
    response = pagecache.cached_json(request, f"{kind}:{media_type}", lambda: renderer.render(
        compute_data(), media_type, view.get_renderer_context()))
    response["Content-Type"] = media_type if renderer.charset is None else f"{media_type}; charset={renderer.charset}"
    return response


class FirmViewMixin:
    """Views for members of a firm: ``self.actor`` is the caller, ``self.firm`` its firm."""

    @property
    def actor(self) -> Actor:
        if not hasattr(self, "_actor"):
            self._actor = Actor.from_request(self.request)
        return self._actor

    @property
    def schema_only(self) -> bool:
        """True while drf-spectacular introspects the view (no real caller, no firm)."""
        return getattr(self, "swagger_fake_view", False)

    @property
    def firm(self):
        if self.actor.organization is None:
            raise Forbidden("Your account does not belong to a firm.", code="no_firm")
        return self.actor.organization


@extend_schema(tags=["catalog"])
class CatalogViewSet(FirmViewMixin, viewsets.ReadOnlyModelViewSet):
    """Published listings, searchable by anyone."""

    permission_classes = [AllowAny]
    serializer_class = s.CatalogItemOut
    filter_backends: list = []

    def get_queryset(self):
        if self.action == "retrieve":
            return catalog_sel.listings_public().prefetch_related("offers")
        query = s.CatalogQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return catalog_sel.catalog_page(catalog_sel.catalog_search(**query.validated_data))

    def get_serializer_class(self):
        return s.PublicListingOut if self.action == "retrieve" else s.CatalogItemOut

    @extend_schema(parameters=[s.CatalogQuery])
    def list(self, request, *args, **kwargs):
        # The same for every caller: rendered once per URL and catalog generation (exchange.pagecache).
        return public_json(self, request, "api-catalog", lambda: super(CatalogViewSet, self).list(
            request, *args, **kwargs).data)


@extend_schema(tags=["firm"])
class OrganizationViewSet(FirmViewMixin, viewsets.ViewSet):
    schema_single_object_actions = ("list",)  # GET organization/ answers the caller's one firm

    @extend_schema(responses=s.OrganizationOut)
    def list(self, request):
        """Your own firm."""
        return Response(s.OrganizationOut(self.firm).data)

    @extend_schema(responses=s.MembershipOut(many=True))
    @action(detail=False)
    def members(self, request):
        return Response(s.MembershipOut(self.firm.memberships.select_related("user"), many=True).data)


@extend_schema(tags=["firm"])
class ApiKeyViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ApiKeyOut

    def get_queryset(self):
        if self.schema_only:
            return ApiKey.objects.none()
        self.firm  # noqa: B018 - a caller without a firm gets "no_firm", as on every firm endpoint
        return orgs_svc.api_keys_of(actor=self.actor)

    @extend_schema(request=s.ApiKeyIn, responses={201: s.ApiKeyCreatedOut})
    def create(self, request):
        orgs_svc.api_keys_of(actor=self.actor)  # a key is refused before its input is read
        data = s.ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = orgs_svc.api_key_create(actor=self.actor, **data.validated_data)
        return Response(s.ApiKeyCreatedOut(key, context={"secret": secret}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ApiKeyOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        key = orgs_svc.api_key_revoke(actor=self.actor, key=self.get_object())
        return Response(s.ApiKeyOut(key).data)


@extend_schema(tags=["datasets"])
class DatasetViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your firm's datasets (other firms' datasets are never listed and answer 404)."""

    serializer_class = s.DatasetOut
    filterset_fields = ["category", "kind"]
    schema_error_codes = {"versions": ["411", "413", "503", "507"]}
    ordering_fields = ["created_at", "title"]

    def get_queryset(self):
        if self.schema_only:
            return Dataset.objects.none()
        return catalog_sel.datasets_of(self.firm).select_related("owner")

    @extend_schema(request=s.DatasetIn, responses={201: s.DatasetOut})
    def create(self, request):
        catalog_svc.dataset_create_guard(actor=self.actor)  # a read-only key hears 403 before any 400
        data = s.DatasetIn(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = catalog_svc.dataset_create(actor=self.actor, **data.validated_data)
        return Response(s.DatasetOut(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DatasetIn, responses=s.DatasetOut)
    def partial_update(self, request, pk=None):
        data = s.DatasetIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        dataset = catalog_svc.dataset_update(actor=self.actor, dataset=self.get_object(), **data.validated_data)
        return Response(s.DatasetOut(dataset).data)

    @extend_schema(methods=["get"], responses=s.VersionOut(many=True))
    @extend_schema(methods=["post"], request={"multipart/form-data": s.VersionIn}, responses={201: s.VersionOut})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def versions(self, request, pk=None):
        """List versions, or upload a new one (multipart field ``file``; streamed, hashed, size-limited)."""
        dataset = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(dataset.versions.select_related("quality_report", "lineage__upstream"))
            return self.get_paginated_response(s.VersionOut(page, many=True).data)
        if upload_without_length(request):
            raise LengthRequired(CHUNKED_MESSAGE, fields={"file": [CHUNKED_MESSAGE]})
        if upload_too_large(request):
            raise PayloadTooLarge("The upload is larger than the exchange's limit.",
                                  fields={"file": ["Larger than the upload size limit."]})
        data = s.VersionIn(data=request.data)  # request.data streams the upload to a temporary file
        if (storage_failure := upload_storage_error(request)) is not None:
            raise storage_failure
        if upload_too_large(request):  # the handler dropped the oversized file: say why, not "no file"
            raise PayloadTooLarge("The upload is larger than the exchange's limit.",
                                  fields={"file": ["Larger than the upload size limit."]})
        data.is_valid(raise_exception=True)
        lineage = None
        if data.validated_data.get("derived_from"):
            lineage = {"derived_from": data.validated_data["derived_from"],
                       "steps": data.validated_data.get("lineage_steps") or [],
                       "notes": data.validated_data.get("lineage_notes", "")}
        version = catalog_svc.version_upload(actor=self.actor, dataset=dataset, upload=data.validated_data["file"],
                                             changelog=data.validated_data.get("changelog", ""), lineage=lineage)
        version = DatasetVersion.objects.select_related("quality_report", "lineage__upstream").get(pk=version.pk)
        return Response(s.VersionOut(version).data, status=status.HTTP_201_CREATED)


class VersionFilter(django_filters.FilterSet):
    # A plain UUID filter, not a model choice: a choice filter validates the id against every
    # firm's datasets, so another firm's id (empty list) and an unknown id (400) answered
    # differently — an existence oracle. Here both are an empty list.
    dataset = django_filters.UUIDFilter(field_name="dataset_id")

    class Meta:
        model = DatasetVersion
        fields = ["status", "dataset"]


@extend_schema(tags=["datasets"])
class VersionViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your firm's dataset versions, with check status, progress and quality report."""

    serializer_class = s.VersionOut
    filterset_class = VersionFilter

    def get_queryset(self):
        if self.schema_only:
            return DatasetVersion.objects.none()
        return catalog_sel.versions_of(self.firm).select_related("quality_report", "lineage__upstream")

    @extend_schema(responses={200: dict})
    @action(detail=True, url_path="quality-report")
    def quality_report(self, request, pk=None):
        version = self.get_object()
        report = quality_sel.report_for_viewer(version, organization=self.actor.organization, user=self.actor.user)
        if report is None:
            raise NotFound(f"Version {version.number} has no quality report yet (status: {version.status}).")
        return Response(report.to_dict())


@extend_schema(tags=["listings"])
class ListingViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your firm's listings and their offers."""

    serializer_class = s.ListingOut
    filterset_fields = ["status"]
    schema_error_codes = {"create": ["404"]}  # the dataset or version is not your firm's

    def get_queryset(self):
        if self.schema_only:
            return Listing.objects.none()
        return catalog_sel.listings_of(self.firm).select_related("dataset__owner", "version__quality_report",
                                                                "version__lineage__upstream").prefetch_related("offers")

    @extend_schema(request=s.ListingIn, responses={201: s.ListingOut})
    def create(self, request):
        data = s.ListingIn(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = get_object_or_404(Dataset, pk=data.validated_data["dataset"], owner=self.firm)
        version = get_object_or_404(DatasetVersion, pk=data.validated_data["version"], dataset__owner=self.firm)
        listing = catalog_svc.listing_create(actor=self.actor, dataset=dataset, version=version,
                                             title=data.validated_data.get("title", ""),
                                             summary=data.validated_data.get("summary", ""))
        return Response(s.ListingOut(self.get_queryset().get(pk=listing.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ListingEditIn, responses=s.ListingOut)
    def partial_update(self, request, pk=None):
        """Edit the title or summary (live at once on a published listing, audited, flagged for staff)."""
        from exchange.services.listings import listing_update

        data = s.ListingEditIn(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_update(actor=self.actor, listing=self.get_object(), **data.validated_data)
        return Response(s.ListingOut(self.get_queryset().get(pk=listing.pk)).data)

    @extend_schema(request=None, responses=s.ListingOut)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        listing = catalog_svc.listing_submit(actor=self.actor, listing=self.get_object())
        return Response(s.ListingOut(self.get_queryset().get(pk=listing.pk)).data)

    @extend_schema(request=None, responses=s.ListingOut)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        listing = catalog_svc.listing_retire(actor=self.actor, listing=self.get_object())
        return Response(s.ListingOut(self.get_queryset().get(pk=listing.pk)).data)

    @extend_schema(methods=["get"], responses=s.OfferOut(many=True))
    @extend_schema(methods=["post"], request=s.OfferIn, responses={201: s.OfferOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a listing has a handful of offers
    def offers(self, request, pk=None):
        listing = self.get_object()
        if request.method == "GET":
            return Response(s.OfferOut(listing.offers.all(), many=True).data)
        data = s.OfferIn(data=request.data)
        data.is_valid(raise_exception=True)
        offer = catalog_svc.offer_create(actor=self.actor, listing=listing, **data.validated_data)
        return Response(s.OfferOut(offer).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["listings"])
class OfferViewSet(FirmViewMixin, viewsets.ReadOnlyModelViewSet):
    """Offers of published listings, and all offers of your own listings."""

    permission_classes = [AllowAny]
    serializer_class = s.OfferOut

    def get_queryset(self):
        if self.schema_only:
            return Offer.objects.none()
        return catalog_sel.offers_visible(self.actor.organization)

