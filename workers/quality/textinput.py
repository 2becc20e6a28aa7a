"""The glue between the readers and the encoding rules (encoding.py, decoding.py).

A text reader (CSV/TSV, JSON Lines) gets its bytes from `open_text`: the raw file (head
replayed, then the rest) decoded strictly into UTF-8 by a DecodingReader that also feeds the
LineGuard and the dialect filter. `read_with_restarts` runs a reader and, when the decoder
finds that text already handed on was decoded wrongly (EncodingRestart), reads the file again
from the start with the better encoding. `encoding_findings` says in the report which
encoding was used and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import findings
from .decoding import DecodingReader
from .encoding import LABELS, EncodingChoice, EncodingRestart, Undecodable, guess_encoding
from .lines import LineGuard

MAX_READS = 6  # one per supported ASCII-compatible encoding, the first, one for JSON Lines keys


class ReadAgain(Exception):
    """The reader learnt something that needs the file read again from the start (JSON Lines:
    the full union of keys); `choice` is the encoding the decoder had settled on."""

    def __init__(self, choice: EncodingChoice, note: str):
        super().__init__(note)
        self.choice = choice
        self.note = note


class ReplayHead:
    """The already-read head, then the rest of the file; counts raw bytes."""

    def __init__(self, head: bytes, rest: Any):
        self._head = memoryview(head)
        self._rest = rest
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        if len(self._head):
            k = len(self._head) if n is None or n < 0 else min(n, len(self._head))
            out = self._head[:k].tobytes()
            self._head = self._head[k:]
        else:
            out = self._rest.read(n)
        self.bytes_read += len(out)
        return out


def open_text(prof: Any, head: bytes, f: Any, choice: EncodingChoice, text_filter: Any = None) -> DecodingReader:
    """A readable UTF-8 stream of the whole file (from its first byte); sets prof.guard."""
    prof.guard = LineGuard(prof.options.line_limit)
    return DecodingReader(ReplayHead(head, f), choice, guard=prof.guard, text_filter=text_filter)


def first_choice(head: bytes, total_bytes: int | None) -> EncodingChoice:
    """The encoding to start with (raises Undecodable)."""
    return guess_encoding(head, final=total_bytes is not None and len(head) >= total_bytes)


def read_with_restarts(prof: Any, f: Any, head: bytes, start: int | None,
                       attempt: Callable[[bytes, EncodingChoice], dict], *, reread: Callable[[], bytes],
                       report: dict[str, Any]) -> dict[str, Any]:
    """Run attempt(head, choice); on EncodingRestart read the file again with the new choice.

    reread(): seeks back to `start` and returns the head again. report: the report keys to keep
    (format) when the profiler forgets the failed attempt.
    """
    choice = first_choice(head, prof.total_bytes)
    prof.encoding_notes = []
    for _ in range(MAX_READS):
        prof.report["encoding"] = choice.encoding
        try:
            return attempt(head, choice)
        except (EncodingRestart, ReadAgain) as exc:
            if start is None:
                raise ValueError(f"{exc}; the stream cannot be read again") from exc
            notes = list(prof.encoding_notes)
            if isinstance(exc, EncodingRestart):
                notes.append(exc.message)
            choice = exc.choice
            head = reread()
            prof.restart(**report)
            prof.encoding_notes = notes
    raise Undecodable(choice.refuted)


def encoding_findings(prof: Any, dec: DecodingReader) -> None:
    """After the last byte: the encoding used and why, in report["encoding_detail"]; a finding
    `encoding_detected` when it took evidence (anything but UTF-8 read as guessed), and
    `encoding_mismatch` when the first guess was wrong and the file was read again."""
    final = dec.final or dec.choice
    prof.report["encoding"] = final.encoding
    detail: dict[str, Any] = {"encoding": final.encoding, "reason": final.reason,
                              "refuted": [{"encoding": r.encoding, "offset": r.offset, "byte": f"0x{r.byte:02X}"}
                                          for r in final.refuted]}
    if dec.switches:
        detail["switched_at"] = dec.switches[0]["offset"]
    prof.report["encoding_detail"] = dict(detail)
    if final.encoding not in ("utf-8", "utf-8-sig") or dec.switches or final.refuted:
        findings.add(prof, findings.ENCODING_DETECTED, "info", f"read as {LABELS[final.encoding]}: {final.reason}",
                     **detail)
    notes = getattr(prof, "encoding_notes", [])
    if notes:
        findings.add(prof, findings.ENCODING_MISMATCH, "info",
                     f"the first guess was wrong and the file was read again as {LABELS[final.encoding]}: "
                     + "; ".join(notes), reads=len(notes) + 1)


def undecodable_finding(prof: Any, exc: Undecodable) -> None:
    findings.add(prof, findings.ENCODING_UNDECODABLE, "error", str(exc), offset=exc.offset,
                 refuted=[{"encoding": r.encoding, "offset": r.offset, "byte": f"0x{r.byte:02X}"}
                          for r in exc.refuted])
