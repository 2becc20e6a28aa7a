"""Deterministic labelled CSV generator with known defects (ground truth returned)."""

from __future__ import annotations

import json
import random
from pathlib import Path

LABELS = ["pos", "neg", "neutral"]
SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"}, {"name": "user", "type": "string"},
        {"name": "age", "type": "integer"}, {"name": "amount", "type": "number"},
        {"name": "day", "type": "date"}, {"name": "city", "type": "string"},
        {"name": "text", "type": "string"}, {"name": "label", "type": "string"},
    ],
    "primaryKey": "id", "labelField": "label", "labels": LABELS, "inputFields": ["text"],
    "personalData": True,
}
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "Wuhan", "Xi'an"]
WORDS = ("data quality stream profile label exchange market price order delivery signal "
         "数据 质量 交易 市场 标签").split()
TEMPLATES = [f"template sentence number {i} about the market" for i in range(2000)]
# --- personal data, written the way firms write it, and near-misses --------------------
# The ground truth follows the rules of issue 9 §4 (docs/quality.md, "Personal data"); it is
# decided here by construction, independently of workers/quality/pii.py: each valid item
# is built valid, and each near-miss breaks exactly one rule in a way no other rule rescues
# (e.g. an 18-digit near-miss never starts with a card IIN digit unless it looks like an id).
MOBILE_SEGMENTS = ["130", "131", "135", "138", "139", "145", "147", "150", "152", "158", "162", "166",
                   "170", "176", "178", "180", "186", "188", "189", "191", "198", "199"]
NOT_MOBILE_SEGMENTS = ["100", "120", "140", "141", "144", "154", "160", "164", "179", "194"]
# GB/T 2260 province codes (a valid id starts with one)
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
             "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]
# no province, and no card range either (a 7x/8x number other than 81 is no IIN)
NOT_PROVINCES = ["72", "74", "77", "79", "80", "86", "88"]
CARD_PREFIXES = ["622202", "621700", "622848", "625965", "603367", "9558"]
_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GENERATOR_VERSION = 2  # bump when the data or its ground truth changes (bench caches the file)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def _id_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_W, strict=True)) % 11]


def _luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _region(rng: random.Random, province: str) -> str:
    return province + f"{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"


def _birth(rng: random.Random) -> str:
    return f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def _resident(rng: random.Random) -> str:
    """A valid id: 18 characters (about 1 in 11 ends in X), or the old 15-digit form."""
    if rng.random() < 0.2:  # issued before 1999: birth date YYMMDD of the 1900s
        return _region(rng, rng.choice(PROVINCES)) + f"{rng.randint(30, 90)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + _digits(rng, 3)
    body = _region(rng, rng.choice(PROVINCES)) + _birth(rng) + _digits(rng, 3)
    return body + _id_check(body)


def _resident_near_miss(rng: random.Random) -> str:
    """Looks like an id, fails one id rule, and is no card either."""
    k = rng.randrange(4)
    if k == 0:  # wrong check character (province + birth date: by rule not a card)
        body = _region(rng, rng.choice(PROVINCES)) + _birth(rng) + _digits(rng, 3)
        return body + rng.choice([c for c in "0123456789X" if c != _id_check(body)])
    if k == 1:  # no such province, right check character
        body = _region(rng, rng.choice(NOT_PROVINCES)) + _birth(rng) + _digits(rng, 3)
        return body + _id_check(body)
    if k == 2:  # month 13 (province 1x: a number starting with 1 is no card)
        body = _region(rng, rng.choice(PROVINCES[:5])) + f"{rng.randint(1950, 2005)}13{rng.randint(1, 28):02d}" + _digits(rng, 3)
        return body + _id_check(body)
    # old 15-digit form with 30 February (15 digits are never a card)
    return _region(rng, rng.choice(PROVINCES)) + f"{rng.randint(50, 99)}0230" + _digits(rng, 3)


def _card(rng: random.Random) -> str:
    """A Luhn-valid UnionPay-range card of 16 or 19 digits (18 digits could look like an id)."""
    prefix = rng.choice(CARD_PREFIXES)
    length = 19 if prefix == "9558" or rng.random() < 0.3 else 16
    body = prefix + _digits(rng, length - len(prefix) - 1)
    return body + _luhn_digit(body)


def _grouped(s: str, sep: str) -> str:
    return sep.join(s[i:i + 4] for i in range(0, len(s), 4))


def _mobile_text(rng: random.Random) -> str:
    m = rng.choice(MOBILE_SEGMENTS) + _digits(rng, 8)
    return rng.choice([
        f"call {m}", f"tel {m[:3]} {m[3:7]} {m[7:]}", f"手机 {m[:3]}-{m[3:7]}-{m[7:]}",
        f"call +86 {m[:3]}-{m[3:7]}-{m[7:]}", f"tel +86{m}", f"tel 0086 {m}", f"电话：0086-{m}。"])


def _mobile_near_miss(rng: random.Random) -> str:
    m = rng.choice(MOBILE_SEGMENTS) + _digits(rng, 8)
    return rng.choice([
        f"call {rng.choice(NOT_MOBILE_SEGMENTS)}{m[3:]}",  # no mobile segment
        f"ratio {m}.{rng.randint(1, 9)}",                   # part of a decimal
        f"order {m}{_digits(rng, 1)}",                      # 12 digits
        f"tel {m[:4]} {m[4:7]} {m[7:]}",                    # grouped 4-3-4
        f"code x{m}"])                                      # glued to a letter


def _card_text(rng: random.Random) -> str:
    c = _card(rng)
    return rng.choice([f"card {c}", f"card {_grouped(c, ' ')}", f"卡号 {_grouped(c, '-')}"])


def _card_near_miss(rng: random.Random) -> str:
    c = _card(rng)
    bad = c[:-1] + str((int(c[-1]) + rng.randint(1, 9)) % 10)  # Luhn fails
    return rng.choice([
        f"card {bad}", f"card {_grouped(bad, ' ')}",
        f"rate {rng.randint(0, 9)}.{c[:16]}",              # a card number as the digits of a decimal
        f"lon {rng.randint(73, 135)}.{c[:16]}",
        f"value {c[0]}.{c[1:17]}e+20"])                     # scientific notation


def _pii_text(rng: random.Random, rid: int) -> tuple[str, str] | None:
    """Text to append to a row's free text and what it is (a personal-data kind, or
    ``near_<kind>`` for a near-miss that counts as nothing), or None for most rows."""
    q = rng.random()
    if q >= 0.0065:
        return None
    for limit, make, kind in (
            (0.002, _mobile_text, "mobile"), (0.0025, _mobile_near_miss, "near_mobile"),
            (0.0035, lambda r: f"mail u{rid}@example.com", "email"),
            (0.004, lambda r: f"id {_resident(r)}", "resident_id"), (0.0045, lambda r: f"id {_resident_near_miss(r)}", "near_resident_id"),
            (0.005, _card_text, "bank_card"), (0.0055, _card_near_miss, "near_bank_card")):
        if q < limit:
            return " " + make(rng), kind
    return None if q >= 0.006 else ("formula", "formula")


def generate(path: Path, target_bytes: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    truth = {"rows": 0, "malformed_rows": 0, "duplicate_rows": 0, "age_null": 0, "age_invalid": 0,
             "amount_invalid": 0, "day_invalid": 0, "mobile": 0, "email": 0, "resident_id": 0,
             "bank_card": 0, "formula_injection": 0, "label_missing": 0, "label_outside": 0,
             "distribution": {lab: 0 for lab in LABELS},
             "near_misses": {"mobile": 0, "resident_id": 0, "bank_card": 0}}
    tmpl_labels: dict[int, set] = {}
    written = 0
    rid = 0
    prev = None
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,user,age,amount,day,city,text,label\n")
        written += 40
        while written < target_bytes:
            lines = []
            for _ in range(20_000):
                r = rng.random()
                if prev is not None and r < 0.001:  # exact duplicate of the previous row
                    lines.append(prev[0])
                    _count(truth, prev[1], tmpl_labels)
                    truth["duplicate_rows"] += 1
                    continue
                if r < 0.0015:  # malformed: an extra field
                    lines.append(f"{rid},x,1,2,2020-01-01,c,t,pos,EXTRA\n")
                    truth["malformed_rows"] += 1
                    rid += 1
                    continue
                rid += 1
                info = {}
                a = rng.random()
                age = "" if a < 0.02 else ("n/a" if a < 0.021 else str(rng.randint(16, 90)))
                info["age"] = "null" if a < 0.02 else ("invalid" if a < 0.021 else "")
                amount = "abc" if rng.random() < 0.001 else f"{rng.uniform(0, 10000):.2f}"
                info["amount_invalid"] = amount == "abc"
                day = "2023-02-30" if rng.random() < 0.0005 else f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                info["day_invalid"] = day == "2023-02-30"
                p = rng.random()
                tmpl = None
                if p < 0.05:
                    tmpl = rng.randrange(len(TEMPLATES))
                    text = TEMPLATES[tmpl]
                else:
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) + f" #{rid}"
                pii = None
                extra = _pii_text(rng, rid) if tmpl is None else None
                if extra is not None and extra[1] == "formula":
                    text = "=HYPERLINK(" + text + ")"
                    pii = "formula"
                elif extra is not None:
                    text += extra[0]
                    pii = extra[1]
                info["pii"] = pii
                lr = rng.random()
                if lr < 0.001:
                    label = ""
                elif lr < 0.002:
                    label = "unknown"
                elif tmpl is not None and lr < 0.01:
                    label = rng.choice(LABELS)  # may conflict with the template's usual label
                elif tmpl is not None:
                    label = LABELS[tmpl % 3]
                else:
                    label = "pos" if lr < 0.6 else ("neg" if lr < 0.9 else "neutral")
                info["label"] = label
                info["tmpl"] = tmpl
                user = f"user{rng.randint(0, 500000)}"
                city = rng.choice(CITIES)
                q_text = '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text
                line = f"{rid},{user},{age},{amount},{day},{city},{q_text},{label}\n"
                lines.append(line)
                _count(truth, info, tmpl_labels)
                prev = (line, info)
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk.encode("utf-8"))
    truth["conflicts"] = sum(1 for s in tmpl_labels.values() if len(s) > 1)
    # per column (every item and formula is in the free text; malformed rows are excluded)
    names = [c["name"] for c in SCHEMA["fields"]]
    truth["nulls"] = {c: 0 for c in names} | {"age": truth["age_null"], "label": truth["label_missing"]}
    truth["invalid"] = {c: 0 for c in names} | {"age": truth["age_invalid"], "amount": truth["amount_invalid"],
                                                 "day": truth["day_invalid"]}
    kinds = {k: truth[k] for k in ("mobile", "email", "resident_id", "bank_card") if truth[k]}
    truth["pii_by_column"] = {"text": kinds} if kinds else {}
    truth["formula_by_column"] = {"text": truth["formula_injection"]} if truth["formula_injection"] else {}
    # a duplicate repeats its row's id (a malformed row reuses one too, but is excluded)
    truth["primary_key_duplicates"] = truth["duplicate_rows"]
    truth["generator_version"] = GENERATOR_VERSION
    truth["bytes"] = path.stat().st_size
    path.with_suffix(".truth.json").write_text(json.dumps(truth))
    return truth


def _count(truth: dict, info: dict, tmpl_labels: dict) -> None:
    truth["rows"] += 1
    if info["age"] == "null":
        truth["age_null"] += 1
    elif info["age"] == "invalid":
        truth["age_invalid"] += 1
    truth["amount_invalid"] += info["amount_invalid"]
    truth["day_invalid"] += info["day_invalid"]
    if info["pii"] == "formula":
        truth["formula_injection"] += 1
    elif info["pii"] and info["pii"].startswith("near_"):
        truth["near_misses"][info["pii"][5:]] += 1
    elif info["pii"]:
        truth[info["pii"]] += 1
    lab = info["label"]
    if lab == "":
        truth["label_missing"] += 1
    elif lab not in LABELS:
        truth["label_outside"] += 1
    else:
        truth["distribution"][lab] += 1
        if info["tmpl"] is not None:
            tmpl_labels.setdefault(info["tmpl"], set()).add(lab)
