"""Public metadata endpoints: a published listing's Croissant (JSON-LD)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.errors import NotFound
from exchange.selectors import catalog as catalog_sel
from exchange.selectors.metadata import listing_metadata
from workers.metadata import croissant


class JsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"
    ensure_ascii = False


class CatalogCroissantView(APIView):
    """The listing's MLCommons Croissant 1.1 metadata (JSON-LD) with the seller's
    Responsible-AI declaration and the quality report's label statistics. Public facts only:
    the data file is named by its SHA-256 and size and points at the listing page, never at a
    stored file; a buyer's package carries the full one (``metadata/croissant.json``)."""

    permission_classes = [AllowAny]
    renderer_classes = [JsonLdRenderer, JSONRenderer]

    @extend_schema(tags=["catalog"], operation_id="v1_catalog_croissant",
                   responses={(200, "application/ld+json"): OpenApiTypes.OBJECT,
                              (200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request, pk):
        listing = catalog_sel.listings_public().filter(pk=pk).first()
        if listing is None:
            raise NotFound("No such published listing.")
        active = [o for o in listing.offers.all() if o.is_active]
        return Response(croissant(listing_metadata(listing, request=request, offers=active)))
