"""Check the exchange's audit log from saved files, without the exchange's code or database.

    python -m workers.tlog consistency --keys KEYS OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json
    python -m workers.tlog inclusion --keys KEYS CHECKPOINT EVENT.json PROOF.json

KEYS is ``/.well-known/shujiao/audit/key`` saved to a file (one verifier key per line);
checkpoints are signed notes (``/.well-known/shujiao/audit/checkpoint`` or a manifest's
``audit_checkpoint``); PROOF.json and EVENT.json are the REST responses saved as they came
(``/api/v1/audit/consistency/…``, ``/api/v1/audit/events/<seq>/`` and ``…/proof/``).
Exit status 0 when everything verifies, 1 naming what did not, 2 for unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workers import tlog


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _checkpoint(path: str, keys: list[str], origin: str | None) -> tlog.Checkpoint:
    return tlog.open_checkpoint(_read(path), keys, origin=origin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.tlog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--origin", help="expected log origin (first checkpoint line)")
    sub = parser.add_subparsers(dest="command", required=True)
    con = sub.add_parser("consistency", help="the new checkpoint's tree extends the old one's")
    con.add_argument("--keys", required=True)
    con.add_argument("old")
    con.add_argument("new")
    con.add_argument("proof")
    inc = sub.add_parser("inclusion", help="an event is in the checkpoint's tree")
    inc.add_argument("--keys", required=True)
    inc.add_argument("checkpoint")
    inc.add_argument("event")
    inc.add_argument("proof")
    args = parser.parse_args(argv)
    try:
        keys = _read(args.keys).split()
        if args.command == "consistency":
            old, new = _checkpoint(args.old, keys, args.origin), _checkpoint(args.new, keys, args.origin)
            proof = json.loads(_read(args.proof))
            if (proof.get("old_size"), proof.get("new_size")) != (old.size, new.size):
                raise tlog.ProofError(f"the proof is for sizes {proof.get('old_size')}→{proof.get('new_size')}, "
                                      f"the checkpoints are {old.size}→{new.size}")
            tlog.verify_consistency(old.size, new.size, old.root, new.root,
                                    [tlog.decode_hash(h) for h in proof["hashes"]])
            print(f"OK: the log at {new.size} events extends the log at {old.size}")
        else:
            cp = _checkpoint(args.checkpoint, keys, args.origin)
            event, proof = json.loads(_read(args.event)), json.loads(_read(args.proof))
            leaf = tlog.leaf_hash(event["canonical"].encode("utf-8"))
            if proof.get("tree_size") != cp.size:
                raise tlog.ProofError(f"the proof is for size {proof.get('tree_size')}, the checkpoint is {cp.size}")
            tlog.verify_inclusion(event["seq"] - 1, cp.size, leaf, [tlog.decode_hash(h) for h in proof["hashes"]],
                                  cp.root)
            print(f"OK: event #{event['seq']} ({event.get('action', '')}) is in the log at {cp.size} events")
    except tlog.ProofError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the input: {exc!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
