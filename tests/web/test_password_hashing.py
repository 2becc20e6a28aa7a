"""Passwords are hashed with Argon2id at OWASP's parameters; older hashes are upgraded at login."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    identify_hasher,
    make_password,
)
from django.urls import reverse

from marketplace.settings import base

PASSWORD = "a-Long-enough-pass-2026"


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS  # the test settings use MD5 for speed


def _params(encoded: str) -> str:
    algorithm, variety, version, params, _salt, _hash = encoded.split("$")
    return f"{algorithm}${variety}${version}${params}"


def test_new_passwords_are_argon2id_at_owasps_minimum(production_hashers):
    # OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 degree of parallelism
    assert _params(make_password(PASSWORD)) == "argon2$argon2id$v=19$m=19456,t=2,p=1"


@pytest.mark.parametrize("old_hasher", [Argon2PasswordHasher, PBKDF2PasswordHasher],
                         ids=["django-argon2-defaults", "pbkdf2"])
def test_an_older_hash_verifies_and_is_rehashed_at_login(client, db, production_hashers, old_hasher):
    user = get_user_model().objects.create_user("owner", "o@example.com")
    user.password = old_hasher().encode(PASSWORD, old_hasher().salt())
    user.save(update_fields=["password"])
    old = user.password

    response = client.post(reverse("web:login"), {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password != old
    assert _params(user.password) == "argon2$argon2id$v=19$m=19456,t=2,p=1"
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_a_wrong_password_neither_logs_in_nor_rehashes(client, db, production_hashers):
    user = get_user_model().objects.create_user("owner", "o@example.com")
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    old = user.password

    response = client.post(reverse("web:login"), {"username": "owner", "password": "wrong-pass-2026-long"})

    assert response.status_code == 200 and "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.password == old and identify_hasher(old).algorithm == "argon2"
