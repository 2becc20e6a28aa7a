"""Download links and downloads of ready deliveries: short-lived links bound to the buyer's
firm, counted against the licence's download limit, with HTTP range support (SPEC §5).

Split from ``services/delivery.py`` (which builds and settles deliveries)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, DomainError, Forbidden, Gone, NotFound
from exchange.models import Delivery, DownloadLink
from exchange.services.audit import audit_record


# --- Download links and downloads ----------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _limit_message(delivery: Delivery) -> str:
    limit = delivery.contract.download_limit
    return (f"The licence allows {limit} download{'s' if limit != 1 else ''} of this delivery and all "
            f"{limit} have been used.")


def _ensure_live(delivery: Delivery) -> None:
    if delivery.status == Delivery.Status.EXPIRED or (
            delivery.status == Delivery.Status.READY and delivery.expires_at and delivery.expires_at <= timezone.now()):
        raise Gone(f"This delivery expired on {delivery.expires_at:%Y-%m-%d %H:%M} UTC: the licence term is over.",
                   code="delivery_expired")
    if delivery.status == Delivery.Status.REVOKED:
        raise Gone("This delivery was revoked by the exchange.", code="delivery_revoked")
    if delivery.status != Delivery.Status.READY:
        raise Conflict(f"This delivery is {delivery.get_status_display().lower()}, not ready to download.",
                       code="delivery_not_ready")


def buyer_delivery(*, actor: Actor, delivery_id, what: str) -> Delivery:
    """The delivery, for a member of its buying firm with the ``buy`` scope. Unknown to other
    firms (404); the seller is told it is the buyer's (403). ``what`` names the act in messages
    ("download this delivery")."""
    org = actor.organization
    if org is None:
        raise Forbidden(f"Only members of the buying firm can {what}.", code="no_firm")
    delivery = (Delivery.objects.select_related("contract").filter(pk=delivery_id)
                .filter(Q(contract__buyer=org) | Q(contract__seller=org)).first())
    if delivery is None:
        raise NotFound("No such delivery.")
    if delivery.contract.buyer_id != org.pk:
        raise Forbidden(f"Only the buying firm can {what}.", code="not_buyer")
    if not actor.has_scope("buy"):
        raise Forbidden("This API key lacks the 'buy' scope.", code="missing_scope")
    return delivery


def download_link_create(*, actor: Actor, delivery_id) -> tuple[DownloadLink, str]:
    """A short-lived download link for the buyer firm. Returns the link and its token
    (shown once; only its hash is stored). Creating a link is free; its first use counts
    one download against the licence limit, so creation is refused once the limit is used.
    """
    delivery = buyer_delivery(actor=actor, delivery_id=delivery_id, what="download this delivery")
    org = actor.organization
    _ensure_live(delivery)
    if delivery.downloads_used >= delivery.contract.download_limit:
        raise Forbidden(_limit_message(delivery), code="download_limit_reached")
    token = secrets.token_urlsafe(32)  # 256 bits
    with transaction.atomic():
        link = DownloadLink.objects.create(
            delivery=delivery, organization=org, token_hash=_token_hash(token), created_by=actor.label,
            expires_at=timezone.now() + timedelta(seconds=settings.DOWNLOAD_LINK_TTL_SECONDS))
        audit_record(actor=actor, action="delivery.link_created", obj=delivery, organization=org,
                     details={"link": str(link.pk), "expires_at": link.expires_at,
                              "downloads_used": delivery.downloads_used,
                              "download_limit": delivery.contract.download_limit})
    return link, token


@dataclass(frozen=True)
class DownloadGrant:
    delivery: Delivery
    link: DownloadLink
    counted: bool
    byte_range: tuple[int, int] | None  # inclusive (first, last) for a 206, None for the whole package


class RangeNotSatisfiable(DomainError):
    status = 416
    code = "range_not_satisfiable"

    def __init__(self, message: str, *, size: int):
        super().__init__(message)
        self.size = size


_RANGE_SPEC_RE = re.compile(r"(\d*)-(\d*)")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks for, or None for the whole file.

    One range only (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``). Units other than bytes are
    ignored (whole file, as RFC 9110 allows); a malformed, multi-part or unsatisfiable
    bytes range raises RangeNotSatisfiable.
    """
    header = (header or "").strip()
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    spec = spec.strip()
    if "," in spec:
        raise RangeNotSatisfiable("Only one byte range per request is supported.", size=size)
    m = _RANGE_SPEC_RE.fullmatch(spec)
    if not m or not (m[1] or m[2]) or len(spec) > 40:
        raise RangeNotSatisfiable(f"Malformed Range header {header[:60]!r}; expected e.g. 'bytes=0-1023'.", size=size)
    if not m[1]:  # suffix: the last n bytes
        n = int(m[2])
        if n == 0:
            raise RangeNotSatisfiable("A suffix range of zero bytes selects nothing.", size=size)
        return max(0, size - n), size - 1
    first = int(m[1])
    last = int(m[2]) if m[2] else size - 1
    # Checked first: "bytes=500-" on a 100-byte package starts past the end (its implied
    # last byte, 99, would otherwise read as a range that ends before it starts).
    if first >= size:
        raise RangeNotSatisfiable(f"Range {spec} starts beyond the package's {size} bytes.", size=size)
    if last < first:
        raise RangeNotSatisfiable(f"Range {spec} ends before it starts.", size=size)
    return first, min(last, size - 1)


def download_authorize(*, actor: Actor, token: str, range_header: str = "", if_range: str = "",
                       record: bool = True) -> DownloadGrant:
    """Check a download request and record it (audited); the caller then streams the package.

    Refusals: unknown or tampered token, or another firm's caller → Forbidden; expired
    link, expired or revoked delivery → Gone; licence limit used up → Forbidden naming
    the limit. The link's first use counts one download (a conditional increment, so
    concurrent first uses of several links never exceed the limit).
    """
    if not token or len(token) > 200:
        raise Forbidden("This download link is not valid.", code="invalid_link")
    link = (DownloadLink.objects.select_related("delivery__contract__buyer")
            .filter(token_hash=_token_hash(token), kind=DownloadLink.Kind.PACKAGE).first())
    if link is None:
        raise Forbidden("This download link is not valid.", code="invalid_link")
    org = actor.organization
    if org is None or org.pk != link.organization_id:
        raise Forbidden("This download link belongs to another firm.", code="not_your_link")
    if not actor.has_scope("buy"):
        raise Forbidden("This API key lacks the 'buy' scope.", code="missing_scope")
    now = timezone.now()
    if link.expires_at <= now:
        raise Gone("This download link has expired; create a new one from the delivery.", code="link_expired")
    delivery = link.delivery
    _ensure_live(delivery)
    byte_range = parse_range(range_header, delivery.package_size)
    if byte_range is not None and if_range and if_range.strip() != delivery.etag:
        byte_range = None  # the client's partial copy is of another file: send the whole package
    if not record:  # HEAD: every check above, but no bytes are sent, so nothing is counted or audited
        return DownloadGrant(delivery=delivery, link=link, counted=False, byte_range=byte_range)
    counted = _record_use(actor=actor, link=link, delivery=delivery, byte_range=byte_range, now=now,
                          details={"package_sha256": delivery.package_sha256})
    return DownloadGrant(delivery=delivery, link=link, counted=counted, byte_range=byte_range)


def _record_use(*, actor: Actor, link: DownloadLink, delivery: Delivery, byte_range, now, details: dict) -> bool:
    """The one rule for counting a download, for packages and Parquet copies alike: a link's
    first use counts one download against the licence limit (a conditional increment, so
    concurrent first uses of several links never exceed it); every served request is audited.
    Returns whether this request was counted; raises Forbidden when the limit is used up."""
    with transaction.atomic():
        counted = False
        first = DownloadLink.objects.filter(pk=link.pk, first_used_at__isnull=True).update(first_used_at=now)
        if first:
            counted = bool(Delivery.objects.filter(pk=delivery.pk, downloads_used__lt=delivery.contract.download_limit)
                           .update(downloads_used=F("downloads_used") + 1))
            if not counted:  # raising rolls back the first use too
                raise Forbidden(_limit_message(delivery), code="download_limit_reached")
        DownloadLink.objects.filter(pk=link.pk).update(requests=F("requests") + 1)
        delivery.refresh_from_db(fields=["downloads_used"])
        audit_record(actor=actor, action="delivery.downloaded", obj=delivery, organization=link.organization,
                     details={
                         "link": str(link.pk), "file": link.kind,
                         "range": f"bytes={byte_range[0]}-{byte_range[1]}" if byte_range else "", "counted": counted,
                         "downloads_used": delivery.downloads_used, "download_limit": delivery.contract.download_limit,
                         **details})
    return counted


# --- Parquet copies (Delta Sharing file URLs) ------------------------------------------
def parquet_link_create(*, sharing_token, delivery: Delivery, created_by: str) -> tuple[DownloadLink, str]:
    """A self-authorising, short-lived URL token for the delivery's Parquet copy, handed out
    by a Delta Sharing query. Free to create; its first fetch counts one download. Refused
    (like a package link) once every download of the licence is used."""
    if delivery.downloads_used >= delivery.contract.download_limit:
        raise Forbidden(_limit_message(delivery), code="download_limit_reached")
    token = secrets.token_urlsafe(32)  # 256 bits
    link = DownloadLink.objects.create(
        delivery=delivery, organization_id=sharing_token.organization_id, token_hash=_token_hash(token),
        kind=DownloadLink.Kind.PARQUET, sharing_token=sharing_token, created_by=created_by,
        expires_at=timezone.now() + timedelta(seconds=settings.DELTA_SHARING_URL_TTL_SECONDS))
    return link, token


def parquet_fetch_authorize(*, token: str, range_header: str = "", if_range: str = "", origin_ip: str = "",
                            record: bool = True) -> DownloadGrant:
    """Check a fetch of a Parquet file URL and record it (counted and audited by
    ``_record_use``); the token in the URL is the whole authorisation.

    Every refusal is Forbidden (what a pre-signed URL answers): unknown token, expired URL,
    revoked or expired sharing token, delivery no longer live, limit used up."""
    if not token or len(token) > 200:
        raise Forbidden("This file URL is not valid.", code="invalid_link")
    link = (DownloadLink.objects.select_related("delivery__contract", "sharing_token", "organization")
            .filter(token_hash=_token_hash(token), kind=DownloadLink.Kind.PARQUET).first())
    if link is None:
        raise Forbidden("This file URL is not valid.", code="invalid_link")
    now = timezone.now()
    if link.expires_at <= now:
        raise Forbidden("This file URL has expired; query the table again for a fresh one.", code="link_expired")
    sharing = link.sharing_token
    if sharing is None or sharing.revoked_at is not None:
        raise Forbidden("The sharing token this file URL was issued to has been revoked.", code="token_revoked")
    if sharing.expires_at <= now:
        raise Forbidden("The sharing token this file URL was issued to has expired with the licence.",
                        code="token_expired")
    delivery = link.delivery
    try:
        _ensure_live(delivery)
    except DomainError as exc:
        raise Forbidden(exc.message, code=exc.code) from None
    if not delivery.parquet_name:
        raise Forbidden("This delivery has no Parquet copy.", code="no_table")
    byte_range = parse_range(range_header, delivery.parquet_size or 0)
    if byte_range is not None and if_range and if_range.strip() != parquet_etag(delivery):
        byte_range = None
    if not record:
        return DownloadGrant(delivery=delivery, link=link, counted=False, byte_range=byte_range)
    actor = Actor.for_sharing_token(sharing, organization=link.organization, origin_ip=origin_ip)
    counted = _record_use(actor=actor, link=link, delivery=delivery, byte_range=byte_range, now=now,
                          details={"parquet_sha256": delivery.parquet_sha256, "sharing_token": str(sharing.pk)})
    return DownloadGrant(delivery=delivery, link=link, counted=counted, byte_range=byte_range)


def parquet_etag(delivery: Delivery) -> str:
    return f'"{delivery.parquet_sha256}"'


def link_delivery_id(*, token: str, organization) -> Any:
    """The delivery a link was made for, if it is this firm's link (to offer "create a new link"
    on an error page); None for an unknown token or another firm's link."""
    if not token or len(token) > 200 or organization is None:
        return None
    return (DownloadLink.objects.filter(token_hash=_token_hash(token), organization_id=organization.pk)
            .values_list("delivery_id", flat=True).first())
