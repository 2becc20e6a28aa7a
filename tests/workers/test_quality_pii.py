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
    assert resident_id_ok("440304199001010249") and luhn_ok("440304199001010249")
    p = _pii(tmp_path, ["440304199001010249"])
    assert p["resident_id"] == 1
    assert p["bank_card"] == 0


def test_bank_card_luhn(tmp_path):
    # given Luhn-valid 16 and 19 digit cards, a Luhn-invalid one, a 20-digit run, and one glued to letters
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    p = _pii(tmp_path, ["4111111111111111", "card 6222020200112230 ok", "4111111111111112",
                        "41111111111111111113", "x4111111111111111"])
    assert p["bank_card"] == 2
    assert p["resident_id"] == 0


def test_redacted_examples_keep_the_shape(tmp_path):
    p = _pii(tmp_path, ["13812345678", "11010519491231002X", "+86 139-1234-5678", "6222 0202 0011 2230",
                        "zhang.san0@example.com"])
    assert p["examples"] == ["138****5678", "+86 139-****-5678", "z***@example.com", "110105********002X",
                             "6222 **** **** 2230"]
    assert redact("zhang@example.com") == "z***@example.com"


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

    from workers.quality.arrowutil import SEP
    from workers.quality.passes.content import ROW_PREFILTER_RE
    from workers.quality.passes.content import candidate_rows as _candidate_rows

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


# --- precision (issue 9 §4) ------------------------------------------------------------------
def test_digit_runs_inside_decimals_and_scientific_numbers_are_not_cards_or_ids(tmp_path):
    # given fertility rates, coordinates and scientific numbers whose digit runs pass Luhn or
    # the id check, and one real card beside a decimal
    assert luhn_ok("0870000000000015")
    p = _pii(tmp_path, ["7.0870000000000015", "1.2345678901234567e+20", "116.3974500000000151,39.90923",
                        "0.11010519491231002X", "13800138000.5", "4111111111111111 costs 7.0870000000000015"])
    assert (p["bank_card"], p["resident_id"], p["mobile"]) == (1, 0, 0)


def test_resident_id_needs_province_and_birth_date_as_well_as_the_check_character(tmp_path):
    from workers.quality.pii import id_check_char

    def with_check(first17: str) -> str:
        return first17 + id_check_char(first17)

    cells = [with_check("11010519491231002"),   # valid
             with_check("10010519491231002"),   # no such province
             with_check("11010519491331002"),   # month 13
             with_check("11010518891231002"),   # born before 1900
             with_check("11010520991231002"),   # born in the future
             with_check("11010519490230002")]   # 30 February
    p = _pii(tmp_path, cells)
    assert p["resident_id"] == 1
    assert p["bank_card"] == 0


def test_id_look_alike_with_a_wrong_check_character_is_not_a_bank_card(tmp_path):
    # given an 18-digit number with a province and birth date, a wrong check character, Luhn-valid
    cell = "440304199001010009"
    assert luhn_ok(cell) and not resident_id_ok(cell)
    p = _pii(tmp_path, [cell, "11010519491231002Y", "110105194912310O2X"])
    assert (p["resident_id"], p["bank_card"]) == (0, 0)


def test_old_fifteen_digit_id_needs_province_city_and_birth_date(tmp_path):
    p = _pii(tmp_path, ["110105491231002", "身份证 320102800229123",   # valid (1980-02-29 existed)
                        "990105491231002", "110005491231002", "110105491331002", "320102810229123",
                        "202312011234567", "1101054912310021"])
    assert p["resident_id"] == 2


def test_mobiles_with_country_code_spaces_and_dashes(tmp_path):
    p = _pii(tmp_path, ["+86 138-0013-8000", "138 0013 8000", "138-0013-8000", "+8613800138000",
                        "0086 13800138000", "电话：+86-139-1234-5678。",
                        # not mobiles: mixed separators, 4-3-4 groups, unassigned segments, glued to letters
                        "138 0013-8000", "1380 013 8000", "15400138000", "14000138000", "SO13800138000",
                        "8613800138000"])
    assert p["mobile"] == 6


def test_cards_in_groups_of_four(tmp_path):
    p = _pii(tmp_path, ["6222 0202 0011 2230", "6222-0202-0011-2230", "卡号 4111 1111 1111 1111。",
                        "6217 0000 0000 0000 004",                      # 19 digits, Luhn-valid
                        # not cards: Luhn fails, mixed separators, 5 groups of four, a bad IIN
                        "6222 0202 0011 2231", "6222 0202-0011 2230", "6222 0202 0011 2230 1234",
                        "1000 0000 0000 0008"])
    assert luhn_ok("6217000000000000004") and luhn_ok("1000000000000008")
    assert p["bank_card"] == 4


def test_labelled_corpora_have_no_false_positives_or_negatives(tmp_path):
    from tests.workers._pii_corpus import decoys, positives
    from workers.quality.pii import classify

    # given 206 generated valid items in many formats and 382 decoys
    pos, dec = positives(), decoys()
    assert len(pos) >= 200 and len(dec) >= 200
    # when each is classified on its own
    fn = [(c, k) for c, k in pos if k not in classify(c)]
    fp = [c for c in dec if classify(c)]
    wrong_kind = [(c, k, classify(c)) for c, k in pos if classify(c) - {k, "mobile"}]
    # then none is missed, none is invented, no item is taken for another kind
    assert fn == []
    assert fp == []
    assert wrong_kind == []


def test_profiler_counts_on_the_labelled_corpora_match_the_labels(tmp_path):
    from collections import Counter

    from tests.workers._pii_corpus import decoys, positives

    # given one file with the valid items in one column and the decoys in another
    pos, dec = positives(), decoys()
    n = max(len(pos), len(dec))
    rows = []
    for i in range(n):
        a = pos[i][0] if i < len(pos) else "plain"
        b = dec[i] if i < len(dec) else "plain"
        rows.append('"' + a.replace('"', '""') + '","' + b.replace('"', '""') + '"')
    report = run(tmp_path, "items,decoys\n" + "\n".join(rows) + "\n")
    # when profiled (prefilter, vectorised patterns and the exact checks together)
    p = report["pii"]
    want = Counter(k for _c, k in pos)
    # then the counts are the labels' counts and the decoy column has none
    assert {k: p["by_column"]["items"].get(k, 0) for k in want} == dict(want)
    assert "decoys" not in p["by_column"]


def test_prefilter_flags_every_cell_holding_an_item():
    import pyarrow as pa
    import pyarrow.compute as pc

    from tests.workers._pii_corpus import positives
    from workers.quality.pii import LONG_DIGITS_RE2, PREFILTER_RE

    cells = [c for c, _k in positives()]
    assert pc.match_substring_regex(pa.array(cells), PREFILTER_RE).false_count == 0
    longs = [c for c, k in positives() if k in ("resident_id", "bank_card")]
    assert pc.match_substring_regex(pa.array(longs), LONG_DIGITS_RE2).false_count == 0


def test_vectorised_mobile_pattern_agrees_with_the_python_one():
    import random

    import pyarrow as pa
    import pyarrow.compute as pc

    from tests.workers._pii_corpus import decoys, positives
    from workers.quality.pii import MOBILE, MOBILE_RE2

    # given the corpora and 3,000 random strings built from digits, separators, dots, letters
    rng = random.Random(3)
    alphabet = "0123456789" * 4 + " -.+xe@"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(8, 24))) for _ in range(3000)]
    fuzz += ["13800138000" + rng.choice(["", ".", ".5", "x", " ", "-1"]) for _ in range(200)]
    cells = [c for c, _k in positives()] + decoys() + fuzz
    # then RE2 (the profiler's count) and Python (examples, redaction) agree on every cell
    vec = pc.match_substring_regex(pa.array(cells), MOBILE_RE2).to_pylist()
    assert vec == [MOBILE.search(c) is not None for c in cells]
    assert sum(vec) > 100


def test_redact_text_masks_every_item_and_keeps_the_rest():
    from workers.quality.pii import redact_text

    cell = ("张三 13800138000, +86 139-1234-5678, zhang.san0@example.com, 110105194912310021? no: "
            "11010519491231002X, 6222 0202 0011 2230, 6222020200112230, 7.0870000000000015")
    assert redact_text(cell) == (
        "张三 138****8000, +86 139-****-5678, z***@example.com, 110105194912310021? no: "
        "110105********002X, 6222 **** **** 2230, 6222********2230, 7.0870000000000015")
    assert redact_text("110105491231002") == "110105*****1002"
    assert redact_text("13800138000@qq.com") == "1***@qq.com"
    assert redact_text("") == "" and redact_text("no personal data") == "no personal data"


def test_redact_value_walks_nested_json_and_numbers():
    from workers.quality.pii import redact_value

    value = {"sample": [{"phone": 13800138000, "mail": "li@mail.qq.com", "rate": 7.0870000000000015, "ok": True}],
             "top": {"13900139000": 3}, "rows": 12, "min": 13800138000.0}
    assert redact_value(value) == {
        "sample": [{"phone": "138****8000", "mail": "l***@mail.qq.com", "rate": 7.0870000000000015, "ok": True}],
        "top": {"139****9000": 3}, "rows": 12, "min": "138****8000"}
