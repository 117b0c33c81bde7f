"""The service contract (ports, aio_entry), the validator built from config, and the rotation
schedule of the token service."""
import os

from identity import keys, service
from identity.token_service import TokenService
from identity.validate import TokenValidator


def test_ports_and_aio_entry(booted):
    config, state = booted
    assert service.ports(config) == [("127.0.0.1", 5000)]
    entry = service.aio_entry(config)
    assert entry == {"identity": {"auth_url": "http://127.0.0.1:5000/v3", "username": "admin",
                                  "password": "pw-admin", "project": "admin",
                                  "user_domain": "Default", "project_domain": "Default"}}


def test_validator_from_config(booted, make_ctx):
    config, _ = booted
    validator = TokenValidator.from_config(config)
    assert validator.key_dir == keys.key_dir_for(config.cluster.data_dir)
    token = TokenService(config.cluster.data_dir, 600, 24).seal(make_ctx(expires_at=4e9))
    assert validator.validate(token).user_id == "u1"


def test_rotation_happens_when_due(tmp_path):
    tokens = TokenService(str(tmp_path), token_ttl=3600, rotation_hours=1)
    now = os.stat(os.path.join(tokens.key_dir, "1")).st_mtime
    assert not tokens.rotate_if_due(now + 3599)
    assert tokens.rotate_if_due(now + 3601)
    assert sorted(int(n) for n in os.listdir(tokens.key_dir) if n.isdigit()) == [0, 1, 2]
    assert tokens.max_active == 3
