"""A bootstrapped identity data directory for the validation benchmarks (no server needed)."""
import pytest


@pytest.fixture(scope="module")
def booted(tmp_path_factory):
    from identity import bootstrap
    from strato import config as config_mod

    data_dir = tmp_path_factory.mktemp("identity-bench")
    config = config_mod.load(overrides={"cluster": {"data_dir": str(data_dir)},
                                        "identity": {"admin_password": "bench"}}, environ={})
    return config, bootstrap.bootstrap(config)
