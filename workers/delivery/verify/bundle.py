"""Join the verifier's modules into the one file a buyer downloads (``shujiao_verify.py``).

The served script is not a second copy of the rules: it is :data:`MODULES` read from this
package, in order, with the lines that import one module from another removed (the names
they import are defined earlier in the same file). The modules keep to what makes this
safe, and :func:`build` refuses anything else:

* imports between them are ``from .module import name, ...`` of modules earlier in
  :data:`MODULES`, nothing else is imported from the project;
* no two modules define the same top-level name.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("spec", "archive", "manifest", "checks", "cli")
FILENAME = "shujiao_verify.py"
# Third-party imports the script may use; the rest must be the standard library.
ALLOWED_THIRD_PARTY = ("cryptography",)

HEADER = '''#!/usr/bin/env python3
"""Shujiao (数交) delivery verifier: check a signed delivery package on your own machine.

    python3 shujiao_verify.py PACKAGE.zip --keys https://EXCHANGE/.well-known/shujiao/keys.json
    python3 shujiao_verify.py PACKAGE.zip --keys exchange-KEYID.pem

Needs Python 3.11+ and the ``cryptography`` package (pip install cryptography), nothing
else. Checks the Ed25519 signature of manifest.json with the exchange's public key, every
file's size and SHA-256, that no file is missing or extra, SHA256SUMS, the licence hash
and the expiry. Exit status: 0 verified, 1 a check failed (the first failing check and
file are named), 2 usage error. An age-sealed package is verified after decrypting it
(age -d -i your-age-identity.txt -o PACKAGE.zip PACKAGE.zip.age).

Generated from the exchange's own verifier ({sources}); the exchange
publishes this file's SHA-256 on every delivery page so you can check your copy.
"""

from __future__ import annotations
'''

FOOTER = '''

if __name__ == "__main__":
    import sys as _sys

    _sys.exit(main())
'''


class BundleError(Exception):
    pass


@dataclass(frozen=True)
class Bundle:
    source: bytes
    sha256: str
    filename: str = FILENAME


def _strip(name: str, text: str, earlier: set[str], defined: dict[str, str]) -> str:
    tree = ast.parse(text, filename=f"{name}.py")
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                drop.update(range(node.lineno, node.end_lineno + 1))
                continue
            if node.level:
                if node.level != 1 or node.module not in earlier:
                    raise BundleError(f"{name}.py: 'from {'.' * node.level}{node.module or ''} import' "
                                      f"must name a module listed before it in MODULES")
                drop.update(range(node.lineno, node.end_lineno + 1))
                continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            roots = ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
            for root in (r.split(".")[0] for r in roots):
                if root in ("workers", "exchange", "marketplace", "django"):
                    raise BundleError(f"{name}.py imports {root}: the buyer's script has no project code")
        for target in _top_level_names(node):
            if target in defined and defined[target] != name:
                raise BundleError(f"{target} is defined in both {defined[target]}.py and {name}.py")
            defined[target] = name
    lines = text.splitlines(keepends=True)
    return "".join(line for i, line in enumerate(lines, 1) if i not in drop)


def _top_level_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def build_source(folder: Path = HERE) -> bytes:
    """The script's bytes, built from the modules in ``folder``."""
    earlier: set[str] = set()
    defined: dict[str, str] = {}
    parts = [HEADER.format(sources=", ".join(f"workers/delivery/verify/{m}.py" for m in MODULES))]
    for name in MODULES:
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        parts.append(f"\n\n# {'-' * 20} workers/delivery/verify/{name}.py {'-' * 20}\n")
        parts.append(_strip(name, text, earlier, defined))
        earlier.add(name)
    parts.append(FOOTER)
    source = "".join(parts)
    compile(source, FILENAME, "exec")
    return source.encode("utf-8")


@lru_cache(maxsize=1)
def bundle() -> Bundle:
    """The script as served (built once per process from the installed modules)."""
    source = build_source()
    return Bundle(source=source, sha256=hashlib.sha256(source).hexdigest())
