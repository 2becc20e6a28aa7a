"""Header presence, metadata first lines and the declared CSV dialect (pure tests)."""

from __future__ import annotations

import csv
import io

import pytest

from workers.quality.dialect import Dialect, DialectFilter, compare, parse_kwargs, validate_dialect
from workers.quality.header import detect_header


def rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


IRIS = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n6.3,3.3,6.0,2.5,2\n"


def test_iris_metadata_first_line_and_no_header():
    d = detect_header(rows(IRIS))
    assert d.metadata == ("150,4,setosa,versicolor,virginica",)
    assert d.skip_rows == 1 and d.header_rows == ()
    assert d.names == ("column_1", "column_2", "column_3", "column_4", "column_5") and d.generated
    assert "metadata" in d.reason and "no header" in d.reason


def test_headerless_numeric_file_gets_generated_names():
    d = detect_header(rows("1,2.5,2024-01-01\n2,3.5,2024-01-02\n3,4.5,2024-01-03\n"))
    assert d.generated and d.skip_rows == 0 and d.header_rows == ()
    assert d.names == ("column_1", "column_2", "column_3")


def test_headerless_file_takes_schema_names_when_their_number_matches():
    d = detect_header(rows("1,2.5\n2,3.5\n"), declared_names=["id", "price"])
    assert d.names == ("id", "price") and d.generated


def test_ordinary_header_is_kept():
    d = detect_header(rows("id,price,day\n1,2.5,2024-01-01\n2,3.5,2024-01-02\n"))
    assert d.header_rows == (1,) and d.skip_rows == 1 and not d.generated
    assert d.names == ("id", "price", "day") and d.metadata == ()


def test_title_lines_with_another_field_count_are_metadata():
    text = "Sales report\nexported 2024-05-01 by ERP\nid,city,amount\n1,Beijing,10\n2,Shanghai,12\n3,Wuhan,9\n"
    d = detect_header(rows(text))
    assert d.metadata == ("Sales report", "exported 2024-05-01 by ERP")
    assert d.header_rows == (3,) and d.skip_rows == 3 and d.names == ("id", "city", "amount")


def test_text_only_file_keeps_its_first_line_as_header():
    d = detect_header(rows("a,b\nx,y\nz,w\n"))
    assert d.header_rows == (1,) and d.names == ("a", "b")


def test_declared_header_false_and_header_rows_win():
    text = "150,4,setosa\nname,size,kind\nunit,cm,\n1,2,3\n"
    d = detect_header(rows(text), dialect=Dialect(header=False))
    assert d.generated and d.skip_rows == 0 and d.declared
    d = detect_header(rows(text), dialect=Dialect(headerRows=(2, 3)))
    assert d.names == ("name unit", "size cm", "kind") and d.skip_rows == 3
    assert d.metadata == ("150,4,setosa",) and d.declared


@pytest.mark.parametrize("dialect,problem", [
    ({"delimiter": ";;"}, "dialect.delimiter must be a single character"),
    ({"header": "yes"}, "dialect.header must be true or false"),
    ({"headerRows": [2, 1]}, "dialect.headerRows must be a list of increasing row numbers"),
    ({"headerRows": [1], "header": False}, "dialect.headerRows conflicts with header: false"),
    ({"lineTerminator": "\t"}, "dialect.lineTerminator must be"),
    ({"lineTerminator": {}}, "dialect.lineTerminator must be"),  # not a string: refused, not a crash
    ({"lineTerminator": ["\n"]}, "dialect.lineTerminator must be"),
    ({"quoteChar": "'", "delimiter": "'"}, "dialect.delimiter and dialect.quoteChar must differ"),
    ({"escapeChar": "\\", "doubleQuote": True}, "exclude each other"),
    ({"nullSequence": "NA"}, "dialect.nullSequence: unsupported property"),
    ({"commentChar": "\n"}, "dialect.commentChar must not be a line break"),
])
def test_invalid_dialects_are_refused_naming_the_property(dialect, problem):
    problems = validate_dialect(dialect)
    assert any(problem in p for p in problems), problems
    with pytest.raises(ValueError, match="invalid CSV dialect"):
        Dialect.from_dict(dialect)


def test_valid_dialect_round_trips():
    d = {"delimiter": ";", "header": True, "headerRows": [1], "lineTerminator": "\r\n", "quoteChar": "'",
         "doubleQuote": False, "escapeChar": "\\", "skipInitialSpace": True, "commentChar": "#"}
    assert validate_dialect(d) == []
    assert Dialect.from_dict(d).to_dict() == d
    assert validate_dialect([]) == ["dialect must be a JSON object"]


def test_parse_kwargs_declared_beats_sniffed():
    assert parse_kwargs(None, "\t") == {"delimiter": "\t"}
    assert parse_kwargs(Dialect(delimiter=";", quoteChar="'", escapeChar="\\"), ",") == {
        "delimiter": ";", "quote_char": "'", "escape_char": "\\", "double_quote": False}
    got = compare(Dialect(delimiter=";"), {"delimiter": ",", "header": True})
    assert got["used"] == {"delimiter": ";", "header": True} and got["differ"] == ["delimiter"]


def test_filter_drops_comment_lines_and_initial_spaces_outside_quotes():
    f = DialectFilter(Dialect(commentChar="#", skipInitialSpace=True), ",")
    text = b'# exported by ERP\nid, name, note\n1, "a, b", "x\n# not a comment"\n#2, z, z\n3,  c, d\n'
    out = b"".join(f.feed(text[i:i + 7]) for i in range(0, len(text), 7)) + f.feed(b"", final=True)
    assert out == b'\nid,name,note\n1,"a, b","x\n# not a comment"\n\n3,c,d\n'
    assert f.comment_lines == 2
    parsed = rows(out.decode())
    assert parsed[2] == ["1", "a, b", "x\n# not a comment"]


# ---- the CSV plan (csvplan.py): header decision as pyarrow options, both dialects reported ----

def test_plan_for_iris_skips_the_metadata_line_and_names_the_columns():
    from workers.quality.csvplan import plan_csv

    plan = plan_csv(IRIS, kind="csv")
    assert plan.read_kwargs == {"skip_rows": 1, "column_names": [f"column_{i}" for i in range(1, 6)]}
    assert [f["code"] for f in plan.findings] == ["metadata_lines", "header_missing"]
    assert plan.dialect["sniffed"] == {"delimiter": ",", "header": False, "headerRows": []}


def test_plan_counts_physical_lines_of_skipped_records():
    from workers.quality.csvplan import plan_csv

    text = '"Report\nof May"\n\nid,name\n1,a\n2,b\n3,c\n'
    plan = plan_csv(text, kind="csv")
    assert plan.skip_lines == 4  # two lines of the quoted title, the blank line, the header
    assert plan.names == ["id", "name"]


def test_plan_declared_values_beat_sniffed_and_both_are_reported():
    from workers.quality.csvplan import line_endings_seen, plan_csv

    text = "a;b,c\n1;2,3\n4;5,6\n"
    plan = plan_csv(text, kind="csv", dialect=Dialect(delimiter=";", lineTerminator="\r\n"))
    assert plan.delimiter == ";" and plan.parse_kwargs["delimiter"] == ";"
    assert plan.names == ["a", "b,c"]
    assert plan.dialect["declared"] == {"delimiter": ";", "lineTerminator": "\r\n"}
    assert plan.dialect["sniffed"]["delimiter"] == ","
    assert plan.dialect["differ"] == ["delimiter"]
    assert "dialect_differs" in [f["code"] for f in plan.findings]
    finding = line_endings_seen(plan.dialect, "LF")
    assert plan.dialect["sniffed"]["lineTerminator"] == "\n" and "lineTerminator" in plan.dialect["differ"]
    assert finding["code"] == "dialect_differs"


def test_plan_with_comment_char_sniffs_without_comment_lines():
    from workers.quality.csvplan import plan_csv

    text = "# exported 2024-05-01\n# by ERP; do not edit\nid\tname\n1\tx\n2\ty\n"
    plan = plan_csv(text, kind="csv", dialect=Dialect(commentChar="#"))
    assert plan.delimiter == "\t" and plan.names == ["id", "name"]
    assert plan.filter is not None and plan.skip_lines == 3


# ---- JSON Lines rows (jsonl.py) ----

def test_jsonl_rows_union_of_keys_and_nested_values():
    from workers.quality.jsonl import KeyUnion, NewKeys, RowBuilder, nested_finding

    objs = [{"id": 1, "a": {"x": [1]}}, {"id": 2, "b": "late", "a": [1, 2]}, {"id": 3}]
    rb = RowBuilder(["id", "a"])
    assert rb.row(objs[0]) == ["1", '{"x": [1]}']
    with pytest.raises(NewKeys):
        rb.row(objs[1])
    union = KeyUnion()
    union.add(objs[0])
    union.scan(['{"id": 2, "b": "late"}', "not json", "", '{"c": null}'])
    assert union.columns(["id", "declared_only"]) == ["id", "a", "b", "c", "declared_only"]
    rb = RowBuilder(union.columns([]))
    assert [rb.row(o) for o in objs] == [["1", '{"x": [1]}', "", ""], ["2", "[1, 2]", "late", ""],
                                         ["3", "", "", ""]]
    f = nested_finding(rb.nested)
    assert f["code"] == "nested_values" and f["by_column"] == {"a": 2} and f["cells"] == 2
    assert nested_finding({}) is None


def test_words_only_first_row_whose_values_recur_below_is_suspected_to_be_data():
    # given a file of words only whose first row "cat,animal" is a row like the others ("animal" recurs below)
    text = "cat,animal\ndog,animal\nrose,plant\noak,plant\n"
    d = detect_header(rows(text))
    # then it is still read with a header (as before), but the decision says why it may be data
    assert d.header_rows == (1,) and d.names == ("cat", "animal") and not d.generated
    assert "'animal' also occur" in d.suspect and d.to_dict()["suspect"] == d.suspect


def test_a_real_header_over_words_and_a_repeated_header_line_are_not_suspected():
    assert detect_header(rows("name,kind\ncat,animal\ndog,animal\n")).suspect == ""
    d = detect_header(rows("name,kind\ncat,animal\nname,kind\ndog,animal\n"))  # two files joined end to end
    assert d.suspect == "" and "suspect" not in d.to_dict()
    # and a header naming the declared fields, or a declared header, is never second-guessed
    assert detect_header(rows("a,b\na,b\nc,d\n"), declared_names=["a", "b"]).suspect == ""
    assert detect_header(rows("cat,animal\ndog,animal\n"), dialect=Dialect(header=True)).suspect == ""


def test_first_row_with_the_type_of_every_filled_typed_cell_is_suspected():
    # given a headerless file whose first row has an empty cell over a numeric column: the header rule keeps it
    d = detect_header(rows("1,,2024-01-01\n2,3.5,2024-01-02\n3,4.5,2024-01-03\n"))
    assert d.header_rows == (1,)  # the existing rule: not every typed cell matched
    assert "has that column's type" in d.suspect
    # while a real header over typed columns is not suspected
    assert detect_header(rows("id,price,day\n1,2.5,2024-01-01\n2,,2024-01-02\n")).suspect == ""


def test_the_report_suggests_header_false_and_declaring_it_reads_every_row(tmp_path):
    from workers.quality import QualityOptions, profile

    path = tmp_path / "words.csv"
    path.write_text("cat,animal\ndog,animal\nrose,plant\noak,plant\n", encoding="utf-8")
    r = profile(path, None)
    found = [f for f in r["findings"] if f["code"] == "header_maybe_data"]
    assert len(found) == 1 and found[0]["level"] == "info" and found[0]["suggest"] == {"header": False}
    assert '"header": false' in found[0]["message"] and r["rows"] == 3 and r["gates"]["passed"]
    assert r["dialect"]["header"]["suspect"] == found[0]["reason"]
    declared = profile(path, None, options=QualityOptions(dialect=Dialect(header=False)))
    assert declared["rows"] == 4 and not any(f["code"] == "header_maybe_data" for f in declared["findings"])
