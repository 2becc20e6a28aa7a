"""The pure metadata builders (workers.metadata): Croissant, Data Package, schema.org, and
the package builder's described files. No Django, no database."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from tests.workers.test_delivery_support import BEFORE_EXPIRY, build, seeded_key
from workers.delivery import key_id, verify_package
from workers.metadata import (
    DataFile,
    DatasetMeta,
    LabelStats,
    Licence,
    Offer,
    Party,
    Rai,
    TextLayout,
    croissant,
    datapackage,
    dataset_jsonld,
    delivery_metadata_files,
    field_ids,
    label_summary,
    script_json,
    yuan,
)

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"}, {"name": "lang", "type": "string"},
        {"name": "text", "type": "string", "title": "Review", "description": "The review text"},
        {"name": "stars", "type": "number"}, {"name": "ok", "type": "boolean"}, {"name": "day", "type": "date"},
        {"name": "at", "type": "datetime"}, {"name": "t", "type": "time"}, {"name": "y", "type": "year"},
        {"name": "ym", "type": "yearmonth"}, {"name": "geo", "type": "geopoint"}, {"name": "extra", "type": "object"},
        {"name": "a/b", "type": "string"}, {"name": "label", "type": "string"},
    ],
    "primaryKey": ["id", "lang"], "labelField": "label", "labels": ["pos", "neg"], "personalData": False,
}
WHEN = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


def _meta(**overrides) -> DatasetMeta:
    fields = dict(
        listing_id="0c0d9a2e-1111-4222-8333-444455556666", version_id="v1", name="Reviews 评论",
        description="Labelled reviews", url="https://x.example/listings/0c0d/",
        creator=Party("卖方 Seller Co", identifier="91340100MA2N0001X1"), publisher=Party("Shujiao"),
        format="csv", schema=SCHEMA, version=3, keywords=("nlp", "评论"),
        licence=Licence("Licence of contract c1", path="LICENSE.txt"), date_published=WHEN, date_modified=WHEN,
        row_count=20, byte_size=476, sha256="ab" * 32,
        label_stats=LabelStats("label", (("pos", 14), ("neg", 6)), 20, missing=1, outside_set=2, conflicts=3,
                               imbalance_ratio=2.333),
        rai=Rai(data_collection="From our shop", annotations_per_item=3, data_biases="Mostly Beijing"),
        offers=(Offer("Standard", 12345),),
    )
    fields.update(overrides)
    return DatasetMeta(**fields)


DATA = DataFile("data/reviews.csv", 476, "cd" * 32)
LICENCE = DataFile("LICENSE.txt", 100, "ef" * 32)


def test_every_table_schema_type_maps_to_a_croissant_data_type_and_the_label_is_a_cr_label():
    doc = croissant(_meta(), [DATA], licence_file=LICENCE)
    types = {f["name"]: f["dataType"] for f in doc["recordSet"][0]["field"]}
    assert types == {
        "id": "sc:Integer", "lang": "sc:Text", "text": "sc:Text", "stars": "sc:Float", "ok": "sc:Boolean",
        "day": "sc:Date", "at": "sc:DateTime", "t": "sc:Time", "y": "sc:Integer", "ym": "sc:Text", "geo": "sc:Text",
        "extra": "sc:Text", "a/b": "sc:Text", "label": ["sc:Text", "cr:Label"],
    }
    fields = {f["name"]: f for f in doc["recordSet"][0]["field"]}
    assert fields["a/b"]["@id"] == "records/a%2Fb"
    assert field_ids(["with space", "with\tspace", "100%", "编号"]) == {
        "with space": "records/with_space", "with\tspace": "records/with_space~2", "100%": "records/100%25",
        "编号": "records/编号"}
    assert fields["text"]["description"] == "Review — The review text"
    assert fields["label"]["description"] == "Declared labels: pos, neg"
    assert fields["id"]["source"] == {"fileObject": {"@id": "data-file"}, "extract": {"column": "id"}}
    assert doc["recordSet"][0]["key"] == [{"@id": "records/id"}, {"@id": "records/lang"}]


def test_a_delivery_croissant_points_at_the_delivered_files_relative_to_itself():
    doc = croissant(_meta(), [DATA], licence_file=LICENCE, location="metadata/croissant.json")
    assert doc["conformsTo"] == ["http://mlcommons.org/croissant/1.1", "http://mlcommons.org/croissant/RAI/1.0"]
    assert doc["distribution"] == [
        {"@type": "cr:FileObject", "@id": "data-file", "name": "reviews.csv",
         "description": "The dataset file as delivered in this package (data/reviews.csv).",
         "contentUrl": "../data/reviews.csv", "contentSize": "476 B", "encodingFormat": "text/csv",
         "sha256": "cd" * 32},
        {"@type": "cr:FileObject", "@id": "licence-file", "name": "LICENSE.txt",
         "description": "The licence of this delivery's contract.", "contentUrl": "../LICENSE.txt",
         "contentSize": "100 B", "encodingFormat": "text/plain", "sha256": "ef" * 32},
    ]
    assert doc["license"] == {"@type": "sc:CreativeWork", "name": "Licence of contract c1", "url": "../LICENSE.txt"}
    assert doc["creator"] == {"@type": "sc:Organization", "name": "卖方 Seller Co", "identifier": "91340100MA2N0001X1"}
    assert (doc["version"], doc["datePublished"], doc["dateModified"]) == ("3.0.0", "2026-11-27T10:00:00Z",
                                                                         "2026-11-27T10:00:00Z")
    assert doc["rai:dataCollection"] == "From our shop" and doc["rai:dataBiases"] == "Mostly Beijing"
    assert doc["rai:annotationsPerItem"] == "3"
    assert "rai:dataLimitations" not in doc  # undeclared fields are left out, not invented


def test_label_statistics_become_an_inline_record_set_and_an_annotation_analysis_sentence():
    doc = croissant(_meta(), [DATA], licence_file=LICENCE)
    stats = doc["recordSet"][1]
    assert stats["@id"] == "label_statistics"
    assert stats["data"] == [
        {"label_statistics/label": "pos", "label_statistics/rows": 14, "label_statistics/share": 0.7},
        {"label_statistics/label": "neg", "label_statistics/rows": 6, "label_statistics/share": 0.3},
    ]
    assert doc["rai:dataAnnotationAnalysis"] == (
        "Label column 'label' in the exchange's quality check of version 3 (20 rows): 'pos': 14 rows (70.0%); "
        "'neg': 6 rows (30.0%). 1 rows without a label. 2 rows with a label outside the declared set. "
        "3 inputs carry conflicting labels. Imbalance ratio (largest / smallest class) 2.33.")
    assert label_summary(LabelStats("y", (), 0), version=1) == \
        "Label column 'y' in the exchange's quality check of version 1 (0 rows): no labels."
    no_labels = croissant(_meta(label_stats=None), [DATA])
    assert [rs["@id"] for rs in no_labels["recordSet"]] == ["records"]
    assert "rai:dataAnnotationAnalysis" not in no_labels


def test_public_croissant_names_no_file_location_and_no_credit_code():
    doc = croissant(_meta())
    text = json.dumps(doc, ensure_ascii=False)
    assert "91340100MA2N0001X1" not in text and "data/" not in text and "LICENSE.txt" not in text
    assert doc["creator"] == {"@type": "sc:Organization", "name": "卖方 Seller Co"}
    assert doc["distribution"][0]["contentUrl"] == "https://x.example/listings/0c0d/"
    assert doc["distribution"][0]["sha256"] == "ab" * 32
    assert "url" not in doc["license"]  # only a path licence given: no link outside a package
    with pytest.raises(ValueError, match="needs the delivered data file"):
        croissant(_meta(), [])


def test_datapackage_describes_the_resource_with_schema_dialect_bytes_and_hash():
    pkg = datapackage(_meta(layout=TextLayout(encoding="gb18030", delimiter=";")), DATA, licence_path="LICENSE.txt")
    res = pkg["resources"][0]
    assert res == {
        "name": "reviews", "type": "table", "path": "data/reviews.csv", "scheme": "file", "format": "csv",
        "mediatype": "text/csv", "bytes": 476, "hash": "sha256:" + "cd" * 32, "schema": res["schema"],
        "description": "20 rows (version 3).", "encoding": "gb18030", "dialect": {"delimiter": ";", "header": True},
    }
    assert res["schema"]["fields"] == SCHEMA["fields"] and res["schema"]["primaryKey"] == ["id", "lang"]
    assert res["schema"]["labelField"] == "label"
    assert res["schema"] is not SCHEMA and res["schema"]["fields"][0] is not SCHEMA["fields"][0]
    assert pkg["licenses"] == [{"path": "LICENSE.txt", "title": "Licence of contract c1"}]
    assert (pkg["version"], pkg["created"], pkg["keywords"]) == ("3.0.0", "2026-11-27T10:00:00Z", ["nlp", "评论"])

    tsv = datapackage(_meta(format="tsv"), DataFile("data/r.tsv", 1, "0" * 64))["resources"][0]
    assert tsv["dialect"] == {"delimiter": "\t", "header": True} and tsv["mediatype"] == "text/tab-separated-values"
    parquet = datapackage(_meta(format="parquet"), DataFile("data/r.parquet", 1, "0" * 64))["resources"][0]
    assert "dialect" not in parquet and "encoding" not in parquet and parquet["format"] == "parquet"


def test_schema_org_dataset_has_public_facts_and_prices_in_yuan_without_floats():
    doc = dataset_jsonld(_meta(), croissant_url="https://x.example/api/v1/catalog/0c0d/croissant/")
    assert doc["@type"] == "Dataset" and doc["@context"] == "https://schema.org/"
    assert doc["creator"] == {"@type": "Organization", "name": "卖方 Seller Co"}
    assert doc["offers"] == {"@type": "Offer", "name": "Standard", "price": "123.45", "priceCurrency": "CNY",
                             "url": "https://x.example/listings/0c0d/"}
    assert [v["name"] for v in doc["variableMeasured"]][:3] == ["id", "lang", "text"]
    assert doc["variableMeasured"][2]["description"] == "The review text (Text)"
    assert doc["variableMeasured"][-1]["description"] == "(Text, label column)"
    assert doc["subjectOf"]["url"].endswith("/croissant/")
    assert "91340100MA2N0001X1" not in json.dumps(doc, ensure_ascii=False)
    two = dataset_jsonld(_meta(offers=(Offer("A", 1), Offer("B", 100000))))
    assert [o["price"] for o in two["offers"]] == ["0.01", "1000.00"]
    assert (yuan(0), yuan(5), yuan(199), yuan(10**15 + 7)) == ("0.00", "0.05", "1.99", "10000000000000.07")


def test_script_json_cannot_close_the_script_element():
    hostile = _meta(name="</script><script>alert(1)</script>", description="a & b <!-- \u2028")
    text = script_json(dataset_jsonld(hostile))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"
    assert json.loads(text)["description"] == "a & b <!-- \u2028"


# --- the package builder's described files ------------------------------------------
def _describe(data, licence):
    return delivery_metadata_files(_meta(), data, licence)


def test_described_files_are_written_listed_and_summed_and_the_package_verifies():
    key = seeded_key(7)
    result, blob = build(key=key, describe=_describe)
    listed = {f["path"]: f for f in result.manifest["files"]}
    assert sorted(listed) == ["LICENSE.txt", "SHA256SUMS", "data/reviews.csv", "datapackage.json",
                              "metadata/croissant.json"]
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = zf.namelist()
        assert names == ["data/reviews.csv", "LICENSE.txt", "datapackage.json", "metadata/croissant.json",
                         "SHA256SUMS", "manifest.json", "manifest.sig"]
        sums = zf.read("SHA256SUMS").decode()
        for path in ("datapackage.json", "metadata/croissant.json"):
            body = zf.read(path)
            assert listed[path]["sha256"] == hashlib.sha256(body).hexdigest()
            assert f"{hashlib.sha256(body).hexdigest()}  {path}\n" in sums
        described = json.loads(zf.read("metadata/croissant.json"))
        assert described["distribution"][0]["sha256"] == result.sha256 == listed["data/reviews.csv"]["sha256"]
        assert described["distribution"][1]["sha256"] == listed["LICENSE.txt"]["sha256"]
        assert json.loads(zf.read("datapackage.json"))["resources"][0]["hash"] == "sha256:" + result.sha256
    assert verify_package(io.BytesIO(blob), public_keys={key_id(key): key.public_key()}, now=BEFORE_EXPIRY).ok


@pytest.mark.parametrize(("path", "message"), [
    ("../x.json", "unsafe"), ("/x.json", "unsafe"), ("data/x.json", "unsafe"), ("a//b.json", "unsafe"),
    ("méta.json", "unsafe"), ("manifest.json", "clashes"), ("SHA256SUMS", "clashes"), ("LICENSE.txt", "clashes"),
])
def test_a_described_file_with_an_unsafe_or_reserved_path_is_refused(path, message):
    with pytest.raises(ValueError, match=message):
        build(key=seeded_key(1), describe=lambda d, lic: [(path, b"{}")])


def test_described_files_must_be_unique_bytes():
    with pytest.raises(ValueError, match="clashes"):
        build(key=seeded_key(1), describe=lambda d, lic: [("a.json", b"1"), ("a.json", b"2")])
    with pytest.raises(ValueError, match="must be bytes"):
        build(key=seeded_key(1), describe=lambda d, lic: [("a.json", "text")])


def test_the_builders_run_without_django():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, workers.metadata, workers.delivery; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def test_a_gb18030_file_is_flagged_in_its_croissant_description():
    doc = croissant(_meta(layout=TextLayout(encoding="gb18030")), [DATA], licence_file=LICENCE)
    assert "Its text encoding is GB18030" in doc["distribution"][0]["description"]
    assert "GB18030" not in croissant(_meta(), [DATA])["distribution"][0]["description"]


def test_personal_information_facts_join_the_sellers_text():
    checked = (("mobile", 0), ("email", 0), ("resident_id", 0), ("bank_card", 0))
    clean = croissant(_meta(pii_counts=checked), [DATA])
    assert clean["rai:personalSensitiveInformation"] == (
        "The exchange's quality check of version 3 found no mainland mobile numbers, e-mail addresses, "
        "resident identity numbers or bank card numbers.")
    declared = croissant(_meta(rai=Rai(personal_sensitive_information="Speaker ages, in 10-year bands."),
                               contains_personal_data=True, legal_basis="Consent (PIPL art. 13(1))",
                               pii_counts=(("mobile", 1200), ("email", 0), ("resident_id", 3), ("bank_card", 0))),
                         [DATA])
    assert declared["rai:personalSensitiveInformation"] == [
        "Speaker ages, in 10-year bands.",
        "The seller declares that the data contains personal information; legal basis stated: "
        "Consent (PIPL art. 13(1)).",
        "The exchange's quality check of version 3 found 1,200 mainland mobile numbers; 3 resident identity numbers.",
    ]
    assert "rai:personalSensitiveInformation" not in croissant(_meta(), [DATA])  # nothing known, nothing said
