"""Personal-data detection: each kind, edge cases, redaction and the gate."""

from __future__ import annotations

from tests.workers._quality_helpers import run
from workers.quality.pii import luhn_ok, redact, resident_id_ok


def _pii(tmp_path, cells: list[str], schema: dict | None = None) -> dict:
    data = "note\n" + "".join('"' + c.replace('"', '""') + '"\n' for c in cells)
    return run(tmp_path, data, schema)["pii"]


def test_mobile_exactly_eleven_digits(tmp_path):
    # given an 11-digit mobile, one embedded in text, a 12-digit run, a 10-digit run, a bad prefix
    p = _pii(tmp_path, ["13812345678", "call 15900001111 now", "138123456789", "1381234567",
                        "12812345678", "tel:19912345678;x"])
    assert p["mobile"] == 3
    assert p["by_column"] == {"note": {"mobile": 3}}


def test_mobile_counts_cells_not_matches(tmp_path):
    p = _pii(tmp_path, ["13812345678 or 13912345678"])
    assert p["mobile"] == 1


def test_email(tmp_path):
    p = _pii(tmp_path, ["zhang.san@example.com", "write to li@mail.qq.com.", "not@email", "@@", "a@b.c"])
    assert p["email"] == 2


def test_resident_id_with_x_check_character(tmp_path):
    # given a valid id ending in X, the same in lower case, a wrong check digit, and one glued to letters
    p = _pii(tmp_path, ["11010519491231002X", "id 11010519491231002x", "110105194912310021",
                        "A11010519491231002X"])
    assert p["resident_id"] == 2
    assert p["bank_card"] == 0


def test_valid_resident_id_that_passes_luhn_is_not_a_bank_card(tmp_path):
    # given an 18-digit number that is both a valid resident id and Luhn-valid
    assert resident_id_ok("440304199001000059") and luhn_ok("440304199001000059")
    p = _pii(tmp_path, ["440304199001000059"])
    assert p["resident_id"] == 1
    assert p["bank_card"] == 0


def test_bank_card_luhn(tmp_path):
    # given Luhn-valid 16 and 19 digit cards, a Luhn-invalid one, a 20-digit run, and one glued to letters
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    p = _pii(tmp_path, ["4111111111111111", "card 6222020200112230 ok", "4111111111111112",
                        "41111111111111111113", "x4111111111111111"])
    assert p["bank_card"] == 2
    assert p["resident_id"] == 0


def test_redacted_examples(tmp_path):
    p = _pii(tmp_path, ["13812345678", "11010519491231002X"])
    assert "138******78" in p["examples"]
    assert "110*************2X" in p["examples"]
    assert all("12345" not in e for e in p["examples"])
    assert redact("zhang@example.com") == "zha************om"


def test_pii_counted_per_column(tmp_path):
    data = "a,b\n13812345678,x@y.com\nplain,13912345678\n"
    p = run(tmp_path, data)["pii"]
    assert p["by_column"] == {"a": {"mobile": 1}, "b": {"email": 1, "mobile": 1}}
    assert (p["mobile"], p["email"]) == (2, 1)


def test_personal_data_gate_when_declared_false(tmp_path):
    schema = {"fields": [{"name": "note"}], "personalData": False}
    data = "note\n13812345678\nhello\n"
    r = run(tmp_path, data, schema)
    assert r["gates"]["passed"] is False
    assert r["gates"]["failures"] == [
        "personal data found although the schema declares personalData: false: 1 mobile numbers (columns: note)"]


def test_personal_data_allowed_when_declared_true(tmp_path):
    schema = {"fields": [{"name": "note"}], "personalData": True}
    r = run(tmp_path, "note\n13812345678\n", schema)
    assert r["gates"]["passed"] is True
    assert r["pii"]["mobile"] == 1


def test_grouped_prefilter_finds_every_row_the_row_by_row_search_finds():
    import random

    import pyarrow as pa
    import pyarrow.compute as pc

    from workers.quality.profiler import ROW_PREFILTER_RE, SEP, _candidate_rows

    # given 5,000 joined rows where a few hold a mobile, an e-mail or a formula-like cell,
    # in the first, a middle or the last column, and digit runs that only touch across rows
    rng = random.Random(5)
    rows = []
    for i in range(5000):
        cells = [f"c{i}", "12345", "text", "678901"]
        r = rng.random()
        if r < 0.01:
            cells[rng.randrange(4)] = "13812345678"
        elif r < 0.02:
            cells[rng.randrange(4)] = "a@b.cn"
        elif r < 0.03:
            cells[rng.randrange(4)] = rng.choice(["=SUM(A1)", "+x", "-y", "@z", "\tt", "\rr"])
        rows.append(SEP.join(cells))
    raw = pa.array(rows, pa.string())
    first = pa.array([r.split(SEP)[0] for r in rows], pa.string())
    # when candidates are found through groups of rows
    got = set(_candidate_rows(raw, first, len(rows)).to_pylist())
    # then they include every row the row-by-row search finds
    want = set(pc.indices_nonzero(pc.match_substring_regex(raw, ROW_PREFILTER_RE)).to_pylist())
    assert len(want) > 100
    assert want <= got
    assert _candidate_rows(raw, first, len(rows)).to_pylist() == sorted(got)


def test_formula_in_the_first_column_of_a_quiet_group_is_counted(tmp_path):
    # given 1,000 clean rows and one whose first cell is a formula (no other hit near it)
    rows = [f"r{i},plain,text" for i in range(1000)]
    rows[517] = "=HYPERLINK(x),plain,text"
    r = run(tmp_path, "a,b,c\n" + "\n".join(rows) + "\n")
    assert r["formula_injection"] == 1
    assert r["formula_injection_by_column"] == {"a": 1}
