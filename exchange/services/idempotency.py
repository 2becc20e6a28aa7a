"""Idempotent API requests: an ``Idempotency-Key`` makes a retried POST happen once.

The first request with a key runs and, when it succeeds (2xx), its status and body are
stored for the firm under that key; a retry with the same key and the same request gets
that stored response again without running anything. The same key with a different
request is refused with 422. Failed requests (4xx) store nothing, so a client may fix the
cause (e.g. top up its wallet) and retry with the same key.

Two requests racing with one key: the record is inserted first, inside the transaction
that does the work, so the second insert waits on the unique index until the first
commits and then replays its response (or runs, if the first failed and rolled back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from exchange.errors import InvalidInput, Unprocessable
from exchange.models import IdempotencyRecord, Organization

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


class _KeyTaken(Exception):
    pass


class _NotStored(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status, self.body = status, body


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 over the method, path and canonical JSON of the parsed body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def clean_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters.",
                           fields={"Idempotency-Key": ["Use a fresh random value (e.g. a UUID) per request."]})
    return key


def _replay(record: IdempotencyRecord, request_hash: str) -> StoredResponse:
    if record.request_hash != request_hash:
        raise Unprocessable(
            f"The Idempotency-Key {record.key!r} was already used for a different request; "
            "use a new key for a new request.", code="idempotency_key_reused",
            fields={"Idempotency-Key": ["Already used with a different request body or endpoint."]})
    return StoredResponse(record.response_status, record.response_body, replayed=True)


def idempotent_run(*, organization: Organization, key: str, request_hash: str,
                   call: Callable[[], tuple[int, Any]]) -> StoredResponse:
    """Run ``call`` (returning status and JSON-able body) at most once per firm and key."""
    key = clean_key(key)
    for _ in range(2):  # a second pass only after losing an insert race to a committed twin
        record = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
        if record is not None:
            return _replay(record, request_hash)
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        record = IdempotencyRecord.objects.create(organization=organization, key=key,
                                                                  request_hash=request_hash, response_status=0,
                                                                  response_body={})
                except IntegrityError:
                    raise _KeyTaken from None
                status, body = call()
                body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
                if not 200 <= status < 300:
                    raise _NotStored(status, body)
                record.response_status, record.response_body = status, body
                record.save(update_fields=["response_status", "response_body"])
            return StoredResponse(status, body, replayed=False)
        except _KeyTaken:
            continue
        except _NotStored as result:
            return StoredResponse(result.status, result.body, replayed=False)
    record = IdempotencyRecord.objects.get(organization=organization, key=key)
    return _replay(record, request_hash)
