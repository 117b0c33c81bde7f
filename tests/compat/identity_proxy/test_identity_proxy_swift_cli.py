"""The real `swift` command (python-swiftclient) with Keystone v3 against the all-in-one: it
authenticates at identity, takes the object-store URL (AUTH_<project_id> on the proxy) from the
catalog, and uploads, lists and downloads with the Fernet token."""
import os
import subprocess
import sys
import uuid

import pytest
from identity.bootstrap import read_bootstrap

pytestmark = [pytest.mark.compat, pytest.mark.timeout(180)]

SWIFT = os.path.join(os.path.dirname(sys.executable), "swift")


def _swift(aio, user, password, project, *args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    cmd = [SWIFT, "--auth-version", "3", "--os-auth-url", aio["identity"]["auth_url"],
           "--os-username", user, "--os-password", password, "--os-project-name", project,
           "--os-user-domain-name", "Default", "--os-project-domain-name", "Default", *args]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_swift_v3_upload_list_download(aio, tmp_path):
    state = read_bootstrap(aio["data_dir"])
    password, project_id = state["tester_password"], state["accounts"]["tester"]["project_id"]
    done = _swift(aio, "tester", password, "test", "auth")
    assert done.returncode == 0, done.stderr
    proxy = aio["swift"]["auth_url"].rsplit("/auth/", 1)[0]
    assert f"OS_STORAGE_URL={proxy}/v1/AUTH_{project_id}" in done.stdout, done.stdout

    container = f"cli-{uuid.uuid4().hex[:8]}"
    src = tmp_path / "up"
    src.mkdir()
    payload = os.urandom(70_000)
    (src / "blob.bin").write_bytes(payload)
    done = _swift(aio, "tester", password, "test", "upload", container, "blob.bin", cwd=src)
    assert done.returncode == 0, done.stderr
    done = _swift(aio, "tester", password, "test", "list", container)
    assert done.returncode == 0 and done.stdout.split() == ["blob.bin"], done
    done = _swift(aio, "tester", password, "test", "list")
    assert done.returncode == 0 and container in done.stdout.split(), done
    out = tmp_path / "down"
    out.mkdir()
    done = _swift(aio, "tester", password, "test", "download", container, "blob.bin", cwd=out)
    assert done.returncode == 0, done.stderr
    assert (out / "blob.bin").read_bytes() == payload

    # Project "alt" sees none of it: its own (empty of this container) account, 403 on test's.
    alt = state["alt_password"]
    done = _swift(aio, "alt", alt, "alt", "list")
    assert done.returncode == 0 and container not in done.stdout.split(), done
    done = _swift(aio, "alt", alt, "alt", "--os-storage-url", f"{proxy}/v1/AUTH_{project_id}",
                  "list", container)
    assert done.returncode != 0 and "403" in done.stderr, (done.returncode, done.stderr)
    # A bad token alone (with credentials swiftclient would simply log in again): 401.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    done = subprocess.run([SWIFT, "--os-auth-token", "gAAAAAbogus", "--os-storage-url",
                           f"{proxy}/v1/AUTH_{project_id}", "list", container], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "401" in done.stderr, (done.returncode, done.stderr)
