"""Lineage on the web upload form: a seller uploads a version and says, in the same form, which
licensed version it was derived from (services.catalog.version_upload -> services.lineage). Each
refusal is a form error naming the problem, and a refused upload stores neither a version nor a link."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from exchange.models import AuditEvent, Contract, DatasetVersion, Delivery, Listing, VersionLineage
from tests.factories import csv_bytes, make_dataset
from tests.trading.conftest import build_listing

pytestmark = pytest.mark.django_db


def client_for(org) -> Client:
    client = Client()
    client.force_login(org.memberships.select_related("user").first().user)
    return client


def _upload(client, dataset, json=False, **fields):
    data = {"file": SimpleUploadedFile("derived.csv", csv_bytes(12)), "changelog": "cleaned", **fields}
    headers = {"accept": "application/json"} if json else {}
    return client.post(f"/sell/datasets/{dataset.pk}/", data, headers=headers)


def _refused(response, dataset, text):
    """The page again (200) with ``text`` under the derived_from field, and nothing stored."""
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(text in e for e in errors.get("derived_from", [])), errors
    assert escape(text) in response.content.decode()
    assert not DatasetVersion.objects.filter(dataset=dataset).exists()
    assert not VersionLineage.objects.exists()
    return errors["derived_from"]


def test_upload_form_offers_the_licences_and_records_the_lineage(chain, actor_for):
    c = chain(share_bp=1250)
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    page = client.get(f"/sell/datasets/{dataset.pk}/").content.decode()
    assert 'id="upload-lineage"' in page and 'name="derived_from"' in page
    assert f"{c.upstream_offer.listing.title} v1 (share 12.5%)" in page

    upstream = c.upstream_offer.listing.version
    r = _upload(client, dataset, derived_from=str(upstream.pk), lineage_steps=["relabelled", "deduplicated"],
                lineage_notes="merged near-duplicates")

    assert r.status_code == 302
    version = DatasetVersion.objects.get(dataset=dataset)
    link = VersionLineage.objects.get(version=version)
    assert (link.upstream, link.licence, link.share_bp) == (upstream, c.licence, 1250)
    assert (link.steps, link.notes) == (["deduplicated", "relabelled"], "merged near-duplicates")
    assert AuditEvent.objects.filter(action="lineage.declared", object_id=str(version.pk)).count() == 1
    assert f"Derived from {upstream.dataset.title}" in client.get(f"/sell/datasets/{dataset.pk}/").content.decode()


def test_upload_without_a_source_records_no_lineage(chain, actor_for):
    c = chain()
    dataset = make_dataset(actor_for(c.licensee))
    r = _upload(client_for(c.licensee), dataset, derived_from="", lineage_steps=["filtered"])
    assert r.status_code == 302
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1 and not VersionLineage.objects.exists()


def test_unknown_and_private_sources_are_the_same_refusal(chain, actor_for, make_firm):
    c = chain()
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    unknown = _refused(_upload(client, dataset, derived_from=str(uuid.uuid4()), lineage_steps=["filtered"]),
                       dataset, "No such dataset version.")
    garbage = _refused(_upload(client, dataset, derived_from="v1 of theirs", lineage_steps=["filtered"]),
                       dataset, "No such dataset version.")
    # another firm's version on a draft listing: not visible, so refused exactly as an unknown id
    private = build_listing(make_firm("Secret Co"), status=Listing.Status.DRAFT).listing.version
    hidden = _refused(_upload(client, dataset, derived_from=str(private.pk), lineage_steps=["filtered"]),
                      dataset, "No such dataset version.")
    assert unknown == garbage == hidden
    assert private.dataset.title not in client.get(f"/sell/datasets/{dataset.pk}/").content.decode()


def test_a_source_without_a_licence_is_refused(chain, actor_for, make_firm):
    c = chain()
    dataset = make_dataset(actor_for(c.licensee))
    other = build_listing(make_firm("Other Seller"), derivatives_allowed=True, derivative_share_bp=500)
    _refused(_upload(client_for(c.licensee), dataset, derived_from=str(other.listing.version_id),
                     lineage_steps=["filtered"]), dataset, "holds no licence to version 1")


def test_a_licence_that_forbids_derivatives_is_refused(chain, actor_for):
    c = chain(derivatives_allowed=False, share_bp=0)
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    assert "(derivatives not allowed)" in client.get(f"/sell/datasets/{dataset.pk}/").content.decode()
    _refused(_upload(client, dataset, derived_from=str(c.upstream_offer.listing.version_id),
                     lineage_steps=["filtered"]), dataset, "does not allow derivatives")


def test_an_expired_licence_is_refused(chain, actor_for):
    c = chain()
    delivered = timezone.now() - timedelta(days=400)
    Contract.objects.filter(pk=c.licence.pk).update(status=Contract.Status.SETTLED, delivered_at=delivered,
                                                    term_days=365)
    # the term runs from the licence's package being issued (selectors/licence.licence_ends_at)
    Delivery.objects.filter(contract=c.licence).update(status="expired", issued_at=delivered,
                                                       expires_at=delivered + timedelta(days=365))
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    assert "licence ended or refunded" in client.get(f"/sell/datasets/{dataset.pk}/").content.decode()
    _refused(_upload(client, dataset, derived_from=str(c.upstream_offer.listing.version_id),
                     lineage_steps=["filtered"]), dataset, "expired on")


def test_the_firms_own_data_is_refused(chain, actor_for):
    c = chain()
    dataset = make_dataset(actor_for(c.licensee))
    own = c.derived_offer.listing.version  # the licensee's own published version
    _refused(_upload(client_for(c.licensee), dataset, derived_from=str(own.pk), lineage_steps=["filtered"]),
             dataset, "your own firm's data")


def test_steps_and_notes_are_checked(chain, actor_for):
    c = chain()
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    upstream = str(c.upstream_offer.listing.version_id)
    r = _upload(client, dataset, derived_from=upstream)  # neither a step nor notes
    assert r.status_code == 200 and "Choose at least one step" in r.content.decode()
    assert r.context["form"].errors["lineage_steps"] == [
        "Choose at least one step, or describe the steps in the notes."]
    r = _upload(client, dataset, derived_from=upstream, lineage_steps=["shuffled"])
    assert r.status_code == 200 and "shuffled is not one of the available choices" in r.content.decode()
    r = _upload(client, dataset, derived_from=upstream, lineage_notes="x" * 2001)
    assert r.status_code == 200 and "lineage_notes" in r.context["form"].errors
    assert not DatasetVersion.objects.filter(dataset=dataset).exists() and not VersionLineage.objects.exists()


def test_json_upload_answers_the_refusal_as_400(chain, actor_for):
    c = chain(derivatives_allowed=False, share_bp=0)
    dataset = make_dataset(actor_for(c.licensee))
    r = _upload(client_for(c.licensee), dataset, json=True, derived_from=str(c.upstream_offer.listing.version_id),
                lineage_steps=["filtered"])
    assert r.status_code == 400
    assert "does not allow derivatives" in r.json()["errors"]["derived_from"][0]["message"]
    assert not DatasetVersion.objects.filter(dataset=dataset).exists()


def test_a_firm_without_licences_sees_no_lineage_inputs_but_a_posted_source_is_still_judged(make_firm, actor_for):
    seller = make_firm("Plain Seller")
    dataset = make_dataset(actor_for(seller))
    client = client_for(seller)
    assert 'id="upload-lineage"' not in client.get(f"/sell/datasets/{dataset.pk}/").content.decode()
    published = build_listing(make_firm("Upstream"), derivatives_allowed=True).listing.version
    r = _upload(client, dataset, derived_from=str(published.pk), lineage_steps=["filtered"])
    _refused(r, dataset, "holds no licence")
    assert 'id="upload-lineage"' in r.content.decode()  # the error is shown with its input
