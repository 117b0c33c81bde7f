"""The real `openstack` command (python-openstackclient -> openstacksdk) against Strato's volume API:
the acceptance list `volume create/list/show/set --size/delete` and
`volume snapshot create/list/delete`. Each CLI run costs a second or more of start-up, so waiting
for asynchronous states polls the API directly."""
import json
import time

import pytest
import requests

pytestmark = [pytest.mark.compat, pytest.mark.timeout(180)]


def wait_for(volume_endpoint, coll, item_id, check):
    url, project = volume_endpoint
    deadline = time.monotonic() + 30
    while True:
        r = requests.get(f"{url}/v3/{project}/{coll}/{item_id}", timeout=5)
        if check(r):
            return r
        assert time.monotonic() < deadline, f"{coll}/{item_id}: {r.status_code} {r.text}"
        time.sleep(0.05)


def status_is(status):
    return lambda r: r.status_code == 200 and next(iter(r.json().values()))["status"] == status


def gone(r):
    return r.status_code == 404


def test_volume_life_cycle_with_the_openstack_cli(openstack, volume_endpoint):
    created = json.loads(openstack("volume", "create", "--size", "1", "--property", "tier=gold",
                                   "cli-v1", "-f", "json").stdout)
    assert created["name"] == "cli-v1" and created["size"] == 1
    vid = created["id"]
    wait_for(volume_endpoint, "volumes", vid, status_is("available"))

    listed = json.loads(openstack("volume", "list", "-f", "json").stdout)
    row = next(r for r in listed if r["ID"] == vid)
    assert (row["Name"], row["Status"], row["Size"], row["Attached to"]) == \
        ("cli-v1", "available", 1, [])

    openstack("volume", "set", "--size", "2", "cli-v1")
    wait_for(volume_endpoint, "volumes", vid,
             lambda r: r.json()["volume"]["size"] == 2 and r.json()["volume"]["status"] == "available")
    shown = json.loads(openstack("volume", "show", "cli-v1", "-f", "json").stdout)
    assert (shown["id"], shown["size"], shown["status"], shown["properties"]) == \
        (vid, 2, "available", {"tier": "gold"})

    snap = json.loads(openstack("volume", "snapshot", "create", "--volume", "cli-v1", "cli-s1",
                                "-f", "json").stdout)
    assert snap["volume_id"] == vid
    wait_for(volume_endpoint, "snapshots", snap["id"], status_is("available"))
    snaps = json.loads(openstack("volume", "snapshot", "list", "-f", "json").stdout)
    assert [(s["Name"], s["Status"], s["Size"]) for s in snaps] == [("cli-s1", "available", 2)]

    # Like Cinder, a volume with snapshots cannot go: the CLI reports the 400.
    refused = openstack("volume", "delete", "cli-v1", check=False)
    assert refused.returncode != 0 and "dependent snapshots" in refused.stderr

    openstack("volume", "snapshot", "delete", "cli-s1")
    wait_for(volume_endpoint, "snapshots", snap["id"], gone)
    openstack("volume", "delete", "cli-v1")
    wait_for(volume_endpoint, "volumes", vid, gone)
    missing = openstack("volume", "show", "cli-v1", check=False)
    assert missing.returncode == 1 and "No Volume found for cli-v1" in missing.stderr
