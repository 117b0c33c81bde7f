"""A VM uses a Strato volume as its disk (issue 6 acceptance).

Through the all-in-one: authenticate with identity, create a 1 GiB volume with the volume API,
attach it (os-initialize_connection → iSCSI portal, IQN and CHAP secret), then boot a small Linux
VM under qemu (TCG) with that iSCSI volume as a virtio disk (vmboot.py, after the recipe in
../shared/peers/tgt/vm-attach.sh): the guest writes a nonce-stamped pattern at 0 and 600 MiB and
reads it back with O_DIRECT; the host then reads the same ranges over iSCSI with the attachment's
CHAP credentials and compares. Finally the volume is detached and deleted.
"""
import os
import subprocess
import time

import pytest
import requests

from vmboot import PATTERN_BYTES, PATTERN_OFFSETS_MIB, boot, pattern
CONNECTOR = {"initiator": "iqn.2026-11.org.strato.test:vm", "host": "vmhost", "ip": "127.0.0.1",
             "platform": "x86_64", "os_type": "linux2", "multipath": False}


def token_and_project(identity):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": identity["username"], "domain": {"name": identity["user_domain"]},
            "password": identity["password"]}}},
        "scope": {"project": {"name": identity["project"],
                              "domain": {"name": identity["project_domain"]}}}}}
    resp = requests.post(identity["auth_url"] + "/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"], resp.json()["token"]["project"]["id"]


def wait_status(session, url, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status = session.get(url, timeout=30).json()["volume"]["status"]
        if status == wanted:
            return
        assert time.monotonic() < deadline, f"volume stuck in {status}"
        time.sleep(0.2)


@pytest.mark.timeout(600)
def test_vm_writes_to_an_attached_volume(aio):
    for section in ("identity", "volume"):
        assert section in aio, f"the all-in-one has no {section} service"
    token, project = token_and_project(aio["identity"])
    session = requests.Session()
    session.headers.update({"X-Auth-Token": token, "Content-Type": "application/json"})
    base = f"{aio['volume']['endpoint']}/{project}"
    resp = session.post(f"{base}/volumes", json={"volume": {"size": 1, "name": "vm-disk"}}, timeout=30)
    assert resp.status_code == 202, resp.text
    volume = resp.json()["volume"]
    url = f"{base}/volumes/{volume['id']}"
    wait_status(session, url, "available")
    resp = session.post(url + "/action", json={"os-initialize_connection": {"connector": CONNECTOR}},
                        timeout=30)
    assert resp.status_code == 200, resp.text
    data = resp.json()["connection_info"]["data"]
    iscsi_url = (f"iscsi://{data['auth_username']}%{data['auth_password']}@{data['target_portal']}/"
                 f"{data['target_iqn']}/{data['target_lun']}")
    work = os.environ.get("STRATO_VM_DIR", "/tmp/strato-vm")
    os.makedirs(work, exist_ok=True)
    nonce, console = boot(work, f"file={iscsi_url},format=raw,if=virtio")
    assert f"STRATO-VM-OK nonce={nonce}" in console, console[-3000:]

    # The host reads the same bytes over iSCSI with the attachment's CHAP credentials.
    host, port = data["target_portal"].rsplit(":", 1)
    expected = pattern(nonce)
    for offset in PATTERN_OFFSETS_MIB:
        out = os.path.join(work, "readback.img")
        if os.path.exists(out):
            os.unlink(out)
        opts = (f"driver=raw,offset={offset << 20},size={PATTERN_BYTES},file.driver=iscsi,"
                f"file.transport=tcp,file.portal={host}:{port},file.target={data['target_iqn']},"
                f"file.lun={data['target_lun']},file.user={data['auth_username']},"
                f"file.password-secret=chap")
        done = subprocess.run(["qemu-img", "convert", "-O", "raw", "--object",
                               f"secret,id=chap,data={data['auth_password']}", "--image-opts",
                               opts, out], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        with open(out, "rb") as f:
            assert f.read() == expected, f"host read-back differs at {offset} MiB"

    resp = session.post(url + "/action", json={"os-terminate_connection": {"connector": CONNECTOR}},
                        timeout=30)
    assert resp.status_code == 202, resp.text
    wait_status(session, url, "available")
    assert session.delete(url, timeout=30).status_code == 202
