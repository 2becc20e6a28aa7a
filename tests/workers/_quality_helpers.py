"""Shared helpers for the quality profiler tests (no Django, no database)."""

from __future__ import annotations

from pathlib import Path

from workers.quality import profile


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def run(tmp_path: Path, data: bytes | str, schema: dict | None = None, name: str = "data.csv", **kw) -> dict:
    return profile(write(tmp_path, name, data), schema, **kw)


def column(report: dict, name: str) -> dict:
    return next(c for c in report["columns"] if c["name"] == name)
