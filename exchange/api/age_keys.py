"""API: the firm's age recipients (deliveries are encrypted to the verified ones)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from exchange.api.views import FirmViewMixin
from exchange.models import AgeRecipient
from exchange.services import age_recipients as age_svc


class AgeRecipientOut(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, verified or revoked")
    challenge = serializers.SerializerMethodField(help_text="While pending: an ASCII-armoured age file; "
                                                  "decrypt it with the identity and POST the plaintext to verify.")

    class Meta:
        model = AgeRecipient
        fields = ["id", "recipient", "label", "status", "challenge", "created_at", "verified_at", "revoked_at"]

    def get_challenge(self, obj) -> str:
        return obj.challenge if obj.status == "pending" else ""


class AgeRecipientIn(serializers.Serializer):
    recipient = serializers.CharField(max_length=100, help_text="An age X25519 recipient, age1…")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class AgeAnswerIn(serializers.Serializer):
    answer = serializers.CharField(max_length=200, help_text="The decrypted challenge")


@extend_schema(tags=["firm"])
class AgeRecipientViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AgeRecipientOut

    def get_queryset(self):
        if self.schema_only:
            return AgeRecipient.objects.none()
        return age_svc.age_recipients_of(organization=self.firm)

    @extend_schema(request=AgeRecipientIn, responses={201: AgeRecipientOut})
    def create(self, request):
        data = AgeRecipientIn(data=request.data)
        data.is_valid(raise_exception=True)
        rec = age_svc.age_recipient_add(actor=self.actor, organization=self.firm, **data.validated_data)
        return Response(AgeRecipientOut(rec).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AgeAnswerIn, responses=AgeRecipientOut)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        data = AgeAnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        rec = age_svc.age_recipient_verify(actor=self.actor, organization=self.firm, recipient_id=self.get_object().pk,
                                           answer=data.validated_data["answer"])
        return Response(AgeRecipientOut(rec).data)

    @extend_schema(request=None, responses=AgeRecipientOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        rec = age_svc.age_recipient_revoke(actor=self.actor, organization=self.firm, recipient_id=self.get_object().pk)
        return Response(AgeRecipientOut(rec).data)
