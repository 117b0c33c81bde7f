"""The revocation list: audit ids (and rescoped children), subjects revoked at a time, pruning,
and the shared file."""
import dataclasses
import os

import pytest

from identity import revocation_file
from identity.revocation import RevocationList


def test_revoked_audit_id_kills_the_token_and_its_rescoped_children(make_ctx):
    parent = make_ctx(audit_id="P" * 22, audit_ids=("P" * 22,))
    child = make_ctx(audit_id="C" * 22, audit_ids=("C" * 22, "P" * 22))
    other = make_ctx(audit_id="O" * 22, audit_ids=("O" * 22,))
    rl = RevocationList()
    rl.revoke_token(parent)
    assert rl.is_revoked(parent) and rl.is_revoked(child) and not rl.is_revoked(other)


@pytest.mark.parametrize("kind,field", [("user", "user_id"), ("project", "project_id"),
                                        ("domain", "domain_id")])
def test_subject_revocation_hits_only_older_tokens(kind, field, make_ctx):
    rl = RevocationList()
    rl.revoke_subject(kind, "X", now=1500.0, token_ttl=3600)
    older = dataclasses.replace(make_ctx(issued_at=1400.0), **{field: "X"})
    newer = dataclasses.replace(make_ctx(issued_at=1600.0), **{field: "X"})
    unrelated = make_ctx(issued_at=1400.0)
    assert rl.is_revoked(older)
    assert not rl.is_revoked(newer)
    assert not rl.is_revoked(unrelated)


def test_user_domain_revocation(make_ctx):
    rl = RevocationList()
    rl.revoke_subject("domain", "d9", now=1500.0, token_ttl=60)
    assert rl.is_revoked(make_ctx(user_domain_id="d9", issued_at=1000.0))


def test_prune_drops_what_cannot_match_a_live_token(make_ctx):
    rl = RevocationList()
    rl.revoke_token(make_ctx(expires_at=100.0))
    rl.revoke_subject("user", "u", now=50.0, token_ttl=100)
    assert len(rl) == 2
    assert not rl.prune(99.0)
    assert rl.prune(100.0) and len(rl) == 1
    assert rl.prune(151.0) and len(rl) == 0


def test_serialization_round_trip(make_ctx):
    rl = RevocationList()
    rl.revoke_token(make_ctx())
    rl.revoke_subject("project", "p1", now=5.0, token_ttl=10)
    again = RevocationList.from_bytes(rl.to_bytes())
    assert again.audit == rl.audit and again.subjects == rl.subjects


@pytest.mark.parametrize("data", [b"[", b"[]", b'{"version": 9}', b'{"version": 1}',
                                  b'{"version":1,"audit":{"a":"x"},"subjects":{}}'])
def test_malformed_lists_raise(data):
    with pytest.raises(ValueError):
        RevocationList.from_bytes(data)


def test_watcher_sees_each_write(tmp_path, make_ctx):
    path = str(tmp_path / "revoked.json")
    watcher = revocation_file.RevocationWatcher(path)
    ctx = make_ctx()
    assert not watcher.current().is_revoked(ctx)  # no file yet: nothing revoked
    rl = RevocationList()
    rl.revoke_token(ctx)
    revocation_file.write(path, rl)
    assert watcher.current().is_revoked(ctx)
    revocation_file.write(path, RevocationList())
    assert not watcher.current().is_revoked(ctx)


def test_watcher_keeps_the_last_good_list_when_the_file_is_corrupt(tmp_path, make_ctx):
    path = str(tmp_path / "revoked.json")
    watcher = revocation_file.RevocationWatcher(path)
    rl = RevocationList()
    rl.revoke_token(make_ctx())
    revocation_file.write(path, rl)
    assert watcher.current().is_revoked(make_ctx())
    with open(path + ".x", "wb") as f:
        f.write(b"{garbage")
    os.replace(path + ".x", path)
    assert watcher.current().is_revoked(make_ctx())
