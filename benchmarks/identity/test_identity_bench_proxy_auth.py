"""The proxy's per-request authentication, in process (pytest-benchmark, `make bench`):
a config user's TempAuth token, a Keystone token through proxy.keystone.KeystoneAuth, and what
"try TempAuth's HMAC first, then Fernet" would add to every Keystone request (the rejected design:
the proxy dispatches on the token's format instead)."""
import time

import pytest

from identity.token_service import TokenService
from identity.tokens import AuthContext
from identity.validate import TokenValidator
from proxy import auth as auth_mod
from proxy.keystone import KeystoneAuth


@pytest.fixture(scope="module")
def auths(booted):
    config, _ = booted
    tempauth = auth_mod.TempAuth(auth_mod.parse_users(["test:tester:testing:.admin"]),
                                 b"k" * 32, 3600)
    keystone = KeystoneAuth(tempauth, TokenValidator(config.cluster.data_dir))
    now = time.time()
    ctx = AuthContext(user_id="u" * 32, user_name="tester", project_id="p" * 32,
                      project_name="test", domain_id="default", roles=frozenset({"member"}),
                      expires_at=now + 3600, issued_at=now, audit_id="a" * 22,
                      audit_ids=("a" * 22,))
    fernet = TokenService(config.cluster.data_dir, 3600, 24).seal(ctx)
    temp_token, _ = tempauth.login("test:tester", "testing")
    return tempauth, keystone, {"X-Auth-Token": temp_token}, {"X-Auth-Token": fernet}


def test_tempauth_token_tempauth_only(benchmark, auths):
    tempauth, _, temp, _ = auths
    benchmark(tempauth.authenticate, temp)


def test_tempauth_token_via_keystone_auth(benchmark, auths):
    _, keystone, temp, _ = auths
    assert keystone.authenticate(temp).account == "test"
    benchmark(keystone.authenticate, temp)


def test_keystone_token(benchmark, auths):
    _, keystone, _, fernet = auths
    assert "AUTH_" + "p" * 32 in keystone.authenticate(fernet).groups
    benchmark(keystone.authenticate, fernet)


def test_failed_hmac_check_of_a_keystone_token(benchmark, auths):
    """What trying TempAuth first would cost every Keystone request (a failed verify)."""
    tempauth, _, _, fernet = auths
    assert tempauth.verify(fernet["X-Auth-Token"]) is None
    benchmark(tempauth.verify, fernet["X-Auth-Token"])
