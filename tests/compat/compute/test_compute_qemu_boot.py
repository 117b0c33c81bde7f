"""The qemu driver for real: a server boots under qemu (TCG) from its iSCSI boot volume, a second
volume is hot-plugged and unplugged over QMP, and the guest itself reports each change on its
serial console (compute/drivers/guest.py); a second server booted from the same volume reads
the stamp the first guest wrote to it. The cloud here is its own (compute with
driver = "qemu"), not the session all-in-one, which runs the fake driver."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "integration", "compute"))
from computecloud import running_cloud  # noqa: E402

from compute.drivers.guest import last_disks  # noqa: E402

pytestmark = [pytest.mark.compat, pytest.mark.slow, pytest.mark.timeout(900)]
GUEST_DIR = os.environ.get("STRATO_COMPUTE_GUEST_DIR", "/tmp/strato-compute-guest")
GIB_SECTORS = 2 * 1024 * 1024


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _qemu_pids(server_id):
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f"strato.server={server_id}".encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    overrides = {"driver": "qemu", "qemu_guest_dir": GUEST_DIR, "qemu_boot_timeout": 400.0}
    with running_cloud(tmp_path_factory.mktemp("compute-qemu"), overrides) as cloud:
        yield cloud


def test_server_boots_from_its_volume_and_hot_plugs_another(qemu_cloud):
    cloud = qemu_cloud
    net = cloud.network(cidr="10.90.0.0/24", name="qemu-net")
    boot = cloud.volume(name="qemu-boot", size=1)
    server = cloud.server(name="qemu-vm", net=net, boot=boot["id"])
    server_id = server["id"]
    console_path = os.path.join(cloud.ident.data_dir, "compute", "instances", server_id,
                                "console.log")

    def console():
        try:
            with open(console_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def status():
        got = cloud.nova("GET", f"/servers/{server_id}").json()["server"]
        return got if got["status"] != "BUILD" else None

    shown = _wait(status, 450, "the server to leave BUILD")
    assert shown["status"] == "ACTIVE", (shown.get("fault"), console()[-2000:])
    assert f"STRATO-BOOTED server={server_id}" in console()
    assert "STRATO-PREVIOUS []" in console()  # a new volume is all zeros
    assert last_disks(console()) == {"vda": GIB_SECTORS}
    assert len(_qemu_pids(server_id)) == 1

    data = cloud.volume(name="qemu-data", size=2)
    attached = cloud.nova("POST", f"/servers/{server_id}/os-volume_attachments",
                          json={"volumeAttachment": {"volumeId": data["id"], "device": None}})
    assert attached.status_code == 200, attached.text
    # The guest saw a second virtio disk of the new volume's size (2 GiB) arrive over iSCSI.
    assert last_disks(console()) == {"vda": GIB_SECTORS, "vdb": 2 * GIB_SECTORS}
    assert cloud.wait_volume(data["id"], "in-use")["attachments"][0]["server_id"] == server_id

    detached = cloud.nova("DELETE", f"/servers/{server_id}/os-volume_attachments/{data['id']}")
    assert detached.status_code == 202, detached.text
    assert last_disks(console()) == {"vda": GIB_SECTORS}
    assert cloud.wait_volume(data["id"], "available")["attachments"] == []

    # VMs live as long as compute: after a restart the server is SHUTOFF (power-state sync),
    # its qemu is gone, and a delete still frees its port and boot volume.
    cloud.procs["compute"].restart()
    assert _qemu_pids(server_id) == []
    after = cloud.nova("GET", f"/servers/{server_id}").json()["server"]
    assert (after["status"], after["OS-EXT-STS:power_state"]) == ("SHUTOFF", 4)
    assert cloud.nova("DELETE", f"/servers/{server_id}").status_code == 204
    assert cloud.neutron("GET", "/ports", params={"device_id": server_id}).json() == \
        {"ports": []}
    assert cloud.wait_volume(boot["id"], "available")["attachments"] == []

    # A second server on the same boot volume reads what the first guest wrote through iSCSI.
    second = cloud.server(name="qemu-vm2", boot=boot["id"])
    second_console = os.path.join(cloud.ident.data_dir, "compute", "instances", second["id"],
                                  "console.log")

    def second_booted():
        got = cloud.nova("GET", f"/servers/{second['id']}").json()["server"]
        return got if got["status"] != "BUILD" else None
    assert _wait(second_booted, 450, "the second server")["status"] == "ACTIVE"
    with open(second_console, errors="replace") as f:
        assert f"STRATO-PREVIOUS [strato-guest={server_id}]" in f.read()
    assert cloud.nova("DELETE", f"/servers/{second['id']}").status_code == 204
