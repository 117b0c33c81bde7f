"""Real processes on loopback for the compute tests (integration, and the qemu compat test):
identity, network, blockserver and compute (`strato serve <name>` each, one shared config),
tokens of admin, tester (member of test), alt (member of alt) and viewer (reader of test), and a
small client per service."""
import contextlib
import time


import requests
from ports import free_block  # tests/ports.py
from serveprocess import ServeProcess, token  # tests/serveprocess.py

from identity.testing import running_identity

PORT_RANGE = (27100, 27200)  # the compute tests' own range
VIEWER_PASSWORD = "viewer-secret-for-tests"
VOLUME_HEADERS = {"OpenStack-API-Version": "volume 3.44"}


class Cloud:
    """cloud.nova("POST", "/servers", "tester", json=...), cloud.neutron(...), cloud.cinder(...)
    -> requests.Response, each with that caller's token."""

    def __init__(self, ident, procs, ports, tokens):
        self.ident, self.procs, self.ports, self.tokens = ident, procs, ports, tokens
        self.session = requests.Session()

    def project(self, who):
        if who == "admin":
            return self.ident.state["accounts"]["admin"]["project_id"]
        return self.ident.state["accounts"][who]["project_id"]

    def _call(self, method, url, who, **kwargs):
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers.setdefault("X-Auth-Token", self.tokens[who])
        return self.session.request(method, url, headers=headers, timeout=30, **kwargs)

    def nova(self, method, path, who="tester", **kwargs):
        return self._call(method, f"http://127.0.0.1:{self.ports['compute']}/v2.1{path}", who,
                          **kwargs)

    def neutron(self, method, path, who="tester", **kwargs):
        return self._call(method, f"http://127.0.0.1:{self.ports['network']}/v2.0{path}", who,
                          **kwargs)

    def cinder(self, method, path, who="tester", **kwargs):
        kwargs.setdefault("headers", {}).update(VOLUME_HEADERS)
        base = f"http://127.0.0.1:{self.ports['blockserver']}/v3/{self.project(who)}"
        return self._call(method, base + path, who, **kwargs)

    # -- helpers the tests share -----------------------------------------------------------
    def network(self, who="tester", cidr="10.20.0.0/24", name="n1"):
        net = self.neutron("POST", "/networks", who, json={"network": {"name": name}})
        assert net.status_code == 201, net.text
        net = net.json()["network"]
        sub = self.neutron("POST", "/subnets", who, json={"subnet": {
            "network_id": net["id"], "cidr": cidr, "ip_version": 4, "name": f"{name}-s"}})
        assert sub.status_code == 201, sub.text
        return net

    def volume(self, who="tester", name="v", size=1):
        vol = self.cinder("POST", "/volumes", who, json={"volume": {"size": size, "name": name}})
        assert vol.status_code == 202, vol.text
        vol_id = vol.json()["volume"]["id"]
        return self.wait_volume(vol_id, "available", who)

    def wait_volume(self, vol_id, status, who="tester", timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            got = self.cinder("GET", f"/volumes/{vol_id}", who).json()["volume"]
            if got["status"] == status or time.monotonic() > deadline:
                assert got["status"] == status, got
                return got
            time.sleep(0.05)

    def server(self, who="tester", name="vm1", net=None, boot=None, flavor="1"):
        body = {"name": name, "flavorRef": flavor,
                "block_device_mapping_v2": [{"uuid": boot or self.volume(who)["id"],
                                             "boot_index": 0, "source_type": "volume",
                                             "destination_type": "volume"}]}
        if net is not None:
            body["networks"] = [{"uuid": net["id"]}]
        answer = self.nova("POST", "/servers", who, json={"server": body})
        assert answer.status_code == 202, answer.text
        return self.nova("GET", f"/servers/{answer.json()['server']['id']}",
                         who).json()["server"]


@contextlib.contextmanager
def running_cloud(data, compute_overrides=None):
    names = ("identity", "network", "blockserver", "iscsi", "compute")
    base = free_block(*PORT_RANGE, count=len(names))
    ports = dict(zip(names, range(base, base + len(names))))
    overrides = {name: {"port": port} for name, port in ports.items() if name != "identity"}
    overrides["compute"].update(compute_overrides or {})
    overrides["proxy"] = {"users": [f"test:viewer:{VIEWER_PASSWORD}"]}
    with running_identity(data, port=ports["identity"], overrides=overrides) as ident:
        procs = {name: ServeProcess(name, ident.config_path, ports[name],
                                    str(data / f"{name}.log"), config=ident.config)
                 for name in ("network", "blockserver", "compute")}
        try:
            for proc in procs.values():
                proc.start()
            state = ident.state
            tokens = {"admin": token(ident.auth_url, "admin", ident.admin_password, "admin"),
                      "tester": token(ident.auth_url, "tester", state["tester_password"], "test"),
                      "alt": token(ident.auth_url, "alt", state["alt_password"], "alt"),
                      "viewer": token(ident.auth_url, "viewer", VIEWER_PASSWORD, "test")}
            yield Cloud(ident, procs, ports, tokens)
        finally:
            for proc in procs.values():
                proc.stop()
