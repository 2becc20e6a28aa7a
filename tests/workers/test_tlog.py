"""workers.tlog against published vectors: the 8-leaf RFC 6962 test tree used by
Certificate Transparency and transparency-dev/merkle (roots, inclusion and consistency
proofs), and Go's golang.org/x/mod/sumdb/note example key and signed note."""

import base64
import itertools

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workers import tlog

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
H = bytes.fromhex
# (leaf index 0-based, tree size, proof)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
# golang.org/x/mod/sumdb/note: the documented example signer and its signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def leaf_hashes(n=8):
    return [tlog.leaf_hash(d) for d in LEAVES[:n]]


def test_roots_of_the_rfc6962_test_tree_every_size():
    get = tlog.getter_from_leaves(leaf_hashes())
    for size in range(1, 9):
        assert tlog.root_of(leaf_hashes(size)) == ROOTS[size - 1]
        assert tlog.tree_root(size, get) == ROOTS[size - 1]
    assert tlog.tree_root(0, get) == H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_compact_range_gives_every_intermediate_root():
    cr = tlog.CompactRange()
    assert cr.root() == tlog.EMPTY_ROOT
    for size, leaf in enumerate(leaf_hashes(), start=1):
        cr.append(leaf)
        assert (cr.size, cr.root()) == (size, ROOTS[size - 1])


def test_nodes_to_store_are_the_complete_subtrees():
    nodes = {}
    for i, leaf in enumerate(leaf_hashes()):
        assert set(tlog.left_siblings(i)) <= set(nodes)
        for level, idx, h in tlog.nodes_to_store(i, leaf, lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, idx)] = h
    assert len(nodes) == 15  # 8 leaves + 4 + 2 + 1 for a perfect tree of 8
    assert nodes[(3, 0)] == ROOTS[7] and nodes[(2, 0)] == ROOTS[3] and nodes[(1, 0)] == ROOTS[1]


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(index, size, proof):
    get = tlog.getter_from_leaves(leaf_hashes())
    assert tlog.inclusion_proof(index, size, get) == [H(p) for p in proof]
    tlog.verify_inclusion(index, size, leaf_hashes()[index], [H(p) for p in proof], ROOTS[size - 1])


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(old, new, proof):
    get = tlog.getter_from_leaves(leaf_hashes())
    assert tlog.consistency_proof(old, new, get) == [H(p) for p in proof]
    tlog.verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], [H(p) for p in proof])


def test_every_generated_proof_of_the_8_leaf_tree_verifies():
    get = tlog.getter_from_leaves(leaf_hashes())
    for size in range(1, 9):
        for i in range(size):
            tlog.verify_inclusion(i, size, leaf_hashes()[i], tlog.inclusion_proof(i, size, get), ROOTS[size - 1])
        for old in range(1, size + 1):
            tlog.verify_consistency(old, size, ROOTS[old - 1], ROOTS[size - 1], tlog.consistency_proof(old, size, get))


def test_larger_tree_proofs_verify_against_the_reference_root():
    leaves = [tlog.leaf_hash(str(i).encode()) for i in range(77)]
    get = tlog.getter_from_leaves(leaves)
    for size in (1, 2, 31, 32, 33, 64, 77):
        root = tlog.root_of(leaves[:size])
        assert tlog.tree_root(size, get) == root
        for i in (0, size // 2, size - 1):
            tlog.verify_inclusion(i, size, leaves[i], tlog.inclusion_proof(i, size, get), root)
        for old in (1, 5, 16, size):
            if old <= size:
                tlog.verify_consistency(old, size, tlog.root_of(leaves[:old]), root,
                                        tlog.consistency_proof(old, size, get))


def _flip(proof, i):
    out = list(proof)
    out[i] = bytes([out[i][0] ^ 8]) + out[i][1:]
    return out


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_corrupted_inclusion_proofs_are_refused(index, size, proof):
    proof, leaf, root = [H(p) for p in proof], leaf_hashes()[index], ROOTS[size - 1]
    probes = [
        (index + 1, size, leaf, proof, root), (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root), (index, size // 2, leaf, proof, root),
        (index, size, tlog.leaf_hash(b"wrong"), proof, root), (index, size, leaf, proof, tlog.EMPTY_ROOT),
        (index, size, leaf, proof + [root], root), (index, size, leaf, [root] + proof, root),
        (index, size, leaf, proof[:-1], root),
        *[(index, size, leaf, _flip(proof, i), root) for i in range(len(proof))],
    ]
    if index > 0:
        probes.append((index - 1, size, leaf, proof, root))
    for probe in probes:
        with pytest.raises(tlog.ProofError):
            tlog.verify_inclusion(*probe)


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_corrupted_consistency_proofs_are_refused(old, new, proof):
    proof, r1, r2 = [H(p) for p in proof], ROOTS[old - 1], ROOTS[new - 1]
    probes = [
        (old - 1 or 3, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof), (old, new // 2, r1, r2, proof),
        (old, new, ROOTS[2] if old != 3 else ROOTS[3], r2, proof), (old, new, r1, tlog.EMPTY_ROOT, proof),
        (old, new, r2, r1, proof), (old, new, r1, r2, []), (old, new, r1, r2, proof + [r1]),
        (old, new, r1, r2, [r2] + proof), (old, new, r1, r2, [proof[0]] + proof), (old, new, r1, r2, proof[:-1]),
        *[(old, new, r1, r2, _flip(proof, i)) for i in range(len(proof))],
    ]
    for probe in probes:
        with pytest.raises(tlog.ProofError):
            tlog.verify_consistency(*probe)


def test_consistency_edge_cases():
    tlog.verify_consistency(0, 5, tlog.EMPTY_ROOT, ROOTS[4], [])
    tlog.verify_consistency(4, 4, ROOTS[3], ROOTS[3], [])
    with pytest.raises(tlog.ProofError, match="forked"):
        tlog.verify_consistency(4, 4, ROOTS[3], ROOTS[4], [])
    with pytest.raises(tlog.ProofError, match="shrank"):
        tlog.verify_consistency(5, 4, ROOTS[4], ROOTS[3], [ROOTS[0]])


def _go_private():
    raw = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert raw[:1] == b"\x01"
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signed_note_reproduces_go_sumdb_note_vector():
    private = _go_private()
    assert tlog.verifier_key("PeterNeumann", private) == GO_VERIFIER
    assert tlog.note_key_id("PeterNeumann", private).hex() == "c74f20a3"
    assert tlog.sign_note(GO_TEXT, "PeterNeumann", private) == GO_NOTE
    assert tlog.open_note(GO_NOTE, [GO_VERIFIER]) == GO_TEXT


def test_altered_or_unknown_notes_are_refused():
    with pytest.raises(tlog.ProofError, match="does not verify"):
        tlog.open_note(GO_NOTE.replace("cryptography", "cryptographY"), [GO_VERIFIER])
    other = tlog.verifier_key("PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(tlog.ProofError, match="no signature"):
        tlog.open_note(GO_NOTE, [other])
    for bad in (GO_VERIFIER[:-2], GO_VERIFIER.replace("c74f20a3", "c74f20a4"), "Peter Neumann+c74f20a3+AA=="):
        with pytest.raises(tlog.ProofError):
            tlog.parse_verifier_key(bad)


def test_checkpoint_round_trip_and_origin_check():
    private = Ed25519PrivateKey.generate()
    cp = tlog.Checkpoint("shujiao.example/audit", 8, ROOTS[7])
    assert cp.text() == "shujiao.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    note = tlog.sign_checkpoint(cp, "shujiao.example/audit", private)
    vkey = tlog.verifier_key("shujiao.example/audit", private)
    assert tlog.open_checkpoint(note, [vkey], origin="shujiao.example/audit") == cp
    with pytest.raises(tlog.ProofError, match="not 'other"):
        tlog.open_checkpoint(note, [vkey], origin="other.example/log")
    for text in ("a\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "a\n8\nnot base64!\n", "a\n8\n", "a\n8\nAA==\n"):
        with pytest.raises(tlog.ProofError):
            tlog.parse_checkpoint(text)


def test_nodes_read_lists_what_a_proof_needs():
    needed = tlog.nodes_read(lambda get: tlog.inclusion_proof(5, 8, get))
    assert needed == {(0, 4), (1, 3), (2, 0)}
    assert all(n in dict.fromkeys(itertools.product(range(4), range(8))) for n in needed)
