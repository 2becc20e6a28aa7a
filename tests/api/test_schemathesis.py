"""The OpenAPI schema tells the truth: schemathesis, every check, as a buyer and as a seller.

The sweep runs schemathesis's own engine (the one behind ``schemathesis run --checks all``)
against the app on a server process (gunicorn) on loopback: probing, coverage, fuzzing and stateful
phases, a few examples per operation, deterministic. Any failure of any check fails the
test with schemathesis's report (check, operation, curl to reproduce).

Each firm is authenticated with its own API key holding every scope. API keys cannot
manage API keys (an owner's session or username/password does), so the key endpoints —
revocation included — answer 403 to this run and nothing it holds is destroyed; the test
checks afterwards that the firm's key still works.

Cost: about 2,860 requests per firm, nine tenths of them from the coverage phase; the
client side takes ~50 s of CPU per firm (measured with /usr/bin/time).
"""

from __future__ import annotations

import itertools

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.generation.modes import GenerationMode

from exchange.validators import credit_code_check_character
from tests.factories import SCHEMA, csv_bytes

pytestmark = [pytest.mark.services, pytest.mark.timeout(900)]

# A few examples per operation (fuzzing and stateful phases); the coverage phase is bounded by the schema.
MAX_EXAMPLES = 4
SEED = 20261203
_SIGNUPS = itertools.count(1)

# Rules of the dataset schema that JSON Schema cannot express (unique field names, a label
# field that names a field, a file whose bytes are CSV): the server refuses what breaks them
# with 400, and the OpenAPI says so in prose. Schema-valid *positive* cases are made
# consistent here, so positive_data_acceptance tests everything else; negative cases are
# left as generated.
def _coherent_table_schema(schema: dict) -> dict:
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        return schema
    return dict(SCHEMA)


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return case
    path = case.operation.path
    if path in ("/api/v1/datasets/", "/api/v1/datasets/{id}/") and isinstance(case.body, dict):
        body = dict(case.body)
        if "schema" in body:
            body["schema"] = _coherent_table_schema(body["schema"])
        if "kind" in body or "schema" in body:
            body["kind"] = "labelled"
            body.setdefault("schema", dict(SCHEMA))
        if body.get("contains_personal_data"):
            body["legal_basis"] = "Consent of every person, recorded by the collector."
        if "dialect" in body:
            # one character in two roles, or headerRows out of order, are cross-property rules
            body["dialect"] = {"delimiter": ",", "header": True}
        case.body = body
    if path == "/api/v1/listings/{id}/offers/" and case.method.upper() == "POST" and isinstance(case.body, dict):
        # a guarantee must hold for the listed version's own report (a relation to stored data), and a
        # fingerprint needs a column it can mark: positive offers carry neither
        case.body = {**case.body, "guarantee": None, "fingerprint": False}
        if not case.body.get("derivatives_allowed"):  # a revenue share needs derivatives allowed (cross-property)
            case.body["derivative_share_bp"] = 0
    if path == "/api/v1/age-recipients/" and case.method.upper() == "POST" and isinstance(case.body, dict):
        # an age recipient is Bech32 with a checksum: a real key, made the way age-keygen makes one
        from pyrage import x25519

        case.body = {**case.body, "recipient": str(x25519.Identity.generate().to_public())}
    if path == "/api/v1/audit/consistency/" and isinstance(case.query, dict):
        # Sizes must exist in the log (0 ≤ old ≤ new ≤ its size), a relation between two values and the data.
        from exchange.services.transparency import tree_size

        def size_or(value, default: int) -> int:
            return value if isinstance(value, int) and not isinstance(value, bool) else default

        from django.db import connections

        size = tree_size()
        connections.close_all()  # this runs in schemathesis's worker thread: leave no connection open
        new = min(size_or(case.query.get("new_size"), size), size)
        case.query = {**case.query, "new_size": new, "old_size": min(size_or(case.query.get("old_size"), 0), new)}
    if path == "/api/v1/auth/signup/" and isinstance(case.body, dict):
        # A sign-up needs a credit code with a valid check character, unused, and a fresh username
        # with a password Django's validators accept: uniqueness and checksums are beyond JSON Schema.
        n = next(_SIGNUPS)
        first17 = f"913401{n:04d}MA2N{n:03d}"[:17]
        case.body = {**case.body, "credit_code": first17 + credit_code_check_character(first17),
                     "username": f"sweep-{n}-{SEED}", "password": f"Quiet-Harbour-{n}-Lantern"}
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    """A positive upload sends a real CSV named *.csv (the server sniffs the bytes and checks the extension)."""
    meta = case.meta
    if (meta is None or meta.generation.mode != GenerationMode.POSITIVE or case.method.upper() != "POST"
            or case.operation.path != "/api/v1/datasets/{id}/versions/" or not isinstance(case.body, dict)):
        return
    changelog = case.body.get("changelog")
    kwargs["files"] = [("file", ("reviews.csv", csv_bytes(5), "text/csv")),
                       *([("changelog", (None, changelog))] if isinstance(changelog, str) else [])]


def _config(api_key: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Api-Key {api_key}"},
        "checks": {"enabled": True},  # every check, as `--checks all`
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       # A failing case is reported as found: shrinking it would only cost time here.
                       "no-shrink": True,
                       # DRF refuses NUL characters in text (400); the schema cannot say so.
                       "allow-x00": False},
        # Two unexpected methods per path (not all seven) still check every 405 and its Allow header.
        "phases": {"coverage": {"unexpected-methods": ["DELETE", "PUT"]}},
        "workers": 1,
    })


def _sweep(base_url: str, api_key: str) -> tuple[list[str], int]:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/?format=json", config=_config(api_key))
    failures: list[str] = []
    cases = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            pytest.fail(f"schemathesis stopped: {event.exception!r}")
        if isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: error {event.info.title}: {event.info.message}")
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(f"{event.recorder.label} [{check.name}] {failure.title}: {failure.message}\n"
                                        f"    {check.failure_info.code_sample}")
    return sorted(set(failures)), cases


@pytest.fixture
def firms(transactional_db, make_firm, actor_for, staff_actor):
    """A seller with a published listing, a buyer with a paid contract, each with a key of every scope."""
    from exchange.actor import Actor
    from exchange.services import orgs
    from exchange.services.signing import signing_key_ensure
    from exchange.services.trading import access_request_create, wallet_topup
    from tests.factories import published_listing

    signing_key_ensure(actor=Actor.system("test"))
    seller, buyer = make_firm("卖方 Seller Co"), make_firm("买方 Buyer Co")
    listing = published_listing(actor_for(seller), staff_actor, price_fen=5000, access_mode="instant")
    wallet_topup(actor=staff_actor, organization=buyer, amount_fen=50_000, memo="bank ref 7")
    access_request_create(actor=actor_for(buyer), offer=listing.offers.get(),
                          purpose="Training an intent classifier for our customer service.")
    scopes = ["read", "sell", "buy", "webhooks"]
    _, seller_key = orgs.api_key_create(actor=actor_for(seller), name="schemathesis", scopes=scopes)
    _, buyer_key = orgs.api_key_create(actor=actor_for(buyer), name="schemathesis", scopes=scopes)
    return {"seller": seller_key, "buyer": buyer_key}


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_every_check_passes_for_every_operation(role, firms, web_server):
    server = web_server()
    failures, cases = _sweep(server.url, firms[role])

    assert cases > 100, f"only {cases} cases ran: the sweep did not reach the operations"
    assert not failures, f"{len(failures)} schemathesis failures as the {role}:\n\n" + "\n\n".join(failures)
    # The run could not revoke or otherwise spoil the firm's key.
    answer = requests.get(f"{server.url}/api/v1/organization/",
                          headers={"Authorization": f"Api-Key {firms[role]}"}, timeout=10)
    assert answer.status_code == 200, answer.text
