"""Encoding decided on the whole file (workers/quality/encoding.py, decoding.py): pure tests."""

from __future__ import annotations

import io

import pytest

from workers.quality.decoding import DecodingReader, Evidence
from workers.quality.encoding import (
    EncodingRestart,
    Undecodable,
    first_error,
    guess_encoding,
    non_ascii_lines,
    rank,
)

MiB = 1024 * 1024
# more than one MiB of ASCII rows: the first non-ASCII byte comes after the first MiB
ASCII_ROWS = "id,name,note\n" + "".join(f"{i},plain ascii text,{i * 3}\n" for i in range(45_000))
# Latin names where every accented letter is followed by a letter: valid GB18030 by bytes
GB_VALID_LATIN = "".join(f"{i},Müller Ångström Jürgen Gómez,Zürich\n" for i in range(300))


class _Chunks(io.RawIOBase):
    """A raw stream that returns at most `size` bytes a read (to cut sequences in two)."""

    def __init__(self, data: bytes, size: int):
        self._f, self._size = io.BytesIO(data), size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._f.read(min(n, self._size) if n and n > 0 else self._size)


def first_high(data: bytes) -> int:
    return next(i for i, b in enumerate(data) if b >= 0x80)


def read_all(data: bytes, raw_size: int | None = None) -> tuple[DecodingReader, str, int]:
    """Decode as the profiler does: guess from the first MiB, restart when told to."""
    choice = guess_encoding(data[:MiB], final=len(data) <= MiB)
    for passes in range(1, 6):
        raw = io.BytesIO(data) if raw_size is None else _Chunks(data, raw_size)
        reader = DecodingReader(raw, choice)
        try:
            out = io.BufferedReader(reader).read()
        except EncodingRestart as exc:
            choice = exc.choice
            continue
        return reader, out.decode("utf-8"), passes
    raise AssertionError("did not settle")


def test_gb18030_whose_first_non_ascii_byte_is_after_the_first_mib_switches_in_place():
    tail = "".join(f"{i},北京市朝阳区,数据交易\n" for i in range(200))
    data = ASCII_ROWS.encode() + tail.encode("gb18030")
    assert data[:MiB].isascii()
    reader, text, passes = read_all(data)
    assert text == ASCII_ROWS + tail
    assert passes == 1  # everything before was ASCII: no re-read
    assert reader.final.encoding == "gb18030"
    assert reader.switches == [{"offset": first_high(data), "from": "utf-8", "to": "gb18030",
                                "byte": f"0x{'北'.encode('gb18030')[0]:02X}"}]
    assert "CJK ideographs" in reader.final.reason


def test_cp1252_whose_first_non_ascii_byte_is_after_the_first_mib():
    tail = "".join(f"{i},José Pérez,café crème brûlée\n" for i in range(200))
    data = ASCII_ROWS.encode() + tail.encode("cp1252")
    reader, text, passes = read_all(data)
    assert text == ASCII_ROWS + tail
    assert reader.final.encoding == "windows-1252"
    assert reader.switches[0]["offset"] == first_high(data) > MiB
    assert "ISO-8859-1" in reader.final.reason  # no byte in 0x80-0x9F: Latin-1 reads it the same


def test_cp1252_file_that_is_valid_gb18030_by_bytes_is_read_as_cp1252():
    text = "id,name,city\n" + GB_VALID_LATIN
    data = text.encode("cp1252")
    assert first_error("gb18030", data, True) is None  # the trap: every byte pair is valid GB18030
    reader, got, _ = read_all(data)
    assert reader.final.encoding == "windows-1252"
    assert got == text
    assert "Latin text read as CJK" in reader.final.reason


def test_cp1252_gb_valid_after_the_first_mib_is_corrected_on_whole_file_evidence():
    tail = GB_VALID_LATIN
    data = ASCII_ROWS.encode() + tail.encode("cp1252")
    reader, text, _ = read_all(data)
    assert reader.final.encoding == "windows-1252"
    assert text == ASCII_ROWS + tail


def test_windows_1252_punctuation_is_told_apart_from_latin1():
    text = "id,quote\n1,\u201cquoted\u201d costs \u20ac5 \u2013 ok\n"
    reader, got, _ = read_all(text.encode("cp1252"))
    assert got == text
    assert reader.final.encoding == "windows-1252"
    assert "would be control characters in ISO-8859-1" in reader.final.reason


def test_big5_is_read_as_big5_not_gb18030():
    text = "編號,城市,備註\n" + "".join(f"{i},臺北市,資料交易所測試\n" for i in range(100))
    data = text.encode("big5")
    assert first_error("gb18030", data, True) is None  # Big5 bytes are valid GB18030 too
    reader, got, _ = read_all(data)
    assert reader.final.encoding == "big5"
    assert got == text


def test_gbk_chinese_is_read_as_gb18030():
    text = "编号,城市\n" + "".join(f"{i},上海市浦东新区,测试数据\n" for i in range(100))
    reader, got, _ = read_all(text.encode("gbk"))
    assert reader.final.encoding == "gb18030"
    assert got == text


@pytest.mark.parametrize("codec,name", [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_utf16_with_bom(codec, name):
    text = "id,城市\n1,北京\n2,Zürich\n"
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    reader, got, _ = read_all(bom + text.encode(codec), raw_size=7)  # odd reads cut code units
    assert got == text
    assert reader.final.encoding == name


def test_utf8_bom_is_not_handed_on_and_sequences_cut_between_reads_decode():
    text = "id,城市\n" + "".join(f"{i},北京\n" for i in range(50))
    reader, got, _ = read_all(b"\xef\xbb\xbf" + text.encode(), raw_size=5)
    assert got == text
    assert reader.final.encoding == "utf-8-sig"


def test_ascii_only_file_is_utf8_and_says_why():
    reader, got, _ = read_all(b"a,b\n1,2\n")
    assert got == "a,b\n1,2\n"
    assert reader.final.encoding == "utf-8"
    assert "only ASCII" in reader.final.reason


def test_utf8_then_a_gb18030_byte_restarts_from_the_start():
    head = "id,城市\n1,北京\n".encode()
    data = head + ASCII_ROWS.encode() + "2,上海\n".encode("gb18030")
    choice = guess_encoding(data[:MiB])
    assert choice.encoding == "utf-8"
    with pytest.raises(EncodingRestart) as exc:
        io.BufferedReader(DecodingReader(io.BytesIO(data), choice)).read()
    bad_at = len(head) + len(ASCII_ROWS) + 2
    assert f"offset {bad_at}" in exc.value.message
    assert exc.value.choice.encoding == "gb18030"
    assert [(r.encoding, r.offset) for r in exc.value.choice.refuted] == [("utf-8", bad_at)]


def test_undecodable_file_fails_with_the_byte_offset():
    data = b"id,x\n1,abc\n2,a\x81 b\n"
    with pytest.raises(Undecodable) as exc:
        read_all(data)
    bad = data.index(b"\x81")
    assert exc.value.offset == bad
    msg = str(exc.value)
    assert f"byte offset {bad} " in msg
    for name in ("UTF-8", "GB18030/GBK", "Big5", "Windows-1252"):
        assert name in msg


def test_undecodable_byte_after_the_first_mib_names_its_offset():
    data = ASCII_ROWS.encode() + b"9,\x81\x20x\n"
    with pytest.raises(Undecodable) as exc:
        read_all(data)
    assert exc.value.offset == len(ASCII_ROWS) + 2


def test_truncated_multibyte_sequence_at_the_end_is_not_silently_dropped():
    data = "id,城市\n1,北京\n".encode() + b"2,\xe5\x8c"  # cut UTF-8
    reader, got, _ = read_all(data)
    # never substituted: another encoding that reads every byte, or a failure
    assert "\ufffd" not in got
    assert reader.final.encoding != "utf-8"


def test_non_ascii_lines_are_whole_lines():
    data = b"abc\nd\xe9f\nxyz\n\xe9\n"
    assert non_ascii_lines(data, 100) == b"d\xe9f\n\xe9\n"
    assert non_ascii_lines(b"\xe9a\nb\n", 100) == b""  # may start mid-character
    assert non_ascii_lines(b"\xe9a\nb\n", 100, at_start=True) == b"\xe9a\n"


def test_evidence_sample_stays_bounded_and_spans_the_file():
    ev = Evidence(budget=1000, window=100)
    for i in range(200):
        ev.feed(b"x\n" + f"{i:03d}".encode() + b"\xe9" * 60 + b"\n", at_start=False)
    assert ev.size <= 1000
    first, last = ev.windows[0][:3], ev.windows[-1][:3]
    assert first == b"000" and int(last) > 150


def test_rank_drops_candidates_that_do_not_decode():
    ranked = rank("naïve café".encode("cp1252") + b"\n", ["utf-8", "gb18030", "big5", "windows-1252"])
    assert [p.encoding for p in ranked] == ["windows-1252"]
