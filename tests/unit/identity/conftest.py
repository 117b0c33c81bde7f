"""Shared fixture of the identity unit tests: a factory of AuthContexts."""
import pytest

from identity.tokens import AuthContext


def _make_ctx(**kw):
    base = dict(user_id="u1", user_name="alice", project_id="p1", project_name="proj",
                domain_id="default", roles=frozenset({"member", "reader"}), expires_at=2000.0,
                audit_id="A" * 22, issued_at=1000.0, audit_ids=("A" * 22,))
    base.update(kw)
    return AuthContext(**base)


@pytest.fixture
def make_ctx():
    return _make_ctx


@pytest.fixture(scope="session")
def booted(tmp_path_factory):
    """A bootstrapped data directory (keys, records, openrc), no server: (config, state).
    Shared by the whole folder: argon2 hashing is what these tests spend their time on."""
    from identity import bootstrap
    from strato import config as config_mod

    data_dir = tmp_path_factory.mktemp("identity")
    config = config_mod.load(overrides={"cluster": {"data_dir": str(data_dir)},
                                        "identity": {"admin_password": "pw-admin"}}, environ={})
    return config, bootstrap.bootstrap(config)
