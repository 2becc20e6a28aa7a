"""Decode a file strictly while it streams: raw bytes in, UTF-8 out (see encoding.py).

`DecodingReader` reads the raw file from its first byte, decodes every byte with the chosen
encoding and hands UTF-8 to the parser (UTF-8 input passes through unchanged after being
checked). When a byte does not decode:

- if everything before it was ASCII (which every supported encoding reads the same), it
  switches encoding right there, chosen on the bytes that follow, and goes on: no re-read;
- otherwise text already handed on was decoded wrongly: it raises EncodingRestart with the
  next most plausible encoding, and the caller reads the file again from the start;
- when no supported encoding is left, it raises Undecodable with the byte offset.

At the end of the file it checks the choice once more against lines sampled from the whole
file (a bounded sample, thinned as the file grows, so it spans the whole file); a more
plausible encoding there also restarts. Each encoding is tried at most once per file, so a file
is read at most four times (in practice once, twice when the head misled).
"""

from __future__ import annotations

import codecs
import io
import threading
from typing import Any

from .encoding import (
    EVIDENCE_BYTES,
    FALLBACKS,
    LABELS,
    EncodingChoice,
    EncodingRestart,
    Refuted,
    Undecodable,
    c1_bytes,
    choose,
    explain,
    non_ascii_lines,
    rank,
)

READ_SIZE = 1024 * 1024
# bytes of evidence taken from one read (the sample keeps at most EVIDENCE_BYTES in all)
WINDOW_BYTES = 16 * 1024


class Evidence:
    """Lines holding non-ASCII bytes, sampled from every `stride`-th read; when the sample is
    full, every other window is dropped and the stride doubles, so it spans the whole file."""

    def __init__(self, budget: int = EVIDENCE_BYTES, window: int = WINDOW_BYTES):
        self.budget, self.window = budget, window
        self.windows: list[bytes] = []
        self.size = 0
        self.stride = 1
        self.reads = 0

    def feed(self, data: bytes, at_start: bool) -> None:
        self.reads += 1
        if (self.reads - 1) % self.stride:
            return
        w = non_ascii_lines(data, self.window * (4 if at_start else 1), at_start=at_start)
        if not w:
            return
        self.windows.append(w)
        self.size += len(w)
        while self.size > self.budget and len(self.windows) > 1:
            self.windows = self.windows[::2]
            self.size = sum(len(x) for x in self.windows)
            self.stride *= 2

    def sample(self) -> bytes:
        return b"".join(self.windows)


class DecodingReader(io.RawIOBase):
    """A readable binary stream of UTF-8 text decoded from `raw` (positioned at the file's
    first byte, a byte-order mark included; the mark is not handed on).

    pyarrow's CSV reader reads ahead on its own I/O threads, so a parser that gave up (a row
    straddling the block, an encoding restart) may still call readinto after the caller has
    moved on. end() ends the stream for good: once it returns, no read of this stream
    touches `raw` again, so a re-read can seek the file without a stale read stealing bytes.
    """

    def __init__(self, raw: Any, choice: EncodingChoice, read_size: int = READ_SIZE, *,
                 guard: Any = None, text_filter: Any = None):
        """guard: sees every UTF-8 byte handed on (lines.LineGuard: line lengths and endings);
        text_filter: rewrites the UTF-8 text before it is handed on (dialect.DialectFilter)."""
        self.raw = raw
        self.guard = guard
        self.text_filter = text_filter
        self.guess = choice
        self.read_size = read_size
        self.offset = 0  # raw bytes decoded so far
        self.ascii_only = True
        self.c1 = 0  # bytes 0x80-0x9F seen while reading as Windows-1252
        self.evidence = Evidence()
        self.switches: list[dict] = []  # in-place changes of encoding (ASCII before them)
        self.final: EncodingChoice | None = None  # set at the end of the file
        self._out = memoryview(b"")
        self._eof = False
        self._lock = threading.Lock()
        self.ended = False
        self._use(choice)

    def end(self) -> None:
        with self._lock:
            self.ended = True
            self._out = memoryview(b"")

    def _use(self, choice: EncodingChoice) -> None:
        self.choice = choice
        self._dec = codecs.getincrementaldecoder(choice.codec)()
        self._pass = choice.encoding in ("utf-8", "utf-8-sig")
        self._bom = 3 if choice.encoding == "utf-8-sig" and self.offset == 0 else 0

    def readable(self) -> bool:
        return True

    @property
    def bytes_read(self) -> int:
        """Raw bytes of the file decoded so far (for progress)."""
        return self.offset

    def readinto(self, b: Any) -> int:
        with self._lock:
            return 0 if self.ended else self._readinto(b)

    def _readinto(self, b: Any) -> int:
        while not len(self._out):
            if self._eof:
                return 0
            data = self.raw.read(max(len(b), self.read_size))
            if data:
                out = self._decode(bytes(data))
                if self.guard is not None:
                    self.guard.feed(out)
                if self.text_filter is not None:
                    out = self.text_filter.feed(out)
            else:
                self._end()
                self._eof = True
                out = self.text_filter.feed(b"", final=True) if self.text_filter is not None else b""
            self._out = memoryview(out)
        k = min(len(b), len(self._out))
        b[:k] = self._out[:k]
        self._out = self._out[k:]
        return k

    # ---- decoding ---------------------------------------------------------------------
    def _decode(self, data: bytes, sampled: bool = False) -> bytes:
        ascii_ = data.isascii()
        if not ascii_:
            if not sampled:
                self.evidence.feed(data, at_start=self.offset == 0)
            if self.choice.encoding == "windows-1252":
                self.c1 += c1_bytes(data)
        text = None
        try:
            if not (self._pass and ascii_ and not self._dec.getstate()[0]):
                text = self._dec.decode(data)
        except UnicodeDecodeError as exc:
            return self._undecodable(data, exc)
        self.offset += len(data)
        if not ascii_:
            self.ascii_only = False
        if not self._pass:
            return text.encode("utf-8") if text else b""
        if self._bom:
            cut, self._bom = min(self._bom, len(data)), max(0, self._bom - len(data))
            return data[cut:]
        return data

    def _undecodable(self, data: bytes, exc: UnicodeDecodeError) -> bytes:
        pending = len(exc.object) - len(data)
        pos = exc.start - pending  # index in data of the bad byte (< 0: in the previous read)
        at = self.offset + pos
        bad = Refuted(self.choice.encoding, at, exc.object[exc.start])
        refuted = (*self.choice.refuted, bad)
        tried = {r.encoding for r in refuted} | set(self.choice.rejected)
        if self.choice.encoding.startswith("utf-16"):
            raise Undecodable(refuted)
        if self.ascii_only and pos >= 0 and data[:pos].isascii():
            # every byte before this one was ASCII, read the same by every candidate: switch here
            window = data[pos:]
            evidence = non_ascii_lines(window, EVIDENCE_BYTES, at_start=True) or window[:4096]
            new = choose(evidence, exclude=tried, refuted=refuted, data=window, base=at,
                         why=f"bytes 0 to {at - 1} are ASCII")
            self.switches.append({"offset": at, "from": self.choice.encoding, "to": new.encoding,
                                  "byte": f"0x{bad.byte:02X}"})
            self.offset += pos
            self._use(new)
            return data[:pos] + self._decode(window, sampled=True)
        raise EncodingRestart(self._next(refuted, tried, why=""),
                              f"text before offset {at} was read as {LABELS[self.choice.encoding]}, "
                              f"but byte 0x{bad.byte:02X} at offset {at} does not decode in it: the file is read again")

    def _next(self, refuted: tuple[Refuted, ...], tried: set[str], why: str,
              rejected: tuple[str, ...] = ()) -> EncodingChoice:
        left = [e for e in FALLBACKS if e not in tried]
        if not left:
            raise Undecodable(refuted)
        ranked = rank(self.evidence.sample(), left)
        if ranked:
            reason = explain(ranked[0], ranked[1:], list(refuted), why)
            return EncodingChoice(ranked[0].encoding, reason, refuted, (*self.choice.rejected, *rejected))
        # none decodes the sample: try the next one, the next pass finds its first bad byte
        return EncodingChoice(left[0], f"{why}; trying {LABELS[left[0]]}", refuted,
                              (*self.choice.rejected, *rejected))

    def _end(self) -> None:
        try:
            self._dec.decode(b"", True)
        except UnicodeDecodeError as exc:  # a multi-byte sequence cut by the end of the file
            self._undecodable(b"", exc)
        enc = self.choice.encoding
        if self.ascii_only:
            self.final = EncodingChoice("utf-8", "only ASCII bytes in the whole file (every supported encoding "
                                                 "reads them the same)", self.choice.refuted)
            return
        sample = self.evidence.sample()
        reason = self.choice.reason
        if enc in ("gb18030", "big5", "windows-1252"):
            tried = {r.encoding for r in self.choice.refuted} | set(self.choice.rejected)
            ranked = rank(sample, [e for e in FALLBACKS if e not in tried or e == enc])
            if ranked and ranked[0].encoding != enc:
                better = ranked[0]
                raise EncodingRestart(
                    self._next(self.choice.refuted, tried | {enc},
                               why=f"every byte decodes as {LABELS[enc]}, but lines sampled over the whole file "
                                   f"read better as {LABELS[better.encoding]}", rejected=(enc,)),
                    f"lines sampled over the whole file read better as {LABELS[better.encoding]} than as "
                    f"{LABELS[enc]}: the file is read again")
            mine = next((p for p in ranked if p.encoding == enc), None)
            if mine is not None:
                reason += f"; every byte decodes, and {len(self.evidence.windows)} sampled windows of the whole file " \
                          f"show {mine.describe()}"
        if enc in ("utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"):
            reason += f"; every byte of the file decodes ({self.offset} bytes)"
        if enc == "windows-1252":
            reason += (f"; {self.c1} bytes in 0x80-0x9F read as Windows-1252 letters and punctuation (they would be "
                       "control characters in ISO-8859-1)" if self.c1 else
                       "; no bytes in 0x80-0x9F, so ISO-8859-1 (Latin-1) reads it the same")
        self.final = EncodingChoice(enc, reason, self.choice.refuted, self.choice.rejected)
