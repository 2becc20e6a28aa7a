"""Error counts per field and constraint agree with frictionless (the official peer) on a
titanic-like messy export: NA values, dates as %d/%m/%Y, constraints of every kind."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from workers.quality import profile

SCHEMA = {
    "missingValues": ["", "NA"],
    "fields": [
        {"name": "PassengerId", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "Survived", "type": "integer", "constraints": {"required": True, "enum": [0, 1]}},
        {"name": "Pclass", "type": "integer", "constraints": {"enum": [1, 2, 3]}},
        {"name": "Name", "type": "string", "constraints": {"required": True, "minLength": 3, "maxLength": 40}},
        {"name": "Sex", "type": "string", "constraints": {"enum": ["male", "female"]}},
        {"name": "Age", "type": "number", "constraints": {"required": True, "minimum": 0, "maximum": 100}},
        {"name": "Ticket", "type": "string", "constraints": {"pattern": "[A-Z0-9./ ]+", "unique": True}},
        {"name": "Fare", "type": "number", "decimalChar": ",", "groupChar": ".",
         "constraints": {"minimum": 0}},
        {"name": "Cabin", "type": "string", "missingValues": ["", "NA", "unknown"]},
        {"name": "Embarked", "type": "string", "constraints": {"enum": ["C", "Q", "S"]}},
        {"name": "Boarded", "type": "date", "format": "%d/%m/%Y",
         "constraints": {"minimum": "01/04/1912", "maximum": "11/04/1912"}},
        {"name": "VIP", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]},
    ],
}


def messy_titanic(path: Path, n: int = 891, seed: int = 1912) -> None:
    rng = random.Random(seed)
    first = ["John", "Mary", "William", "Elizabeth", "Thomas", "Anna", "李", "Ellen", "Karl", "Ida"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([fd["name"] for fd in SCHEMA["fields"]])
        for i in range(1, n + 1):
            pid = str(i) if rng.random() > 0.01 else str(rng.randint(1, i))          # some repeated ids
            if rng.random() < 0.005:
                pid = "NA"
            surv = rng.choice(["0", "1"] * 30 + ["2", "NA", "yes"])
            pclass = rng.choice(["1", "2", "3"] * 20 + ["4", "", "first"])
            name = f"{rng.choice(first)} {rng.choice(['Smith', 'Brown', 'Andersson', 'Wang'])}"
            name = rng.choice([name] * 40 + ["", "Al", "X" * 45])
            sex = rng.choice(["male", "female"] * 20 + ["Male", "NA", "f"])
            age = rng.choice([f"{rng.randint(1, 80)}", f"{rng.uniform(0.4, 80):.1f}"] * 6 + ["NA", "", "-1", "120", "abc"])
            ticket = rng.choice([f"A/{rng.randint(1000, 9999)}", f"{rng.randint(10000, 99999)}",
                                 f"PC {rng.randint(100, 999)}"] * 10 + ["ticket#1", "LINE", "NA"])
            fare = rng.choice([f"{rng.randint(0, 500)},{rng.randint(0, 99):02d}", f"1.{rng.randint(100, 999)},50"] * 8
                              + ["-3,5", "7.25", "NA", "free"])
            cabin = rng.choice([f"C{rng.randint(1, 99)}"] * 3 + ["", "unknown", "NA"])
            emb = rng.choice(["S"] * 12 + ["C", "Q", "NA", "s", "X"])
            day = rng.choice([f"{d:02d}/04/1912" for d in range(1, 12)] * 3
                             + ["31/03/1912", "12/04/1912", "31/02/1912", "1912-04-10", "NA"])
            vip = rng.choice(["Y", "N"] * 10 + ["yes", "NA"])
            w.writerow([pid, surv, pclass, name, sex, age, ticket, fare, cabin, emb, day, vip])


def frictionless_counts(path: Path) -> Counter:
    from frictionless import Resource, Schema

    report = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(SCHEMA)).validate(limit_errors=10**6)
    out: Counter = Counter()
    for task in report.tasks:
        for e in task.errors:
            if e.type == "type-error":
                out[(e.field_name, "type")] += 1
            elif e.type == "unique-error":
                out[(e.field_name, "unique")] += 1
            elif e.type == "constraint-error":
                out[(e.field_name, e.note.split('"')[1])] += 1
            else:
                out[(getattr(e, "field_name", None), e.type)] += 1
    return out


def our_counts(report: dict) -> Counter:
    out: Counter = Counter()
    for c in report["columns"]:
        if c["invalid_count"]:
            out[(c["name"], "type")] = c["invalid_count"]
    for f in report["findings"]:
        if f["code"].startswith("constraint_"):  # reading findings (formula cells, …) have no field
            out[(f["field"], f["constraint"])] = f["count"]
    return out


def test_error_counts_per_field_and_constraint_match_frictionless(tmp_path):
    path = tmp_path / "titanic_messy.csv"
    messy_titanic(path)
    ours = profile(path, SCHEMA)
    theirs = frictionless_counts(path)
    assert sum(theirs.values()) > 300  # the fixture is messy in every column
    assert our_counts(ours) == theirs
    assert not ours["gates"]["passed"] and ours["grade"] == "E"


def test_first_rows_match_frictionless_row_numbers(tmp_path):
    from frictionless import Resource, Schema

    path = tmp_path / "titanic_messy.csv"
    messy_titanic(path, n=300, seed=7)
    ours = profile(path, SCHEMA)
    report = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(SCHEMA)).validate(limit_errors=10**6)
    rows: dict[tuple, list[int]] = {}
    for e in report.tasks[0].errors:
        kind = {"unique-error": "unique"}.get(e.type) or (e.note.split('"')[1] if e.type == "constraint-error" else None)
        if kind:
            rows.setdefault((e.field_name, kind), []).append(e.row_number)
    assert rows
    for f in (f for f in ours["findings"] if f["code"].startswith("constraint_")):
        assert f["rows"] == rows[(f["field"], f["constraint"])][:20], f
