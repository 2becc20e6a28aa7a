"""Exact key counting under a memory budget: fingerprint collisions, spills, re-splits."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc

from workers.quality.keys import KeyStore, fingerprint


def _colliding(n: int) -> list[str]:
    # same length, same first and last 8 bytes: the quick fingerprint cannot tell them apart
    return [f"AAAAAAAA{i:08d}{'m' * 200}ZZZZZZZZ" for i in range(n)]


def test_fingerprint_depends_only_on_the_value():
    # given the same values in arrays of long and of short neighbours, plain and large
    vals = ["a", "北京", "x" * 40, "", "a\0"]
    alone = fingerprint(pa.array(vals, pa.string())).to_pylist()
    mixed = fingerprint(pa.array(vals + ["y" * 50] * 3, pa.large_binary())).to_pylist()[:5]
    # then each value keeps its fingerprint, and "a" and "a\0" differ
    assert alone == mixed
    assert alone[0] != alone[4]


def test_count_distinct_compares_full_bytes_when_fingerprints_collide(tmp_path):
    keys = _colliding(5000)
    assert len(set(fingerprint(pa.array(keys)).to_pylist())) == 1
    store = KeyStore(str(tmp_path), 1 << 20, "t")
    # given every key twice, added in small batches so that partitions spill to disk
    for i in range(0, 10_000, 500):
        store.add(pa.array([keys[j % 5000] for j in range(i, i + 500)]))
    assert store.spilled_bytes > 0
    # then the count is exact
    assert store.count_distinct() == 5000
    store.close()
    assert not list(tmp_path.iterdir())


def test_count_distinct_matches_a_set_across_spills_and_many_partitions(tmp_path):
    rng = random.Random(3)
    vals = [f"row-{rng.randrange(60_000)}-{'x' * rng.randrange(0, 30)}" for _ in range(200_000)]
    store = KeyStore(str(tmp_path), 1 << 20, "t")
    for i in range(0, len(vals), 10_000):
        store.add(pa.array(vals[i:i + 10_000]))
    assert store.count_distinct() == len(set(vals))
    store.close()


def test_keys_with_multiple_tags_exact_under_collisions(tmp_path):
    keys = _colliding(3000)
    # given key i tagged i % 3 and, for every 7th key, also tagged (i + 1) % 3
    pairs = [(k, i % 3) for i, k in enumerate(keys)] + [(k, (i + 1) % 3) for i, k in enumerate(keys) if i % 7 == 0]
    random.Random(1).shuffle(pairs)
    store = KeyStore(str(tmp_path), 1 << 20, "c", with_tag=True)
    for i in range(0, len(pairs), 400):
        chunk = pairs[i:i + 400]
        store.add(pa.array([k for k, _ in chunk]), pa.array([t for _, t in chunk], pa.int32()))
    # then exactly the keys seen with two different tags are counted
    assert store.count_keys_with_multiple_tags() == len(range(0, 3000, 7))
    store.close()


def test_keys_with_multiple_tags_many_labels(tmp_path):
    # given more than 16 distinct tags (the grouped path): keys 0..999 with tag k % 40,
    # keys 0..99 again with tag (k + 1) % 40, and keys 0..49 repeated with the same tag
    store = KeyStore(str(tmp_path), 1 << 20, "c", with_tag=True)
    keys = [f"input-{k}" for k in range(1000)] + [f"input-{k}" for k in range(100)] + [f"input-{k}" for k in range(50)]
    tags = [k % 40 for k in range(1000)] + [(k + 1) % 40 for k in range(100)] + [k % 40 for k in range(50)]
    store.add(pa.array(keys), pa.array(tags, pa.int32()))
    assert store.count_keys_with_multiple_tags() == 100
    store.close()


def test_in_memory_store_counts_without_touching_disk(tmp_path):
    store = KeyStore(str(tmp_path), 64 << 20, "t")
    store.add(pc.cast(pa.array(range(50_000)), pa.string()))
    store.add(pc.cast(pa.array(range(25_000, 75_000)), pa.string()))
    assert store.count_distinct() == 75_000
    assert store.spilled_bytes == 0
    assert not list(tmp_path.iterdir())


def test_an_error_on_a_helper_thread_ends_the_check_with_a_message(tmp_path, monkeypatch):
    import pyarrow as pa

    from tests.workers._quality_helpers import run
    from workers.quality import QualityOptions

    # given the key store failing on the key thread in the middle of a multi-batch file
    calls = []

    def failing_add(self, keys, tags=None):
        calls.append(len(keys))
        if len(calls) == 3:
            raise pa.ArrowInvalid("disk full while spilling")

    monkeypatch.setattr(KeyStore, "add", failing_add)
    data = "a,b\n" + "".join(f"{i},v{i}\n" for i in range(60_000))
    # when the file is profiled with the helper threads
    r = run(tmp_path, data, options=QualityOptions(block_size=64 * 1024, spill_dir=str(tmp_path)))
    # then the check fails with the error named, and leaves no spill files behind
    assert not r["gates"]["passed"]
    assert any("disk full while spilling" in f for f in r["gates"]["failures"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("quality-")]
