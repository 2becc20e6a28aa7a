"""The first API key without a browser: ``POST /api/v1/auth/keys/`` with an owner's username
and password (docs/api.md "Your first API key"). Every later key can be made the same way or
on the web; keys themselves never create keys (exchange.services.orgs)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.actor import client_ip
from exchange.api.fields import StrictCharField
from exchange.api.serializers import ApiKeyCreatedOut, ApiKeyIn
from exchange.api.throttling import KeyBootstrapIpThrottle
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
