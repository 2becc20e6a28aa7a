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
_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _resident(rng: random.Random) -> str:
    body = f"{rng.randint(110000, 659000)}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_W, strict=True)) % 11]


def _card(rng: random.Random) -> str:
    body = "62" + "".join(str(rng.randint(0, 9)) for _ in range(13))
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def generate(path: Path, target_bytes: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    truth = {"rows": 0, "malformed_rows": 0, "duplicate_rows": 0, "age_null": 0, "age_invalid": 0,
             "amount_invalid": 0, "day_invalid": 0, "mobile": 0, "email": 0, "resident_id": 0,
             "bank_card": 0, "formula_injection": 0, "label_missing": 0, "label_outside": 0,
             "distribution": {lab: 0 for lab in LABELS}}
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
                q = rng.random()
                if tmpl is None:
                    if q < 0.002:
                        text += f" call 1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}"
                        pii = "mobile"
                    elif q < 0.003:
                        text += f" mail u{rid}@example.com"
                        pii = "email"
                    elif q < 0.0035:
                        text += f" id {_resident(rng)}"
                        pii = "resident_id"
                    elif q < 0.004:
                        text += f" card {_card(rng)}"
                        pii = "bank_card"
                    elif q < 0.0045:
                        text = "=HYPERLINK(" + text + ")"
                        pii = "formula"
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
