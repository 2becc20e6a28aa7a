"""A seller's Frictionless CSV Dialect: validation, and how it changes the reading.

Supported properties (https://specs.frictionlessdata.io/csv-dialect/): delimiter, header,
headerRows, lineTerminator, quoteChar, doubleQuote, escapeChar, skipInitialSpace, commentChar.
Anything else is refused by name: a property that is accepted is applied. A declared value
beats the sniffed one; the report shows both (`report["dialect"]`).

What pyarrow's CSV parser cannot do itself is done on the decoded UTF-8 stream before it
(`DialectFilter`): comment lines become empty lines (so line numbers stay right; they are not
counted as blank lines), and spaces right after a delimiter outside quoted values are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

PROPERTIES = ("delimiter", "header", "headerRows", "lineTerminator", "quoteChar", "doubleQuote",
              "escapeChar", "skipInitialSpace", "commentChar")
LINE_TERMINATORS = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}
_BOOLS = ("header", "doubleQuote", "skipInitialSpace")
_CHARS = ("delimiter", "quoteChar", "escapeChar", "commentChar")
MAX_HEADER_ROW = 100
# a quoted value longer than this is handed on without dropping spaces inside the rest of it
MAX_CARRY = 1024 * 1024


@dataclass(frozen=True)
class Dialect:
    """The declared properties; None means not declared (sniffed)."""

    delimiter: str | None = None
    header: bool | None = None
    headerRows: tuple[int, ...] | None = None  # noqa: N815 - the Frictionless names
    lineTerminator: str | None = None  # noqa: N815
    quoteChar: str | None = None  # noqa: N815
    doubleQuote: bool | None = None  # noqa: N815
    escapeChar: str | None = None  # noqa: N815
    skipInitialSpace: bool | None = None  # noqa: N815
    commentChar: str | None = None  # noqa: N815

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Dialect | None:
        """A validated dialect (ValueError naming the problems otherwise); None for none."""
        if not d:
            return None
        problems = validate_dialect(d)
        if problems:
            raise ValueError("invalid CSV dialect: " + "; ".join(problems))
        kw = dict(d)
        if "headerRows" in kw:
            kw["headerRows"] = tuple(kw["headerRows"])
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @property
    def has_header(self) -> bool | None:
        if self.header is not None:
            return self.header
        if self.headerRows is not None:
            return bool(self.headerRows)
        return None

    @property
    def needs_filter(self) -> bool:
        return bool(self.commentChar) or bool(self.skipInitialSpace)


def validate_dialect(d: Any) -> list[str]:
    """Problems with a declared dialect, each naming its property; [] when valid."""
    if d is None:
        return []
    if not isinstance(d, dict):
        return ["dialect must be a JSON object"]
    out = []
    for k in d:
        if k not in PROPERTIES:
            out.append(f"dialect.{k}: unsupported property (supported: {', '.join(PROPERTIES)})")
    for k in _BOOLS:
        if k in d and not isinstance(d[k], bool):
            out.append(f"dialect.{k} must be true or false")
    for k in _CHARS:
        if k in d:
            v = d[k]
            if not isinstance(v, str) or len(v) != 1:
                out.append(f"dialect.{k} must be a single character")
            elif v in "\r\n":
                out.append(f"dialect.{k} must not be a line break")
    if "lineTerminator" in d and (not isinstance(d["lineTerminator"], str) or d["lineTerminator"] not in LINE_TERMINATORS):
        out.append('dialect.lineTerminator must be "\\n", "\\r\\n" or "\\r"')
    rows = d.get("headerRows")
    if "headerRows" in d:
        if (not isinstance(rows, list) or any(not isinstance(x, int) or isinstance(x, bool) for x in rows)
                or any(not 1 <= x <= MAX_HEADER_ROW for x in rows) or rows != sorted(set(rows))):
            out.append(f"dialect.headerRows must be a list of increasing row numbers from 1 to {MAX_HEADER_ROW}")
        elif d.get("header") is False and rows:
            out.append("dialect.headerRows conflicts with header: false")
    chars = [(k, d[k]) for k in ("delimiter", "quoteChar", "escapeChar", "commentChar")
             if isinstance(d.get(k), str) and len(d[k]) == 1]
    for i, (k, v) in enumerate(chars):
        for k2, v2 in chars[i + 1:]:
            if v == v2:
                out.append(f"dialect.{k} and dialect.{k2} must differ (both {v!r})")
    if d.get("escapeChar") is not None and d.get("doubleQuote") is True:
        out.append("dialect.escapeChar and doubleQuote: true exclude each other (set doubleQuote to false)")
    return out


def parse_kwargs(dialect: Dialect | None, sniffed_delimiter: str) -> dict[str, Any]:
    """pyarrow.csv.ParseOptions arguments: the declared values, else the sniffed delimiter
    and the CSV defaults."""
    d = dialect or Dialect()
    kw: dict[str, Any] = {"delimiter": d.delimiter or sniffed_delimiter}
    if d.quoteChar is not None:
        kw["quote_char"] = d.quoteChar
    if d.escapeChar is not None:
        kw["escape_char"] = d.escapeChar
        kw["double_quote"] = False if d.doubleQuote is None else d.doubleQuote
    elif d.doubleQuote is not None:
        kw["double_quote"] = d.doubleQuote
    return kw


def compare(dialect: Dialect | None, sniffed: dict[str, Any]) -> dict[str, Any]:
    """report["dialect"]: declared, sniffed, used, and the properties where the two differ."""
    declared = dialect.to_dict() if dialect else {}
    used = {**sniffed, **declared}
    differ = [k for k in declared if k in sniffed and _norm(declared[k]) != _norm(sniffed[k])]
    return {"declared": declared, "sniffed": sniffed, "used": used, "differ": differ}


def _norm(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


class DialectFilter:
    """Applies commentChar and skipInitialSpace to decoded UTF-8 text, chunk by chunk.

    Processes complete lines only (the partial last line waits for the next chunk) and keeps
    whether it is inside a quoted value across chunks, so a quoted value spanning lines keeps
    its spaces and its lines that start with the comment character.
    """

    def __init__(self, dialect: Dialect, delimiter: str):
        self.comment = (dialect.commentChar or "").encode()
        self.skip_space = bool(dialect.skipInitialSpace)
        q = (dialect.quoteChar or '"').encode()
        esc = (dialect.escapeChar or "").encode()
        d = re.escape(delimiter.encode())
        inner = (rb"(?:[^" + re.escape(q) + (re.escape(esc) if esc else b"") + rb"]"
                 + (rb"|" + re.escape(esc) + rb"." if esc else b"") + rb")*")
        # a whole quoted value | an unterminated one | delimiter + spaces | a comment line
        parts = [re.escape(q) + inner + re.escape(q), re.escape(q)]
        parts.append(d + rb" +" if self.skip_space else rb"(?!)")
        if self.comment:
            parts.append(rb"(?:(?<=[\r\n])|\A)" + re.escape(self.comment) + rb"[^\r\n]*")
        self._re = re.compile(b"|".join(b"(" + p + b")" for p in parts), re.S)
        self._carry = b""
        self.comment_lines = 0

    def feed(self, data: bytes, final: bool = False) -> bytes:
        buf = self._carry + data
        if not final:
            cut = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
            if cut < 0 and len(buf) < MAX_CARRY:
                self._carry = buf
                return b""
            cut = len(buf) - 1 if cut < 0 else cut
            buf, self._carry = buf[:cut + 1], buf[cut + 1:]
        else:
            self._carry = b""
        out, pos = [], 0
        for m in self._re.finditer(buf):
            if m.group(1) is not None:
                continue
            if m.group(2) is not None:  # a quoted value that goes on in the next chunk
                if final or len(buf) - m.start() > MAX_CARRY:
                    continue
                out.append(buf[pos:m.start()])
                self._carry = buf[m.start():] + self._carry
                return b"".join(out)
            if m.group(3) is not None:
                out.append(buf[pos:m.start() + len(m.group(3).rstrip(b" "))])
            else:
                out.append(buf[pos:m.start()])  # the comment line becomes an empty line
                self.comment_lines += 1
            pos = m.end()
        out.append(buf[pos:])
        return b"".join(out)
