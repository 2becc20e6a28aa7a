"""Webhook endpoints over REST (SPEC §9): register, change, enable/disable, rotate the secret,
read the delivery log and replay a message. An owner's session or a key with the
``webhooks`` scope; another firm's endpoint id answers like an unknown one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from exchange.api.fields import StrictCharField
from exchange.api.views import FirmViewMixin
from exchange.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from exchange.models.webhooks import EVENT_TYPES
from exchange.services import webhooks as svc


# --- Serializers ---------------------------------------------------------------------
class WebhookEndpointOut(serializers.ModelSerializer):
    rotation_ends_at = serializers.DateTimeField(source="previous_secret_expires_at", allow_null=True,
                                                 help_text="Until then the previous secret signs too.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "disabled_reason", "rotation_ends_at",
                  "created_at", "updated_at"]


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret = serializers.SerializerMethodField(help_text="The whsec_ signing secret. Shown once; store it now.")

    class Meta(WebhookEndpointOut.Meta):
        fields = [*WebhookEndpointOut.Meta.fields, "secret"]

    def get_secret(self, obj) -> str:
        return self.context["secret"]


# Schema annotations only: the rules themselves are enforced in exchange.services.webhooks.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?"


@extend_schema_field({"type": "string", "maxLength": 2000,
                      "pattern": rf"^https://{_LABEL}(\.{_LABEL})*\.[a-z]{{2,20}}(:[1-9][0-9]{{0,3}})?(/[A-Za-z0-9._~-]*)*$",
                      "description": "https:// URL that receives the POSTs: a public host name, no user or password."})
class WebhookUrlField(StrictCharField):
    pass


@extend_schema_field({"type": "array", "minItems": 1, "maxItems": len(EVENT_TYPES) * 2,
                      "items": {"type": "string", "enum": list(EVENT_TYPES)},
                      "description": "At least one of: " + ", ".join(EVENT_TYPES)})
class EventTypesField(serializers.ListField):
    pass


class WebhookEndpointIn(serializers.Serializer):
    url = WebhookUrlField(max_length=2000)
    event_types = EventTypesField(child=StrictCharField(max_length=40), max_length=len(EVENT_TYPES) * 2)
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookMessageOut(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="msg_id")

    class Meta:
        model = WebhookMessage
        fields = ["webhook_id", "event_type", "status", "attempts", "created_at", "next_attempt_at", "delivered_at",
                  "last_status_code", "last_error"]


class WebhookAttemptOut(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="message.msg_id")
    event_type = serializers.CharField(source="message.event_type")

    class Meta:
        model = WebhookAttempt
        fields = ["webhook_id", "event_type", "number", "attempted_at", "status_code", "ok", "response_excerpt", "error",
                  "duration_ms", "manual"]


# --- Views -------------------------------------------------------------------------
@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(FirmViewMixin, viewsets.GenericViewSet):
    serializer_class = WebhookEndpointOut
    schema_error_codes = {"create": ["409"]}  # too many endpoints
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if self.schema_only:
            return WebhookEndpoint.objects.none()
        self.firm  # noqa: B018 - a caller without a firm gets "no_firm", as on every firm endpoint
        return svc.endpoints_of(actor=self.actor)

    def get_object(self):
        return svc.endpoint_get(actor=self.actor, endpoint_id=self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointOut(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointOut(self.get_object()).data)

    @extend_schema(request=WebhookEndpointIn, responses={201: WebhookEndpointCreatedOut})
    def create(self, request):
        svc.endpoints_of(actor=self.actor)  # refused before the input is read
        data = WebhookEndpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = svc.endpoint_create(actor=self.actor, **data.validated_data)
        return Response(WebhookEndpointCreatedOut(endpoint, context={"secret": secret}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointIn(partial=True), responses=WebhookEndpointOut)
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = WebhookEndpointIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {name: value for name, value in data.validated_data.items() if name in request.data}
        return Response(WebhookEndpointOut(svc.endpoint_update(actor=self.actor, endpoint=endpoint, **changes)).data)

    @extend_schema(request=None, responses=WebhookEndpointOut)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        endpoint = svc.endpoint_set_enabled(actor=self.actor, endpoint=self.get_object(), enabled=True)
        return Response(WebhookEndpointOut(endpoint).data)

    @extend_schema(request=None, responses=WebhookEndpointOut)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        endpoint = svc.endpoint_set_enabled(actor=self.actor, endpoint=self.get_object(), enabled=False)
        return Response(WebhookEndpointOut(endpoint).data)

    @extend_schema(request=None, responses=WebhookEndpointCreatedOut)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret (shown once); the old one keeps signing for 24 hours."""
        endpoint, secret = svc.endpoint_rotate_secret(actor=self.actor, endpoint=self.get_object())
        response = Response(WebhookEndpointCreatedOut(endpoint, context={"secret": secret}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses=WebhookMessageOut(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        """The endpoint's messages, newest first."""
        endpoint = self.get_object()
        page = self.paginate_queryset(WebhookMessage.objects.filter(endpoint=endpoint).order_by("-seq"))
        return self.get_paginated_response(WebhookMessageOut(page, many=True).data)

    @extend_schema(request=None, responses=WebhookAttemptOut(many=True))
    @action(detail=True, methods=["get"])
    def attempts(self, request, pk=None):
        """The delivery log: every attempt, newest first."""
        endpoint = self.get_object()
        page = self.paginate_queryset(WebhookAttempt.objects.filter(endpoint=endpoint).select_related("message"))
        return self.get_paginated_response(WebhookAttemptOut(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookMessageOut})
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<webhook_id>[^/]+)/replay")
    def replay(self, request, pk=None, webhook_id=None):
        """Send a message again, under the same webhook-id."""
        message = svc.message_replay(actor=self.actor, endpoint=self.get_object(), msg_id=webhook_id)
        return Response(WebhookMessageOut(message).data, status=status.HTTP_202_ACCEPTED)
