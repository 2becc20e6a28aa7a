"""Runs inside var/venv-delta-sharing (the official ``delta-sharing`` client), never in the
exchange's environment. Usage: ``python client_script.py COMMAND PROFILE [TABLE]``; prints
one JSON object on stdout.

- ``load PROFILE share.schema.table``: ``load_as_pandas`` → rows, columns, dtypes, records
- ``tables PROFILE``: ``SharingClient.list_all_tables()`` → the tables
- HTTP refusals → ``{"http_error": status, "body": <the server's JSON body>}``
"""

import json
import sys

import delta_sharing
from requests.exceptions import HTTPError


def main() -> None:
    command, profile = sys.argv[1], sys.argv[2]
    try:
        if command == "load":
            df = delta_sharing.load_as_pandas(f"{profile}#{sys.argv[3]}")
            out = {"rows": len(df), "columns": list(df.columns), "dtypes": {c: str(t) for c, t in df.dtypes.items()},
                   "records": json.loads(df.to_json(orient="records", force_ascii=False))}
        elif command == "tables":
            tables = delta_sharing.SharingClient(profile).list_all_tables()
            out = {"tables": [{"share": t.share, "schema": t.schema, "name": t.name} for t in tables]}
        else:
            raise SystemExit(f"unknown command {command!r}")
    except HTTPError as exc:
        response = exc.response
        try:
            body = response.json()
        except ValueError:
            body = response.text
        out = {"http_error": response.status_code, "body": body}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
