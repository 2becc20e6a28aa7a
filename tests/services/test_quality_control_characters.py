"""A file whose values hold NUL is checked to the end and its report stored (PostgreSQL
refuses NUL in jsonb; the stored report writes it as \\u0000)."""

from __future__ import annotations

import json

from django.db import connection

from exchange.models import DatasetVersion, QualityReport
from exchange.services import quality
from tests.factories import make_dataset, upload


def _check(version):
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    return version


def test_json_lines_with_nul_escapes_is_checked_and_stored(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    body = "".join(json.dumps({"id": i, "text": f"review\u0000{i}", "label": "pos" if i % 2 else "neg"}) + "\n"
                   for i in range(1, 21))
    version = _check(upload(actor, dataset, body.encode(), name="reviews.jsonl"))
    assert version.status == DatasetVersion.Status.PASSED, version.check_error
    stored = QualityReport.objects.get(version=version).report
    assert stored["control_characters"] == {"cells": 20, "by_column": {"text": 20}}
    assert [f["code"] for f in stored["findings"]] == ["control_characters"]
    assert "\x00" not in json.dumps(stored)
    assert stored["sample"][0]["text"] == "review\\u00001"


def test_csv_with_raw_nul_bytes_is_read_not_refused_as_binary(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    body = b"id,text,label\n" + b"".join(b"%d,a\x00b %d,pos\n" % (i, i) for i in range(1, 4)) + b"4,clean,neg\n"
    version = _check(upload(actor, dataset, body))
    assert version.status == DatasetVersion.Status.PASSED, version.check_error
    stored = QualityReport.objects.get(version=version).report
    assert stored["control_characters"]["by_column"] == {"text": 3}
    assert connection.vendor == "postgresql"


def test_store_scrubs_a_report_that_still_holds_nul(make_firm, actor_for):
    actor = actor_for(make_firm())
    version = upload(actor, make_dataset(actor))
    claim = quality.quality_check_claim(version_id=str(version.pk))
    report = {"rows": 1, "score": 50, "grade": "C", "gates": {"passed": False, "failures": ["bad\x00value"]},
              "columns": [{"name": "a\x00", "min": "\x00"}], "warnings": [], "pii": {"examples": []}, "sample": []}
    assert quality.quality_check_store(claim=claim, report=report) is not None
    stored = QualityReport.objects.get(version=version).report
    assert stored["columns"] == [{"name": "a\\u0000", "min": "\\u0000"}]
    version.refresh_from_db()
    assert "\x00" not in version.check_error


def test_upload_of_a_json_array_is_refused_with_a_message(make_firm, actor_for):
    import pytest

    from exchange.errors import InvalidInput

    actor = actor_for(make_firm())
    with pytest.raises(InvalidInput) as exc:
        upload(actor, make_dataset(actor), b'[{"id": 1, "text": "a", "label": "pos"}]', name="reviews.json")
    assert "upload JSON Lines instead" in exc.value.message
