"""objectserver/service.py: the all-in-one's devices and rings, and node processes serving them."""
import os
import subprocess
import sys

import pytest
import requests

from objectserver import service
from strato import config as config_mod
from strato.timestamps import Timestamp
from clusterhelper import wait_port  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py

pytestmark = pytest.mark.timeout(90)


def free_ports(count):
    """`count` consecutive free ports in this area's range for subprocess tests."""
    return free_block(26250, 26300, count)


def make_config(tmp_path, base_port=6200):
    text = (f'[cluster]\ndata_dir = "{tmp_path / "data"}"\nhash_path_prefix = "p"\n'
            f'hash_path_suffix = "s"\nlog_level = "warning"\n'
            f'[storage]\nbase_port = {base_port}\nnodes = 3\ndevices_per_node = 2\n'
            f'fallocate_reserve_mb = 0\n[ring]\npart_power = 4\n')
    path = tmp_path / "strato.toml"
    path.write_text(text)
    return str(path), config_mod.load(str(path), environ={})


def test_specs_ports_and_instances(tmp_path):
    _, config = make_config(tmp_path)
    assert service.instances(config) == 3
    assert service.ports(config) == [("127.0.0.1", 6200), ("127.0.0.1", 6201), ("127.0.0.1", 6202)]
    specs = service.device_specs(config)
    assert len(specs) == 6
    assert specs[3] == {"region": 1, "zone": 2, "ip": "127.0.0.1", "port": 6201, "device": "n1d1",
                        "weight": 100.0}
    assert service.aio_entry(config) == {}


def test_prepare_is_idempotent_and_nodes_serve_their_ring_devices(tmp_path):
    pytest.importorskip("ring.aio")
    base = free_ports(3)
    path, config = make_config(tmp_path, base)
    first = service.prepare(config)
    assert service.prepare(config) == first
    for spec in service.device_specs(config):
        assert os.path.isdir(os.path.join(service.devices_root(config), spec["device"], "objects"))
    rings = service.load_rings(config)
    assert rings is not None
    assert service.node_devices(config, 1) == ["n1d0", "n1d1"]
    procs = [subprocess.Popen([sys.executable, "-m", "strato", "serve", "storage", "--config", path,
                               "--instance", str(i)], stdin=subprocess.DEVNULL)
             for i in range(3)]
    try:
        for proc, (_, port) in zip(procs, service.ports(config)):
            wait_port(port, proc)
        part, devs = rings["object"].get_nodes("a", "c", "o")
        for dev in devs:
            url = f"http://{dev.ip}:{dev.port}/object/{dev.device}/{part}/a/c/o"
            resp = requests.put(url, data=b"x", headers={"X-Timestamp": Timestamp.now().internal})
            assert resp.status_code == 201
        wrong = next(d for d in service.device_specs(config) if d["port"] != devs[0].port)
        url = f"http://127.0.0.1:{devs[0].port}/object/{wrong['device']}/{part}/a/c/o"
        assert requests.get(url).status_code == 507  # another node's device
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
