"""Deliveries over REST: list and detail (with the signed manifest for the buyer) and
download-link creation. The download itself is ``GET /d/<token>`` (exchange.web.delivery)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from exchange.api.views import FirmViewMixin
from exchange.models import Delivery, DownloadLink
from exchange.selectors import delivery as delivery_sel
from exchange.services import downloads, sharing


class DeliveryOut(serializers.ModelSerializer):
    """One delivery: the initial one of a contract, or a subscription's update of a later version."""

    encrypted_to = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=(
        "age recipients the stored package (….zip.age) is encrypted to; package_sha256 is then the ciphertext's"))
    fingerprint = serializers.SerializerMethodField(help_text="{scheme, bound} of a fingerprinted copy, else null")
    role = serializers.SerializerMethodField(help_text="Your firm's side of the trade: buyer or seller.")
    listing = serializers.UUIDField(source="contract.listing_id")
    listing_title = serializers.CharField(source="contract.listing.title")
    buyer = serializers.CharField(source="contract.buyer.name")
    seller = serializers.CharField(source="contract.seller.name")
    percent = serializers.FloatField()
    version = serializers.IntegerField(source="dataset_version.number", help_text="The dataset version delivered.")
    diff_from_version = serializers.IntegerField(source="diff_from.number", allow_null=True, default=None,
                                                 help_text="A subscription update's diff starts from this version "
                                                           "(null: the initial delivery).")
    download_limit = serializers.IntegerField(source="contract.download_limit")
    keys_url = serializers.SerializerMethodField()
    delta_sharing_table = serializers.SerializerMethodField(
        help_text="share.schema.table to read over Delta Sharing (null without a Parquet copy).")

    class Meta:
        model = Delivery
        fields = ["id", "contract", "role", "listing", "listing_title", "buyer", "seller", "status", "percent",
                  "dataset_version", "version", "initial", "diff_from_version",
                  "bytes_done", "bytes_total", "attempts", "package_size", "package_sha256", "key_id", "issued_at",
                  "expires_at", "downloads_used", "download_limit", "error", "revoke_reason", "created_at",
                  "ready_at", "keys_url", "parquet_size", "parquet_rows", "delta_sharing_table", "encrypted_to",
                  "fingerprint"]

    def get_fingerprint(self, obj) -> dict | None:
        fp = obj.fingerprint
        return {"scheme": fp["scheme"], "bound": fp["bound"]} if fp else None

    def get_role(self, obj) -> str:
        org = self.context.get("firm")
        return "buyer" if org is not None and obj.contract.buyer_id == org.pk else "seller"

    def get_delta_sharing_table(self, obj) -> str | None:
        return sharing.table_name(obj).url_fragment if obj.parquet_name else None

    def get_keys_url(self, obj) -> str:
        request = self.context.get("request")
        path = reverse("wellknown:jwks")
        return request.build_absolute_uri(path) if request is not None else path


class SharingProfileOut(serializers.Serializer):
    shareCredentialsVersion = serializers.IntegerField()  # noqa: N815 — the profile format's field names
    endpoint = serializers.URLField()
    bearerToken = serializers.CharField()  # noqa: N815
    expirationTime = serializers.DateTimeField()  # noqa: N815


class DeliveryDetailOut(DeliveryOut):
    manifest = serializers.SerializerMethodField(help_text="The signed manifest.json (buyer only).")

    class Meta(DeliveryOut.Meta):
        fields = [*DeliveryOut.Meta.fields, "manifest"]

    def get_manifest(self, obj) -> dict | None:
        return obj.manifest if self.get_role(obj) == "buyer" else None


class DownloadLinkOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="GET it with your firm's session or API key (buy scope).")
    downloads_used = serializers.IntegerField(source="delivery.downloads_used")
    download_limit = serializers.IntegerField(source="delivery.contract.download_limit")

    class Meta:
        model = DownloadLink
        fields = ["id", "url", "expires_at", "downloads_used", "download_limit"]

    def get_url(self, obj) -> str:
        path = reverse("web:download", kwargs={"token": self.context["token"]})
        return self.context["request"].build_absolute_uri(path)


@extend_schema(tags=["deliveries"])
class DeliveryViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of your purchases (with manifest and download links) and the state of your sales'."""

    serializer_class = DeliveryOut
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "ready_at"]

    def get_queryset(self):
        if self.schema_only:
            return Delivery.objects.none()
        return delivery_sel.deliveries_of(self.firm)

    def get_serializer_class(self):
        return DeliveryDetailOut if self.action == "retrieve" else DeliveryOut

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not self.schema_only:
            context["firm"] = self.firm
        return context

    @extend_schema(request=None, responses={201: SharingProfileOut})
    @action(detail=True, methods=["post"], url_path="sharing-profile")
    def sharing_profile(self, request, pk=None):
        """Issue a Delta Sharing profile file (buyer firm, ``buy`` scope) for a ready delivery with a
        Parquet copy. The body *is* the profile file; the table to read is in the
        ``Shujiao-Delta-Sharing-Table`` header and the delivery's ``delta_sharing_table``. A new
        profile stops the previous one; the token expires with the licence."""
        from exchange.web.delivery import profile_response
        from exchange.web.delta_sharing import endpoint_for

        delivery = self.get_object()
        profile = sharing.profile_issue(actor=self.actor, delivery_id=delivery.pk, endpoint=endpoint_for(request))
        response = profile_response(profile)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses={201: DownloadLinkOut})
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        """Create a download link (buyer firm, ``buy`` scope). It expires after
        DOWNLOAD_LINK_TTL_SECONDS; its first use counts one download against the licence limit."""
        delivery = self.get_object()
        link, token = downloads.download_link_create(actor=self.actor, delivery_id=delivery.pk)
        out = DownloadLinkOut(link, context={"request": request, "token": token})
        return Response(out.data, status=status.HTTP_201_CREATED)
