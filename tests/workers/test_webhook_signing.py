"""Standard Webhooks signatures, verified with the official ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from workers.webhooks import signing


def test_new_secrets_are_whsec_base64_of_at_least_24_random_bytes():
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one[len("whsec_"):])) >= 24


def test_headers_verify_with_the_standardwebhooks_package():
    secret = signing.new_secret()
    body = b'{"data":{"contract":"c1"},"timestamp":"2026-12-01T12:00:00.000Z","type":"contract.paid"}'
    headers = signing.headers([secret], "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {"data": {"contract": "c1"}, "timestamp": "2026-12-01T12:00:00.000Z",
                                                     "type": "contract.paid"}
    assert headers["webhook-signature"].startswith("v1,")


def test_a_changed_body_id_or_timestamp_fails_verification():
    secret = signing.new_secret()
    now = int(time.time())
    headers = signing.headers([secret], "msg_1", now, b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', {**headers, "webhook-id": "msg_2"})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', {**headers, "webhook-timestamp": str(now + 1)})
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(b'{"a":1}', headers)


def test_during_a_rotation_both_secrets_verify_the_same_header():
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_9", int(time.time()), b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(b"{}", headers) == {}
    assert Webhook(old).verify(b"{}", headers) == {}
