"""A CSV row longer than the block is re-read with a larger block: the abandoned attempt's
read-ahead (pyarrow reads on its own I/O threads) must not read the source again."""

from __future__ import annotations

import io
import threading

from workers.quality import profile, textinput
from workers.quality.decoding import DecodingReader

MiB = 1024 * 1024


def test_ended_stream_never_reads_its_source_again():
    # given a decoding stream that has handed on part of the head
    head = b"id,text\n"
    src = io.BytesIO(b"0123456789" * 100)
    s = DecodingReader(textinput.ReplayHead(head, src), textinput.first_choice(head, None), read_size=4)
    buf = bytearray(4)
    assert s.readinto(buf) == 4 and bytes(buf) == b"id,t"
    # when it is ended
    s.end()
    # then it hands on nothing more and never reads the source
    assert s.readinto(bytearray(100)) == 0
    assert src.tell() == 0


class _SeekSignal:
    """A seekable binary file that tells when it was sought (the retry's restart)."""

    def __init__(self, path):
        self.f = open(path, "rb")  # noqa: SIM115 - closed by the test
        self.sought = threading.Event()

    def read(self, n=-1):
        return self.f.read(n)

    def tell(self):
        return self.f.tell()

    def seekable(self):
        return True

    def seek(self, *args):
        pos = self.f.seek(*args)
        self.sought.set()
        return pos


def test_retry_with_a_larger_block_is_not_robbed_by_the_first_attempt(tmp_path, monkeypatch):
    # given a 16 MiB value (longer than the 4 MiB first block), and pyarrow's I/O thread of
    # the first attempt delayed until the retry has sought the source: its read-ahead (the
    # reads after pyarrow has the first block and the next) arrives late, as on a loaded machine
    p = tmp_path / "long.csv"
    value = b"x" * (16 * MiB)
    p.write_bytes(b"id,text\n1," + value + b"\n2,short\n")
    src = _SeekSignal(p)
    streams: list = []
    late: list[int] = []
    orig_init, orig_readinto = DecodingReader.__init__, DecodingReader.readinto

    def init(self, *args, **kwargs):
        orig_init(self, *args, **kwargs)
        streams.append(self)

    calls = {"n": 0}

    def readinto(self, b):
        if self is streams[0]:
            calls["n"] += 1
            if calls["n"] >= 4:
                assert src.sought.wait(30), "the retry never sought the source"
                n = orig_readinto(self, b)
                late.append(n)
                return n
        return orig_readinto(self, b)

    monkeypatch.setattr(DecodingReader, "__init__", init)
    monkeypatch.setattr(DecodingReader, "readinto", readinto)
    # when
    try:
        r = profile(src, None)
    finally:
        src.f.close()
    # then the retry read every byte: the late reads of the first attempt got nothing
    assert len(streams) == 2 and streams[0].ended
    assert all(n == 0 for n in late), late
    assert r["gates"]["passed"] is True, r["gates"]["failures"]
    assert r["header"] == ["id", "text"] and r["rows"] == 2
    assert r["bytes"] == p.stat().st_size
    assert r["columns"][1]["stats"]["length"]["max"] == len(value)
