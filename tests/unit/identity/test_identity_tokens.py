"""Fernet token payload and sealing: round trip, tampering, foreign keys, expiry, size limits."""
import base64

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.tokens import (MAX_TOKEN_LENGTH, AuthContext, InvalidToken, TokenCodec, check_fresh,
                             decode_payload, encode_payload, new_audit_id)


def test_payload_round_trip_keeps_every_field(make_ctx):
    ctx = make_ctx(audit_ids=("A" * 22, "B" * 22), methods=("password", "token"))
    assert decode_payload(encode_payload(ctx)) == ctx


def test_unscoped_payload_round_trip(make_ctx):
    ctx = make_ctx(project_id=None, project_name=None, roles=frozenset())
    assert decode_payload(encode_payload(ctx)) == ctx


@pytest.mark.parametrize("data", [b"", b"{}", b"[]", b"not json", b'{"v": 2}',
                                  b'{"v":1,"u":"x"}', b'{"v":1,"u":"u","un":"n","ud":"d","p":null,'
                                  b'"pn":null,"d":"d","r":"admin","e":"soon","i":0,"a":[],"m":[]}'])
def test_malformed_payloads_are_invalid(data):
    with pytest.raises(InvalidToken):
        decode_payload(data)


def test_seal_and_open(make_ctx):
    codec = TokenCodec([Fernet.generate_key()])
    ctx = make_ctx()
    token = codec.seal(ctx)
    assert "=" not in token  # padding stripped, as Keystone does
    assert codec.open(token) == ctx


def test_tampered_token_is_refused(make_ctx):
    codec = TokenCodec([Fernet.generate_key()])
    token = codec.seal(make_ctx())
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[40] ^= 1  # flip one ciphertext bit
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        codec.open(tampered)


def test_token_from_another_key_is_refused(make_ctx):
    token = TokenCodec([Fernet.generate_key()]).seal(make_ctx())
    with pytest.raises(InvalidToken):
        TokenCodec([Fernet.generate_key()]).open(token)


def test_secondary_key_still_opens(make_ctx):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = TokenCodec([old]).seal(make_ctx())
    assert TokenCodec([new, old]).open(token).user_id == "u1"


@pytest.mark.parametrize("token", ["", "x", "!!!!", "é" * 10, "A" * (MAX_TOKEN_LENGTH + 1)])
def test_garbage_tokens_are_invalid(token):
    with pytest.raises(InvalidToken):
        TokenCodec([Fernet.generate_key()]).open(token)


def test_expiry(make_ctx):
    ctx = make_ctx(expires_at=100.0)
    check_fresh(ctx, 99.9)
    with pytest.raises(InvalidToken):
        check_fresh(ctx, 100.0)


def test_roles_decide_rights(make_ctx):
    assert make_ctx(roles=frozenset({"admin"})).is_admin
    assert make_ctx(roles=frozenset({"member"})).can_write
    reader = make_ctx(roles=frozenset({"reader"}))
    assert reader.can_read and not reader.can_write and not reader.is_admin


def test_audit_ids_are_keystone_shaped_and_unique():
    ids = {new_audit_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 22 for i in ids)


@settings(max_examples=50, deadline=None)
@given(name=st.text(max_size=64), roles=st.frozensets(st.text(min_size=1, max_size=16), max_size=5),
       expires=st.floats(min_value=0, max_value=4e9))
def test_any_context_round_trips(name, roles, expires):
    ctx = AuthContext(user_id="u", user_name=name, project_id="p", project_name=name,
                      domain_id="default", roles=roles, expires_at=expires, audit_id="a" * 22,
                      audit_ids=("a" * 22,))
    assert decode_payload(encode_payload(ctx)) == ctx
