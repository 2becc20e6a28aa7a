"""A firm's start without a browser (docs/api.md "Walk-through"): sign up (``POST
/api/v1/auth/signup/``), then the first API key with the owner's username and password
(``POST /api/v1/auth/keys/``). Later keys can be made the same way or on the web; keys
themselves never create keys (exchange.services.orgs)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.actor import Actor, client_ip
from exchange.api.fields import StrictCharField
from exchange.api.serializers import ApiKeyCreatedOut, ApiKeyIn, OrganizationOut
from exchange.api.throttling import KeyBootstrapIpThrottle, SignupIpThrottle
from exchange.services import orgs as orgs_svc


class KeyBootstrapIn(ApiKeyIn):
    username = StrictCharField(max_length=150, trim_whitespace=False)
    password = StrictCharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


@extend_schema(tags=["firm"], auth=[], request=KeyBootstrapIn, responses={201: ApiKeyCreatedOut},
               summary="Create an API key with an owner's username and password")
class KeyBootstrapView(APIView):
    """For a firm's scripts right after sign-up: an owner's username and password (send them only
    over HTTPS) buy one API key with the same rules as Firm settings → API keys — chosen scopes, an
    optional expiry. Members who are not owners are refused (403); wrong credentials answer 401.
    Throttled per client IP (429 with ``Retry-After``)."""

    authentication_classes: list = []  # the password is the credential: no session (no CSRF), no key
    permission_classes = [AllowAny]
    throttle_classes = [KeyBootstrapIpThrottle]
    schema_error_codes = {"post": ["403"]}

    def post(self, request):
        data = KeyBootstrapIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        key, secret = orgs_svc.api_key_bootstrap(
            username=fields.pop("username"), password=fields.pop("password"), origin_ip=client_ip(request), **fields)
        response = Response(ApiKeyCreatedOut(key, context={"secret": secret}).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class SignupIn(serializers.Serializer):
    name = StrictCharField(max_length=200, help_text="The firm's registered name.")
    credit_code = StrictCharField(max_length=18, help_text="Unified social credit code (18 characters, checked).")
    city = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    description = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    username = StrictCharField(max_length=150, help_text="The owner's user name (also for the web).")
    email = serializers.EmailField()
    password = StrictCharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"},
                               help_text="The owner's password (Django's password rules).")


class SignupOut(serializers.Serializer):
    organization = OrganizationOut()
    owner = serializers.CharField(help_text="The owner's user name.")


@extend_schema(tags=["firm"], auth=[], request=SignupIn, responses={201: SignupOut},
               summary="Sign up a firm and its owner")
class SignupView(APIView):
    """The same registration as the web's sign-up page. The firm starts ``pending``: the exchange's staff
    verify it before it may publish or buy; its owner can already create API keys and upload datasets.
    Throttled per client IP."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [SignupIpThrottle]

    def post(self, request):
        data = SignupIn(data=request.data)
        data.is_valid(raise_exception=True)
        org = orgs_svc.organization_register(actor=Actor(type="user", origin_ip=client_ip(request)),
                                             **data.validated_data)
        return Response({"organization": OrganizationOut(org).data, "owner": data.validated_data["username"].strip()},
                        status=status.HTTP_201_CREATED)
