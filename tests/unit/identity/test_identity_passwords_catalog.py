"""argon2 password hashing and the service catalog built from the configured ports."""
import pytest

from identity.catalog import build_catalog, host_for, service_urls, storage_url
from identity.passwords import MAX_PASSWORD_BYTES, hash_password, needs_rehash, verify_password
from strato import config as config_mod


def test_hash_is_salted_argon2id_and_verifies():
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first.startswith("$argon2id$") and first != second  # salted
    assert verify_password(first, "s3cret")
    assert not verify_password(first, "s3creT")
    assert not needs_rehash(first)


@pytest.mark.parametrize("stored", [None, "", "plain", "$argon2id$v=19$broken"])
def test_verify_refuses_missing_or_broken_hashes(stored):
    assert not verify_password(stored, "x")


def test_oversized_passwords():
    with pytest.raises(ValueError):
        hash_password("x" * (MAX_PASSWORD_BYTES + 1))
    assert not verify_password(hash_password("x"), "x" * (MAX_PASSWORD_BYTES + 1))


def _config(**sections):
    return config_mod.load(overrides=sections, environ={})


def test_catalog_has_every_service_with_project_urls():
    config = _config(proxy={"port": 8181}, blockserver={"port": 8777})
    catalog = build_catalog(config, "p123")
    by_type = {s["type"]: s for s in catalog}
    assert set(by_type) == {"identity", "compute", "network", "block-storage", "volumev3",
                            "object-store"}
    assert "image" not in by_type  # its discovery would be mandatory (OPENSTACK_API.md)
    public = {t: [e["url"] for e in s["endpoints"] if e["interface"] == "public"][0]
              for t, s in by_type.items()}
    assert public == {"identity": "http://127.0.0.1:5000/v3",
                      "compute": "http://127.0.0.1:8774/v2.1",
                      "network": "http://127.0.0.1:9696",
                      "block-storage": "http://127.0.0.1:8777/v3/p123",
                      "volumev3": "http://127.0.0.1:8777/v3/p123",
                      "object-store": "http://127.0.0.1:8181/v1/AUTH_p123"}
    for service in catalog:
        assert service["id"] and service["name"]
        for endpoint in service["endpoints"]:
            assert endpoint["region_id"] == endpoint["region"] == "RegionOne"


def test_catalog_ids_are_stable_and_unscoped_catalog_has_no_project_urls():
    config = _config()
    assert build_catalog(config, "a") [0]["id"] == build_catalog(config, "b")[0]["id"]
    assert {t for t, _, _ in service_urls(config, None)} == {"identity", "compute", "network"}


def test_hosts_follow_bind_ip_and_public_host():
    assert host_for("0.0.0.0") == "127.0.0.1"
    assert host_for("10.1.2.3") == "10.1.2.3"
    assert host_for("::1") == "[::1]"
    config = _config(identity={"public_host": "cloud.example"}, proxy={"bind_ip": "0.0.0.0"})
    assert storage_url(config, "p") == "http://cloud.example:8080/v1/AUTH_p"
    assert _config(proxy={"bind_ip": "0.0.0.0"}).proxy.bind_ip == "0.0.0.0"
    assert storage_url(_config(proxy={"bind_ip": "0.0.0.0"}), "p") == \
        "http://127.0.0.1:8080/v1/AUTH_p"
