"""Which text encoding a file is in: a guess from the head, then evidence from the whole file.

Supported: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, GB18030
(GBK and GB2312 are subsets), Big5 (Microsoft's cp950 table) and Windows-1252 (ISO-8859-1
text reads the same). `guess_encoding(head)` picks a start; `decoding.DecodingReader` then
decodes every byte of the file strictly with it and switches or restarts when a later byte
does not decode (never substituting a character), and checks the guess again at the end
against lines sampled over the whole file.

Telling the legacy encodings apart: a candidate must decode every sampled byte; among those
that do, charset-normalizer (a maintained detector, the one `requests` uses) ranks them by how
plausible the decoded text is, and one rule of our own overrides it: CJK characters that sit
between two Latin letters ("M丂ller") are the signature of Latin text read as GB18030 or Big5,
so when most of a CJK candidate's ideographs do that and Windows-1252 decodes too, Windows-1252
wins.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# reported name -> Python codec
CODECS = {
    "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16",
    "gb18030": "gb18030", "big5": "cp950", "windows-1252": "cp1252",
}
LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with byte-order mark", "utf-16-le": "UTF-16 LE (byte-order mark)",
    "utf-16-be": "UTF-16 BE (byte-order mark)", "gb18030": "GB18030/GBK", "big5": "Big5",
    "windows-1252": "Windows-1252",
}
# ASCII-compatible encodings a file without a byte-order mark may be in, in order of preference
# when the evidence cannot tell them apart
FALLBACKS = ("utf-8", "gb18030", "big5", "windows-1252")
EVIDENCE_BYTES = 256 * 1024

_HIGH = re.compile(rb"[\x80-\xff]")
_BREAK = re.compile(rb"[\r\n]")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ISOLATED = re.compile("(?<=[A-Za-z])[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff](?=[A-Za-z])")
_LATIN = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e]")
_C1 = bytes(range(0x80, 0xA0))
_NOT_C1 = bytes(sorted(set(range(256)) - set(_C1)))


@dataclass(frozen=True)
class Refuted:
    """An encoding the file is not in: the first byte that does not decode."""

    encoding: str
    offset: int
    byte: int

    def describe(self) -> str:
        return f"{LABELS[self.encoding]} (byte 0x{self.byte:02X} at offset {self.offset})"


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding to read with, why, and what was ruled out before."""

    encoding: str
    reason: str
    refuted: tuple[Refuted, ...] = ()
    rejected: tuple[str, ...] = ()  # decoded, but judged less plausible on the whole file

    @property
    def codec(self) -> str:
        return CODECS[self.encoding]

    @property
    def label(self) -> str:
        return LABELS[self.encoding]

    def tried(self) -> set[str]:
        return {r.encoding for r in self.refuted}


class Undecodable(Exception):
    """No supported encoding decodes the file; offset is the furthest byte any of them reached."""

    def __init__(self, refuted: tuple[Refuted, ...]):
        self.refuted = refuted
        self.offset = max((r.offset for r in refuted), default=0)
        super().__init__(
            f"the file is not text in any supported encoding: byte offset {self.offset} does not decode; tried "
            + ", ".join(r.describe() for r in refuted)
            + ". Supported: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK, Big5, Windows-1252/Latin-1")


class EncodingRestart(Exception):
    """Bytes already handed on were decoded with an encoding the file turned out not to be in."""

    def __init__(self, choice: EncodingChoice, message: str):
        self.choice = choice
        self.message = message
        super().__init__(message)


def first_error(codec: str, data: bytes, final: bool) -> int | None:
    """Index of the first byte of `data` that does not decode, or None (a sequence cut at the
    end counts as an error only when final)."""
    try:
        codecs.getincrementaldecoder(codec)().decode(data, final)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def non_ascii_lines(data: bytes, limit: int, *, at_start: bool = False) -> bytes:
    """Whole lines of `data` holding a byte above 0x7F, up to `limit` bytes.

    Only lines with a line break (or the data's start, when it is the file's start) on both
    sides are taken, so each window starts and ends on a character boundary in every
    ASCII-compatible encoding (line breaks are never trail bytes in GB18030 or Big5).
    """
    out: list[bytes] = []
    size, pos = 0, 0
    while size < limit:
        m = _HIGH.search(data, pos)
        if m is None:
            break
        floor = max(0, pos - 1)  # the previous line's break (searches stay within this line)
        lo = max(data.rfind(b"\n", floor, m.start()), data.rfind(b"\r", floor, m.start()))
        brk = _BREAK.search(data, m.start())
        if brk is None:
            break
        hi = brk.start()
        if lo < 0 and not at_start:
            pos = hi + 1
            continue
        line = data[lo + 1:hi + 1]
        out.append(line[: limit - size])
        size += len(line)
        pos = hi + 1
    return b"".join(out)


@dataclass
class Plausibility:
    """What a decoding of the evidence looks like (for the ranking and for the report)."""

    encoding: str
    non_ascii: int = 0
    cjk: int = 0
    isolated_cjk: int = 0
    latin: int = 0
    chaos: float | None = None  # charset-normalizer's "mess" ratio, lower is better
    notes: list[str] = field(default_factory=list)

    @property
    def mojibake(self) -> bool:
        return self.cjk > 0 and self.isolated_cjk * 2 > self.cjk

    def describe(self) -> str:
        if not self.non_ascii:
            return "no non-ASCII characters"
        parts = [f"{self.non_ascii} non-ASCII characters"]
        if self.cjk:
            parts.append(f"{100 * self.cjk / self.non_ascii:.0f}% CJK ideographs")
            if self.isolated_cjk:
                parts.append(f"{100 * self.isolated_cjk / self.cjk:.0f}% of them between two Latin letters")
        if self.latin:
            parts.append(f"{100 * self.latin / self.non_ascii:.0f}% accented Latin letters")
        return ", ".join(parts)


def plausibility(encoding: str, evidence: bytes) -> Plausibility:
    text = evidence.decode(CODECS[encoding], "replace")
    p = Plausibility(encoding)
    p.non_ascii = sum(1 for _ in re.finditer("[^\x00-\x7f]", text))
    p.cjk = len(_CJK.findall(text))
    p.isolated_cjk = len(_ISOLATED.findall(text))
    p.latin = len(_LATIN.findall(text))
    return p


def rank(evidence: bytes, candidates: list[str]) -> list[Plausibility]:
    """The candidates that decode all of `evidence`, most plausible first."""
    valid = [e for e in candidates if first_error(CODECS[e], evidence, True) is None]
    found = [plausibility(e, evidence) for e in valid]
    if len(found) > 1:
        _charset_normalizer(evidence, found)
    order = {e: i for i, e in enumerate(FALLBACKS)}

    def key(p: Plausibility) -> tuple:
        return (p.mojibake and "windows-1252" in valid, p.chaos if p.chaos is not None else 2.0,
                order.get(p.encoding, 99))

    return sorted(found, key=key)


def _charset_normalizer(evidence: bytes, found: list[Plausibility]) -> None:
    from charset_normalizer import from_bytes

    names = {CODECS[p.encoding]: p for p in found}
    matches = from_bytes(evidence, cp_isolation=list(names), threshold=0.5, explain=False,
                         preemptive_behaviour=False, enable_fallback=False)
    for m in matches:
        p = names.get(m.encoding) or names.get(codecs.lookup(m.encoding).name)
        if p is not None and p.chaos is None:
            p.chaos = round(float(m.chaos), 4)


def _refute(encoding: str, data: bytes, base: int, final: bool) -> Refuted | None:
    i = first_error(CODECS[encoding], data, final)
    return None if i is None else Refuted(encoding, base + i, data[i])


def guess_encoding(head: bytes, *, final: bool = False) -> EncodingChoice:
    """The encoding to start reading with, from the file's first bytes.

    final: the head is the whole file. Raises Undecodable when no supported encoding fits.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        bad = _refute("utf-8", head[3:], 3, final)
        if bad is None:
            return EncodingChoice("utf-8-sig", "UTF-8 byte-order mark (EF BB BF)")
        raise Undecodable((Refuted("utf-8-sig", bad.offset, bad.byte),))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        enc = "utf-16-le" if head[:1] == b"\xff" else "utf-16-be"
        bad = _refute(enc, head, 0, final)
        if bad is None:
            return EncodingChoice(enc, f"UTF-16 byte-order mark ({head[0]:02X} {head[1]:02X})")
        raise Undecodable((bad,))
    refuted = []
    bad = _refute("utf-8", head, 0, final)
    if bad is None:
        if head.isascii():
            return EncodingChoice("utf-8", "ASCII so far (every supported encoding reads it the same); "
                                           "checked over the whole file")
        return EncodingChoice("utf-8", "valid UTF-8")
    refuted.append(bad)
    return choose(non_ascii_lines(head, EVIDENCE_BYTES, at_start=True) or head[bad.offset:bad.offset + 4096],
                  exclude={"utf-8"}, refuted=tuple(refuted), data=head, final=final)


def choose(evidence: bytes, *, exclude: set[str], refuted: tuple[Refuted, ...], data: bytes,
           base: int = 0, final: bool = False, why: str = "") -> EncodingChoice:
    """The most plausible ASCII-compatible encoding for `evidence` that is not excluded and
    decodes all of `data` (which starts at file offset `base`)."""
    refuted = list(refuted)
    cands = []
    for e in FALLBACKS:
        if e in exclude:
            continue
        bad = _refute(e, data, base, final)
        if bad is None:
            cands.append(e)
        else:
            refuted.append(bad)
    ranked = rank(evidence, cands)
    if not ranked:
        if not refuted:  # every candidate decodes `data` but not the evidence sampled earlier
            refuted = [Refuted(e, base, data[:1][0] if data else 0) for e in FALLBACKS if e not in exclude]
        raise Undecodable(tuple(refuted))
    best = ranked[0]
    return EncodingChoice(best.encoding, explain(best, ranked[1:], refuted, why), tuple(refuted))


def explain(best: Plausibility, others: list[Plausibility], refuted: list[Refuted], why: str) -> str:
    parts = [why] if why else []
    if refuted:
        parts.append("not " + ", not ".join(r.describe() for r in refuted))
    parts.append(f"{LABELS[best.encoding]} decodes it: {best.describe()}")
    for o in others:
        if o.mojibake:
            parts.append(f"also valid {LABELS[o.encoding]} by bytes, but then {o.describe()} "
                         "(Latin text read as CJK)")
        else:
            parts.append(f"also valid {LABELS[o.encoding]} ({o.describe()}), judged less plausible"
                         + (f" (charset-normalizer mess {o.chaos:g} vs {best.chaos:g})"
                            if o.chaos is not None and best.chaos is not None else ""))
    return "; ".join(parts)


def c1_bytes(data: bytes) -> int:
    """Bytes 0x80-0x9F: Windows-1252 letters and punctuation, ISO-8859-1 control characters."""
    return len(data.translate(None, _NOT_C1))
