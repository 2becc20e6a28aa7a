"""Run every benchmark in one command (`make bench`); each rewrites its section of docs/benchmarks.md."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["bench.upload_bench", "bench.quality_bench", "bench.delivery_bench", "bench.delivery_e2e",
              "bench.catalog_bench", "bench.embedded_load", "bench.diff_bench", "bench.fingerprint_bench"]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        code = importlib.import_module(name).main([])
        if code:
            failed.append(name)
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
