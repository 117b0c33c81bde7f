import pytest

from strato import config as config_mod
from strato.config import ConfigError


def write(tmp_path, text):
    path = tmp_path / "strato.toml"
    path.write_text(text)
    return str(path)


def test_defaults_are_documented_and_valid():
    config = config_mod.load(environ={})
    assert config.proxy.port == 8080
    assert config.storage.base_port == 6200
    assert config.ring.replicas == 3
    text = config_mod.reference()
    assert "[proxy]" in text and "port = 8080" in text
    # every field carries a doc line
    for section in config_mod.schema().values():
        for key, field in section.fields.items():
            assert field.doc, f"{section.name}.{key} is undocumented"


def test_file_then_environment_override(tmp_path):
    path = write(tmp_path, "[proxy]\nport = 9000\nworkers = 2\n")
    config = config_mod.load(path, environ={"STRATO_PROXY_WORKERS": "3"})
    assert config.proxy.port == 9000
    assert config.proxy.workers == 3


def test_several_files_layer_in_order(tmp_path):
    first = tmp_path / "a.toml"
    first.write_text("[proxy]\nport = 9000\n")
    second = tmp_path / "b.toml"
    second.write_text("[proxy]\nport = 9001\n")
    assert config_mod.load([str(first), str(second)], environ={}).proxy.port == 9001


@pytest.mark.parametrize("text, key, reason", [
    ("[proxy]\nprot = 1\n", "proxy.prot", "unknown key"),
    ("[proxxy]\nport = 1\n", "proxxy", "unknown section"),
    ("[proxy]\nport = 70000\n", "proxy.port", "above the maximum"),
    ("[proxy]\nport = 'eighty'\n", "proxy.port", "expected an integer"),
    ("[proxy]\nport = true\n", "proxy.port", "expected an integer"),
    ("[ring]\npart_power = 23\n", "ring.part_power", "above the maximum"),
    ("[blockserver]\nbackend = 'ceph'\n", "blockserver.backend", "not one of"),
    ("[proxy]\nusers = ['nouser']\n", "proxy.users", "is not 'account:user:key"),
    ("[cluster]\nuse_uvloop = 'yes'\n", "cluster.use_uvloop", "expected true or false"),
])
def test_bad_values_name_the_key_and_reason(tmp_path, text, key, reason):
    with pytest.raises(ConfigError) as info:
        config_mod.load(write(tmp_path, text), environ={})
    assert info.value.key == key
    assert reason in str(info.value)


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError) as info:
        config_mod.load(environ={"STRATO_PROXY_PORT": "x"})
    assert info.value.key == "STRATO_PROXY_PORT"


def test_environment_lists_and_bools():
    config = config_mod.load(environ={"STRATO_CLUSTER_DISABLE": "compute, network",
                                      "STRATO_CLUSTER_USE_UVLOOP": "off"})
    assert config.cluster.disable == ["compute", "network"]
    assert config.cluster.use_uvloop is False


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        config_mod.load(write(tmp_path, "[proxy\n"), environ={})
    with pytest.raises(ConfigError, match="not found"):
        config_mod.load(str(tmp_path / "absent.toml"), environ={})


def test_port_offset_shifts_only_ports_not_set_explicitly(tmp_path):
    path = write(tmp_path, "[proxy]\nport = 9000\n")
    config = config_mod.load(path, environ={}, port_offset=100)
    assert config.proxy.port == 9000
    assert config.storage.base_port == 6300
    assert config.identity.port == 5100
    assert config.proxy.workers == 1


def test_dump_round_trips(tmp_path):
    config = config_mod.load(environ={}, overrides={"cluster": {"data_dir": "/x"}})
    out = tmp_path / "resolved.toml"
    config_mod.dump(config, str(out))
    again = config_mod.load(str(out), environ={})
    assert again.as_dict() == config.as_dict()


def test_section_values_are_plain_attributes_with_every_declared_key():
    """Request paths read [s3] (and other sections) per request: each declared key is a plain
    attribute with its resolved value (no __getattr__ per read, ~0.3 us each), a list stays the
    list it was resolved to, and an unknown key is still an AttributeError naming the section."""
    from proxy.s3.settings import SECTION

    section = config_mod.load(overrides={"s3": {"region": "eu-west-1", "domain": "s3.local",
                                                "max_clock_skew": 60, "min_part_size": 1,
                                                "credentials": ["a b c d"]}}, environ={}).s3
    assert {name: vars(section)[name] for name in SECTION.fields} == {
        "region": "eu-west-1", "domain": "s3.local", "max_clock_skew": 60, "min_part_size": 1,
        "credentials": ["a b c d"]}
    for name in SECTION.fields:
        assert getattr(section, name) == section[name] == section.as_dict()[name]
    with pytest.raises(AttributeError, match="s3.nope"):
        section.nope
