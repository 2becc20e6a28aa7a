"""Labelled personal-data corpora: valid items in the formats firms write them, and decoys.

``positives(seed)`` -> [(cell, kind)]: generated valid mobiles, resident ids (18 and 15
digits), bank cards and e-mails, solid, grouped, with country codes, inside text.
``decoys(seed)`` -> [cell]: decimals, scientific numbers, coordinates, fertility rates,
timestamps, order numbers, phone-like but invalid numbers, ids failing one rule each,
cards failing one rule each. None holds personal data.
"""

from __future__ import annotations

import datetime as dt
import random

from workers.quality.pii import PROVINCES, id_check_char, luhn_ok

SEGMENTS = ["130", "135", "138", "139", "145", "147", "150", "152", "158", "166", "170", "176", "177",
            "180", "186", "188", "189", "191", "198", "199"]
CARD_PREFIXES = ["622202", "621700", "622848", "436742", "411111", "524094", "603367", "625965", "356833", "9558"]
PROVINCE_LIST = sorted(PROVINCES - {"71", "81", "82", "83"})


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _date(rng: random.Random, start: int = 1930, end: int = 2010) -> dt.date:
    a, b = dt.date(start, 1, 1).toordinal(), dt.date(end, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(a, b))


def _luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("no Luhn digit")


def make_mobile(rng: random.Random) -> str:
    return rng.choice(SEGMENTS) + _digits(rng, 8)


def make_id18(rng: random.Random) -> str:
    first17 = (rng.choice(PROVINCE_LIST) + f"{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"
               + _date(rng).strftime("%Y%m%d") + _digits(rng, 3))
    return first17 + id_check_char(first17)


def make_id15(rng: random.Random) -> str:
    return (rng.choice(PROVINCE_LIST) + f"{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"
            + _date(rng, 1930, 1999).strftime("%y%m%d") + _digits(rng, 3))


def make_card(rng: random.Random, length: int | None = None) -> str:
    length = length or rng.choice([16, 16, 16, 17, 18, 19])
    prefix = rng.choice(CARD_PREFIXES)
    while True:
        card = _luhn_complete(prefix + _digits(rng, length - len(prefix) - 1))
        # an 18-digit card that happens to look like an id (province + date) is, by rule, not a card
        from workers.quality.pii import looks_like_resident_id
        if not (length == 18 and looks_like_resident_id(card)):
            return card


def _group(s: str, sep: str) -> str:
    return sep.join(s[i:i + 4] for i in range(0, len(s), 4))


def positives(seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    mobile_formats = [
        lambda m: m, lambda m: f"{m[:3]} {m[3:7]} {m[7:]}", lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}",
        lambda m: f"+86 {m[:3]}-{m[3:7]}-{m[7:]}", lambda m: f"+86{m}", lambda m: f"+86 {m}", lambda m: f"0086{m}",
        lambda m: f"0086-{m}", lambda m: f"联系电话：{m}", lambda m: f"call {m[:3]} {m[3:7]} {m[7:]} today",
        lambda m: f"tel:{m};", lambda m: f"手机 +86-{m[:3]}-{m[3:7]}-{m[7:]}。",
    ]
    for i in range(72):
        out.append((mobile_formats[i % len(mobile_formats)](make_mobile(rng)), "mobile"))
    id_formats = [lambda s: s, lambda s: f"身份证号 {s}。", lambda s: f"id={s}", lambda s: s.lower()]
    for i in range(40):
        out.append((id_formats[i % len(id_formats)](make_id18(rng)), "resident_id"))
    while sum(1 for c, k in out if k == "resident_id" and c.endswith(("X", "x"))) < 4:
        s = make_id18(rng)
        if s.endswith("X"):
            out.append((s, "resident_id"))
    for i in range(16):
        s = make_id15(rng)
        out.append((s if i % 2 else f"旧身份证 {s}", "resident_id"))
    card_formats = [lambda c: c, lambda c: _group(c, " "), lambda c: _group(c, "-"), lambda c: f"卡号 {_group(c, ' ')}",
                    lambda c: f"card {c} ok"]
    for i in range(52):
        out.append((card_formats[i % len(card_formats)](make_card(rng)), "bank_card"))
    for i in range(24):
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
        domain = rng.choice(["example.com", "qq.com", "163.com", "mail.example.cn", "corp-x.com.cn"])
        cell = f"{name}.{i}@{domain}" if i % 3 else f"写信给 {name}@{domain}。"
        out.append((cell, "email"))
    return out


def decoys(seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    # decimals and scientific numbers with long digit runs
    for _ in range(25):
        out.append(repr(rng.random() * 10))                       # 7.0870000000000015-like
    for _ in range(10):
        out.append(repr(rng.random() * 1e20))                     # 1.2345678901234567e+20
        out.append(repr(rng.random() * 1e-5))                     # 1.2345678901234567e-06
    out += ["7.0870000000000015", "1.2345678901234567e+20", "13800138000.5", "0.13800138000", "-13800138000.25",
            "6222020200112230.0", "1.3800138000e+10", "4.111111111111111e+15", "2.1010519491231002e3"]
    # fertility rates, coordinates
    for _ in range(12):
        out.append(f"{rng.uniform(0.8, 7.5):.16f}")
        out.append(f"{rng.uniform(73, 135)!r},{rng.uniform(18, 53)!r}")
        out.append(f"POINT({rng.uniform(73, 135):.15f} {rng.uniform(18, 53):.15f})")
    # timestamps
    for _ in range(10):
        t = rng.randint(1_500_000_000, 1_800_000_000)
        out += [str(t * 1000), str(t * 1_000_000), str(t * 1_000_000_000),
                dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%d%H%M%S"),
                dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%d%H%M%S") + _digits(rng, 3),
                dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")]
    # order numbers
    for _ in range(8):
        day = _date(rng, 2015, 2025).strftime("%Y%m%d")
        out += [f"SO{day}{_digits(rng, 8)}", f"{day}{_digits(rng, 10)}", f"ORD{rng.choice(SEGMENTS)}{_digits(rng, 8)}",
                f"{day}{_digits(rng, 6)}"]
    # phone-like but not a mobile
    for _ in range(6):
        m = make_mobile(rng)
        out += [m + _digits(rng, 1), m[:10], "12" + m[2:], "140" + m[3:], "154" + m[3:], "194" + m[3:],
                f"{m[:4]} {m[4:7]} {m[7:]}", f"{m[:3]} {m[3:7]}-{m[7:]}", f"010-{_digits(rng, 8)}", f"x{m}",
                f"{m}y", f"86{m}"]
    # resident ids failing one rule each
    for _ in range(6):
        good = make_id18(rng)
        wrong = next(c for c in "0123456789X" if c != good[17])
        out.append(good[:17] + wrong)                                       # check character
        body = "99" + good[2:17]
        out.append(body + id_check_char(body))                              # province
        body = good[:6] + "19901301" + good[14:17]
        out.append(body + id_check_char(body))                              # month 13
        body = good[:6] + "20990101" + good[14:17]
        out.append(body + id_check_char(body))                              # future
        body = good[:6] + "18890101" + good[14:17]
        out.append(body + id_check_char(body))                              # before 1900
        out.append("A" + good)                                              # glued to a letter
        id15 = make_id15(rng)
        out += [id15[:6] + "901301" + id15[12:], "99" + id15[2:], id15[:2] + "00" + id15[4:], id15[:6] + "990230" + id15[12:]]
    # 18-digit id look-alikes with a wrong check character that pass Luhn: neither id nor card
    made = 0
    while made < 8:
        good = make_id18(rng)
        for c in "0123456789":
            if c != good[17] and luhn_ok(good[:17] + c):
                out.append(good[:17] + c)
                made += 1
                break
    # cards failing one rule each
    for _ in range(6):
        card = make_card(rng, 16)
        bad = card[:15] + str((int(card[15]) + 1) % 10)
        out += [bad, _group(bad, " "), f"{card[:4]} {card[4:8]}-{card[8:12]} {card[12:]}", card + "1234",
                _group(card + "1234", " "), f"x{card}", _luhn_complete("1" + _digits(rng, 14)),
                _luhn_complete("7" + _digits(rng, 15)), _luhn_complete("0" + _digits(rng, 15))]
    # e-mail look-alikes
    out += ["not@email", "@@", "a@b.c", "user@localhost", "@example.com", "价格@10元"]
    return out
