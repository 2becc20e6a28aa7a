"""After-sales over REST: accept a delivery, disputes (open, respond, read), notifications.

Views parse input, call one service, render output; staff decide disputes in the admin.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from exchange.api.fields import StrictCharField
from exchange.api.views import FirmViewMixin
from exchange.models import Dispute, Notification
from exchange.selectors import disputes as sel
from exchange.services import disputes as svc
from exchange.services import notifications as notes


class DisputeOut(serializers.ModelSerializer):
    listing_title = serializers.CharField(source="contract.listing.title")
    role = serializers.SerializerMethodField(help_text="Your firm's side: buyer or seller.")

    class Meta:
        model = Dispute
        fields = ["id", "contract", "listing_title", "role", "kind", "text", "status", "seller_response",
                  "seller_responded_at", "decision_reason", "decided_at", "refund_fen", "recheck_passed",
                  "recheck_result", "recheck_finished_at", "recheck_error", "created_at"]

    def get_role(self, obj) -> str:
        firm = self.context.get("firm")
        return "buyer" if firm is not None and obj.buyer_id == firm.pk else "seller"


class DisputeIn(serializers.Serializer):
    contract = serializers.UUIDField(help_text="Your delivered contract, inside its acceptance window")
    kind = serializers.ChoiceField(choices=Dispute.Kind.choices)
    text = StrictCharField(max_length=svc.TEXT_MAX, help_text="What is wrong, for the seller and staff")


class TextIn(serializers.Serializer):
    text = StrictCharField(max_length=svc.TEXT_MAX)


@extend_schema(tags=["after-sales"])
class DisputeViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Disputes where your firm is the buyer or the seller."""

    serializer_class = DisputeOut
    filterset_fields = ["status"]
    # the contract named in the body may be unknown (404) or not disputable now (409)
    schema_error_codes = {"create": ["404", "409"]}

    def get_queryset(self):
        if self.schema_only:
            return Dispute.objects.none()
        return sel.disputes_for(organization=self.firm)

    def get_object(self):
        return sel.dispute_for(organization=self.firm, dispute_id=self.kwargs["pk"])

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "firm": None if self.schema_only else self.firm}

    def _render(self, dispute, code=status.HTTP_200_OK):
        out = DisputeOut(sel.dispute_for(organization=self.firm, dispute_id=dispute.pk), context={"firm": self.firm})
        return Response(out.data, status=code)

    @extend_schema(request=DisputeIn, responses={201: DisputeOut})
    def create(self, request):
        """Report a problem with a delivered contract inside its acceptance window (buyer, ``buy`` scope)."""
        data = DisputeIn(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = svc.dispute_open(actor=self.actor, contract_id=data.validated_data["contract"],
                                   kind=data.validated_data["kind"], text=data.validated_data["text"])
        return self._render(dispute, status.HTTP_201_CREATED)

    @extend_schema(request=TextIn, responses=DisputeOut)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """The seller's one response (``sell`` scope)."""
        data = TextIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._render(svc.dispute_respond(actor=self.actor, dispute_id=pk, text=data.validated_data["text"]))


class NotificationOut(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "link", "created_at", "read_at"]


class MarkReadIn(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000,
                                help_text="Leave out to mark all read.")


class MarkReadOut(serializers.Serializer):
    marked_read = serializers.IntegerField()
    unread = serializers.IntegerField()


@extend_schema(tags=["after-sales"])
class NotificationViewSet(FirmViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your notifications (an API key sees its firm's), newest first."""

    serializer_class = NotificationOut

    def get_queryset(self):
        if self.schema_only:
            return Notification.objects.none()
        self.firm  # noqa: B018 — a member of a firm only
        return notes.notifications_of(actor=self.actor)

    @extend_schema(request=MarkReadIn, responses={200: MarkReadOut})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark notifications read; answers how many changed and how many are still unread."""
        data = MarkReadIn(data=request.data)
        data.is_valid(raise_exception=True)
        changed = notes.notifications_mark_read(actor=self.actor, ids=data.validated_data.get("ids"))
        unread = notes.notifications_of(actor=self.actor).filter(read_at__isnull=True).count()
        return Response({"marked_read": changed, "unread": unread})
