"""Signing keys: encrypted at rest, create/rotate/retire (audited), publication, rotation verifies old packages."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from exchange.actor import Actor
from exchange.errors import Conflict
from exchange.models import AuditEvent, SigningKey
from exchange.services import signing
from workers.delivery import (
    key_id,
    load_private_key_pem,
    load_public_key,
    public_keys_from_jwks,
    verify_package,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_a_created_key_is_stored_encrypted_and_its_id_is_the_public_key_hash(settings):
    key = signing.signing_key_create(actor=SYSTEM)
    assert key.status == "active" and len(key.kid) == 16
    assert "ENCRYPTED PRIVATE KEY" in key.private_key_pem_encrypted
    assert "BEGIN PRIVATE KEY" not in key.private_key_pem_encrypted
    private = load_private_key_pem(key.private_key_pem_encrypted, settings.SIGNING_KEY_PASSPHRASE.encode())
    assert key_id(private) == key.kid == key_id(load_public_key(key.public_key_pem))
    with pytest.raises(ValueError):
        load_private_key_pem(key.private_key_pem_encrypted, b"wrong passphrase")
    assert AuditEvent.objects.filter(action="signing_key.created", object_id=str(key.pk)).count() == 1


def test_create_is_refused_while_a_key_is_active_and_nothing_is_written():
    signing.signing_key_create(actor=SYSTEM)
    before = (SigningKey.objects.count(), AuditEvent.objects.count())
    with pytest.raises(Conflict):
        signing.signing_key_create(actor=SYSTEM)
    assert (SigningKey.objects.count(), AuditEvent.objects.count()) == before


def test_no_passphrase_no_key(settings):
    settings.SIGNING_KEY_PASSPHRASE = ""
    with pytest.raises(CommandError, match="SIGNING_KEY_PASSPHRASE is not set"):
        call_command("signing_key", "create")
    assert SigningKey.objects.count() == 0


def test_rotate_retires_the_old_key_and_both_stay_published(client):
    old = signing.signing_key_create(actor=SYSTEM)
    new = signing.signing_key_rotate(actor=SYSTEM)
    old.refresh_from_db()
    assert (old.status, new.status) == ("retired", "active") and old.retired_at is not None

    doc = client.get("/.well-known/shujiao/keys.json").json()

    by_kid = {k["kid"]: k for k in doc["keys"]}
    assert set(by_kid) == {old.kid, new.kid}
    for key in (old, new):
        entry = by_kid[key.kid]
        assert (entry["kty"], entry["crv"], entry["use"]) == ("OKP", "Ed25519", "sig")
        raw = base64.urlsafe_b64decode(entry["x"] + "=" * (-len(entry["x"]) % 4))
        assert len(raw) == 32 and key_id(load_public_key(raw)) == key.kid
        assert "not_before" in entry
    assert by_kid[old.kid]["status"] == "retired" and "not_after" in by_kid[old.kid]
    assert by_kid[new.kid]["status"] == "active" and "not_after" not in by_kid[new.kid]
    assert set(public_keys_from_jwks(doc)) == {old.kid, new.kid}
    event = AuditEvent.objects.get(action="signing_key.rotated")
    assert event.details == {"kid": new.kid, "retired": old.kid, "active": new.kid}


def test_pem_endpoint_serves_each_key_and_404s_unknown_ones(client):
    key = signing.signing_key_create(actor=SYSTEM)
    response = client.get(f"/.well-known/shujiao/keys/{key.kid}.pem")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    assert response.content.decode() == key.public_key_pem
    assert b"PRIVATE" not in response.content
    assert client.get("/.well-known/shujiao/keys/0123456789abcdef.pem").status_code == 404
    assert client.get("/.well-known/shujiao/keys/not-a-kid.pem").status_code == 404
    jwks = client.get("/.well-known/shujiao/keys.json")
    assert jwks["Content-Type"] == "application/json" and jwks["Access-Control-Allow-Origin"] == "*"
    assert b"PRIVATE" not in jwks.content and b"private" not in jwks.content


def test_after_rotation_old_packages_verify_and_new_ones_use_the_new_key(ready_delivery, client):
    first = ready_delivery()
    signing.signing_key_rotate(actor=SYSTEM)
    second = ready_delivery()
    new_kid = SigningKey.objects.get(status="active", purpose="delivery").kid
    assert first.key_id != new_kid and second.key_id == new_kid
    keys = public_keys_from_jwks(json.loads(client.get("/.well-known/shujiao/keys.json").content))
    for delivery in (first, second):
        with default_storage.open(delivery.package_name, "rb") as f:
            result = verify_package(io.BytesIO(f.read()), public_keys=keys)
        assert result.ok, result.first_failure_detail


def test_command_create_list_rotate_retire(capsys):
    call_command("signing_key", "create")
    first = SigningKey.objects.get()
    call_command("signing_key", "rotate")
    second = SigningKey.objects.get(status="active")
    call_command("signing_key", "retire", second.kid)
    call_command("signing_key", "list")
    out = capsys.readouterr().out
    assert f"created active signing key {first.kid}" in out
    assert f"rotated: {second.kid} is now the active signing key" in out
    assert f"retired {second.kid}" in out
    assert f"{first.kid}  retired" in out and f"{second.kid}  retired" in out
    assert "PRIVATE" not in out
    with pytest.raises(CommandError, match="already retired"):
        call_command("signing_key", "retire", second.kid)
    with pytest.raises(CommandError, match="No signing key"):
        call_command("signing_key", "retire", "ffffffffffffffff")
    assert list(AuditEvent.objects.filter(action__startswith="signing_key.").values_list("action", flat=True)) == [
        "signing_key.created", "signing_key.rotated", "signing_key.retired"]
