"""Exact counts on small hand-made CSV files."""

from __future__ import annotations

from tests.workers._quality_helpers import column, run


def test_malformed_examples_are_physical_lines(tmp_path):
    # given a quoted newline (lines 2-3), a short row on line 5, a blank line 7, a long row on line 8
    data = 'id,text,label\n1,"hello\nworld",a\n2,x,b\n3,y\n4,z,a\n\n5,w,c,d\n6,v,b\n'
    # when
    r = run(tmp_path, data)
    # then
    assert r["rows"] == 4
    assert r["malformed_rows"] == 2
    assert r["malformed_examples"] == [5, 8]
    assert r["blank_lines"] == 1
    assert r["header"] == ["id", "text", "label"]


def test_malformed_examples_capped_at_twenty_and_count_exact(tmp_path):
    # given 30 short rows between good rows
    lines = ["a,b"]
    for i in range(30):
        lines.append(f"{i},{i}")
        lines.append(f"{i}")
    r = run(tmp_path, "\n".join(lines) + "\n")
    # then the count is exact and the first 20 line numbers are listed
    assert r["malformed_rows"] == 30
    assert r["malformed_examples"] == [3 + 2 * i for i in range(20)]
    assert r["rows"] == 30
    assert r["gates"]["passed"] is False
    assert "30 of 60 rows" in r["gates"]["failures"][0]


def test_malformed_line_numbers_after_many_quoted_newlines(tmp_path):
    # given every good row holding a value with two embedded newlines
    body = "".join(f'{i},"a\nb\nc"\n' for i in range(5))
    data = "k,v\n" + body + "bad\n"
    r = run(tmp_path, data)
    # then the bad row is on physical line 1 + 5*3 + 1
    assert r["malformed_examples"] == [17]


def test_duplicate_rows_count_copies_beyond_the_first(tmp_path):
    # given a row appearing three times and another twice
    data = "a,b\n1,x\n1,x\n2,y\n1,x\n2,y\n3,z\n"
    r = run(tmp_path, data)
    assert r["rows"] == 6
    assert r["duplicate_rows"] == 3


def test_null_counts_per_column(tmp_path):
    data = 'a,b,c\n1,,x\n,,y\n3,"",\n'
    r = run(tmp_path, data)
    assert [column(r, n)["null_count"] for n in "abc"] == [1, 3, 1]


def test_invalid_values_per_declared_type(tmp_path):
    # given one column per type with valid, invalid and empty values
    schema = {"fields": [
        {"name": "i", "type": "integer"}, {"name": "n", "type": "number"},
        {"name": "b", "type": "boolean"}, {"name": "d", "type": "date"},
        {"name": "t", "type": "datetime"}, {"name": "s", "type": "string"},
    ]}
    data = ("i,n,b,d,t,s\n"
            "1,1.5,true,2024-02-29,2024-01-01T10:00:00Z,x\n"
            "-7,-2e3,0,2023-02-29,2024-13-01T00:00:00,y\n"
            "1.0,abc,yes,2024-1-5,2024-01-01 10:00:00,\n"
            ",,,,,z\n"
            "+12,.5,FALSE,1999-12-31,2024-01-01,w\n")
    r = run(tmp_path, data, schema)
    assert {c["name"]: c["invalid_count"] for c in r["columns"]} == {
        "i": 1, "n": 1, "b": 1, "d": 2, "t": 2, "s": 0}
    assert (column(r, "i")["min"], column(r, "i")["max"]) == (-7, 12)
    assert (column(r, "n")["min"], column(r, "n")["max"]) == (-2000.0, 1.5)
    assert (column(r, "d")["min"], column(r, "d")["max"]) == ("1999-12-31", "2024-02-29")
    assert (column(r, "s")["min"], column(r, "s")["max"]) == ("w", "z")
    assert column(r, "i")["null_count"] == 1


def test_types_inferred_without_schema(tmp_path):
    data = "a,b,c,d\n1,1.5,x,2024-01-01\n2,,y,2024-01-02\n10,3,z,2023-12-31\n"
    r = run(tmp_path, data)
    assert [c["type"] for c in r["columns"]] == ["integer", "number", "string", "date"]
    assert (column(r, "a")["min"], column(r, "a")["max"]) == (1, 10)
    assert (column(r, "d")["min"], column(r, "d")["max"]) == ("2023-12-31", "2024-01-02")
    assert all(c["invalid_count"] == 0 for c in r["columns"])


def test_distinct_counts_exact(tmp_path):
    data = "a,b\n" + "".join(f"{i % 7},{i}\n" for i in range(1000))
    r = run(tmp_path, data)
    assert column(r, "a")["distinct_count"] == 7
    assert column(r, "b")["distinct_count"] == 1000
    assert column(r, "a")["distinct_approximate"] is False


def test_distinct_becomes_approximate_above_the_limit(tmp_path):
    from workers.quality import QualityOptions

    data = "a\n" + "".join(f"value-{i}\n" for i in range(5000))
    r = run(tmp_path, data, options=QualityOptions(distinct_exact_limit=1000, distinct_sketch_size=512))
    c = column(r, "a")
    assert c["distinct_approximate"] is True
    assert 4000 < c["distinct_count"] < 6000


def test_primary_key_duplicates_warn_but_do_not_gate(tmp_path):
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "v"}], "primaryKey": ["id"]}
    r = run(tmp_path, "id,v\n1,a\n2,b\n1,c\n1,d\n", schema)
    assert r["primary_key_duplicates"] == 2
    assert r["gates"]["passed"] is True
    assert any("primary key" in w for w in r["warnings"])


def test_labels_distribution_outside_missing_imbalance(tmp_path):
    schema = {"fields": [{"name": "text"}, {"name": "label"}], "labelField": "label",
              "labels": ["pos", "neg", "neutral"]}
    data = ("text,label\n"
            "a,pos\nb,pos\nc,pos\nd,pos\ne,neg\nf,spam\ng,\nh,neg\n")
    r = run(tmp_path, data, schema)
    lab = r["labels"]
    assert lab["column"] == "label"
    assert lab["distribution"] == {"pos": 4, "neg": 2, "neutral": 0}
    assert lab["outside_set"] == 1
    assert lab["missing"] == 1
    assert lab["imbalance_ratio"] == 2.0
    assert lab["conflicts"] == 0


def test_label_conflicts_count_inputs_with_two_labels(tmp_path):
    # given input "a" labelled pos and neg (twice), "b" pos twice, "c" neg and outside-set "x"
    schema = {"fields": [{"name": "id"}, {"name": "text"}, {"name": "label"}], "primaryKey": "id",
              "labelField": "label", "labels": ["pos", "neg"]}
    data = "id,text,label\n1,a,pos\n2,a,neg\n3,a,neg\n4,b,pos\n5,b,pos\n6,c,neg\n7,c,x\n8,d,pos\n9,d,neg\n"
    r = run(tmp_path, data, schema)
    # then conflicts counts distinct inputs (a, d); the primary key is not an input
    assert r["labels"]["conflicts"] == 2
    assert r["labels"]["input_fields"] == ["text"]


def test_label_conflicts_use_declared_input_fields(tmp_path):
    schema = {"fields": [{"name": "q"}, {"name": "note"}, {"name": "y"}], "labelField": "y",
              "labels": ["1", "0"], "inputFields": ["q"]}
    r = run(tmp_path, "q,note,y\nx,n1,1\nx,n2,0\nz,n3,1\n", schema)
    assert r["labels"]["conflicts"] == 1


def test_formula_injection_excludes_numbers(tmp_path):
    data = 'a\n=1+2\n+86 138\n-5\n+3.5\n@cmd\n"\tx"\n-\nplain\n'
    r = run(tmp_path, data)
    # "=1+2", "+86 138", "@cmd", "<tab>x", "-" are formulas; "-5", "+3.5" are numbers
    assert r["formula_injection"] == 5


def test_sample_has_first_ten_rows_as_strings(tmp_path):
    data = "a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(15))
    r = run(tmp_path, data)
    assert len(r["sample"]) == 10
    assert r["sample"][0] == {"a": "0", "b": "0"}
    assert r["sample"][9] == {"a": "9", "b": "18"}


def test_clean_file_passes_gates_with_grade_a(tmp_path):
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}], "personalData": False}
    r = run(tmp_path, "id,name\n1,alpha\n2,beta\n3,gamma\n", schema)
    assert r["gates"] == {"passed": True, "failures": []}
    assert r["score"] == 100
    assert r["grade"] == "A"
    assert r["bytes"] == len("id,name\n1,alpha\n2,beta\n3,gamma\n")


def test_missing_declared_column_fails_gate_and_extra_column_warns(tmp_path):
    schema = {"fields": [{"name": "id"}, {"name": "price", "type": "number"}]}
    r = run(tmp_path, "id,colour\n1,red\n", schema)
    assert r["gates"]["passed"] is False
    assert "missing declared columns: price" in r["gates"]["failures"]
    assert "extra columns not in the schema: colour" in r["warnings"]


def test_custom_missing_values_count_as_null(tmp_path):
    schema = {"fields": [{"name": "a", "type": "integer"}], "missingValues": ["", "NA"]}
    r = run(tmp_path, "a\n1\nNA\n\n2\n", schema)
    assert column(r, "a")["null_count"] == 1
    assert column(r, "a")["invalid_count"] == 0
