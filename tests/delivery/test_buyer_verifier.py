"""The buyer's verifier: one Python file the exchange serves at /verify/shujiao_verify.py, joined
from the exchange's own verifier modules (workers/delivery/verify/bundle.py), run by a buyer with
nothing but Python and ``cryptography``: the Debian system interpreter in isolated mode, outside
the project, with no Django importable.

The end-to-end test downloads a delivery built by a real Celery worker from a real gunicorn, runs
the served script on it (exit 0), then on the package with one byte flipped (exit 1, naming the file).
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from exchange.actor import Actor
from exchange.models import Delivery
from exchange.services.orgs import api_key_create
from exchange.web.delivery import package_filename
from tests.conftest import wait_until
from tests.factories import csv_bytes
from workers.delivery.verify import bundle as bundle_mod

SYSTEM_PYTHON = "/usr/bin/python3"
VERIFY_DIR = Path(bundle_mod.__file__).parent


def owner(org):
    return org.memberships.select_related("user").first().user


def run_script(script: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    """The served script under the system python3, isolated (-I: no PYTHONPATH, no user site, the
    script's folder, not the project, on sys.path), with an environment holding only PATH."""
    return subprocess.run([SYSTEM_PYTHON, "-I", str(script), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def bare_python():
    """The system interpreter has cryptography and nothing of the project (no Django)."""
    probe = subprocess.run([SYSTEM_PYTHON, "-I", "-c", "import cryptography; print(cryptography.__version__)"],
                           capture_output=True, text=True, cwd="/", env={"PATH": "/usr/bin:/bin"})
    if probe.returncode != 0:
        pytest.fail(f"{SYSTEM_PYTHON} lacks cryptography (apt-get install python3-cryptography): {probe.stderr}")
    django = subprocess.run([SYSTEM_PYTHON, "-I", "-c", "import django"], capture_output=True, text=True, cwd="/",
                            env={"PATH": "/usr/bin:/bin"})
    assert django.returncode != 0 and "No module named 'django'" in django.stderr
    return SYSTEM_PYTHON


# --- The served file is the verifier's modules, joined ----------------------------------
@pytest.mark.django_db
def test_the_served_script_is_the_bundle_of_the_verifier_modules(client):
    response = client.get("/verify/shujiao_verify.py")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    served = response.content
    # The same bytes as joining the module files on disk now (not a stored copy).
    assert served == bundle_mod.build_source(VERIFY_DIR) == bundle_mod.bundle().source
    digest = hashlib.sha256(served).hexdigest()
    assert response["ETag"] == f'"{digest}"'
    assert client.get("/verify/shujiao_verify.py.sha256").content.decode() == f"{digest}  shujiao_verify.py\n"
    # Every module's code is in it, in order, and nothing else but the import lines dropped.
    text = served.decode()
    position = 0
    for name in bundle_mod.MODULES:
        source = (VERIFY_DIR / f"{name}.py").read_text()
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__"):
                continue
            chunk = ast.get_source_segment(source, node)
            found = text.find(chunk, position)
            assert found >= 0, f"{name}.py: {chunk[:80]!r} is not in the served script (in order)"
            position = found + len(chunk)
    # It imports only the standard library and cryptography.
    roots = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import left in the served script"
            roots.add((node.module or "").split(".")[0])
    assert roots - set(sys.stdlib_module_names) - {"__future__"} == {"cryptography"}


def test_the_served_script_names_itself_in_usage_and_errors(bare_python, tmp_path):
    """``--help`` and usage errors name the file the buyer runs, not an internal command name."""
    script = tmp_path / bundle_mod.FILENAME
    script.write_bytes(bundle_mod.bundle().source)
    helped = run_script(script, "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: shujiao_verify.py [-h] [--keys URL_OR_FILE]"), helped.stdout
    missing = run_script(script, "absent.zip", "--keys", "keys.json", cwd=tmp_path)
    assert (missing.returncode, missing.stderr.strip()) == (2, "shujiao_verify.py: error: no such file: absent.zip")
    renamed = tmp_path / "verify-copy.py"  # a copy saved under another name says that name
    renamed.write_bytes(script.read_bytes())
    assert run_script(renamed, "--help", cwd=tmp_path).stdout.startswith("usage: verify-copy.py ")


def test_the_module_and_the_management_command_name_themselves():
    module = subprocess.run([sys.executable, "-m", "workers.delivery", "--help"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert module.returncode == 0 and module.stdout.startswith("usage: python -m workers.delivery "), module.stdout
    command = subprocess.run([sys.executable, "manage.py", "verify_delivery", "--help"], capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert command.returncode == 0 and command.stdout.startswith("usage: manage.py verify_delivery "), command.stdout


def test_the_docs_state_the_served_scripts_sha256():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "delivery.md").read_text()
    assert f"`{bundle_mod.bundle().sha256}`" in docs, "docs/delivery.md states an old SHA-256 of shujiao_verify.py"


def test_the_bundler_refuses_modules_it_could_not_join_safely(tmp_path):
    for name in bundle_mod.MODULES:
        (tmp_path / f"{name}.py").write_text((VERIFY_DIR / f"{name}.py").read_text())
    checks = (tmp_path / "checks.py").read_text()
    (tmp_path / "checks.py").write_text(checks + "\n\ndef unsafe_name_reason(name):\n    return None\n")
    with pytest.raises(bundle_mod.BundleError, match="unsafe_name_reason is defined in both archive.py and checks.py"):
        bundle_mod.build_source(tmp_path)
    (tmp_path / "checks.py").write_text(checks.replace("import io\n", "import io\nfrom workers.delivery import keys\n"))
    with pytest.raises(bundle_mod.BundleError, match="checks.py imports workers"):
        bundle_mod.build_source(tmp_path)
    (tmp_path / "checks.py").write_text(checks)
    spec = (tmp_path / "spec.py").read_text()
    (tmp_path / "spec.py").write_text(spec.replace("import base64\n", "import base64\nfrom .checks import Check\n"))
    with pytest.raises(bundle_mod.BundleError, match="spec.py: 'from .checks import' must name a module listed before"):
        bundle_mod.build_source(tmp_path)


@pytest.mark.django_db
def test_the_delivery_page_ends_with_the_served_script_and_its_sha256(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    digest = bundle_mod.bundle().sha256
    commands = page.split('id="verify-commands" data-copy>')[1].split("</pre>")[0].strip().splitlines()
    assert commands[-3:] == [
        "curl -o shujiao_verify.py http://testserver/verify/shujiao_verify.py",
        f"echo &#x27;{digest}  shujiao_verify.py&#x27; | sha256sum -c",
        f"python3 shujiao_verify.py {package_filename(delivery)} "
        "--keys http://testserver/.well-known/shujiao/keys.json",
    ]
    assert "manage.py" not in page
    assert f'<code class="small hash" id="verifier-sha256">{digest}</code>' in page


# --- A buyer runs it on a real delivery ----------------------------------------------------


@pytest.mark.services
@pytest.mark.timeout(300)
def test_a_buyer_downloads_a_real_delivery_and_the_served_script_verifies_it(
        paid_contract, celery_worker_process, web_server, bare_python, tmp_path):
    worker = celery_worker_process(queues="delivery")
    server = web_server()
    content = csv_bytes(40)
    contract = paid_contract(content=content)
    delivery = contract.delivery
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status in ("ready", "failed"), timeout=90,
               message=f"the worker to build the delivery; log:\n{worker.output()[-3000:]}")
    delivery.refresh_from_db()
    assert delivery.status == "ready", delivery.error

    buyer = contract.buyer
    _key, secret = api_key_create(actor=Actor(type="user", user=owner(buyer), organization=buyer),
                                  name="verifier test", scopes=["read", "buy"])
    auth = {"Authorization": f"Api-Key {secret}"}

    def get(url: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(url, method=method, headers=auth)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return response.read()

    link = json.loads(get(f"{server.url}/api/v1/deliveries/{delivery.pk}/links/", "POST"))
    package = tmp_path / "buyer" / "package.zip"
    package.parent.mkdir()
    package.write_bytes(get(link["url"]))
    from django.core.files.storage import default_storage

    with default_storage.open(delivery.package_name, "rb") as f:
        assert package.read_bytes() == f.read()  # what the worker stored, as the buyer received it

    script_bytes = get(f"{server.url}/verify/shujiao_verify.py")
    assert script_bytes == bundle_mod.build_source(VERIFY_DIR)
    listed = get(f"{server.url}/verify/shujiao_verify.py.sha256").decode().split()[0]
    assert hashlib.sha256(script_bytes).hexdigest() == listed
    script = package.parent / "shujiao_verify.py"
    script.write_bytes(script_bytes)

    # Keys fetched from the exchange's published URL
    keys_url = f"{server.url}/.well-known/shujiao/keys.json"
    ok = run_script(script, "package.zip", "--keys", keys_url, cwd=package.parent)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1] == "OK: package.zip verified (8 checks passed)"
    assert f"PASS  signature   Ed25519, key {delivery.key_id}" in ok.stdout
    # ... or given as a file
    pem = package.parent / f"exchange-{delivery.key_id}.pem"
    pem.write_bytes(get(f"{server.url}/.well-known/shujiao/keys/{delivery.key_id}.pem"))
    assert run_script(script, "package.zip", "--keys", pem.name, cwd=package.parent).returncode == 0

    # One byte of the data flipped in the downloaded file
    raw = bytearray(package.read_bytes())
    at = raw.index(content) + len(content) // 2
    raw[at] ^= 0x01
    tampered = package.parent / "tampered.zip"
    tampered.write_bytes(bytes(raw))
    bad = run_script(script, "tampered.zip", "--keys", keys_url, cwd=package.parent)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    last = bad.stdout.splitlines()[-1]
    assert last.startswith("FAILED: files: data/reviews.csv: "), last
    assert "FAIL  files" in bad.stdout and "PASS  signature" in bad.stdout


@pytest.mark.django_db
def test_an_age_sealed_package_is_verified_after_the_buyer_decrypts_it(
        make_firm, actor_for, paid_contract, build_now, client, bare_python, tmp_path):
    from tests.delivery.test_fingerprint_age import _register

    buyer = make_firm("买方 Buyer Co")
    identity, _rec = _register(actor_for(buyer), buyer, tmp_path)
    delivery = paid_contract(buyer=buyer).delivery
    build_now(delivery)
    assert delivery.status == "ready" and delivery.encrypted_to, delivery.error
    client.force_login(owner(buyer))
    link = client.post(f"/api/v1/deliveries/{delivery.pk}/links/").json()
    response = client.get(link["url"].removeprefix("http://testserver"))
    sealed = tmp_path / "package.zip.age"
    sealed.write_bytes(b"".join(response.streaming_content))
    (tmp_path / "keys.json").write_bytes(client.get("/.well-known/shujiao/keys.json").content)
    script = tmp_path / "shujiao_verify.py"
    script.write_bytes(client.get("/verify/shujiao_verify.py").content)

    still_sealed = run_script(script, sealed.name, "--keys", "keys.json", cwd=tmp_path)
    assert still_sealed.returncode == 2
    assert still_sealed.stderr.strip() == (
        "shujiao_verify.py: error: package.zip.age is sealed with age: decrypt it first (age -d -i your-age-identity.txt "
        "-o package.zip package.zip.age), then verify package.zip")

    subprocess.run(["age", "-d", "-i", identity, "-o", "package.zip", sealed.name], cwd=tmp_path, check=True)
    opened = run_script(script, "package.zip", "--keys", "keys.json", cwd=tmp_path)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert opened.stdout.splitlines()[-1] == "OK: package.zip verified (8 checks passed)"
