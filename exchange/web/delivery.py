"""Deliveries on the web: the published keys (``/.well-known/shujiao/``), the download
endpoint ``/d/<token>``, and the buyer's "My deliveries" pages.

The download endpoint answers both faces: a signed-in member of the buyer firm (session)
or the firm's systems (``Authorization: Api-Key …`` with the ``buy`` scope). A link is
bound to the buyer firm: the token alone is not enough, and another firm's session or
key is refused (403) even with a valid token.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from exchange import storage
from exchange.actor import Actor
from exchange.api.authentication import ApiKeyAuthentication
from exchange.errors import DomainError
from exchange.models import Delivery, SigningKey
from exchange.selectors import delivery as delivery_sel
from exchange.services import downloads, sharing
from exchange.services.signing import signing_keys_jwks
from exchange.web import transparency as transparency_views
from exchange.web.views.common import firm_required
from exchange.web.views.errors import error_page, wants_html
from workers.delivery import safe_data_name
from workers.delivery.verify.bundle import bundle as verifier_bundle

KID_RE = re.compile(r"[0-9a-f]{16}")
# Public documents change only on rotation: a few minutes of caching spares the database.
KEYS_MAX_AGE = 300


# --- Published keys --------------------------------------------------------------
def _public(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={KEYS_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def jwks(request):
    """JWKS of every signing key (active and retired), RFC 8037 ``OKP``/``Ed25519``."""
    return _public(JsonResponse(signing_keys_jwks(), json_dumps_params={"indent": 2}))


@require_GET
def key_pem(request, kid: str):
    """One public key as SubjectPublicKeyInfo PEM, what ``openssl pkeyutl -pubin`` reads."""
    if not KID_RE.fullmatch(kid):
        raise Http404("No such key.")
    key = SigningKey.objects.filter(kid=kid).only("public_key_pem").first()
    if key is None:
        raise Http404("No such key.")
    response = HttpResponse(key.public_key_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'inline; filename="exchange-{kid}.pem"'
    return _public(response)


@require_GET
def verifier_script(request):
    """The buyer's verifier, one Python file (stdlib + ``cryptography``) joined from the exchange's
    own verifier modules (``workers/delivery/verify/bundle.py``); its SHA-256 is on every delivery page."""
    script = verifier_bundle()
    response = HttpResponse(script.source, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{script.filename}"'
    response["ETag"] = f'"{script.sha256}"'
    return _public(response)


@require_GET
def verifier_script_sha256(request):
    """``<sha256>  shujiao_verify.py``: what ``sha256sum -c`` reads."""
    script = verifier_bundle()
    return _public(HttpResponse(f"{script.sha256}  {script.filename}\n", content_type="text/plain; charset=utf-8"))


wellknown_urlpatterns = [
    path("keys.json", jwks, name="jwks"),
    path("keys/<str:kid>.pem", key_pem, name="key-pem"),
    path("audit/checkpoint", transparency_views.checkpoint, name="audit-checkpoint"),
    path("audit/key", transparency_views.key, name="audit-key"),
]
wellknown_urls = (wellknown_urlpatterns, "wellknown")


# --- Download ------------------------------------------------------------------
class _IgnoreAccept(BaseContentNegotiation):
    """A download's errors are JSON whatever the client accepts (e.g. ``Accept: application/zip``)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def package_filename(delivery: Delivery) -> str:
    """ASCII-only, no quotes or separators: safe inside Content-Disposition on every client."""
    name = safe_data_name(f"shujiao-{delivery.contract.listing.title}-{str(delivery.pk)[:8]}", "zip")
    return name + ".age" if delivery.encrypted_to else name


def _stream(name: str, start: int, length: int, chunk: int):
    """Yield ``length`` bytes of the stored package from ``start``, ``chunk`` at a time
    (constant memory; on S3 one ranged GET for exactly those bytes)."""
    return storage.iter_range(name, start, length, chunk)


class DownloadView(APIView):
    """``GET /d/<token>``: stream the package (200, or 206 for one ``Range``).

    401 without credentials; 403 for an unknown or tampered link, another firm's caller,
    a key without ``buy`` or a used-up download limit; 410 for an expired link or an
    expired or revoked delivery; 416 for an unsatisfiable or multi-part range.
    """

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _IgnoreAccept
    schema_error_codes = {"get": ["410", "416"]}

    @extend_schema(
        tags=["deliveries"], operation_id="download",
        summary="Download a delivery package (a link made by POST /api/v1/deliveries/{id}/links/)",
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.PATH, description="The link's token (the `url` ends with it)."),
            OpenApiParameter("Range", str, OpenApiParameter.HEADER, required=False,
                             description="One byte range, e.g. `bytes=0-1048575` (resumes; not counted again)."),
            OpenApiParameter("If-Range", str, OpenApiParameter.HEADER, required=False,
                             description="The ETag: the range applies only if the package is unchanged."),
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The signed package."),
            (206, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The requested range."),
        })
    def get(self, request, token: str):
        return self._respond(request, token, body=True)

    def head(self, request, token: str):
        """The same checks and headers as GET, no body: not counted, not audited."""
        return self._respond(request, token, body=False)

    def _respond(self, request, token: str, *, body: bool):
        from django.conf import settings

        grant = downloads.download_authorize(
            actor=Actor.from_request(request), token=token, range_header=request.META.get("HTTP_RANGE", ""),
            if_range=request.META.get("HTTP_IF_RANGE", ""), record=body)
        delivery = grant.delivery
        size = delivery.package_size
        start, end = grant.byte_range or (0, size - 1)
        length = end - start + 1
        status = 206 if grant.byte_range else 200
        # An age file is opaque bytes until the buyer decrypts it (there is no registered age type).
        ctype = "application/octet-stream" if delivery.encrypted_to else "application/zip"
        if body:
            response = StreamingHttpResponse(_stream(delivery.package_name, start, length, settings.DOWNLOAD_CHUNK_BYTES),
                                             status=status, content_type=ctype)
        else:
            response = HttpResponse(status=status, content_type=ctype)
        response["Content-Length"] = str(length)
        if grant.byte_range:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = delivery.etag
        response["Content-Disposition"] = f'attachment; filename="{package_filename(delivery)}"'
        # Exact bytes: no compression or transformation on the way (Content-Length and ranges must hold).
        response["Cache-Control"] = "private, no-store, no-transform"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, downloads.RangeNotSatisfiable):
            response["Content-Range"] = f"bytes */{exc.size}"
        elif wants_html(self.request) and response.status_code in (401, 403, 404, 410):
            return self._error_page(response)
        return response

    def _error_page(self, api_response):
        """A browser following a link gets a page with a way forward; API clients keep the JSON."""
        request = self.request
        error = api_response.data.get("error", {}) if isinstance(api_response.data, dict) else {}
        code, status = error.get("code", ""), api_response.status_code
        if status == 401:
            login = f"{reverse('web:login')}?{urlencode({'next': request.get_full_path()})}"
            return error_page(request, 401, "Sign in as a member of the buying firm to download this package. "
                              "请以买方企业成员身份登录后下载。", actions=[("Sign in 登录", login)], code=code)
        actions = [("My deliveries 我的交付", reverse("web:deliveries"))]
        delivery_id = downloads.link_delivery_id(token=self.kwargs.get("token", ""), organization=getattr(request, "firm", None) or None)
        if delivery_id is not None:
            label = "Create a new link 重新生成下载链接" if code == "link_expired" else "Open the delivery 查看交付"
            actions.insert(0, (label, reverse("web:delivery", kwargs={"delivery_id": delivery_id})))
        response = error_page(request, status, error.get("message", ""), actions=actions, code=code)
        response["Cache-Control"] = "private, no-store"
        return response


download = DownloadView.as_view()


# --- Buyer's pages -----------------------------------------------------------------
def verification_commands(request, delivery: Delivery) -> dict:
    """The commands a buyer runs on the downloaded package, with this exchange's key URLs."""
    kid = delivery.key_id
    pem_url = request.build_absolute_uri(reverse("wellknown:key-pem", kwargs={"kid": kid})) if kid else ""
    jwks_url = request.build_absolute_uri(reverse("wellknown:jwks"))
    package = package_filename(delivery)
    script = verifier_bundle()
    script_url = request.build_absolute_uri(reverse("web:verifier-script"))
    opened = []
    if delivery.encrypted_to:
        opened = [f"age -d -i your-age-identity.txt -o {package.removesuffix('.age')} {package}"]
        package = package.removesuffix(".age")
    return {
        "package": package, "pem_url": pem_url, "jwks_url": jwks_url, "kid": kid,
        "script_url": script_url, "script_sha256": script.sha256, "script_name": script.filename,
        "lines": [
            f"curl -o exchange-{kid}.pem {pem_url}",
            *opened,
            f"unzip {package} -d delivery && cd delivery",
            f"openssl pkeyutl -verify -pubin -inkey ../exchange-{kid}.pem -rawin -in manifest.json -sigfile manifest.sig",
            "sha256sum -c SHA256SUMS",
            "cd ..",
            f"curl -o {script.filename} {script_url}",
            f"echo '{script.sha256}  {script.filename}' | sha256sum -c",
            f"python3 {script.filename} {package} --keys {jwks_url}",
        ],
        # Packages built before the metadata files existed have none to read.
        "metadata_lines": [
            "python3.11 -m venv croissant && croissant/bin/pip install mlcroissant==1.1.1 pyarrow==26.0.1",
            "croissant/bin/mlcroissant validate --jsonld delivery/metadata/croissant.json",
            "cd delivery && frictionless validate datapackage.json",
        ] if any(f.get("path") == "metadata/croissant.json" for f in (delivery.manifest or {}).get("files", [])) else [],
    }


def delivery_status_data(delivery: Delivery) -> dict:
    return {
        "id": str(delivery.pk), "status": delivery.status, "status_label": delivery.get_status_display(),
        "percent": round(delivery.percent, 1), "bytes_done": delivery.bytes_done, "bytes_total": delivery.bytes_total,
        "error": delivery.error, "package_size": delivery.package_size,
    }


@firm_required
def delivery_list(request):
    firm = request.current_firm
    return render(request, "exchange/delivery/list.html", {
        "deliveries": delivery_sel.deliveries_bought(firm)[:200],
        "sales": delivery_sel.deliveries_sold(firm)[:200],
    })


@firm_required
def delivery_detail(request, delivery_id):
    delivery = get_object_or_404(delivery_sel.deliveries_of(request.current_firm), pk=delivery_id)
    is_buyer = delivery.contract.buyer_id == request.current_firm.pk
    return render(request, "exchange/delivery/detail.html", {
        "delivery": delivery, "is_buyer": is_buyer, "siblings": delivery_sel.deliveries_of_contract(delivery.contract),
        "sharing": sharing_card(delivery) if is_buyer and delivery.status == Delivery.Status.READY else None,
        "verify": verification_commands(request, delivery) if is_buyer and delivery.key_id else None,
        "manifest_pretty": _pretty(delivery.manifest) if is_buyer and delivery.manifest else "",
    })


def _pretty(manifest: dict) -> str:
    import json

    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)


@firm_required
def delivery_status(request, delivery_id):
    delivery = get_object_or_404(delivery_sel.deliveries_of(request.current_firm), pk=delivery_id)
    return JsonResponse(delivery_status_data(delivery))


@require_POST
@firm_required
def delivery_download(request, delivery_id):
    """Create a short-lived link for the buyer and send the browser to it."""
    delivery = get_object_or_404(delivery_sel.deliveries_of(request.current_firm), pk=delivery_id)
    try:
        _link, token = downloads.download_link_create(actor=Actor.from_request(request), delivery_id=delivery.pk)
    except DomainError as exc:  # limit used up, expired, revoked, not ready: said on the page
        messages.error(request, exc.message)
        return redirect("web:delivery", delivery_id=delivery.pk)
    return redirect("web:download", token=token)


def sharing_card(delivery: Delivery) -> dict:
    """What the delivery page says about Delta Sharing: the two lines a buyer runs, or why not."""
    if not delivery.parquet_name:
        return {"available": False, "reason": delivery.parquet_error or "This delivery has no Parquet copy to share."}
    name = sharing.table_name(delivery)
    profile = f"shujiao-{name.share}.share"
    return {"available": True, "table": name.url_fragment, "lines": [
        "import delta_sharing",
        f'df = delta_sharing.load_as_pandas("{profile}#{name.url_fragment}")',
    ]}


def profile_response(profile) -> HttpResponse:
    """The profile file as a download (JSON; the bearer token is in it, shown this once)."""
    import json

    response = HttpResponse(json.dumps(profile.body, indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{profile.filename}"'
    response["Cache-Control"] = "private, no-store"
    response["Shujiao-Delta-Sharing-Table"] = profile.table.url_fragment
    return response


@require_POST
@firm_required
def delivery_sharing_profile(request, delivery_id):
    """Issue a Delta Sharing profile for the buyer and send it as a file."""
    from exchange.web.delta_sharing import endpoint_for

    delivery = get_object_or_404(delivery_sel.deliveries_of(request.current_firm), pk=delivery_id)
    try:
        profile = sharing.profile_issue(actor=Actor.from_request(request), delivery_id=delivery.pk,
                                        endpoint=endpoint_for(request))
    except DomainError as exc:  # not ready, no table, not the buyer: said on the page
        messages.error(request, exc.message)
        return redirect("web:delivery", delivery_id=delivery.pk)
    return profile_response(profile)
