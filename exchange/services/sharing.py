"""Delta Sharing (SPEC §10): profile files, their bearer tokens, and what a token may read.

One token reads one delivery's table: the share is the contract (``contract_<12 hex>``),
with one schema (``shujiao``) holding one table named after the delivered data file.
Names carry no dots (the client splits ``share.schema.table`` on them) and are matched
case-insensitively, as the protocol says.

A token is issued with the profile (shown once; only its SHA-256 is stored), expires with
the licence, and dies when the delivery is revoked, the contract refunded, or a new profile
is downloaded (one live token per delivery). File URLs come from
``services/downloads.parquet_link_create`` and are counted by the same rule as packages.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, NotFound, Unauthenticated
from exchange.models import Contract, Delivery, SharingToken
from exchange.services.audit import audit_record
from workers.delivery.keys import iso_utc

SCHEMA_NAME = "shujiao"
PROFILE_VERSION = 1


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TableName:
    share: str
    schema: str
    table: str

    @property
    def url_fragment(self) -> str:
        """What follows ``#`` in ``load_as_pandas(profile + "#...")``."""
        return f"{self.share}.{self.schema}.{self.table}"


def table_name(delivery: Delivery) -> TableName:
    """The table's coordinates; fixed at build time (contract id and delivered file name)."""
    stem = (delivery.data_path or "data/dataset").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").lower()
    table = re.sub(r"[^a-z0-9_]+", "_", text).strip("_")[:100] or "dataset"
    return TableName(share=f"contract_{delivery.contract_id.hex[:12]}", schema=SCHEMA_NAME, table=table)


@dataclass(frozen=True)
class Profile:
    """A downloaded profile: the file's JSON (with the one-time token) and the table it reads."""

    token: SharingToken
    body: dict
    table: TableName

    @property
    def filename(self) -> str:
        return f"shujiao-{self.table.share}.share"


def profile_issue(*, actor: Actor, delivery_id, endpoint: str) -> Profile:
    """A new profile file for the buyer of a ready delivery with a Parquet copy.

    Revokes the delivery's previous token (a profile is re-downloadable but only the newest
    works). ``expirationTime`` is the licence's end.
    """
    from exchange.services.downloads import buyer_delivery

    delivery = buyer_delivery(actor=actor, delivery_id=delivery_id, what="read this delivery over Delta Sharing")
    _ensure_shareable(delivery, error=Conflict)
    token = secrets.token_urlsafe(32)  # 256 bits
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)  # one issuer at a time per delivery
        _ensure_shareable(locked, error=Conflict)
        tokens_revoke(delivery=locked, reason="replaced by a newly downloaded profile", actor=actor)
        # The row lock serialises issuers; the partial unique index (one live token per delivery)
        # refuses a second live token whatever the code above does.
        sharing = SharingToken.objects.create(delivery=locked, organization=actor.organization,
                                              token_hash=_hash(token), created_by=actor.label,
                                              expires_at=locked.expires_at)
        audit_record(actor=actor, action="delta_sharing.profile_issued", obj=locked, organization=actor.organization,
                     details={"sharing_token": str(sharing.pk), "expires_at": sharing.expires_at,
                              "table": table_name(locked).url_fragment})
    body = {"shareCredentialsVersion": PROFILE_VERSION, "endpoint": endpoint.rstrip("/"), "bearerToken": token,
            "expirationTime": iso_utc(sharing.expires_at)}
    return Profile(token=sharing, body=body, table=table_name(locked))


def _ensure_shareable(delivery: Delivery, *, error=Conflict) -> None:
    if delivery.status != Delivery.Status.READY or (delivery.expires_at and delivery.expires_at <= timezone.now()):
        state = "expired" if delivery.status == Delivery.Status.READY else delivery.get_status_display().lower()
        raise error(f"This delivery is {state}: it cannot be read over Delta Sharing.", code="delivery_not_shareable")
    if not delivery.parquet_name:
        reason = f" ({delivery.parquet_error})" if delivery.parquet_error else ""
        raise error(f"This delivery has no Parquet copy to share{reason}; download the ZIP instead.",
                    code="no_table")


def tokens_revoke(*, delivery: Delivery, reason: str, actor: Actor) -> int:
    """Revoke the delivery's live tokens (caller's transaction); audited. Returns how many."""
    live = list(SharingToken.objects.filter(delivery=delivery, revoked_at__isnull=True).values_list("pk", flat=True))
    if not live:
        return 0
    SharingToken.objects.filter(pk__in=live).update(revoked_at=timezone.now(), revoke_reason=reason[:300])
    audit_record(actor=actor, action="delta_sharing.token_revoked", obj=delivery, organization=delivery.contract.buyer,
                 details={"sharing_tokens": [str(pk) for pk in live], "reason": reason})
    return len(live)


def tokens_revoke_for_contract(*, contract: Contract, reason: str, actor: Actor) -> int:
    """Refund or another end of the contract: its deliveries' tokens die (caller's transaction)."""
    deliveries = Delivery.objects.filter(contract=contract).select_related("contract__buyer").order_by("created_at")
    return sum(tokens_revoke(delivery=delivery, reason=reason, actor=actor) for delivery in deliveries)


@dataclass(frozen=True)
class SharingAccess:
    """A checked bearer token: what it reads and who acts."""

    token: SharingToken
    delivery: Delivery
    name: TableName
    actor: Actor


def access_check(*, bearer: str, origin_ip: str = "") -> SharingAccess:
    """The access a bearer token gives, checked now.

    Unknown or missing token → Unauthenticated (401); revoked, expired (the licence ended),
    or a delivery that is no longer live or a contract refunded → Forbidden (403).
    """
    if not bearer or len(bearer) > 200:
        raise Unauthenticated("A bearer token from a Shujiao profile file is required.", code="unauthenticated")
    token = (SharingToken.objects.select_related("delivery__contract__buyer", "organization")
             .filter(token_hash=_hash(bearer)).first())
    if token is None:
        raise Unauthenticated("This bearer token is not known to the exchange.", code="unauthenticated")
    now = timezone.now()
    if token.revoked_at is not None:
        raise Forbidden(f"This sharing token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC "
                        f"({token.revoke_reason}).", code="token_revoked")
    if token.expires_at <= now:
        raise Forbidden(f"This sharing token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC with the licence.",
                        code="token_expired")
    delivery = token.delivery
    if delivery.contract.status == Contract.Status.REFUNDED:
        raise Forbidden("The contract was refunded: its table is no longer shared.", code="contract_refunded")
    _ensure_shareable(delivery, error=Forbidden)
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        SharingToken.objects.filter(pk=token.pk).update(last_used_at=now)  # best effort, at most once a minute
    actor = Actor.for_sharing_token(token, organization=token.organization, origin_ip=origin_ip)
    return SharingAccess(token=token, delivery=delivery, name=table_name(delivery), actor=actor)


def table_resolve(access: SharingAccess, *, share: str, schema: str | None = None, table: str | None = None) -> None:
    """Raise NotFound unless the names (case-insensitive) are this token's share/schema/table."""
    name = access.name
    if share.lower() != name.share:
        raise NotFound(f"Share '{share}' does not exist or is not shared with this token.", code="no_share")
    if schema is not None and schema.lower() != name.schema:
        raise NotFound(f"Schema '{schema}' does not exist in share '{share}'.", code="no_schema")
    if table is not None and table.lower() != name.table:
        raise NotFound(f"Table '{table}' does not exist in schema '{schema}'.", code="no_table")


def table_query(access: SharingAccess):
    """A query of the table: one fresh self-authorising URL for the Parquet copy (audited;
    its first fetch counts one download). Returns (link, url token)."""
    from exchange.services.downloads import parquet_link_create

    with transaction.atomic():
        delivery = Delivery.objects.select_related("contract").get(pk=access.delivery.pk)
        link, url_token = parquet_link_create(sharing_token=access.token, delivery=delivery,
                                              created_by=access.actor.label)
        audit_record(actor=access.actor, action="delta_sharing.queried", obj=delivery,
                     organization=access.token.organization, details={
                         "link": str(link.pk), "expires_at": link.expires_at, "table": access.name.url_fragment,
                         "downloads_used": delivery.downloads_used, "download_limit": delivery.contract.download_limit})
    return link, url_token


def table_version(delivery: Delivery) -> int:
    """``delta-table-version``: the dataset version delivered (the buyer's table never changes)."""
    return int(delivery.manifest.get("dataset", {}).get("version") or 1) if delivery.manifest else 1


def expires_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
