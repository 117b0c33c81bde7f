"""TokenValidator: local validation with cached keys, key reload on rotation, expiry, the shared
revocation list; ec2_secret_for and Swift v1 credentials read identity's LMDB read-only."""
import time

import pytest

from identity import keys, swift_auth
from identity.token_service import TokenService
from identity.validate import InvalidToken, TokenValidator, UnknownAccessKey


@pytest.fixture
def service(tmp_path):
    return TokenService(str(tmp_path), token_ttl=600, rotation_hours=1)


def test_validates_and_caches(service, tmp_path, make_ctx):
    now = [1500.0]
    validator = TokenValidator(str(tmp_path), clock=lambda: now[0])
    token = service.seal(make_ctx())
    ctx = validator.validate(token)
    assert ctx.user_id == "u1" and ctx.roles == {"member", "reader"}
    assert validator.validate(token) is ctx  # the cache answers
    now[0] = 2000.0
    with pytest.raises(InvalidToken, match="expired"):
        validator.validate(token)


def test_tampered_and_foreign_tokens(service, tmp_path, make_ctx):
    validator = TokenValidator(str(tmp_path), clock=lambda: 1500.0)
    token = service.seal(make_ctx())
    with pytest.raises(InvalidToken):
        validator.validate(token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:])
    other = TokenService(str(tmp_path / "other"), 600, 1)
    with pytest.raises(InvalidToken):
        validator.validate(other.seal(make_ctx()))


def test_revocations_reach_other_validators_within_the_interval(service, tmp_path, make_ctx):
    validator = TokenValidator(str(tmp_path), revocation_check_interval=0.2)
    immediate = TokenValidator(str(tmp_path), revocation_check_interval=0)
    ctx = make_ctx(expires_at=time.time() + 600)
    token = service.seal(ctx)
    validator.validate(token)
    immediate.validate(token)
    service.revoke_token(ctx)
    with pytest.raises(InvalidToken, match="revoked"):
        immediate.validate(token)
    time.sleep(0.25)
    with pytest.raises(InvalidToken, match="revoked"):
        validator.validate(token)
    with pytest.raises(InvalidToken, match="revoked"):  # and it stays revoked
        validator.validate(token)


def test_cached_token_is_checked_against_each_new_list(service, tmp_path, make_ctx):
    validator = TokenValidator(str(tmp_path), revocation_check_interval=0)
    ctx = make_ctx(expires_at=time.time() + 600)
    token = service.seal(ctx)
    validator.validate(token)
    service.revoke_subject("user", "someone-else")  # a new list that does not concern ctx
    assert validator.validate(token) == ctx
    service.revoke_subject("project", ctx.project_id)
    with pytest.raises(InvalidToken, match="revoked"):
        validator.validate(token)


def test_user_revocation_spares_newer_tokens(service, tmp_path, make_ctx):
    now = time.time()  # the service prunes entries by the real clock
    validator = TokenValidator(str(tmp_path), revocation_check_interval=0)
    old = service.seal(make_ctx(issued_at=now - 10, expires_at=now + 600))
    service.revoke_subject("user", "u1", now=now - 5)
    new = service.seal(make_ctx(issued_at=now, expires_at=now + 600, audit_id="B" * 22,
                                audit_ids=("B" * 22,)))
    with pytest.raises(InvalidToken):
        validator.validate(old)
    assert validator.validate(new).user_id == "u1"


def test_validator_follows_rotations(service, tmp_path, make_ctx):
    validator = TokenValidator(str(tmp_path), key_check_interval=3600, clock=lambda: 1500.0)
    validator.validate(service.seal(make_ctx()))
    service.rotate()
    service.rotate()  # the validator has seen neither: the new primary was never staged for it
    token = service.seal(make_ctx(audit_id="C" * 22, audit_ids=("C" * 22,)))
    assert validator.validate(token).user_id == "u1"  # reloaded on the failed open


def test_purged_key_stops_validating(service, tmp_path, make_ctx):
    validator = TokenValidator(str(tmp_path), key_check_interval=0, clock=lambda: 1500.0)
    token = service.seal(make_ctx())
    validator.validate(token)
    for _ in range(service.max_active + 1):
        keys.rotate(service.key_dir, service.max_active)
    with pytest.raises(InvalidToken):
        validator.validate(token)


def test_needs_a_directory():
    with pytest.raises(ValueError):
        TokenValidator()


def test_ec2_lookup_reads_identity_records(booted):
    config, state = booted
    validator = TokenValidator(config.cluster.data_dir)
    alt = state["accounts"]["alt"]
    assert validator.ec2_secret_for(alt["access"]) == (alt["secret"], alt["user_id"],
                                                       alt["project_id"])
    ctx = validator.ec2_context(alt["access"])
    assert ctx.project_name == "alt" and ctx.roles == {"member"}
    with pytest.raises(UnknownAccessKey):
        validator.ec2_secret_for("no-such-key")
    validator.close()


def test_swift_v1_credentials(booted):
    config, state = booted
    data_dir = config.cluster.data_dir
    ctx = swift_auth.check_v1_credentials("test:tester", state["tester_password"],
                                          data_dir=data_dir)
    assert ctx.project_id == state["accounts"]["tester"]["project_id"] and ctx.can_write
    token = swift_auth.issue_token(ctx, data_dir=data_dir)
    assert TokenValidator(data_dir).validate(token).user_name == "tester"
    for user, key in (("test:tester", "wrong"), ("alt:tester", state["tester_password"]),
                      ("tester", state["tester_password"]), ("test:", "x")):
        with pytest.raises(swift_auth.InvalidCredentials):
            swift_auth.check_v1_credentials(user, key, data_dir=data_dir)
