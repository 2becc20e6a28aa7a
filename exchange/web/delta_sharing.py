"""The Delta Sharing REST protocol under ``/delta-sharing/`` (SPEC §10, docs/api.md).

Bearer-token endpoints (``Authorization: Bearer <token from the profile>``): shares,
share, schemas, tables, all-tables, table version, metadata and query. Answers follow the
protocol exactly: JSON lists with ``items``; metadata and query as newline-delimited JSON
(``protocol``, ``metaData``, then one ``file`` per data file, nothing else), the
``delta-table-version`` header on version, metadata and query; errors as
``{"errorCode", "message"}``. Plain Django views: the protocol's error body and content types
are not DRF's.

``GET /delta-sharing/files/<token>/<name>.parquet`` serves the Parquet copy to whoever holds
the URL (a query's short-lived, self-authorising link): exact ``Content-Length``, one byte
range, no compression. Rules live in ``services/sharing.py`` and ``services/downloads.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt

from exchange import storage
from exchange.actor import client_ip
from exchange.errors import DomainError, InvalidInput, NotFound
from exchange.services import downloads, sharing

NDJSON = "application/x-ndjson; charset=utf-8"
CAPABILITIES = "delta-sharing-capabilities"
ERROR_CODES = {400: "INVALID_PARAMETER_VALUE", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
               404: "RESOURCE_DOES_NOT_EXIST", 405: "UNSUPPORTED_OPERATION", 409: "PERMISSION_DENIED",
               410: "PERMISSION_DENIED", 416: "INVALID_PARAMETER_VALUE"}


def error_response(status: int, message: str, *, code: str | None = None) -> JsonResponse:
    status = 403 if status in (409, 410) else status  # a delivery that is no longer readable: access denied
    response = JsonResponse({"errorCode": code or ERROR_CODES.get(status, "INTERNAL_ERROR"), "message": message},
                            status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="delta-sharing"'
    return response


def protocol_view(*methods: str, bearer: bool = True) -> Callable:
    """CSRF-exempt (bearer tokens, no cookies), allowed methods only, the bearer token checked
    (``request.sharing``), and every refusal in the protocol's error body."""
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error_response(405, f"{request.method} is not supported here; use {', '.join(methods)}.",
                                          code="UNSUPPORTED_OPERATION")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if bearer:
                    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
                    request.sharing = sharing.access_check(
                        bearer=token.strip() if scheme.lower() == "bearer" else "", origin_ip=client_ip(request))
                return view(request, *args, **kwargs)
            except downloads.RangeNotSatisfiable as exc:
                response = error_response(416, exc.message)
                response["Content-Range"] = f"bytes */{exc.size}"
                return response
            except DomainError as exc:
                return error_response(exc.status, exc.message)
        return wrapper
    return decorate


def _json(data: dict) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
    response["Content-Type"] = "application/json; charset=utf-8"
    response["Cache-Control"] = "no-store"
    return response


def _page(request, items: list[dict]) -> JsonResponse:
    """``maxResults``/``pageToken`` paging (the token is the offset of the next item)."""
    raw_max, raw_token = request.GET.get("maxResults"), request.GET.get("pageToken")
    try:
        limit = int(raw_max) if raw_max not in (None, "") else 500
        start = int(raw_token) if raw_token not in (None, "") else 0
    except ValueError:
        raise InvalidInput("maxResults and pageToken must be integers from this server.") from None
    if limit < 0 or limit > 1000:
        raise InvalidInput("maxResults must be between 0 and 1000.")
    if start < 0 or start > len(items):
        raise InvalidInput("pageToken is not one this server gave out.")
    body: dict = {"items": items[start:start + limit]}
    if start + limit < len(items):
        body["nextPageToken"] = str(start + limit)
    return _json(body)


def _share(access: sharing.SharingAccess) -> dict:
    return {"name": access.name.share, "id": str(access.delivery.contract_id)}


def _table(access: sharing.SharingAccess) -> dict:
    name = access.name
    return {"name": name.table, "schema": name.schema, "share": name.share,
            "shareId": str(access.delivery.contract_id), "id": str(access.delivery.pk)}


@protocol_view("GET")
def shares(request):
    return _page(request, [_share(request.sharing)])


@protocol_view("GET")
def share(request, share: str):
    sharing.table_resolve(request.sharing, share=share)
    return _json({"share": _share(request.sharing)})


@protocol_view("GET")
def schemas(request, share: str):
    sharing.table_resolve(request.sharing, share=share)
    return _page(request, [{"name": request.sharing.name.schema, "share": request.sharing.name.share}])


@protocol_view("GET")
def tables(request, share: str, schema: str):
    sharing.table_resolve(request.sharing, share=share, schema=schema)
    return _page(request, [_table(request.sharing)])


@protocol_view("GET")
def all_tables(request, share: str):
    sharing.table_resolve(request.sharing, share=share)
    return _page(request, [_table(request.sharing)])


def _versioned(response: HttpResponse, access: sharing.SharingAccess) -> HttpResponse:
    response["delta-table-version"] = str(sharing.table_version(access.delivery))
    response[CAPABILITIES] = "responseformat=parquet"
    response["Cache-Control"] = "no-store"
    return response


def _check_format(request) -> None:
    """Only the parquet response format is served; asking for delta alone is refused."""
    caps = request.META.get("HTTP_DELTA_SHARING_CAPABILITIES", "")
    for part in caps.split(";"):
        key, _, values = part.partition("=")
        if key.strip().lower() == "responseformat":
            formats = {v.strip().lower() for v in values.split(",") if v.strip()}
            if formats and "parquet" not in formats:
                raise InvalidInput("This server answers in responseformat=parquet only.")


@protocol_view("GET", "HEAD")
def table_version(request, share: str, schema: str, table: str):
    sharing.table_resolve(request.sharing, share=share, schema=schema, table=table)
    return _versioned(HttpResponse(b"", content_type="application/json; charset=utf-8"), request.sharing)


def _metadata_lines(access: sharing.SharingAccess) -> list[dict]:
    delivery = access.delivery
    title = (delivery.manifest or {}).get("dataset", {}).get("title", "")
    return [
        {"protocol": {"minReaderVersion": 1}},
        {"metaData": {"id": str(delivery.pk), "name": access.name.table, "description": title,
                      "format": {"provider": "parquet"}, "schemaString": delivery.parquet_schema,
                      "partitionColumns": [], "configuration": {}, "size": delivery.parquet_size, "numFiles": 1}},
    ]


def _ndjson(lines: list[dict], access: sharing.SharingAccess) -> HttpResponse:
    body = "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)
    return _versioned(HttpResponse(body.encode("utf-8"), content_type=NDJSON), access)


@protocol_view("GET")
def table_metadata(request, share: str, schema: str, table: str):
    sharing.table_resolve(request.sharing, share=share, schema=schema, table=table)
    _check_format(request)
    return _ndjson(_metadata_lines(request.sharing), request.sharing)


def _query_body(request, access: sharing.SharingAccess) -> dict:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    if body.get("startingVersion") is not None or body.get("endingVersion") is not None:
        raise InvalidInput("This table's change data feed is not shared; query its snapshot.")
    current = sharing.table_version(access.delivery)
    version = body.get("version")
    if version is not None and version != current:
        raise InvalidInput(f"Only the current version ({current}) of this table is shared.")
    if body.get("timestamp") is not None:
        raise InvalidInput("Time travel by timestamp is not supported: this table's history is not shared.")
    limit = body.get("limitHint")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise InvalidInput("limitHint must be a non-negative integer.")
    return body


@protocol_view("POST")
def table_query(request, share: str, schema: str, table: str):
    access = request.sharing
    sharing.table_resolve(access, share=share, schema=schema, table=table)
    _check_format(request)
    _query_body(request, access)
    link, url_token = sharing.table_query(access)
    delivery = access.delivery
    file_path = reverse("delta_sharing:file", kwargs={"token": url_token, "name": f"{access.name.table}.parquet"})
    url = endpoint_for(request) + file_path.removeprefix("/delta-sharing")  # the host the profile names
    file_line = {"file": {"url": url, "id": delivery.parquet_sha256, "partitionValues": {},
                          "size": delivery.parquet_size, "stats": json.dumps({"numRecords": delivery.parquet_rows}),
                          "expirationTimestamp": sharing.expires_ms(link.expires_at)}}
    return _ndjson([*_metadata_lines(access), file_line], access)


@protocol_view("GET")
def table_changes(request, share: str, schema: str, table: str):
    sharing.table_resolve(request.sharing, share=share, schema=schema, table=table)
    raise InvalidInput("This table's change data feed is not shared; query its snapshot.")


@protocol_view("GET", "HEAD", bearer=False)
def file(request, token: str, name: str):
    """A Parquet copy through a query's URL: 200, or 206 for one ``Range``; HEAD answers the
    same headers and is neither counted nor audited."""
    body = request.method == "GET"
    grant = downloads.parquet_fetch_authorize(
        token=token, range_header=request.META.get("HTTP_RANGE", ""), if_range=request.META.get("HTTP_IF_RANGE", ""),
        origin_ip=client_ip(request), record=body)
    delivery = grant.delivery
    size = delivery.parquet_size
    start, end = grant.byte_range or (0, size - 1)
    length = end - start + 1
    status = 206 if grant.byte_range else 200
    if body:
        response = StreamingHttpResponse(
            storage.iter_range(delivery.parquet_name, start, length, settings.DOWNLOAD_CHUNK_BYTES),
            status=status, content_type="application/vnd.apache.parquet")
    else:
        response = HttpResponse(status=status, content_type="application/vnd.apache.parquet")
    response["Content-Length"] = str(length)
    if grant.byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = downloads.parquet_etag(delivery)
    # Exact bytes: no compression or transformation on the way (Content-Length and ranges must hold).
    response["Cache-Control"] = "private, no-store, no-transform"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@protocol_view("GET", "HEAD", "POST", bearer=False)
def unknown(request, rest: str = ""):
    raise NotFound(f"No Delta Sharing endpoint at /delta-sharing/{rest}.")


TABLE = "shares/<str:share>/schemas/<str:schema>/tables/<str:table>"
urlpatterns = [
    path("shares", shares, name="shares"),
    path("shares/<str:share>", share, name="share"),
    path("shares/<str:share>/schemas", schemas, name="schemas"),
    path("shares/<str:share>/schemas/<str:schema>/tables", tables, name="tables"),
    path("shares/<str:share>/all-tables", all_tables, name="all-tables"),
    path(f"{TABLE}/version", table_version, name="version"),
    path(f"{TABLE}/metadata", table_metadata, name="metadata"),
    path(f"{TABLE}/query", table_query, name="query"),
    path(f"{TABLE}/changes", table_changes, name="changes"),
    path("files/<str:token>/<str:name>", file, name="file"),
    re_path(r"^(?P<rest>.*)$", unknown),
]
urls = (urlpatterns, "delta_sharing")


def endpoint_for(request) -> str:
    """The endpoint written into profiles: ``DELTA_SHARING_ENDPOINT`` or this server as the buyer reached it."""
    return settings.DELTA_SHARING_ENDPOINT or request.build_absolute_uri("/delta-sharing").rstrip("/")
