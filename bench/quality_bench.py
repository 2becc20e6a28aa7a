"""Benchmark the quality profiler against duckdb, polars, pandas and frictionless.

    .venv/bin/python -m bench.quality_bench [--size-gb 1] [--memory-check-gb 4]
    .venv/bin/python -m bench.quality_bench --single-line-mb 200,1000   # only the long-line cases

Each engine runs in its own subprocess on the same generated file, computing the same
counts; wall time gives MB/s, os.wait4 gives the child's peak RSS, and counts are
compared with the generator's ground truth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
KEYS = ["rows", "malformed_rows", "duplicate_rows", "age_null", "age_invalid", "amount_invalid",
        "day_invalid", "mobile", "email", "formula_injection", "label_missing", "label_outside",
        "distribution", "conflicts"]
# a mainland mobile as issue 9 §4 defines it (docs/quality.md, "Personal data"), written
# without look-around so duckdb (RE2), polars (Rust regex) and pandas (re) all run it: a MIIT
# segment + 8 digits, solid, 3-4-4 with spaces or dashes, optionally after +86/0086; not
# glued to a letter or digit, and not part of a decimal number
_SEG = "1(?:3[0-9]|4[5-9]|5[0-35-9]|6[25-7]|7[0-8]|8[0-9]|9[0-35-9])"
MOBILE = (r"(?:^|[^0-9A-Za-z.]|(?:^|[^0-9])\.)(?:(?:\+86|0086)[ -]?)?" + _SEG
          + r"(?:[0-9]{8}| [0-9]{4} [0-9]{4}|-[0-9]{4}-[0-9]{4})(?:$|[^0-9A-Za-z.]|\.(?:$|[^0-9]))")
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
FORMULA = r"^[=+\-@\t\r]"
NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
COLS = ["id", "user", "age", "amount", "day", "city", "text", "label"]


# ---------------------------------------------------------------- children
def child_ours(path: str) -> dict:
    from bench.quality_gen import SCHEMA
    from workers.quality import profile

    r = profile(path, SCHEMA)
    col = {c["name"]: c for c in r["columns"]}
    lab = r["labels"] or {}
    return {"rows": r["rows"], "malformed_rows": r["malformed_rows"], "duplicate_rows": r["duplicate_rows"],
            "age_null": col["age"]["null_count"], "age_invalid": col["age"]["invalid_count"],
            "amount_invalid": col["amount"]["invalid_count"], "day_invalid": col["day"]["invalid_count"],
            "mobile": r["pii"]["mobile"], "email": r["pii"]["email"], "resident_id": r["pii"]["resident_id"],
            "bank_card": r["pii"]["bank_card"], "formula_injection": r["formula_injection"],
            "label_missing": lab.get("missing"), "label_outside": lab.get("outside_set"),
            "distribution": lab.get("distribution"), "conflicts": lab.get("conflicts")}


def _sql_counts(con, src: str) -> dict:
    q = lambda s: con.execute(s).fetchone()  # noqa: E731
    con.execute(f"create or replace temp view t as select * from {src}")
    rows, age_null, age_inv, amt_inv, day_inv, mob, em, fm, lmiss, lout = q(f"""
      select count(*),
        count(*) filter (where age = '' or age is null),
        count(*) filter (where age <> '' and not regexp_matches(age, '^[+-]?[0-9]+$')),
        count(*) filter (where amount <> '' and not regexp_matches(amount, '{NUMBER}')),
        count(*) filter (where day <> '' and try_strptime(day, '%Y-%m-%d') is null),
        count(*) filter (where {' or '.join(f"regexp_matches({c}, '{MOBILE}')" for c in COLS)}),
        count(*) filter (where {' or '.join(f"regexp_matches({c}, '{EMAIL}')" for c in COLS)}),
        {' + '.join(f"count(*) filter (where regexp_matches({c}, '{FORMULA}') and not regexp_matches({c}, '{NUMBER}'))" for c in COLS)},
        count(*) filter (where label = '' or label is null),
        count(*) filter (where label <> '' and label not in ('pos','neg','neutral'))
      from t""")
    distinct = q("select count(*) from (select distinct * from t)")[0]
    dist = dict(con.execute("select label, count(*) from t where label in ('pos','neg','neutral') group by 1").fetchall())
    conflicts = q("select count(*) from (select text from t where label in ('pos','neg','neutral') "
                  "group by text having count(distinct label) > 1)")[0]
    return {"rows": rows, "duplicate_rows": rows - distinct, "age_null": age_null, "age_invalid": age_inv,
            "amount_invalid": amt_inv, "day_invalid": day_inv, "mobile": mob, "email": em,
            "formula_injection": fm, "label_missing": lmiss, "label_outside": lout,
            "distribution": {k: dist.get(k, 0) for k in ("pos", "neg", "neutral")}, "conflicts": conflicts}


def child_duckdb(path: str, capped: bool = False) -> dict:
    import duckdb

    con = duckdb.connect()
    if capped:
        con.execute("set memory_limit='512MB'")
        con.execute(f"set temp_directory='{DATA / 'duckdb_tmp'}'")
    out = _sql_counts(con, f"read_csv('{path}', all_varchar=true, header=true, ignore_errors=true, "
                      "store_rejects=true, null_padding=false)")
    try:
        out["malformed_rows"] = con.execute("select count(distinct line) from reject_errors").fetchone()[0]
    except Exception:  # noqa: BLE001
        out["malformed_rows"] = None
    return out


def child_polars(path: str) -> dict:
    import polars as pl

    lf = pl.scan_csv(path, infer_schema=False, truncate_ragged_lines=True).with_columns(pl.all().fill_null(""))
    c = pl.col
    anyre = lambda pat: pl.any_horizontal([c(x).str.contains(pat) for x in COLS])  # noqa: E731
    agg = lf.select(
        rows=pl.len(), age_null=(c("age") == "").sum(),
        age_invalid=((c("age") != "") & ~c("age").str.contains(r"^[+-]?[0-9]+$")).sum(),
        amount_invalid=((c("amount") != "") & ~c("amount").str.contains(NUMBER)).sum(),
        day_invalid=((c("day") != "") & c("day").str.strptime(pl.Date, "%Y-%m-%d", strict=False).is_null()).sum(),
        mobile=anyre(MOBILE).sum(), email=anyre(EMAIL).sum(),
        formula_injection=pl.sum_horizontal([(c(x).str.contains(FORMULA) & ~c(x).str.contains(NUMBER)).cast(pl.UInt32) for x in COLS]).sum(),
        label_missing=(c("label") == "").sum(),
        label_outside=((c("label") != "") & ~c("label").is_in(["pos", "neg", "neutral"])).sum(),
        distinct_rows=pl.struct(COLS).n_unique(),
    ).collect(engine="streaming").row(0, named=True)
    dist = dict(lf.filter(c("label").is_in(["pos", "neg", "neutral"])).group_by("label").len()
                .collect(engine="streaming").iter_rows())
    conflicts = (lf.filter(c("label").is_in(["pos", "neg", "neutral"])).group_by("text")
                 .agg(c("label").n_unique().alias("n")).filter(c("n") > 1).select(pl.len())
                 .collect(engine="streaming").item())
    out = dict(agg)
    out["duplicate_rows"] = out["rows"] - out.pop("distinct_rows")
    out["distribution"] = {k: dist.get(k, 0) for k in ("pos", "neg", "neutral")}
    out["conflicts"] = conflicts
    out["malformed_rows"] = None  # ragged lines are truncated, not reported
    return out


def child_pandas(path: str) -> dict:
    import pandas as pd

    out = {k: 0 for k in KEYS if k not in ("distribution",)}
    out["distribution"] = {"pos": 0, "neg": 0, "neutral": 0}
    seen: set[int] = set()
    tmpl: dict[str, set] = {}
    for ch in pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip", chunksize=500_000,
                          engine="c"):
        out["rows"] += len(ch)
        seen.update(pd.util.hash_pandas_object(ch, index=False).to_numpy().tolist())
        out["age_null"] += int((ch["age"] == "").sum())
        out["age_invalid"] += int(((ch["age"] != "") & ~ch["age"].str.match(r"^[+-]?[0-9]+$")).sum())
        out["amount_invalid"] += int(((ch["amount"] != "") & ~ch["amount"].str.match(NUMBER)).sum())
        out["day_invalid"] += int(((ch["day"] != "") & pd.to_datetime(ch["day"], format="%Y-%m-%d", errors="coerce").isna()).sum())
        mob = em = None
        for x in COLS:
            m = ch[x].str.contains(MOBILE, regex=True)
            e = ch[x].str.contains(EMAIL, regex=True)
            mob = m if mob is None else mob | m
            em = e if em is None else em | e
            out["formula_injection"] += int((ch[x].str.contains(FORMULA) & ~ch[x].str.match(NUMBER)).sum())
        out["mobile"] += int(mob.sum())
        out["email"] += int(em.sum())
        out["label_missing"] += int((ch["label"] == "").sum())
        ok = ch["label"].isin(["pos", "neg", "neutral"])
        out["label_outside"] += int(((ch["label"] != "") & ~ok).sum())
        for k, v in ch.loc[ok, "label"].value_counts().items():
            out["distribution"][k] += int(v)
        for text, labs in ch.loc[ok].groupby("text")["label"].unique().items():
            tmpl.setdefault(text, set()).update(labs)
    out["duplicate_rows"] = out["rows"] - len(seen)  # 64-bit row hashes
    out["conflicts"] = sum(1 for s in tmpl.values() if len(s) > 1)
    out["malformed_rows"] = None  # skipped silently
    return out


def child_frictionless(path: str) -> dict:
    # frictionless refuses absolute paths ("not safe"): run it next to the file
    p = Path(path).resolve()
    res = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", "--json",
                          "--limit-errors", "1000000000", p.name], capture_output=True, text=True, cwd=p.parent)
    try:
        rep = json.loads(res.stdout)
        stats = rep["tasks"][0].get("stats", {})
        return {"rows": stats.get("rows"), "errors": stats.get("errors"), "bytes_read": stats.get("bytes")}
    except (ValueError, KeyError, IndexError):
        return {"error": (res.stderr or res.stdout)[-300:]}


CHILDREN = {"ours": child_ours, "duckdb": child_duckdb, "duckdb-512MB": lambda p: child_duckdb(p, True),
            "polars": child_polars, "pandas": child_pandas, "frictionless": child_frictionless}


# ---------------------------------------------------------------- parent
def child_ours_line(path: str) -> dict:
    from workers.quality import profile

    r = profile(path, None)
    return {"failures": r["gates"]["failures"], "codes": [f["code"] for f in r["findings"]]}


CHILDREN["ours-line"] = child_ours_line


def single_line_cases(sizes_mb: list[float]) -> int:
    """Files of N MB without a line break (commas all along): the check must fail with
    line_too_long while peak RSS stays within the memory budget + 128 MiB."""
    from workers.quality import QualityOptions

    budget_mb = QualityOptions().memory_limit_bytes / 2**20
    DATA.mkdir(parents=True, exist_ok=True)
    ok = True
    for mb in sizes_mb:
        path = DATA / f"single_line_{mb:g}mb.csv"
        if not path.exists():
            chunk = b"abcdefg," * (2**20 // 8)
            with open(path, "wb") as f:
                for _ in range(int(mb * 1e6) // len(chunk)):
                    f.write(chunk)
        res = run_child("ours-line", path)
        rss = res.get("rss_mb")
        met = rss is not None and rss <= budget_mb + 128 and res["counts"].get("codes") == ["line_too_long"]
        ok = ok and met
        print(json.dumps({"case": f"single line {mb:g} MB", "peak_rss_mb": rss, "seconds": round(res["wall"], 1),
                          "budget_mb": budget_mb, "within_budget_plus_128": met, **res["counts"]}), flush=True)
    return 0 if ok else 1


def run_child(name: str, path: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.quality_bench", "--child", name, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    # peak RSS of this child: wait4 via the rusage difference is unreliable across
    # children, so the child reports its own ru_maxrss (covers threads and native allocations).
    try:
        res = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"counts": {"error": err.decode()[-400:]}, "rss_mb": None, "seconds": wall}
    res["wall"] = wall
    return res


def _exact(counts: dict, truth: dict, keys: list[str]) -> tuple[bool, list[str]]:
    bad = [k for k in keys if counts.get(k) != truth.get(k)]
    return not bad, bad


def _scaled(value, copies: int):
    """Every count of a ground truth (nested) times copies."""
    if isinstance(value, dict):
        return {k: _scaled(v, copies) for k, v in value.items()}
    return value * copies if isinstance(value, int) and not isinstance(value, bool) else value


def ensure_data(size_gb: float, mem_gb: float) -> tuple[Path, dict, Path | None, dict | None]:
    from bench.quality_gen import generate

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"quality_{size_gb:g}g.csv"
    truth_path = path.with_suffix(".truth.json")
    from bench.quality_gen import GENERATOR_VERSION

    stale = truth_path.exists() and json.loads(truth_path.read_text()).get("generator_version") != GENERATOR_VERSION
    if stale or not (path.exists() and truth_path.exists()):
        print(f"generating {path} …", flush=True)
        generate(path, int(size_gb * 1e9))
    truth = json.loads(truth_path.read_text())
    big = big_truth = None
    if mem_gb:
        big = DATA / f"quality_{mem_gb:g}g_concat.csv"
        copies = max(1, round(mem_gb / size_gb))
        if not big.exists() or big.stat().st_mtime < path.stat().st_mtime:
            print(f"building {big} ({copies} copies of the body) …", flush=True)
            with open(path, "rb") as src, open(big, "wb") as dst:
                header = src.readline()
                dst.write(header)
                for _ in range(copies):
                    src.seek(len(header))
                    shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
        # every row of copies 2..n repeats a row of copy 1
        big_truth = _scaled(truth, copies)
        big_truth["duplicate_rows"] = truth["rows"] * copies - (truth["rows"] - truth["duplicate_rows"])
        big_truth["primary_key_duplicates"] = big_truth["duplicate_rows"]
        big_truth["conflicts"] = truth["conflicts"]
        big_truth["generator_version"] = truth["generator_version"]
        big_truth["bytes"] = big.stat().st_size
    return path, truth, big, big_truth


def copies_for_formats(path: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json  # noqa: F401
    import pyarrow.parquet as pq

    pq_path, jl_path = path.with_suffix(".parquet"), path.with_suffix(".jsonl")
    if all(p.exists() and p.stat().st_mtime >= path.stat().st_mtime for p in (pq_path, jl_path)):
        return {"parquet": pq_path, "jsonl": jl_path}
    reader = pcsv.open_csv(path, convert_options=pcsv.ConvertOptions(
        column_types={c: pa.string() for c in COLS}, strings_can_be_null=False),
        parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda r: "skip"))
    writer = pq.ParquetWriter(pq_path, reader.schema)
    with open(jl_path, "w", encoding="utf-8") as jl:
        for batch in reader:
            writer.write_batch(batch)
            cols = [c.to_pylist() for c in batch.columns]
            jl.write("".join(json.dumps(dict(zip(COLS, row, strict=True)), ensure_ascii=False) + "\n" for row in zip(*cols, strict=True)))
    writer.close()
    return {"parquet": pq_path, "jsonl": jl_path}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--memory-check-gb", type=float, default=4.0)
    ap.add_argument("--frictionless-mb", type=float, default=50.0)
    ap.add_argument("--skip", default="", help="comma-separated engines to skip")
    ap.add_argument("--single-line-mb", default="",
                    help="only run the no-line-break cases of these sizes in MB, e.g. 200,1000")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        import resource

        name, path = args.child
        t0 = time.perf_counter()
        counts = CHILDREN[name](path)
        secs = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps({"counts": counts, "rss_mb": max(rss, kids), "seconds": secs}, default=str))
        return 0

    if args.single_line_mb:
        return single_line_cases([float(x) for x in args.single_line_mb.split(",")])

    from bench._report import machine, write_section

    skip = set(filter(None, args.skip.split(",")))
    path, truth, big, big_truth = ensure_data(args.size_gb, args.memory_check_gb)
    mb = truth["bytes"] / 1e6
    results: dict[str, dict] = {}
    for name in ("ours", "duckdb", "duckdb-512MB", "polars", "pandas"):
        if name in skip:
            continue
        print(f"running {name} …", flush=True)
        results[name] = run_child(name, path)
        print(f"  {results[name]}", flush=True)
    # frictionless on a prefix, scaled
    fr_note = ""
    if "frictionless" not in skip:
        prefix = DATA / "quality_prefix.csv"
        with open(path, "rb") as src, open(prefix, "wb") as dst:
            dst.write(src.read(int(args.frictionless_mb * 1e6)))
            dst.write(src.readline())
        results["frictionless"] = run_child("frictionless", prefix)
        results["frictionless"]["mb"] = prefix.stat().st_size / 1e6
        fr_note = f"frictionless ran on the first {prefix.stat().st_size / 1e6:.0f} MB (its MB/s is from that prefix)."
    fmt = {}
    if "formats" not in skip:
        for kind, p in copies_for_formats(path).items():
            print(f"running ours on {kind} …", flush=True)
            fmt[kind] = run_child("ours", p)
            fmt[kind]["mb"] = p.stat().st_size / 1e6
    memres = None
    if big is not None and "memory" not in skip:
        print(f"running ours on {big} …", flush=True)
        memres = run_child("ours", big)

    keys_all = KEYS + ["resident_id", "bank_card"]
    lines = [f"Machine: {machine()}.", "",
             f"Input: generated labelled CSV, {mb:.0f} MB, {truth['rows']:,} well-formed rows, "
             f"{truth['malformed_rows']:,} malformed, {truth['duplicate_rows']:,} duplicates; same file for every engine; "
             "each engine in its own subprocess (peak RSS = the child's ru_maxrss).", "",
             "| engine | MB/s | peak RSS (MB) | exact? | counts that differ from ground truth |",
             "|---|---:|---:|---|---|"]
    speed = {}
    for name, res in results.items():
        size = res.get("mb", mb)
        if name == "frictionless" and isinstance(res["counts"].get("bytes_read"), int):
            size = min(size, res["counts"]["bytes_read"] / 1e6)
        secs = res.get("seconds") or res["wall"]
        speed[name] = size / secs if secs else 0
        counts = res["counts"]
        if name == "frictionless":
            ok, bad = None, [f"own checks only: {res['counts']}"]
        else:
            ok, bad = _exact(counts, truth, keys_all if name == "ours" else KEYS)
        rss = res.get("rss_mb")
        lines.append(f"| {name} | {speed[name]:.0f} | {rss:.0f} | {'—' if ok is None else ('yes' if ok else 'no')} | "
                     f"{', '.join(bad) if bad else '—'} |" if rss is not None else f"| {name} | — | — | no | {counts} |")
    for kind, res in fmt.items():
        secs = res.get("seconds") or res["wall"]
        lines.append(f"| ours ({kind} copy, {res['mb']:.0f} MB) | {res['mb'] / secs:.0f} | {res.get('rss_mb') or 0:.0f} | n/a | "
                     "copy has no malformed rows |")
    if memres:
        ok, bad = _exact(memres["counts"], big_truth, keys_all)
        secs = memres.get("seconds") or memres["wall"]
        lines.append(f"| ours ({big_truth['bytes'] / 1e6:.0f} MB memory check) | {big_truth['bytes'] / 1e6 / secs:.0f} | "
                     f"{memres.get('rss_mb') or 0:.0f} | {'yes' if ok else 'no'} | {', '.join(bad) or '—'} |")
    lines += ["", "Targets (ratios measured in this run):", ""]
    o = speed.get("ours", 0)

    def tgt(label: str, value: str, met: bool | None) -> None:
        lines.append(f"- {label}: {value} — {'met' if met else ('not met' if met is not None else 'not measured')}")

    if "duckdb-512MB" in speed:
        tgt("throughput ≥ capped duckdb", f"{o:.0f} vs {speed['duckdb-512MB']:.0f} MB/s", o >= speed["duckdb-512MB"])
    if "duckdb" in speed:
        tgt("throughput ≥ 0.6× unbounded duckdb", f"{o / speed['duckdb']:.2f}×", o >= 0.6 * speed["duckdb"])
    if "frictionless" in speed:
        tgt("≥ 15× frictionless", f"{o / speed['frictionless']:.1f}×", o >= 15 * speed["frictionless"])
    if "ours" in results:
        r1 = results["ours"].get("rss_mb") or 0
        tgt(f"peak RSS ≤ 640 MB on {mb:.0f} MB", f"{r1:.0f} MB", r1 <= 640)
        tgt("every count exact", "see table", _exact(results["ours"]["counts"], truth, keys_all)[0])
    if memres:
        r4 = memres.get("rss_mb") or 0
        tgt(f"peak RSS ≤ 640 MB on {big_truth['bytes'] / 1e6:.0f} MB", f"{r4:.0f} MB", r4 <= 640)
    lines += ["", "Notes: peers compute rows, duplicates, nulls, invalid values, mobile/e-mail regex, formula "
              "injection, labels and conflicts (mobiles by issue 9's rule: MIIT segment, +86/0086, 3-4-4 groups, not "
              "inside a decimal); resident-id and bank-card checksums are checked by ours only. The generated "
              "file holds near-misses (wrong id check characters, card digits inside decimals, …) that count as nothing. "
              "duckdb counts malformed rows from its reject table; polars truncates ragged lines and pandas "
              "skips them silently (so their malformed counts are not reported). "
              "The memory-check file is the 1 GB body repeated, so most of its rows are duplicates. " + fr_note]
    text = "\n".join(lines)
    print(text)
    write_section("quality", "## Data-quality profiler\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
