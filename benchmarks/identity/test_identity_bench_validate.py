"""What a service pays to trust a token or an S3 key: `make bench` (pytest-benchmark).

validate_hit is the steady state of a proxy (same token, request after request); validate_miss
is a token seen for the first time (Fernet HMAC + AES-CBC + JSON); the revocation check is one
stat of revoked.json per call.
"""
import time

import pytest

from identity.authenticate import authenticate
from identity.store import Store, db_path_for
from identity.token_service import TokenService
from identity.tokens import AuthContext
from identity.validate import TokenValidator


def _ctx(i=0):
    now = time.time()
    return AuthContext(user_id="u" * 32, user_name="tester", project_id="p" * 32,
                       project_name="test", domain_id="default", roles=frozenset({"member"}),
                       expires_at=now + 3600, issued_at=now, audit_id=f"{i:022d}",
                       audit_ids=(f"{i:022d}",))


@pytest.fixture(scope="module")
def service(booted):
    config, _ = booted
    return TokenService(config.cluster.data_dir, 3600, 24)


def test_validate_hit(benchmark, booted, service):
    validator = TokenValidator(booted[0].cluster.data_dir)
    token = service.seal(_ctx())
    validator.validate(token)
    benchmark(validator.validate, token)


def test_validate_miss(benchmark, booted, service):
    tokens = iter([service.seal(_ctx(i)) for i in range(200000)])
    validator = TokenValidator(booted[0].cluster.data_dir, cache_size=1000)
    benchmark.pedantic(lambda: validator.validate(next(tokens)), rounds=20000, iterations=1)


def test_validate_hit_with_revocations(benchmark, booted, service):
    """A revocation list of 1,000 entries (parsed once) does not slow the hit path."""
    for i in range(1000):
        service.revocations.revoke_subject("user", f"user{i}", time.time(), 3600)
    service.revoke_token(_ctx(99999))
    validator = TokenValidator(booted[0].cluster.data_dir)
    token = service.seal(_ctx(1))
    validator.validate(token)
    benchmark(validator.validate, token)


def test_seal(benchmark, service):
    ctx = _ctx()
    benchmark(service.seal, ctx)


def test_ec2_secret_cached(benchmark, booted):
    config, state = booted
    validator = TokenValidator(config.cluster.data_dir)
    access = state["accounts"]["tester"]["access"]
    benchmark(validator.ec2_secret_for, access)


def test_ec2_secret_uncached(benchmark, booted):
    config, state = booted
    validator = TokenValidator(config.cluster.data_dir, ec2_cache_seconds=0)
    access = state["accounts"]["tester"]["access"]
    benchmark(validator.ec2_secret_for, access)


def test_password_token_issue(benchmark, booted, service):
    """POST /v3/auth/tokens without HTTP: LMDB lookups + one argon2id verify + sealing."""
    config, _ = booted
    # Read-only, like every reader in this process: LMDB wants one writable open per process.
    store = Store(db_path_for(config.cluster.data_dir), readonly=True)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "bench"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}

    def issue():
        ctx, _ = authenticate(store, body, validate_token=None, token_ttl=3600)
        return service.seal(ctx)

    benchmark.pedantic(issue, rounds=10, iterations=1)
    store.close()
