"""Trading and delivery endpoints: a third firm gets the same answer for a real id as for an unknown one."""

import uuid

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def outsider_and_ids(paid_contract, make_firm, actor_for):
    contract = paid_contract()
    outsider = APIClient()
    outsider.force_login(actor_for(make_firm("旁观者 Outsider Co")).user)
    ids = {"request": contract.access_request_id, "contract": contract.pk, "delivery": contract.delivery.pk}
    return outsider, ids


@pytest.mark.parametrize("method,template,kind", [
    ("get", "/api/v1/access-requests/{id}/", "request"),
    ("post", "/api/v1/access-requests/{id}/approve/", "request"),
    ("post", "/api/v1/access-requests/{id}/reject/", "request"),
    ("post", "/api/v1/access-requests/{id}/cancel/", "request"),
    ("get", "/api/v1/contracts/{id}/", "contract"),
    ("post", "/api/v1/contracts/{id}/pay/", "contract"),
    ("get", "/api/v1/deliveries/{id}/", "delivery"),
    ("post", "/api/v1/deliveries/{id}/links/", "delivery"),
])
def test_third_firm_cannot_tell_a_real_trading_id_from_an_unknown_one(outsider_and_ids, method, template, kind):
    client, ids = outsider_and_ids

    def call(obj_id):
        headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if method == "post" else {}
        body = {"reason": "Not our purpose."} if template.endswith("reject/") else {}
        response = getattr(client, method)(template.format(id=obj_id), body, format="json", **headers)
        return response.status_code, response.content.decode().replace(str(obj_id), "<id>")

    real, unknown = call(ids[kind]), call(uuid.uuid4())
    assert real == unknown
    assert real[0] == 404
