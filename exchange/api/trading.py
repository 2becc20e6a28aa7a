"""Trading API: access requests, contracts, wallet and ledger, and public market statistics.

Views parse input, call one service, render output. POSTs that create requests or pay
accept an ``Idempotency-Key`` header (see exchange.services.idempotency).
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.api.fields import StrictCharField, StrictIntegerField
from exchange.api.views import FirmViewMixin, public_json
from exchange.errors import NotFound
from exchange.models import AccessRequest, Contract, Delivery, LedgerEntry, Offer
from exchange.selectors import trading as sel
from exchange.services import escrow
from exchange.services import trading as svc
from exchange.services.idempotency import idempotent_run, request_fingerprint

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]([ -~]*[!-~])?$"},
    location=OpenApiParameter.HEADER, required=False,
    description="A fresh random value per request (e.g. a UUID). A retry with the same key and body replays "
                "the first successful response; the same key with another body is refused with 422.")


def idempotent(view_method):
    """Honour an ``Idempotency-Key`` header on a firm's POST (keys are scoped to the firm)."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)

        def call():
            response = view_method(self, request, *args, **kwargs)
            return response.status_code, response.data

        result = idempotent_run(organization=self.firm, key=key, call=call, request_hash=request_fingerprint(
            method=request.method, path=request.path, body=request.data))
        response = Response(result.body, status=result.status)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    return wrapper


# --- Serializers ---------------------------------------------------------------------
class PartyOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    credit_code = serializers.CharField()


class ContractBriefOut(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = ["id", "status", "price_fen", "paid_at"]


class AccessRequestOut(serializers.ModelSerializer):
    buyer = PartyOut()
    seller = PartyOut()
    listing_title = serializers.CharField(source="listing.title")
    offer_name = serializers.CharField(source="offer.name")
    price_fen = serializers.IntegerField(source="offer.price_fen")
    access_mode = serializers.CharField(source="offer.access_mode")
    contract = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = ["id", "status", "buyer", "seller", "listing", "listing_title", "offer", "offer_name", "price_fen",
                  "access_mode", "purpose", "decision_reason", "created_at", "decided_at", "contract"]

    @extend_schema_field(ContractBriefOut(allow_null=True))
    def get_contract(self, obj) -> dict | None:
        contract = getattr(obj, "contract", None) if hasattr(obj, "contract") else None
        return ContractBriefOut(contract).data if contract is not None else None


@extend_schema_field({
    "type": "string", "maxLength": 2000, "pattern": r"(\S\s*){15,}",
    "description": "What the data will be used for: at least a sentence (15 characters; 8 in Chinese), at most 2000."})
class PurposeField(StrictCharField):
    """The length rules live in services.trading (one place); the schema only describes them."""


class AccessRequestIn(serializers.Serializer):
    offer = serializers.UUIDField()
    purpose = PurposeField(allow_blank=True, trim_whitespace=True, max_length=2000)


class ReasonIn(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why: shown to the buyer.",
                                   error_messages={"blank": "Give the buyer a reason."})


class ContractDeliveryOut(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(source="dataset_version.number", help_text="The dataset version delivered.")
    initial = serializers.BooleanField(help_text="True: the delivery made on payment; false: a subscription update.")
    diff_from_version = serializers.IntegerField(source="diff_from.number", allow_null=True, default=None,
                                                 help_text="An update's diff starts from this version (null: initial).")
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class ContractOut(serializers.ModelSerializer):
    buyer = PartyOut()
    seller = PartyOut()
    listing_title = serializers.CharField(source="listing.title")
    dataset_version_number = serializers.IntegerField(source="dataset_version.number")
    offer_kind = serializers.ChoiceField(source="offer.kind", choices=Offer.Kind.choices,
                                         help_text="one_off or subscription (every version published in the term).")
    subscription_ends_at = serializers.SerializerMethodField(
        help_text="When a paid subscription's term ends (null: one-off, or not paid).")
    licence_ends_at = serializers.SerializerMethodField(
        help_text="When the buyer's licence ends: term_days from the package's issue (one-off) or from payment "
                  "(subscription); null while not paid or, for a one-off, not delivered yet.")
    deliveries = ContractDeliveryOut(many=True, read_only=True,
                                     help_text="Every delivery of the contract, oldest version first.")

    def get_subscription_ends_at(self, obj) -> datetime | None:
        from exchange.services.subscriptions import subscription_ends_at

        return subscription_ends_at(obj)

    def get_licence_ends_at(self, obj) -> datetime | None:
        from exchange.selectors.licence import licence_ends_at

        return licence_ends_at(obj)

    class Meta:
        model = Contract
        fields = ["id", "status", "access_request", "buyer", "seller", "listing", "listing_title", "offer",
                  "dataset_version", "dataset_version_number", "price_fen", "currency", "commission_bp", "purpose",
                  "purpose_restriction", "term_days", "download_limit", "redistribution", "licence_sha256",
                  "licence_text", "created_at", "paid_at", "settled_at", "refunded_at", "refund_reason",
                  "refunded_fen", "acceptance_days", "guarantee", "delivered_at", "window_ends_at",
                  "window_remaining_seconds", "accepted_at", "release", "offer_kind", "subscription_ends_at",
                  "licence_ends_at", "deliveries"]


class WalletOut(serializers.Serializer):
    balance_fen = serializers.IntegerField()
    currency = serializers.CharField()
    in_escrow_as_buyer_fen = serializers.IntegerField()
    in_escrow_as_seller_fen = serializers.IntegerField()
    awaiting_payment_count = serializers.IntegerField()


class LedgerEntryOut(serializers.ModelSerializer):
    amount_fen = serializers.IntegerField(source="amount")
    balance_after_fen = serializers.IntegerField(source="balance_after")
    kind = serializers.CharField(source="transfer.kind")
    memo = serializers.CharField(source="transfer.memo")
    transfer = serializers.UUIDField(source="transfer_id")
    contract = serializers.UUIDField(source="transfer.contract_id", allow_null=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "created_at", "kind", "amount_fen", "balance_after_fen", "memo", "transfer", "contract"]


class SandboxTopupIn(serializers.Serializer):
    amount_fen = StrictIntegerField(minimum=1, maximum=settings.SANDBOX_TOPUP_MAX_FEN,
                                    help_text="Play money in fen (demo mode only).")


class MarketStatsOut(serializers.Serializer):
    currency = serializers.CharField()
    generated_at = serializers.DateTimeField()
    trades = serializers.IntegerField()
    turnover_fen = serializers.IntegerField()
    by_month = serializers.ListField(child=serializers.DictField())
    by_category = serializers.ListField(child=serializers.DictField())
    top_datasets = serializers.ListField(child=serializers.DictField())
    median_price_by_grade = serializers.ListField(child=serializers.DictField())
    price_vs_quality = serializers.ListField(child=serializers.DictField())
    active_window_days = serializers.IntegerField()
    active_sellers = serializers.IntegerField()
    active_buyers = serializers.IntegerField()
    sellers_with_published_listings = serializers.IntegerField()


# --- Views -------------------------------------------------------------------------------
@extend_schema(tags=["trading"])
class AccessRequestViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Access requests your firm made (outgoing) or received as seller (incoming)."""

    serializer_class = AccessRequestOut
    filterset_fields = ["status"]
    schema_error_codes = {"create": ["404", "409"]}  # an unknown offer; an offer no longer on sale
    ordering_fields = ["created_at"]

    def get_queryset(self):
        if self.schema_only:
            return AccessRequest.objects.none()
        direction = self.request.query_params.get("direction", "") if self.action == "list" else ""
        return sel.access_requests_for(organization=self.firm, direction=direction)

    def _render(self, request_obj, code=status.HTTP_200_OK):
        return Response(AccessRequestOut(sel.access_requests_for(organization=self.firm).get(pk=request_obj.pk)).data,
                        status=code)

    @extend_schema(parameters=[OpenApiParameter("direction", str, enum=list(sel.DIRECTIONS))])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=AccessRequestIn, responses={201: AccessRequestOut}, parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def create(self, request):
        """Ask for an offer with a purpose (needs the ``buy`` scope). Instant offers are approved and paid at once."""
        data = AccessRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        offer = Offer.objects.filter(pk=data.validated_data["offer"]).first()
        if offer is None:
            raise NotFound("No such offer.")
        created = svc.access_request_create(actor=self.actor, offer=offer, purpose=data.validated_data["purpose"])
        return self._render(created, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a pending request you received (needs ``sell``); the contract is made and paid if funds allow."""
        return self._render(svc.access_request_approve(actor=self.actor, request=self.get_object()))

    @extend_schema(request=ReasonIn, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a pending request you received, with a reason (needs ``sell``)."""
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._render(svc.access_request_reject(actor=self.actor, request=self.get_object(),
                                                      reason=data.validated_data["reason"]))

    @extend_schema(request=None, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw your pending request, or an approved one not paid yet (needs ``buy``)."""
        return self._render(svc.access_request_cancel(actor=self.actor, request=self.get_object()))


@extend_schema(tags=["trading"])
class ContractViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contracts where your firm is the buyer or the seller."""

    serializer_class = ContractOut
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "paid_at", "price_fen"]

    def get_queryset(self):
        if self.schema_only:
            return Contract.objects.none()
        role = self.request.query_params.get("role", "") if self.action == "list" else ""
        return sel.contracts_for(organization=self.firm, role=role)

    @extend_schema(parameters=[OpenApiParameter("role", str, enum=list(sel.ROLES))])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=ContractOut, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    @idempotent
    def pay(self, request, pk=None):
        """Pay a contract awaiting payment into escrow (needs ``buy``). Paying twice is refused with 409."""
        contract = svc.contract_pay(actor=self.actor, contract=self.get_object())
        return Response(ContractOut(sel.contracts_for(organization=self.firm).get(pk=contract.pk)).data)

    @extend_schema(request=None, responses=ContractOut, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk=None):
        """Accept a delivered contract inside its acceptance window (buyer, ``buy``): escrow is released to the
        seller minus commission. Refused with 409 while a dispute is open or once released."""
        contract = escrow.contract_accept(actor=self.actor, contract_id=self.get_object().pk)
        return Response(ContractOut(sel.contracts_for(organization=self.firm).get(pk=contract.pk)).data)


@extend_schema(tags=["trading"])
class WalletViewSet(FirmViewMixin, viewsets.GenericViewSet):
    """Your firm's wallet: balance, escrow figures and ledger entries."""

    serializer_class = LedgerEntryOut
    schema_single_object_actions = ("list",)  # GET wallet/ answers one summary, not a page

    def get_queryset(self):
        if self.schema_only:
            return LedgerEntry.objects.none()
        return sel.ledger_entries_for(organization=self.firm)

    @extend_schema(responses=WalletOut)
    def list(self, request):
        return Response(WalletOut(sel.wallet_summary(organization=self.firm)).data)

    @extend_schema(responses=LedgerEntryOut(many=True))
    @action(detail=False)
    def entries(self, request):
        """The wallet's ledger entries, newest first (paginated)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LedgerEntryOut(page, many=True).data)

    @extend_schema(request=SandboxTopupIn, responses={201: WalletOut})
    @action(detail=False, methods=["post"], url_path="sandbox-topup")
    def sandbox_topup(self, request):
        """Demo mode only: credit your own wallet with play money (needs ``buy``)."""
        data = SandboxTopupIn(data=request.data)
        data.is_valid(raise_exception=True)
        svc.wallet_sandbox_topup(actor=self.actor, amount_fen=data.validated_data["amount_fen"])
        return Response(WalletOut(sel.wallet_summary(organization=self.firm)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["market"], responses=MarketStatsOut)
class MarketStatsView(APIView):
    """Public market figures: trades and turnover by month and category, top datasets, price against quality."""

    permission_classes = [AllowAny]

    def get(self, request):
        return public_json(self, request, "api-market", lambda: MarketStatsOut(sel.market_stats()).data)
