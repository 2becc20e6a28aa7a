"""The label-aware version diff (workers/diff) on a generated pair of labelled CSV files,
side by side with duckdb (a full outer join on the key), each in its own process so its
peak RSS is its own. Counts must agree exactly.

    .venv/bin/python -m bench.diff_bench [--mib 1024] [--rows] [--no-write]

The pair: v1 with N rows (id, text, score, label); v2 drops 2 % of the rows, adds 2 %,
changes the text of 3 % and relabels 1 %.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._report import machine, write_section

ROW_BYTES = 64  # a generated row is about this long: rows = size / ROW_BYTES


def generate(directory: Path, mib: int) -> tuple[Path, Path, dict]:
    n = mib * 1024 * 1024 // ROW_BYTES
    rng = random.Random(7)
    old, new = directory / "v1.csv", directory / "v2.csv"
    expect = {"added": 0, "removed": 0, "changed": 0, "relabelled": 0}
    labels = ["positive", "negative", "neutral"]
    with open(old, "w", newline="") as fo, open(new, "w", newline="") as fn:
        wo, wn = csv.writer(fo), csv.writer(fn)
        wo.writerow(["id", "text", "score", "label"])
        wn.writerow(["id", "text", "score", "label"])
        for i in range(n):
            row = [f"r{i:010d}", f"sentence number {i} about item {i % 977}", f"{(i * 37) % 1000 / 10:.1f}",
                   labels[i % 3]]
            wo.writerow(row)
            r = rng.random()
            if r < 0.02:
                expect["removed"] += 1
                continue
            if r < 0.05:
                row = [row[0], row[1] + " (edited)", row[2], row[3]]
                expect["changed"] += 1
            elif r < 0.06:
                row = [row[0], row[1], row[2], labels[(i + 1) % 3]]
                expect["changed"] += 1
                expect["relabelled"] += 1
            wn.writerow(row)
            if r > 0.98:
                wn.writerow([f"n{i:010d}", f"a new sentence {i}", "1.0", labels[i % 3]])
                expect["added"] += 1
    return old, new, expect


CHILD_SHUJIAO = """
import csv, json, resource, sys, time
from workers.diff import buckets_for, diff_rows
from workers.diff.sources import ReadAs, table_from_file
old, new, size, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def table(p):
    with open(p, newline="") as f:
        cols = tuple(next(csv.reader(f)))
    t = table_from_file(p, ReadAs(format="csv", columns=cols))  # as the revision worker reads a version
    return t if path == "batches" else t.__class__(columns=t.columns, rows=t.rows)
t = time.perf_counter()
d = diff_rows(table(old), table(new), key=["id"], label="label", buckets=buckets_for(size))
print(json.dumps({"s": time.perf_counter() - t, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "added": d.added, "removed": d.removed, "changed": d.changed, "relabelled": d.relabelled}))
"""

CHILD_DUCKDB = """
import json, resource, sys, time
import duckdb
old, new = sys.argv[1], sys.argv[2]
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET memory_limit='512MB'")
q = f'''SELECT count(*) FILTER (WHERE o.id IS NULL), count(*) FILTER (WHERE n.id IS NULL),
  count(*) FILTER (WHERE o.id IS NOT NULL AND n.id IS NOT NULL AND (o.text, o.score, o.label) IS DISTINCT FROM (n.text, n.score, n.label)),
  count(*) FILTER (WHERE o.id IS NOT NULL AND n.id IS NOT NULL AND o.label IS DISTINCT FROM n.label)
  FROM read_csv('{old}', all_varchar=true) o FULL OUTER JOIN read_csv('{new}', all_varchar=true) n ON o.id = n.id'''
a, r, c, l = con.execute(q).fetchone()
print(json.dumps({"s": time.perf_counter() - t, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "added": a, "removed": r, "changed": c, "relabelled": l}))
"""


def _run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=1024, help="size of each version")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--rows", action="store_true", help="also time the row-by-row path (slow: about 10x)")
    a = ap.parse_args(argv)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="shujiao-diff-bench-") as tmp:
        old, new, expect = generate(Path(tmp), a.mib)
        size = old.stat().st_size + new.stat().st_size
        ours = _run(CHILD_SHUJIAO, str(old), str(new), str(size), "batches")
        by_row = _run(CHILD_SHUJIAO, str(old), str(new), str(size), "rows") if a.rows else None
        try:
            peer = _run(CHILD_DUCKDB, str(old), str(new))
        except (subprocess.CalledProcessError, ModuleNotFoundError) as exc:
            peer = {"error": str(exc)[:200]}
    keys = ("added", "removed", "changed", "relabelled")
    exact = all(ours[k] == expect[k] for k in keys) and (by_row is None or all(by_row[k] == expect[k] for k in keys))
    result = {"mib_each": a.mib, "pair_bytes": size, "expected": expect, "shujiao": ours, "shujiao_rows": by_row,
              "duckdb": peer, "exact": exact, "load_start": load_start, "load_end": os.getloadavg()}
    print(json.dumps(result, indent=2))
    if not a.no_write:
        write_section("diff", _markdown(result))
    return 0 if exact else 1


def _load(avg) -> str:
    return " / ".join(f"{x:.1f}" for x in avg)


def _markdown(r: dict) -> str:
    mib = r["pair_bytes"] / 1024 / 1024
    rows = [("shujiao `workers.diff`, batch path (pyarrow CSV, Arrow spill buckets)", r["shujiao"])]
    if r.get("shujiao_rows"):
        rows.append(("shujiao `workers.diff`, row path (csv module, per-row blake2b)", r["shujiao_rows"]))
    rows.append(("duckdb full outer join (memory_limit 512 MB)", r["duckdb"]))
    lines = [f"## Version diff (`python -m bench.diff_bench --mib {r['mib_each']}`)", "",
             f"Two labelled CSV versions of {r['mib_each']} MiB each ({mib:,.0f} MiB in all): v2 removes 2 %, adds 2 %,"
             " edits 3 % and relabels 1 % of the rows. Each tool in its own process, read from the same files as the revision"
             " worker reads them (`workers.diff.sources`). Machine: " + machine() + "; load average (1/5/15 min, shared"
             f" machine) {_load(r['load_start'])} at the start, {_load(r['load_end'])} at the end.", "",
             "| tool | seconds | MiB/s | peak RSS MiB | added / removed / changed / relabelled |", "|---|---|---|---|---|"]
    for name, x in rows:
        if "error" in x:
            lines.append(f"| {name} | failed: {x['error']} | | | |")
            continue
        lines.append(f"| {name} | {x['s']:.1f} | {mib / x['s']:.1f} | {x['rss_mib']:.0f} | "
                     f"{x['added']} / {x['removed']} / {x['changed']} / {x['relabelled']} |")
    e = r["expected"]
    lines += ["", f"Expected: {e['added']} / {e['removed']} / {e['changed']} / {e['relabelled']}; "
              f"shujiao exact: **{'yes' if r['exact'] else 'no'}**."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
