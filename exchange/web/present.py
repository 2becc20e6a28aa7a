"""Presentation helpers: shape stored values for templates (money, schemas, quality reports).

Pure functions over plain values and model attributes; no queries of their own beyond
what the caller already loaded, and no business rules (they only display).
"""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe

from exchange.money import format_yuan
from exchange.web.charts import Bar, hbar_chart, percent
from workers.quality.report import ColumnReport, Report

PII_KINDS = [("mobile", "Mobile numbers"), ("email", "E-mail addresses"),
             ("resident_id", "Resident ID numbers"), ("bank_card", "Bank card numbers")]


def money(fen: int | None) -> str:
    """123450 -> '¥1,234.50'; None -> '—' (exchange.money.format_yuan)."""
    return format_yuan(fen)


def catalog_card(listing) -> dict[str, Any]:
    """A catalog card's figures from the listing's flat columns and its version's file columns."""
    version = listing.version
    return {"listing": listing, "price": money(listing.best_price_fen),
            "rows": f"{listing.row_count:,}" if listing.row_count is not None else "—",
            "format": version.get_format_display(), "size": filesize(version.byte_size),
            "updated": version.created_at}


def fen_to_yuan_text(fen: int | None) -> str:
    """123450 -> '1234.50' (for refilling a price input)."""
    if fen is None:
        return ""
    yuan, cents = divmod(int(fen), 100)
    return f"{yuan}.{cents:02d}"


def filesize(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def description_beyond_summary(summary: str | None, description: str | None) -> str:
    """The dataset description without what the listing's summary already says: a description
    that begins with the summary (often it is the summary plus a sentence or two) shows only the
    rest; one equal to it shows nothing. Compared with whitespace collapsed."""
    summary, description = (summary or "").strip(), (description or "").strip()
    if not summary:
        return description
    squash = lambda text: " ".join(text.split())  # noqa: E731
    short, full = squash(summary), squash(description)
    if full == short:
        return ""
    if full.startswith(short):
        return full[len(short):].lstrip(" .;,:-—。；，").strip()
    return description


def check_progress_text(status: str, rows_seen: int | None, percent: float) -> str:
    """A running check's progress line: the share of the file read and the rows counted so far,
    from the same progress record, so the two agree: the percent is of the file's bytes, and it
    stays below 100 % until the check has counted its last row (a reader reads ahead of the rows
    it has handed on); a check that cannot tell its share says only the rows."""
    if status == "uploaded":
        return "Queued for checking"
    rows = int(rows_seen or 0)
    counted = f"{rows:,} row{'' if rows == 1 else 's'} read"
    if status != "checking":
        return counted
    if not percent:
        return counted
    shown = min(percent, 99.0)
    return f"{shown:g}% of the file · {counted}"


def schema_fields(schema: dict | None) -> list[dict[str, Any]]:
    """Rows for the schema table: name, type, description, primary key?, label field?"""
    schema = schema if isinstance(schema, dict) else {}
    pk = schema.get("primaryKey") or []
    pk = [pk] if isinstance(pk, str) else list(pk) if isinstance(pk, list) else []
    label_field = schema.get("labelField")
    rows = []
    for field in schema.get("fields") or []:
        if not isinstance(field, dict):
            continue
        name = str(field.get("name", ""))
        rows.append({
            "name": name,
            "type": field.get("type", "string"),
            "format": field.get("format", ""),
            "description": field.get("description") or field.get("title") or "",
            "primary_key": name in pk,
            "label": name == label_field,
        })
    return rows


def sample_table(report: Report | None, field_order: list[str] | None = None) -> dict[str, list] | None:
    """The report's sample rows as {columns, rows} (rows are lists in column order), or None.

    Columns follow ``field_order`` (the declared schema) first: a JSON column may have
    stored each row's keys sorted, which is not the file's order.
    """
    sample = report.sample if report is not None else None
    if not isinstance(sample, list) or not sample:
        return None
    present_keys = {str(k) for row in sample if isinstance(row, dict) for k in row}
    columns: list[str] = [name for name in (field_order or []) if name in present_keys]
    for row in sample:
        if isinstance(row, dict):
            for key in row:
                if key not in columns:
                    columns.append(str(key))
    rows = [[row.get(c, "") if isinstance(row, dict) else "" for c in columns] for row in sample]
    return {"columns": columns, "rows": rows}


_SPARK = "▁▂▃▄▅▆▇█"


def _fmt(v: Any, approx: bool = False) -> str:
    """A statistic for display: integers with separators, floats to 4 significant digits;
    '≈' in front of an approximate figure; '—' when absent."""
    if v is None or isinstance(v, bool):
        return "—"
    if isinstance(v, int):
        text = f"{v:,}"
    elif isinstance(v, float):
        text = f"{v:,.0f}" if abs(v) >= 1e6 else f"{v:.4g}"
    else:
        return str(v)
    return f"≈{text}" if approx else text


def column_statistics(columns: list[ColumnReport]) -> list[dict[str, Any]]:
    """One row per column with statistics: numeric (min/max/mean/median/std, histogram as a
    sparkline) or text (length min/max/mean, top values); approximate figures get '≈'."""
    out = []
    for col in columns:
        st = col.stats
        if not isinstance(st, dict):
            continue
        approx = set(st.get("approximate_fields") or []) if st.get("approximate") else set()
        row: dict[str, Any] = {"name": str(col.name), "kind": st.get("kind"),
                               "count": _fmt(st.get("count")), "approximate": bool(approx)}
        if st.get("kind") == "numeric":
            hist = st.get("histogram") if isinstance(st.get("histogram"), dict) else {}
            counts = [c for c in (hist.get("counts") or []) if isinstance(c, int | float)]
            top = max(counts) if counts else 0
            spark = "".join(_SPARK[min(7, int(8 * c / top))] if top and c else " " for c in counts)
            row.update(min=_fmt(st.get("min")), max=_fmt(st.get("max")), mean=_fmt(st.get("mean")),
                       median=_fmt(st.get("median"), "median" in approx), std=_fmt(st.get("std")),
                       histogram=(("≈" if "histogram" in approx else "") + spark) if counts else "—",
                       histogram_title=", ".join(f"{c:,}" for c in counts))
        else:
            length = st.get("length") if isinstance(st.get("length"), dict) else None
            if length:
                row.update(length=f"{_fmt(length.get('min'))} / {_fmt(length.get('max'))} / {_fmt(length.get('mean'))}")
            tops = [t for t in (st.get("top_values") or []) if isinstance(t, dict)]
            row["top_values"] = [{"value": str(t.get("value", "")), "count": _fmt(t.get("count")),
                                  "share": percent(100.0 * (t.get("share") or 0))} for t in tops]
        out.append(row)
    return out


def score_deductions(report: Report) -> list[dict[str, Any]]:
    """The score breakdown rows: component, weight, reason code and text, points lost."""
    rows = []
    for d in report.score_deductions:
        points = d.points
        rows.append({"component": d.component or "—", "weight": d.weight, "code": d.code, "reason": d.reason,
                     "points": f"−{points:.2f}" if isinstance(points, int | float) and points >= 0
                     else f"+{-points:.2f}" if isinstance(points, int | float) else "—"})
    return rows


def _svg(markup: str) -> SafeString:
    # charts.hbar_chart escapes every label and value it draws.
    return mark_safe(markup)  # noqa: S308


def quality_view(report: Report | None) -> dict[str, Any] | None:
    """Everything the quality-report panel shows, with its three charts as inline SVG."""
    if report is None:
        return None
    rows = report.rows or 0
    columns = report.columns
    null_bars = []
    for col in columns:
        nulls = col.null_count or 0
        rate = 100.0 * nulls / rows if rows else 0.0
        tone = "bad" if rate >= 20 else "warn" if rate >= 5 else ""
        null_bars.append(Bar(label=str(col.name), value=rate, text=f"{percent(rate)} ({nulls:,})", tone=tone))

    labels = report.labels
    label_chart = None
    if labels:
        distribution = labels.distribution if isinstance(labels.distribution, dict) else {}
        label_bars = [Bar(label=str(k), value=v or 0) for k, v in sorted(distribution.items(), key=lambda kv: -(kv[1] or 0))]
        label_bars.append(Bar(label="(outside the declared set)", value=labels.outside_set or 0, tone="bad"))
        label_bars.append(Bar(label="(missing label)", value=labels.missing or 0, tone="warn"))
        label_chart = _svg(hbar_chart(label_bars, title=f"Label distribution of {labels.column or 'label'}"))

    pii = report.pii
    pii_counts = [(label, int(getattr(pii, kind) or 0)) for kind, label in PII_KINDS]
    pii_total = sum(n for _, n in pii_counts)
    # Only the kinds found get a bar; none found: no chart, the page says so in words.
    pii_bars = [Bar(label=label, value=n, tone="bad") for label, n in pii_counts if n > 0]
    pii_by_column = []
    for col, kinds in (pii.by_column if isinstance(pii.by_column, dict) else {}).items():
        if isinstance(kinds, dict):
            pii_by_column.append({"column": col, "kinds": ", ".join(f"{k}: {v:,}" for k, v in kinds.items() if v)})

    return {
        "score": report.score,
        "grade": report.grade,
        "format": report.format or "",
        "encoding": report.encoding or "",
        "rows": rows,
        "malformed_rows": report.malformed_rows or 0,
        "malformed_examples": report.malformed_examples or [],
        "duplicate_rows": report.duplicate_rows or 0,
        "near_duplicate_rows": report.near_duplicate_rows,
        "column_statistics": (stats := column_statistics(columns)),
        "approximate_statistics": any(r["approximate"] for r in stats),
        "score_deductions": score_deductions(report),
        "formula_injection": report.formula_injection or 0,
        "gates_passed": report.passed,
        "gate_failures": report.failures,
        "warnings": report.warnings or [],
        "columns": columns,
        "approximate_distinct": any(c.distinct_approximate for c in columns),
        "labels": labels,
        "labels_outside": outside_labels(labels),
        "null_chart": _svg(hbar_chart(null_bars, title="Null rate per column", max_value=100)),
        "label_chart": label_chart,
        "pii_chart": _svg(hbar_chart(pii_bars, title="Personal data found, per kind")) if pii_bars else None,
        "pii_total": int(pii_total),
        "pii_by_column": pii_by_column,
        "pii_examples": pii.examples or [],
        "findings": report.constraint_findings(),  # the "Schema constraints" table
        "reading_notes": report.reading_notes(),   # "How the file was read"
    }


def outside_labels(labels) -> dict[str, Any] | None:
    """The labels outside the declared set, counted and named: {count, examples [{value, count}],
    more (outside rows not among the named values)}; None when there are none."""
    if labels is None or not labels.outside_set:
        return None
    examples = [e for e in (labels.outside_examples if isinstance(labels.outside_examples, list) else [])
                if isinstance(e, dict) and "value" in e]
    named = [{"value": str(e["value"]), "count": _fmt(e.get("count"))} for e in examples]
    shown = sum(e.get("count") or 0 for e in examples if isinstance(e.get("count"), int))
    rest = labels.outside_set - shown
    return {"count": _fmt(labels.outside_set), "examples": named, "more": _fmt(rest) if rest > 0 else None}


def rai_declaration(dataset) -> list[dict[str, str]]:
    """The seller's declared Responsible-AI fields, in the order of RAI_FIELDS, for display."""
    from workers.metadata import RAI_FIELDS

    rows = []
    for f in RAI_FIELDS:
        if getattr(dataset, f"rai_{f.attr}"):
            rows.append({"label": f.label, "term": f.term, "text": getattr(dataset, f"rai_{f.attr}")})
        if f.attr == "data_annotation_platform" and dataset.rai_annotations_per_item is not None:
            rows.append({"label": "Annotators per item", "term": "annotationsPerItem",
                         "text": str(dataset.rai_annotations_per_item)})
    return rows
