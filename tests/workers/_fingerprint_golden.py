"""Golden inputs for the marker: deterministic files in every format the exchange marks.

``GOLDEN_SHA256`` holds the SHA-256 of each file's marked copy as the row-by-row marker of
commit 0595fc2 (before the batch marker) wrote it; the batch marker must write the same bytes.
"""

from __future__ import annotations

import io
import random

import pyarrow as pa
import pyarrow.parquet as pq

from ._fingerprint_helpers import SCHEMA, as_csv, as_jsonl, make_csv, parse_csv

VIRTUAL = {"fields": [{"name": "station", "type": "string"}, {"name": "kwh", "type": "number"}]}


def _plain_rows(n: int, seed: int) -> list[list[str]]:
    rnd = random.Random(seed)
    return [[str(i), f"ST-{rnd.randint(1, 60):02d}", f"{rnd.uniform(0, 900):.2f}", f"{rnd.uniform(-20, 40):.1f}",
             rnd.choice(["home", "shop", "plant"])] for i in range(n)]


PLAIN_HEADER = ["id", "station", "kwh", "temp_c", "label"]
PLAIN_SCHEMA = {"primaryKey": ["id"], "labelField": "label"}


def golden_inputs() -> dict[str, tuple[str, bytes, dict]]:
    """name -> (format, bytes, schema)."""
    header, rows = parse_csv(make_csv(3000, seed=5))
    plain = _plain_rows(6000, seed=9)
    # a quoted multi-line cell two thirds of the way through, and a key written "007" (not canonical)
    odd = [list(r) for r in plain[:3000]]
    odd[2000][1] = "ST-\n07, \"north\""
    odd[2500][0] = "0" + odd[2500][0]
    gb = [[r[0], "站点" + r[1], r[2], r[3], "家庭" if r[4] == "home" else r[4]] for r in plain[:2000]]
    table = pa.table({"id": pa.array([int(r[0]) for r in plain], pa.int64()),
                      "station": [r[1] for r in plain], "kwh": [float(r[2]) for r in plain],
                      "temp_c": [float(r[3]) for r in plain], "label": [r[4] for r in plain]})
    pbuf = io.BytesIO()
    pq.write_table(table, pbuf, compression="zstd")
    return {
        "quoted.csv": ("csv", make_csv(3000, seed=5), SCHEMA),
        "plain.csv": ("csv", as_csv(PLAIN_HEADER, plain), PLAIN_SCHEMA),
        "plain-crlf-bom.csv": ("csv", b"\xef\xbb\xbf" + as_csv(PLAIN_HEADER, plain, newline="\r\n"), PLAIN_SCHEMA),
        "no-final-newline.csv": ("csv", as_csv(PLAIN_HEADER, plain[:500]).rstrip(b"\n"), PLAIN_SCHEMA),
        "multiline.csv": ("csv", as_csv(PLAIN_HEADER, odd), PLAIN_SCHEMA),
        "virtual-key.csv": ("csv", as_csv(PLAIN_HEADER, plain[:3000]), VIRTUAL),
        "plain.tsv": ("tsv", as_csv(PLAIN_HEADER, plain, delimiter="\t"), PLAIN_SCHEMA),
        "quoted.tsv": ("tsv", as_csv(header, rows, delimiter="\t"), SCHEMA),
        "gb18030.csv": ("csv", as_csv(PLAIN_HEADER, gb).decode().encode("gb18030"), PLAIN_SCHEMA),
        "rows.jsonl": ("jsonl", as_jsonl(header, rows), SCHEMA),
        "rows.parquet": ("parquet", pbuf.getvalue(), PLAIN_SCHEMA),
    }


GOLDEN_SHA256: dict[str, str] = {
    "quoted.csv": "10ec46163fc440838c9a2a0630b7ccfba925983c8781db954038564adf8b660b",  # 3000 rows, 57 changed
    "plain.csv": "a693d2b7f4d0455953cd6bae419163b5bff1997ff663c51fe4cb77a6e891aeff",  # 6000 rows, 137 changed
    "plain-crlf-bom.csv": "7f298d4f7a7d05175153834efe75abf8cf14ade5d2f40fa493dd06c5e73035cf",  # 6000 rows, 137 changed
    "no-final-newline.csv": "8b3bf7e793712e71bb972c15bb898f72eb5cc662c71e0a1341b1ffd50da02f22",  # 500 rows, 7 changed
    "multiline.csv": "1936415e8c3e9ebc3fcda0e4f0dfa7f0b57f3b17783962fa66ba27d232666456",  # 3000 rows, 63 changed
    "virtual-key.csv": "e064ce9cda100b29d0eef659e4178f4b3ca48fd2137d6d36be639c47a56044ef",  # 3000 rows, 62 changed
    "plain.tsv": "5ad0f9f81bf9e28046d7095353c1e8fd6d8750054c4a9601f37a15871ffb80b7",  # 6000 rows, 137 changed
    "quoted.tsv": "d5a504de97ff5cb6c6d7c39ce304f8eeef78c46ea05bf73f04a9c8bda77e0dfc",  # 3000 rows, 57 changed
    "gb18030.csv": "7d31e4c98704dfc240b6a74fac1376f4cd8fba8594e18f858839b610b41763fc",  # 2000 rows, 43 changed
    "rows.jsonl": "ac0edfff10dfaadd3e206ec05d385b1a5d39d967bfc360eec01eb91a877c4e9c",  # 3000 rows, 57 changed
    "rows.parquet": "d57a06e739c7373df4c2fde6fa5ea074c2b351e313c4d395f06a2db0020f81ea",  # 6000 rows, 137 changed
}

# Scheme /2 (SipHash-2-4): the row-by-row reference of this commit wrote these; every path must.
GOLDEN_SHA256_V2: dict[str, str] = {
    "gb18030.csv": "bbf39aef5830a176eb6a1d27ea4c3c830b656584e90230355c4bf51aff943cda",  # 2000 rows, 55 changed
    "multiline.csv": "c031d196514e6e67fdb29618d3d59765d4f389431d3a5ed493940e76eb1db9cc",  # 3000 rows, 83 changed
    "no-final-newline.csv": "51e5a7f0b44310073db247e6a5df911de0278c61b94015f14fce0bd6cfc48c2c",  # 500 rows, 11 changed
    "plain-crlf-bom.csv": "676feb453eada9f62dd497e285e95f3314a38bee65b403467a8a2dcfea228712",  # 6000 rows, 158 changed
    "plain.csv": "d3080c62e8450f60b88ece5e0e0cd952152e6c0e89722771b0c4dcf6b53fbb2b",  # 6000 rows, 158 changed
    "plain.tsv": "c32375f34cdbd5d5606cb72e5b3b6e5123ba25bef4d7cdd1cc38a02a003eb7a6",  # 6000 rows, 158 changed
    "quoted.csv": "38e3086f60a75f0cb40b8f2b919e3b1c5d0a5cc01e64ee11c95aa9001631891c",  # 3000 rows, 90 changed
    "quoted.tsv": "ec1150d47f2efb82cadf789358a8c89c057a55d0267c0284df16b88abd6e3537",  # 3000 rows, 90 changed
    "rows.jsonl": "2556db9a32e055f919a2af62ee815a571464c67c08f221c42ed00d39c192b0f1",  # 3000 rows, 90 changed
    "rows.parquet": "f91f460023e06b7538bef3299934662bd7f1589f71f73eef8df1fc217880bd8b",  # 6000 rows, 158 changed
    "virtual-key.csv": "83ad2bf223a92f175da736f4fc0c86f95868174067a72e6734f8634ccefd1151",  # 3000 rows, 78 changed
}
