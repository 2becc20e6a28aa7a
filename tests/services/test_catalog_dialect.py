"""A seller's CSV Dialect on the dataset: validated by the service, stored, audited."""

import pytest

from exchange.errors import InvalidInput
from exchange.models import AuditEvent, Dataset
from exchange.services import catalog
from tests.factories import make_dataset


def test_valid_dialect_is_stored(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor, dialect={"delimiter": ";", "header": False})
    dataset.refresh_from_db()
    assert dataset.dialect == {"delimiter": ";", "header": False}


def test_dataset_without_dialect_has_none(make_firm, actor_for):
    dataset = make_dataset(actor_for(make_firm()))
    assert Dataset.objects.get(pk=dataset.pk).dialect == {}


@pytest.mark.parametrize("dialect,message", [
    ({"delimiter": ";", "sheet": 1}, "dialect.sheet: unsupported property"),
    ({"delimiter": "ab"}, "dialect.delimiter must be a single character"),
    ({"header": "no"}, "dialect.header must be true or false"),
    (["delimiter"], "dialect must be a JSON object"),
])
def test_invalid_dialect_refused_naming_the_property_and_nothing_written(make_firm, actor_for, dialect, message):
    actor = actor_for(make_firm())
    with pytest.raises(InvalidInput) as exc:
        make_dataset(actor, dialect=dialect)
    assert any(message in m for m in exc.value.fields["dialect"]), exc.value.fields
    assert Dataset.objects.count() == 0


def test_dialect_update_is_validated_and_audited(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    with pytest.raises(InvalidInput) as exc:
        catalog.dataset_update(actor=actor, dataset=dataset, dialect={"quoteChar": "''"})
    assert exc.value.fields["dialect"] == ["dialect.quoteChar must be a single character"]
    assert Dataset.objects.get(pk=dataset.pk).dialect == {}
    catalog.dataset_update(actor=actor, dataset=dataset, dialect={"commentChar": "#"})
    assert Dataset.objects.get(pk=dataset.pk).dialect == {"commentChar": "#"}
    event = AuditEvent.objects.filter(action="dataset.updated").latest("id")
    assert "dialect" in event.details["fields"]


def test_the_check_reads_with_the_declared_dialect_and_reports_both(make_firm, actor_for):
    from exchange.services import quality
    from tests.factories import upload

    actor = actor_for(make_firm())
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"},
                         {"name": "label", "type": "string"}], "labelField": "label", "labels": ["pos", "neg"]}
    dataset = make_dataset(actor, schema=schema, dialect={"delimiter": ";", "header": False})
    rows = "".join(f"{i};good, fine;{'pos' if i % 2 else 'neg'}\n" for i in range(1, 41))
    version = upload(actor, dataset, content=rows.encode())
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    report = version.quality_report.report
    assert version.status == "passed", report["gates"]
    assert report["header"] == ["id", "text", "label"] and report["rows"] == 40
    assert report["dialect"]["declared"] == {"delimiter": ";", "header": False}
    # "good, fine" fools the sniffer (two fields by commas on every line): declared wins
    assert report["dialect"]["sniffed"]["delimiter"] == ","
    assert report["delimiter"] == ";" and "delimiter" in report["dialect"]["differ"]


def test_a_stored_dialect_the_service_would_refuse_fails_the_check_naming_it(make_firm, actor_for):
    from exchange.services import quality
    from tests.factories import upload

    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    Dataset.objects.filter(pk=dataset.pk).update(dialect={"sheet": 2})
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    assert version.status == "failed"
    assert version.quality_report.report["gates"]["failures"][0].startswith(
        "the dataset's CSV dialect is not accepted: dialect.sheet: unsupported property")


def test_the_buyers_parquet_copy_reads_with_the_dialect_the_check_used(make_firm, actor_for):
    # given a passed version of a dataset declaring ";" and no header, whose text fools the sniffer (",")
    import io
    import zipfile

    import pyarrow.parquet as pq

    from exchange import storage
    from exchange.selectors.quality import version_dialect
    from exchange.services import catalog
    from exchange.services.delivery_table import parquet_copy_build
    from tests.factories import passed_version

    actor = actor_for(make_firm())
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"},
                         {"name": "label", "type": "string"}], "labelField": "label", "labels": ["pos", "neg"]}
    dataset = make_dataset(actor, schema=schema, dialect={"delimiter": ";", "header": False, "commentChar": "#"})
    body = "# exported by hand\n" + "".join(f"{i};good, fine;{'pos' if i % 2 else 'neg'}\n" for i in range(1, 41))
    version = passed_version(actor, dataset, content=body.encode())
    # when the seller later edits the dataset's dialect, and the copy is built from a delivery package
    catalog.dataset_update(actor=actor, dataset=dataset, dialect={"delimiter": ","})
    version.refresh_from_db()
    assert version_dialect(version).to_dict() == {"delimiter": ";", "header": False, "commentChar": "#"}
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("data/reviews.csv", body)
    copy = parquet_copy_build(package=package, data_path="data/reviews.csv", version=version,
                              name="deliveries/test/copy.parquet")
    # then the copy holds the check's columns and rows: declared beats sniffed, as in the check, comment skipped
    assert copy.error == "" and copy.rows == 40 == version.row_count
    with storage.open_stream(copy.name) as f:
        table = pq.read_table(io.BytesIO(f.read()))
    assert table.column_names == version.quality_report.report["header"] == ["id", "text", "label"]
    assert table.slice(0, 1).to_pylist() == [{"id": 1, "text": "good, fine", "label": "pos"}]
