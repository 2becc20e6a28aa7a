"""The official Croissant tools in their own venv (wrap ``ensure_croissant_tools`` in a fixture),
and helpers to unpack a real delivery and validate it the way a buyer does."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import default_storage

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements-croissant.txt"
VENV = ROOT / "var" / "venv-mlcroissant"
# Creating the venv downloads and installs ~100 MB of wheels (pandas, scipy, pyarrow): minutes
# on a cold machine, once; later runs reuse it while requirements-croissant.txt is unchanged.
INSTALL_TIMEOUT = 900
FRICTIONLESS = Path(sys.executable).parent / "frictionless"

LOAD_SCRIPT = """
import json, sys
import mlcroissant as mlc
ds = mlc.Dataset(jsonld=sys.argv[1])
out = {"records": {}, "rai": {
    "data_collection": ds.metadata.data_collection, "data_biases": ds.metadata.data_biases,
    "annotations_per_item": ds.metadata.annotations_per_item,
    "data_annotation_analysis": ds.metadata.data_annotation_analysis,
    "personal_sensitive_information": ds.metadata.personal_sensitive_information}}
for rs in ds.metadata.record_sets:
    rows = []
    for rec in ds.records(record_set=rs.id):
        rows.append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in rec.items()})
    out["records"][rs.id] = rows
print(json.dumps(out, default=str))
"""


@dataclass(frozen=True)
class CroissantTools:
    python: Path
    mlcroissant: Path

    def validate(self, path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.mlcroissant), "validate", "--jsonld", str(path)],
                              capture_output=True, text=True, timeout=300)

    def load(self, path: Path) -> dict:
        proc = subprocess.run([str(self.python), "-c", LOAD_SCRIPT, str(path)], capture_output=True, text=True,
                              timeout=300, cwd=path.parent)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_croissant_tools() -> CroissantTools:
    """mlcroissant (pinned in requirements-croissant.txt) in var/venv-mlcroissant, created on
    first use and recreated when the pins change; a lock serialises concurrent test runs."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".requirements.sha256"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "venv-mlcroissant.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != digest:
            shutil.rmtree(VENV, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
            proc = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r",
                                   str(REQUIREMENTS)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
            assert proc.returncode == 0, f"installing mlcroissant failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
            stamp.write_text(digest)
    return CroissantTools(python=VENV / "bin" / "python", mlcroissant=VENV / "bin" / "mlcroissant")


def unpack_delivery(delivery, folder: Path) -> Path:
    """The stored package of a ready delivery, saved as a ZIP and extracted under ``folder``."""
    zip_path = folder / "delivery.zip"
    with default_storage.open(delivery.package_name, "rb") as f:
        zip_path.write_bytes(f.read())
    out = folder / "delivery"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(out)
    return out


def frictionless_validate(folder: Path) -> dict:
    proc = subprocess.run([str(FRICTIONLESS), "validate", "--json", "datapackage.json"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    assert (proc.returncode == 0) == report["valid"], proc.stdout[-2000:] + proc.stderr[-2000:]
    return report
