"""A firm's whole path, with real processes: it buys a table, a real Celery worker builds the
delivery (ZIP and Parquet copy) and sends ``delivery.ready`` to the firm's webhook receiver;
the firm's system then fetches a profile over REST with its API key and reads the table
with the official ``delta-sharing`` client against the live server."""

from __future__ import annotations

import json
import urllib.request

import pytest
from standardwebhooks.webhooks import Webhook

from exchange.models import Delivery
from tests.conftest import wait_until
from tests.delivery.test_downloads import api_key
from tests.webhooks.conftest import make_endpoint, receiver  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]


def test_receiver_gets_delivery_ready_then_the_client_reads_the_table(
        make_firm, make_endpoint, receiver, paid_contract, celery_worker_process, live_server, run_client):  # noqa: F811
    buyer = make_firm("买方 Buyer Co")
    _endpoint, secret = make_endpoint(buyer, receiver.url, events=["delivery.ready"])
    worker = celery_worker_process(queues="default,delivery", concurrency=2)

    contract = paid_contract(buyer=buyer)  # committed: the build and then the webhook go to the worker

    wait_until(lambda: receiver.accepted, timeout=120,
               message=f"delivery.ready at the receiver; worker log:\n{worker.output()[-4000:]}")
    (call,) = receiver.accepted
    event = Webhook(secret).verify(call.body, call.headers)
    assert event["type"] == "delivery.ready"
    delivery_id = event["data"]["delivery"]
    assert event["data"]["contract"] == str(contract.pk) and event["data"]["status"] == "ready"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.parquet_name.endswith(".parquet") and delivery.parquet_rows == 20

    key = api_key(buyer, scopes=("read", "buy"))
    request = urllib.request.Request(f"{live_server.url}/api/v1/deliveries/{delivery_id}/sharing-profile/",
                                     method="POST", headers={"Authorization": f"Api-Key {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        table = response.headers["Shujiao-Delta-Sharing-Table"]
        profile = json.loads(response.read())
    assert profile["endpoint"] == f"{live_server.url}/delta-sharing"

    out = run_client("load", profile, table)

    assert out.get("rows") == 20, out
    assert out["records"][4] == {"id": 5, "text": "review number 5 很好", "label": "pos"}
    assert Delivery.objects.get(pk=delivery_id).downloads_used == 1
