"""A listing that declares personal data shows no raw personal item to anyone but its seller and staff.

Walks every page and endpoint an anonymous visitor or another firm can reach (web catalog,
listing page, market; API catalog list and detail, versions, offers, the report endpoint)
and the admin list views, for a report stored by the check (sample redacted at the source)
and for an old report stored with a raw sample (redacted at display).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from exchange.models import QualityReport
from exchange.services import catalog as catalog_svc
from tests import factories
from tests.web.conftest import client_for

RAW = ["13800138000", "138-0013-8000", "zhang.san0@example.com", "11010519491231002X", "6222 0202 0011 2230",
       "6222020200112230"]
MASKED = ["138****8000", "z***@example.com", "110105********002X", "6222 **** **** 2230"]
SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
                     {"name": "contact", "type": "string"}, {"name": "label", "type": "string"}],
          "primaryKey": ["id"], "labelField": "label", "labels": ["pos", "neg"]}
CSV = ("id,name,contact,label\n"
       "1,zhang.san0@example.com,13800138000,pos\n"
       "2,张三,11010519491231002X,neg\n"
       "3,李四,6222 0202 0011 2230,pos\n"
       "4,王五,+86 138-0013-8000 或 6222020200112230,neg\n").encode()


@pytest.fixture
def pii_listing(seller_actor, staff_actor):
    dataset = factories.make_dataset(seller_actor, schema=SCHEMA, contains_personal_data=True,
                                     legal_basis="Consent of each person (PIPL art. 13(1))")
    version = factories.passed_version(seller_actor, dataset, CSV)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)
    catalog_svc.offer_create(actor=seller_actor, listing=listing, name="Standard", price_fen=1000, access_mode="instant")
    catalog_svc.listing_submit(actor=seller_actor, listing=listing)
    return catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=True)


def _store_raw_sample(listing):
    """An old report, stored before redaction at the source: raw sample rows and raw min/max."""
    report = QualityReport.objects.get(version=listing.version)
    data = dict(report.report)
    data["sample"] = [{"id": "1", "name": "zhang.san0@example.com", "contact": "13800138000", "label": "pos"},
                      {"id": "2", "name": "张三", "contact": "11010519491231002X", "label": "neg"},
                      {"id": "3", "name": "李四", "contact": "6222 0202 0011 2230", "label": "pos"}]
    data["columns"] = [{**c, "min": "13800138000", "max": "zhang.san0@example.com"} for c in data["columns"]]
    QualityReport.objects.filter(pk=report.pk).update(report=data)


def _public_bodies(client, listing) -> dict[str, str]:
    urls = [reverse("web:catalog"), reverse("web:catalog") + "?q=reviews", reverse("web:listing", args=[listing.pk]),
            "/api/catalog/", f"/api/catalog/{listing.pk}/", "/api/offers/", f"/api/versions/{listing.version.pk}/",
            f"/api/versions/{listing.version.pk}/quality-report/", "/api/versions/", "/api/listings/",
            f"/api/datasets/{listing.dataset.pk}/versions/"]
    market = [u for u in ("/market/",) if client.get(u).status_code != 404]
    return {u: client.get(u).content.decode() for u in urls + market}


def _assert_no_raw(bodies: dict[str, str]) -> None:
    leaks = {u: [r for r in RAW if r in b] for u, b in bodies.items()}
    assert {u: r for u, r in leaks.items() if r} == {}


def test_stored_report_holds_a_redacted_sample(pii_listing):
    report = QualityReport.objects.get(version=pii_listing.version).report
    text = str(report["sample"])
    assert report["pii"]["mobile"] == 2 and report["pii"]["bank_card"] == 2
    assert [r for r in RAW if r in text] == []
    assert all(m in text for m in MASKED)


@pytest.mark.parametrize("old_report", [False, True], ids=["new-report", "old-raw-report"])
def test_anonymous_visitor_sees_no_raw_personal_data(client, pii_listing, old_report):
    if old_report:
        _store_raw_sample(pii_listing)
    bodies = _public_bodies(client, pii_listing)
    _assert_no_raw(bodies)
    page = bodies[reverse("web:listing", args=[pii_listing.pk])]
    assert all(m in page for m in MASKED)


@pytest.mark.parametrize("old_report", [False, True], ids=["new-report", "old-raw-report"])
def test_another_firm_sees_no_raw_personal_data(buyer, pii_listing, old_report):
    if old_report:
        _store_raw_sample(pii_listing)
    bodies = _public_bodies(client_for(buyer), pii_listing)
    _assert_no_raw(bodies)
    assert "138****8000" in bodies[reverse("web:listing", args=[pii_listing.pk])]


def test_another_firms_api_key_sees_no_raw_personal_data(buyer, actor_for, pii_listing):
    from exchange.services import orgs as orgs_svc

    _store_raw_sample(pii_listing)
    _key, secret = orgs_svc.api_key_create(actor=actor_for(buyer), name="k", scopes=["read", "sell", "buy"])
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    bodies = {u: api.get(u).content.decode() for u in ("/api/catalog/", f"/api/catalog/{pii_listing.pk}/",
                                                        f"/api/versions/{pii_listing.version.pk}/quality-report/")}
    _assert_no_raw(bodies)


def test_admin_list_and_change_views_show_the_redacted_report(pii_listing):
    _store_raw_sample(pii_listing)
    staff = get_user_model().objects.create_superuser("boss2", "boss2@shujiao.example", "x-staff-pass-2026")
    admin = Client()
    admin.force_login(staff)
    urls = ["/admin/exchange/listing/", "/admin/exchange/datasetversion/", "/admin/exchange/qualityreport/",
            "/admin/exchange/dataset/", f"/admin/exchange/listing/{pii_listing.pk}/change/",
            f"/admin/exchange/datasetversion/{pii_listing.version.pk}/change/"]
    bodies = {u: admin.get(u).content.decode() for u in urls}
    assert all(admin.get(u).status_code == 200 for u in urls)
    _assert_no_raw(bodies)


def test_seller_sees_the_stored_report(seller, pii_listing):
    _store_raw_sample(pii_listing)
    page = client_for(seller).get(reverse("web:listing", args=[pii_listing.pk])).content.decode()
    assert "13800138000" in page
