"""The service contract (strato/services.py): ports, aio.json entry, the advertised portal."""
from blockserver import service
from strato import config as config_mod


def load(**overrides):
    return config_mod.load(overrides=overrides, environ={})


def test_ports_and_aio_entry_cover_api_and_target():
    c = load()
    assert service.ports(c) == [("127.0.0.1", 8776), ("127.0.0.1", 3260)]
    assert service.aio_entry(c) == {"volume": {"endpoint": "http://127.0.0.1:8776/v3"},
                                    "iscsi": {"portal": "127.0.0.1:3260"}}


def test_portal_is_a_reachable_address():
    assert service.portal(load(iscsi={"bind_ip": "0.0.0.0", "port": 3261})) == "127.0.0.1:3261"
    assert service.portal(load(iscsi={"bind_ip": "::1"})) == "[::1]:3260"
    assert service.portal(load(blockserver={"iscsi_portal": "10.0.0.5:3260"})) == "10.0.0.5:3260"


def test_prepare_is_idempotent(tmp_path):
    c = load(cluster={"data_dir": str(tmp_path)})
    service.prepare(c)
    service.prepare(c)
    assert (tmp_path / "volumes").is_dir() and (tmp_path / "blockserver").is_dir()
