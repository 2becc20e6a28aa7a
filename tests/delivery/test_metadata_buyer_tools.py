"""A buyer's tools read a real delivery's metadata: mlcroissant validates metadata/croissant.json
and loads the delivered rows; frictionless validates datapackage.json; the package still verifies.
The public Croissant of the API passes mlcroissant too."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime

import pytest

from exchange.services.signing import signing_keys_jwks
from tests.croissant_tools import (
    ROOT,
    ensure_croissant_tools,
    frictionless_validate,
    unpack_delivery,
)
from tests.factories import csv_bytes, parquet_bytes
from workers.delivery import verify_package

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(1200)]

RAI = {
    "rai_data_collection": "Reviews collected from our shop's order pages, Jan–Jun 2026.",
    "rai_data_annotation_protocol": "Three annotators per review; majority vote; a senior reviewer settled ties.",
    "rai_annotator_demographics": "12 annotators, native Mandarin speakers, Hefei.",
    "rai_data_biases": "Mostly electronics; few reviews from rural buyers.",
    "rai_annotations_per_item": 3,
}


@pytest.fixture(scope="session")
def croissant_tools():
    """mlcroissant in var/venv-mlcroissant (created on first use; see tests/croissant_tools.py)."""
    return ensure_croissant_tools()


def _ready(paid_contract, build_now, **kwargs):
    contract = paid_contract(dataset_fields=RAI, **kwargs)
    build_now(contract.delivery)
    assert contract.delivery.status == "ready", contract.delivery.error
    return contract.delivery


def test_delivered_croissant_passes_mlcroissant_and_loads_the_delivered_rows(
        paid_contract, build_now, croissant_tools, tmp_path):
    content = csv_bytes(20)
    delivery = _ready(paid_contract, build_now, content=content)
    folder = unpack_delivery(delivery, tmp_path)

    proc = croissant_tools.validate(folder / "metadata" / "croissant.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Done." in proc.stderr and "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr

    doc = json.loads((folder / "metadata" / "croissant.json").read_text())
    data_file = doc["distribution"][0]
    assert data_file["contentUrl"] == "../data/reviews.csv"
    assert data_file["sha256"] == hashlib.sha256(content).hexdigest() == delivery.contract.dataset_version.sha256
    assert doc["creator"] == {"@type": "sc:Organization", "name": delivery.contract.seller.name,
                              "identifier": delivery.contract.seller.credit_code}

    loaded = croissant_tools.load(folder / "metadata" / "croissant.json")
    expected = list(csv.DictReader(io.StringIO(content.decode())))
    rows = loaded["records"]["records"]
    assert [(r["records/id"], r["records/text"], r["records/label"]) for r in rows] == \
        [(int(e["id"]), e["text"], e["label"]) for e in expected]
    stats = {r["label_statistics/label"]: r["label_statistics/rows"] for r in loaded["records"]["label_statistics"]}
    assert stats == {"pos": sum(e["label"] == "pos" for e in expected), "neg": sum(e["label"] == "neg" for e in expected)}
    assert loaded["rai"]["data_collection"] == RAI["rai_data_collection"]
    assert loaded["rai"]["data_biases"] == [RAI["rai_data_biases"]]
    assert loaded["rai"]["annotations_per_item"] == "3"
    assert "(20 rows): 'pos': 14 rows (70.0%); 'neg': 6 rows (30.0%)." in loaded["rai"]["data_annotation_analysis"][0]
    assert loaded["rai"]["personal_sensitive_information"] == [
        "The exchange's quality check of version 1 found no mainland mobile numbers, e-mail addresses, "
        "resident identity numbers or bank card numbers."]


JSONL = b"".join(json.dumps({"id": i, "text": f"t{i}", "label": lab}).encode() + b"\n"
                for i, lab in ((1, "pos"), (2, "neg")))
TSV = b"id\ttext\tlabel\n1\tt1\tpos\n2\tt2\tneg\n"


@pytest.mark.parametrize(("filename", "content", "expected"), [
    ("reviews.parquet", parquet_bytes(), [(1, "a", "pos"), (2, "b", "neg")]),
    ("reviews.jsonl", JSONL, [(1, "t1", "pos"), (2, "t2", "neg")]),
    ("reviews.tsv", TSV, [(1, "t1", "pos"), (2, "t2", "neg")]),
])
def test_delivered_parquet_jsonl_and_tsv_load_through_their_croissant(
        paid_contract, build_now, croissant_tools, tmp_path, filename, content, expected):
    delivery = _ready(paid_contract, build_now, content=content, filename=filename)
    folder = unpack_delivery(delivery, tmp_path)
    path = folder / "metadata" / "croissant.json"
    assert json.loads(path.read_text())["distribution"][0]["contentUrl"] == f"../data/{filename}"
    assert croissant_tools.validate(path).returncode == 0
    loaded = croissant_tools.load(path)
    assert [(r["records/id"], r["records/text"], r["records/label"]) for r in loaded["records"]["records"]] == expected


def test_frictionless_validates_the_unzipped_package_and_catches_a_changed_row(paid_contract, build_now, tmp_path):
    content = csv_bytes(20)
    delivery = _ready(paid_contract, build_now, content=content)
    folder = unpack_delivery(delivery, tmp_path)

    report = frictionless_validate(folder)
    assert report["valid"] is True, report
    task = report["tasks"][0]
    assert (task["name"], task["place"], task["stats"]["rows"]) == ("reviews", "data/reviews.csv", 20)

    data = folder / "data" / "reviews.csv"
    data.write_bytes(content.replace(b"1,review number 1", b"1,review number X"))
    broken = frictionless_validate(folder)
    assert broken["valid"] is False
    assert {e["type"] for e in broken["tasks"][0]["errors"]} == {"hash-count"}


def test_the_package_with_its_metadata_still_verifies_with_stock_tools_and_the_shipped_verifier(
        paid_contract, build_now, tmp_path):
    delivery = _ready(paid_contract, build_now)
    folder = unpack_delivery(delivery, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    for path in ("datapackage.json", "metadata/croissant.json"):
        body = (folder / path).read_bytes()
        assert listed[path] == {"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout == ("LICENSE.txt: OK\ndata/reviews.csv: OK\ndatapackage.json: OK\n"
                           "metadata/croissant.json: OK\n")

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(signing_keys_jwks()))
    cli = subprocess.run([sys.executable, "-m", "workers.delivery", str(tmp_path / "delivery.zip"), "--keys", str(keys)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr

    # the metadata is signed like the data: an edited croissant.json fails verification, naming the file
    tampered = (folder / "metadata" / "croissant.json").read_bytes().replace(b'"Mostly electronics', b'"Only electronics')
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tmp_path / "delivery.zip") as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, tampered if info.filename == "metadata/croissant.json" else src.read(info))
    result = verify_package(bad, public_keys=signing_keys_jwks())
    assert result.ok is False and result.first_failure == "files"
    assert "metadata/croissant.json" in result.check("files").detail


def test_public_croissant_from_the_api_passes_mlcroissant_and_names_no_private_file(
        paid_contract, croissant_tools, client, tmp_path):
    contract = paid_contract(dataset_fields=RAI)
    listing, version = contract.listing, contract.dataset_version
    response = client.get(f"/api/v1/catalog/{listing.pk}/croissant/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/ld+json")
    path = tmp_path / "croissant.json"
    path.write_bytes(response.content)

    proc = croissant_tools.validate(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr

    doc = response.json()
    text = response.content.decode()
    assert doc["url"] == f"http://testserver/listings/{listing.pk}/"
    assert doc["distribution"] == [{
        "@type": "cr:FileObject", "@id": "data-file", "name": f"{listing.pk}.csv",
        "description": doc["distribution"][0]["description"], "contentUrl": doc["url"], "encodingFormat": "text/csv",
        "contentSize": f"{version.byte_size} B", "sha256": version.sha256}]
    assert doc["creator"] == {"@type": "sc:Organization", "name": contract.seller.name}
    assert contract.seller.credit_code not in text
    assert version.original_filename not in text and version.file.name not in text
    assert doc["rai:annotatorDemographics"] == RAI["rai_annotator_demographics"]
    assert [f["name"] for f in doc["recordSet"][0]["field"]] == ["id", "text", "label"]
    assert doc["recordSet"][0]["field"][2]["dataType"] == ["sc:Text", "cr:Label"]


def test_public_croissant_of_a_retired_or_unknown_listing_is_404(paid_contract, client, actor_for):
    from exchange.services import catalog

    contract = paid_contract()
    assert client.get(f"/api/v1/catalog/{contract.listing.pk}/croissant/").status_code == 200
    catalog.listing_retire(actor=actor_for(contract.seller), listing=contract.listing)
    gone = client.get(f"/api/v1/catalog/{contract.listing.pk}/croissant/")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/catalog/{uuid.uuid4()}/croissant/").status_code == 404


def test_the_buyers_delivery_page_shows_how_to_read_the_metadata(paid_contract, build_now, client):
    delivery = _ready(paid_contract, build_now)
    client.force_login(delivery.contract.buyer.memberships.first().user)
    detail = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "croissant/bin/mlcroissant validate --jsonld delivery/metadata/croissant.json" in detail
    assert "cd delivery &amp;&amp; frictionless validate datapackage.json" in detail

    # a package signed before the metadata files existed is not told to read them
    type(delivery).objects.filter(pk=delivery.pk).update(manifest={
        **delivery.manifest, "files": [f for f in delivery.manifest["files"] if "json" not in f["path"]]})
    assert 'id="metadata-commands"' not in client.get(f"/deliveries/{delivery.pk}/").content.decode()


def test_mlcroissant_reads_awkward_column_names_and_types_through_the_builder(croissant_tools, tmp_path):
    """Column names with spaces, '/', '%' and Chinese, and typed columns, straight from the pure builder."""
    from workers.metadata import (
        DataFile,
        DatasetMeta,
        LabelStats,
        Licence,
        Party,
        delivery_metadata_files,
    )

    schema = {"fields": [{"name": "编号", "type": "integer"}, {"name": "a/b", "type": "string"},
                         {"name": "with space", "type": "number"}, {"name": "100%", "type": "boolean"},
                         {"name": "day", "type": "date"}, {"name": "标签", "type": "string"}],
              "primaryKey": "编号", "labelField": "标签", "labels": ["好", "坏"]}
    body = "编号,a/b,with space,100%,day,标签\n1,x,1.5,true,2026-01-02,好\n2,y,2,false,2026-03-04,坏\n".encode()
    (tmp_path / "data").mkdir()
    (tmp_path / "metadata").mkdir()
    (tmp_path / "data" / "x.csv").write_bytes(body)
    (tmp_path / "LICENSE.txt").write_bytes(b"licence\n")
    meta = DatasetMeta(listing_id="l1", version_id="v1", name="Awkward", description="d", url="https://x.example/l/",
                       creator=Party("Seller"), publisher=Party("Exchange"), format="csv", schema=schema, version=1,
                       licence=Licence("Licence", path="LICENSE.txt"), date_published=datetime(2026, 1, 1, tzinfo=UTC),
                       label_stats=LabelStats("标签", (("好", 1), ("坏", 1)), 2))
    files = delivery_metadata_files(meta, DataFile("data/x.csv", len(body), hashlib.sha256(body).hexdigest()),
                                    DataFile("LICENSE.txt", 8, hashlib.sha256(b"licence\n").hexdigest()))
    for path, payload in files:
        (tmp_path / path).write_bytes(payload)

    proc = croissant_tools.validate(tmp_path / "metadata" / "croissant.json")
    assert proc.returncode == 0 and "WARNING" not in proc.stderr, proc.stderr
    rows = croissant_tools.load(tmp_path / "metadata" / "croissant.json")["records"]["records"]
    assert [(r["records/编号"], r["records/a%2Fb"], r["records/with_space"], r["records/100%25"], r["records/标签"])
            for r in rows] == [(1, "x", 1.5, True, "好"), (2, "y", 2.0, False, "坏")]
    assert [r["records/day"][:10] for r in rows] == ["2026-01-02", "2026-03-04"]
    assert frictionless_validate(tmp_path)["valid"] is True
