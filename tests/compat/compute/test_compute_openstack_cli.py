"""The real `openstack` command's flavor, server and server-volume commands against the
all-in-one: flavors by name, a server booted from a volume on a Neutron network, a data volume
attached and detached (seen from the volume side too), delete --wait, and project isolation."""
import time
import uuid

import pytest

pytestmark = [pytest.mark.compat, pytest.mark.timeout(300)]


def _wait_volume(nova_cli, who, name, status, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        vol = nova_cli(who, "volume", "show", name).data
        if vol["status"] == status or time.monotonic() > deadline:
            assert vol["status"] == status, vol
            return vol
        time.sleep(0.3)


def test_flavor_list_and_show(nova_cli):
    flavors = {f["Name"]: f for f in nova_cli("tester", "flavor", "list").data}
    assert (flavors["m1.tiny"]["VCPUs"], flavors["m1.tiny"]["RAM"],
            flavors["m1.tiny"]["Disk"]) == (1, 512, 1)
    assert "m1.small" in flavors
    tiny = nova_cli("tester", "flavor", "show", "m1.tiny").data  # a name: 404, then detail
    assert (tiny["id"], tiny["name"], tiny["ram"]) == (flavors["m1.tiny"]["ID"], "m1.tiny", 512)
    missing = nova_cli("tester", "flavor", "show", "m9.nope", ok=False, as_json=False)
    assert missing.returncode != 0 and "m9.nope" in missing.stderr


def test_server_with_volumes_end_to_end(nova_cli):
    tag = uuid.uuid4().hex[:6]
    v1, v2, n1, vm1 = f"v1-{tag}", f"v2-{tag}", f"n1-{tag}", f"vm1-{tag}"
    cli = nova_cli
    cli("tester", "volume", "create", "--size", "1", v1)
    cli("tester", "volume", "create", "--size", "1", v2)
    net = cli("tester", "network", "create", n1).data
    cli("tester", "subnet", "create", "--network", n1, "--subnet-range", "10.77.0.0/24",
        f"s1-{tag}")
    boot = _wait_volume(cli, "tester", v1, "available")
    _wait_volume(cli, "tester", v2, "available")

    created = cli("tester", "server", "create", "--flavor", "m1.tiny", "--volume", v1,
                  "--network", n1, "--wait", vm1).data
    assert created["status"] == "ACTIVE" and created["name"] == vm1
    assert created["flavor"].startswith("m1.tiny")
    listed = {s["Name"]: s for s in cli("tester", "server", "list").data}
    assert listed[vm1]["Status"] == "ACTIVE"
    addr = listed[vm1]["Networks"][n1][0]
    assert addr.startswith("10.77.0.")
    shown = cli("tester", "server", "show", vm1).data
    assert shown["id"] == created["id"] and shown["addresses"] == {n1: [addr]}
    assert shown["image"] == "N/A (booted from volume)"
    assert [v["id"] for v in shown["volumes_attached"]] == [boot["id"]]
    # Another project (admin's own, by name) does not find it; admin by id and
    # --all-projects does.
    assert cli("admin", "server", "show", vm1, ok=False, as_json=False).returncode != 0
    assert cli("admin", "server", "show", created["id"]).data["name"] == vm1
    assert created["id"] in [s["ID"] for s in cli("admin", "server", "list",
                                                  "--all-projects").data]
    # The port behind the address is the network service's own.
    ports = cli("tester", "port", "list", "--network", net["id"]).data
    assert [p["Fixed IP Addresses"][0]["ip_address"] for p in ports] == [addr]

    cli("tester", "server", "add", "volume", vm1, v2)
    attachments = {a["Volume ID"]: a for a in cli("tester", "server", "volume", "list", vm1).data}
    second = _wait_volume(cli, "tester", v2, "in-use")
    assert attachments[second["id"]]["Device"] == "/dev/vdb"
    assert attachments[boot["id"]]["Device"] == "/dev/vda"
    assert [a["server_id"] for a in second["attachments"]] == [created["id"]]
    # volume list asks compute for the server names (GET /servers/detail) to print this.
    table = cli("tester", "volume", "list", as_json=False).stdout
    row = next(line for line in table.splitlines() if f" {v2} " in line)
    assert f"Attached to {vm1}" in row
    # Attaching it again is refused, as Nova refuses it.
    again = cli("tester", "server", "add", "volume", vm1, v2, ok=False, as_json=False)
    assert again.returncode != 0 and "400" in again.stderr

    cli("tester", "server", "remove", "volume", vm1, v2, as_json=False)
    assert _wait_volume(cli, "tester", v2, "available")["attachments"] == []
    assert len(cli("tester", "server", "volume", "list", vm1).data) == 1

    cli("tester", "server", "delete", "--wait", vm1, as_json=False)
    gone = cli("tester", "server", "show", vm1, ok=False, as_json=False)
    assert gone.returncode != 0 and "No Server found" in gone.stderr
    assert _wait_volume(cli, "tester", v1, "available")["attachments"] == []
    assert cli("tester", "port", "list", "--network", net["id"]).data == []
    cli("tester", "volume", "delete", v1, v2, as_json=False)
    cli("tester", "network", "delete", n1, as_json=False)
