"""The real `openstack` command's object-store commands (python-openstackclient) against the
all-in-one: Keystone v3 password login at identity, the object-store endpoint from the catalog,
then containers, objects, metadata and the account through the proxy's Swift API."""
import hashlib
import os
import uuid

import pytest
from identity.bootstrap import read_bootstrap

pytestmark = [pytest.mark.compat, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def openstack(osc, aio):
    """The `openstack` command as the test project's member, tester (tests/compat/conftest.py)."""
    def run(*args, **kwargs):
        return osc("tester", *args, **kwargs)
    run.project_id = read_bootstrap(aio["data_dir"])["accounts"]["tester"]["project_id"]
    return run


def test_containers_objects_and_metadata(openstack, tmp_path):
    container = f"osc-{uuid.uuid4().hex[:8]}"
    made = openstack("container", "create", container).data
    assert made[0]["container"] == container
    assert made[0]["account"] == f"AUTH_{openstack.project_id}"  # the catalog's account

    payload = os.urandom(50_000)
    (tmp_path / "local.bin").write_bytes(payload)
    created = openstack("object", "create", container, "local.bin", "--name", "dir/a b.bin",
                        cwd=tmp_path).data
    assert created[0]["object"] == "dir/a b.bin"
    assert created[0]["etag"] == hashlib.md5(payload).hexdigest()

    listed = openstack("object", "list", container, "--long").data
    assert [(o["Name"], o["Bytes"], o["Hash"]) for o in listed] == \
        [("dir/a b.bin", len(payload), hashlib.md5(payload).hexdigest())]
    assert openstack("object", "list", container, "--prefix", "nope/").data == []

    openstack("object", "set", "--property", "color=blue", container, "dir/a b.bin",
              as_json=False)
    shown = openstack("object", "show", container, "dir/a b.bin").data
    assert shown["content-length"] == str(len(payload))
    assert shown["properties"] == {"Color": "blue"}
    openstack("object", "unset", "--property", "color", container, "dir/a b.bin",
              as_json=False)
    assert "properties" not in openstack("object", "show", container, "dir/a b.bin").data

    openstack("container", "set", "--property", "team=storage", container, as_json=False)
    info = openstack("container", "show", container).data
    assert (info["object_count"], info["bytes_used"]) == ("1", str(len(payload)))
    assert info["properties"] == {"Team": "storage"}

    account = openstack("object", "store", "account", "show").data
    assert int(account["Containers"]) >= 1 and int(account["Objects"]) >= 1

    saved = tmp_path / "saved.bin"
    openstack("object", "save", container, "dir/a b.bin", "--file", str(saved), as_json=False)
    assert saved.read_bytes() == payload

    # Swift refuses to delete a container that holds objects (409); --recursive empties it first.
    refused = openstack("container", "delete", container, ok=False, as_json=False)
    assert refused.returncode != 0 and "409" in refused.stderr, refused.stderr
    openstack("container", "delete", "--recursive", container, as_json=False)
    assert container not in {c["Name"] for c in openstack("container", "list").data}
