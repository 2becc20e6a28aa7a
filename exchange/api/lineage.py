"""REST for cleaning lineage: declaring what one of your versions was derived from, and the revenue
shares your firm paid or received (the sales page's shares in the API)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.actor import Actor
from exchange.api.serializers import LineageIn, VersionOut
from exchange.api.views import FirmViewMixin
from exchange.errors import Forbidden, InvalidInput, NotFound
from exchange.models import DatasetVersion, RevenueShare
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.services import lineage as lineage_svc


class RevenueShareOut(serializers.ModelSerializer):
    contract = serializers.UUIDField(source="contract_id", help_text="The sale of the derived data.")
    listing_title = serializers.CharField(source="contract.listing.title")
    seller = serializers.CharField(source="contract.seller.name", help_text="The seller of the derived data.")
    upstream_seller = serializers.CharField(source="upstream_seller.name")
    transfer = serializers.UUIDField(source="transfer_id", help_text="The settlement's ledger transfer.")

    class Meta:
        model = RevenueShare
        fields = ["id", "contract", "listing_title", "seller", "upstream_seller", "base_fen", "share_bp",
                  "share_fen", "transfer", "created_at"]


ROLE = OpenApiParameter("role", str, enum=["received", "paid"], required=False,
                        description="received (default): shares paid to you from sales of data derived from "
                                    "yours; paid: shares of your sales paid upstream.")


@extend_schema(tags=["trading"], parameters=[ROLE])
class RevenueShareViewSet(FirmViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Revenue shares from sales of derived data (lineage), newest first."""

    serializer_class = RevenueShareOut
    filter_backends: list = []

    def get_queryset(self):
        if self.schema_only:
            return RevenueShare.objects.none()
        role = [r or "received" for r in self.request.query_params.getlist("role")] or ["received"]  # role= : default
        if len(role) != 1 or role[0] not in ("paid", "received"):
            raise InvalidInput("role is paid or received.", fields={"role": ["Choose one of: received, paid."]})
        if role[0] == "paid":
            return lineage_sel.shares_paid(self.firm).select_related("contract__seller")
        return lineage_sel.shares_received(self.firm)


class VersionLineageView(APIView):
    """Declare what one of your versions was derived from (once; lineage is fixed when declared)."""

    @extend_schema(tags=["datasets"], request=LineageIn, responses={201: VersionOut})
    def post(self, request, pk):
        actor = Actor.from_request(request)
        if actor.organization is None:
            raise Forbidden("Your account does not belong to a firm.", code="no_firm")
        version = catalog_sel.versions_of(actor.organization).select_related("dataset").filter(pk=pk).first()
        if version is None:
            raise NotFound("No such version.")
        data = LineageIn(data=request.data)
        data.is_valid(raise_exception=True)
        lineage_svc.lineage_declare(actor=actor, version=version, derived_from=data.validated_data["derived_from"],
                                    steps=data.validated_data["steps"], notes=data.validated_data["notes"])
        version = DatasetVersion.objects.select_related("quality_report", "lineage__upstream").get(pk=version.pk)
        return Response(VersionOut(version).data, status=status.HTTP_201_CREATED)
