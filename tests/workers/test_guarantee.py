"""The quality guarantee's pure rules (workers/quality/guarantee.py): parsing, freezing, checking."""

from __future__ import annotations

import pytest

from workers.quality import guarantee as g

REPORT = {
    "rows": 200, "score": 86, "duplicate_rows": 2,
    "columns": [{"name": "id", "null_count": 0}, {"name": "text", "null_count": 10}, {"name": "label", "null_count": 0}],
    "labels": {"shares": {"pos": 0.7, "neg": 0.3}},
    "pii": {"mobile": 0, "email": 0, "resident_id": 0, "bank_card": 0},
}
COLUMNS = ["id", "text", "label"]


def test_nothing_guaranteed_is_none():
    assert g.parse(None, columns=COLUMNS) is None
    assert g.parse({}, columns=COLUMNS) is None
    assert g.parse({"no_undeclared_personal_data": False}, columns=COLUMNS) is None


@pytest.mark.parametrize(("raw", "field", "message"), [
    ({"min_score": 101}, "min_score", "From 0 to 100."),
    ({"min_score": 80.5}, "min_score", "A whole number."),
    ({"min_rows": 0}, "min_rows", "From 1 to 1e+15."),
    ({"max_duplicate_share": 1.5}, "max_duplicate_share", "From 0 to 1."),
    ({"max_duplicate_share": "0.1"}, "max_duplicate_share", "A number."),
    ({"max_null_share": {"nope": 0.1}}, "max_null_share", "No column named 'nope'; columns: id, text, label."),
    ({"max_null_share": [0.1]}, "max_null_share", "An object mapping column names to shares from 0 to 1."),
    ({"label_tolerance_pp": -1}, "label_tolerance_pp", "From 0 to 100."),
    ({"no_undeclared_personal_data": "yes"}, "no_undeclared_personal_data", "true or false."),
    ({"min_score": True}, "min_score", "A whole number."),
    ({"maximum_fun": 1}, "guarantee", "Unknown threshold(s): maximum_fun; known: min_score, min_rows, "
                                      "max_duplicate_share, max_null_share, label_tolerance_pp, "
                                      "no_undeclared_personal_data."),
])
def test_bad_thresholds_are_named(raw, field, message):
    with pytest.raises(g.GuaranteeError) as exc:
        g.parse(raw, columns=COLUMNS)
    assert exc.value.fields[field] == [message]


def test_a_frozen_guarantee_holds_the_listed_label_shares_and_checks_every_threshold():
    thresholds = g.parse({"min_score": 80, "min_rows": 150, "max_duplicate_share": 0.01,
                          "max_null_share": {"text": 0.05}, "label_tolerance_pp": 5,
                          "no_undeclared_personal_data": True}, columns=COLUMNS)
    frozen = g.freeze(thresholds, listed_report=REPORT, personal_data_declared=False)
    assert frozen["format"] == "shujiao-guarantee/1"
    assert frozen["label_shares"] == {"pos": 0.7, "neg": 0.3}
    verdict = g.evaluate(frozen, REPORT)
    assert verdict.passed
    assert [c.name for c in verdict.checks] == ["min_score", "min_rows", "max_duplicate_share", "max_null_share:text",
                                                "label_share:neg", "label_share:pos", "no_undeclared_personal_data"]

    worse = {**REPORT, "rows": 100, "score": 70, "duplicate_rows": 5,
             "columns": [{"name": "id", "null_count": 0}, {"name": "text", "null_count": 6}],
             "labels": {"shares": {"pos": 0.8, "neg": 0.2}}, "pii": {"mobile": 3}}
    verdict = g.evaluate(frozen, worse)
    assert not verdict.passed
    failed = {c.name: c.actual for c in verdict.failures}
    assert failed == {"min_score": "score 70", "min_rows": "100 rows", "max_duplicate_share": "5.00%",
                      "max_null_share:text": "6.00%", "label_share:neg": "20.00%", "label_share:pos": "80.00%",
                      "no_undeclared_personal_data": "3 personal-data item(s)"}


def test_label_share_exactly_at_the_tolerance_passes_and_just_beyond_fails():
    frozen = g.freeze(g.parse({"label_tolerance_pp": 5}, columns=COLUMNS), listed_report=REPORT,
                      personal_data_declared=False)
    assert g.evaluate(frozen, {**REPORT, "labels": {"shares": {"pos": 0.75, "neg": 0.25}}}).passed
    assert not g.evaluate(frozen, {**REPORT, "labels": {"shares": {"pos": 0.7501, "neg": 0.2499}}}).passed
    # a label the listed report never had counts as drift from 0 %
    assert not g.evaluate(frozen, {**REPORT, "labels": {"shares": {"pos": 0.64, "neg": 0.3, "spam": 0.06}}}).passed


def test_declared_personal_data_is_not_a_breach_and_a_missing_column_is():
    frozen = g.freeze(g.parse({"no_undeclared_personal_data": True, "max_null_share": {"text": 0.5}}, columns=COLUMNS),
                      listed_report=REPORT, personal_data_declared=True)
    verdict = g.evaluate(frozen, {**REPORT, "pii": {"email": 4}, "columns": [{"name": "id", "null_count": 0}]})
    assert [(c.name, c.passed) for c in verdict.checks] == [("max_null_share:text", False),
                                                           ("no_undeclared_personal_data", True)]
    assert verdict.failures[0].actual == "the column is missing"


def test_describe_says_each_promise():
    frozen = g.freeze(g.parse({"min_score": 80, "max_null_share": {"text": 0.05}}, columns=COLUMNS),
                      listed_report=REPORT, personal_data_declared=False)
    assert g.describe(frozen) == ["quality score at least 80 of 100", "empty values in column text at most 5.00%"]
    assert g.describe(None) == []
