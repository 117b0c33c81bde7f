"""Storage policies through a real proxy and real storage nodes, driven by python-swiftclient:
the container's policy picks the object ring (replica count), the directory on every device and
the account's per-policy totals; the replicator and the auditor look after every policy."""
import os
import time

import pytest
import requests
from swiftclient import ClientException

pytestmark = pytest.mark.timeout(120)


def wait_for(check, timeout=20.0, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def test_info_lists_every_policy(cluster):
    info = requests.get(f"http://127.0.0.1:{cluster.proxy_port}/info").json()
    assert info["swift"]["policies"] == [
        {"name": "gold", "aliases": "gold, Policy-0", "default": True},
        {"name": "silver", "aliases": "silver"}]


def test_container_policy_is_chosen_once(conn):
    conn.put_container("pol-a", headers={"X-Storage-Policy": "SILVER"})  # case-insensitive
    assert conn.head_container("pol-a")["x-storage-policy"] == "silver"
    conn.put_container("pol-a")                                           # 202, keeps silver
    assert conn.head_container("pol-a")["x-storage-policy"] == "silver"
    with pytest.raises(ClientException) as err:
        conn.put_container("pol-a", headers={"X-Storage-Policy": "gold"})
    assert err.value.http_status == 409
    conn.post_container("pol-a", headers={"X-Storage-Policy": "gold"})   # a no-op, as Swift's
    headers, _listing = conn.get_container("pol-a")
    assert headers["x-storage-policy"] == "silver"
    with pytest.raises(ClientException) as err:
        conn.put_container("pol-b", headers={"X-Storage-Policy": "bronze"})
    assert err.value.http_status == 400
    conn.put_container("pol-b", headers={"X-Storage-Policy": "policy-0"})  # an alias
    assert conn.head_container("pol-b")["x-storage-policy"] == "gold"
    conn.put_container("pol-c", headers={"X-Storage-Policy": ""})         # empty: the default
    assert conn.head_container("pol-c")["x-storage-policy"] == "gold"


def test_objects_live_in_their_policys_ring_and_directory(cluster, conn):
    conn.put_container("pol-silver", headers={"X-Storage-Policy": "silver"})
    conn.put_container("pol-gold")
    conn.put_object("pol-silver", "o", b"silver body")
    conn.put_object("pol-gold", "o", b"gold body")
    assert conn.get_object("pol-silver", "o")[1] == b"silver body"
    assert conn.get_object("pol-gold", "o")[1] == b"gold body"
    silver = [p for p in cluster.files("objects-1") if open(p, "rb").read(11) == b"silver body"]
    gold = [p for p in cluster.files("objects") if open(p, "rb").read(9) == b"gold body"]
    assert len(silver) == 2 and len(gold) == 3          # each policy's replica count
    assert len({p.split(os.sep)[-6] for p in silver}) == 2  # on two different devices
    assert not [p for p in cluster.files("objects") if open(p, "rb").read(11) == b"silver body"]
    conn.post_object("pol-silver", "o", headers={"X-Object-Meta-Color": "grey"})
    assert conn.head_object("pol-silver", "o")["x-object-meta-color"] == "grey"
    assert len(cluster.files("objects-1", ".meta")) == 2
    conn.delete_object("pol-silver", "o")
    with pytest.raises(ClientException) as err:
        conn.get_object("pol-silver", "o")
    assert err.value.http_status == 404
    assert len(cluster.files("objects-1", ".ts")) == 2


def test_account_reports_totals_per_policy(conn):
    conn.put_container("acct-silver", headers={"X-Storage-Policy": "silver"})
    conn.put_object("acct-silver", "a", b"12345")
    conn.put_object("acct-silver", "b", b"678")

    def silver_counted():
        headers = conn.head_account()
        return headers if headers.get("x-account-storage-policy-silver-object-count") == "2" \
            else None
    headers = wait_for(silver_counted)
    assert headers, conn.head_account()
    assert headers["x-account-storage-policy-silver-bytes-used"] == "8"
    assert int(headers["x-account-storage-policy-silver-container-count"]) >= 1
    assert int(headers["x-account-storage-policy-gold-container-count"]) >= 1


def test_account_listing_names_each_containers_policy(conn):
    conn.put_container("list-silver", headers={"X-Storage-Policy": "silver"})
    conn.put_container("list-gold")

    def listed():
        _, rows = conn.get_account(prefix="list-")
        policies = {row["name"]: row.get("storage_policy") for row in rows}
        return policies if len(policies) == 2 else None
    assert wait_for(listed) == {"list-gold": "gold", "list-silver": "silver"}
    url, token = conn.get_auth()
    xml = requests.get(url, params={"format": "xml", "prefix": "list-s"},
                       headers={"X-Auth-Token": token}, timeout=10).text
    assert "<name>list-silver</name>" in xml and "<storage_policy>silver</storage_policy>" in xml


def test_replicator_and_auditor_look_after_every_policy(cluster, conn):
    conn.put_container("heal-silver", headers={"X-Storage-Policy": "silver"})
    body = b"heal me " * 100
    conn.put_object("heal-silver", "h", body)
    copies = [p for p in cluster.files("objects-1") if open(p, "rb").read(8) == b"heal me "]
    assert len(copies) == 2
    # a lost copy comes back from the other replica (replicator, object-1 ring, objects-1/).
    # Lost outside the server, after its partition's digests were cached (a few passes on): only
    # the replicator's rotating relist (replicator.RELIST_EVERY) can notice it.
    time.sleep(2.0)
    os.unlink(copies[0])
    assert wait_for(lambda: os.path.exists(copies[0]), timeout=30), "silver copy not restored"
    # a rotten copy is quarantined by the auditor, then restored by the replicator
    with open(copies[1], "r+b") as f:
        f.write(b"HEAL ME ")
    assert wait_for(lambda: os.path.exists(copies[1]) and
                    open(copies[1], "rb").read(8) == b"heal me ", timeout=40), \
        "rotten silver copy not replaced"
    device_dir = copies[1].split(os.sep + "objects-1" + os.sep)[0]
    assert os.listdir(os.path.join(device_dir, "quarantined", "objects-1"))  # kept apart too
    assert conn.get_object("heal-silver", "h")[1] == body
