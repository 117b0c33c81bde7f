"""Hypothesis: the revocation list agrees with a naive model of what revocation means."""
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.revocation import RevocationList
from identity.tokens import AuthContext

IDS = st.sampled_from(["a", "b", "c"])
TIMES = st.integers(min_value=0, max_value=100).map(float)
events = st.lists(st.one_of(
    st.tuples(st.just("token"), IDS, TIMES),                      # audit id, expires
    st.tuples(st.sampled_from(["user", "project", "domain"]), IDS, TIMES)), max_size=12)
tokens = st.builds(lambda u, p, d, ud, a, parent, issued, expires: AuthContext(
    user_id=u, user_name=u, project_id=p, project_name=p, domain_id=d, user_domain_id=ud,
    roles=frozenset(), expires_at=expires, audit_id=a, issued_at=issued,
    audit_ids=(a, parent) if parent else (a,)),
    IDS, IDS, IDS, IDS, IDS, st.one_of(st.none(), IDS), TIMES, TIMES)


@settings(max_examples=300, deadline=None)
@given(events=events, token=tokens, now=TIMES)
def test_matches_the_model(events, token, now):
    rl = RevocationList()
    for kind, ident, when in events:
        if kind == "token":
            rl.audit[ident] = when
        else:
            rl.revoke_subject(kind, ident, now=when, token_ttl=50)
    expected = any(
        (kind == "token" and ident in token.audit_ids)
        or (kind == "user" and ident == token.user_id and token.issued_at <= when)
        or (kind == "project" and ident == token.project_id and token.issued_at <= when)
        or (kind == "domain" and ident in (token.domain_id, token.user_domain_id)
            and token.issued_at <= when)
        for kind, ident, when in _last_per_key(events))
    assert rl.is_revoked(token) == expected


@settings(max_examples=300, deadline=None)
@given(events=events, token=tokens, now=TIMES)
def test_pruning_keeps_what_a_live_token_needs(events, token, now):
    """Subject entries last one token lifetime: pruning at `now` changes nothing for a token
    still alive at `now` whose lifetime is within that TTL."""
    ttl = 50
    subjects = [e for e in events if e[0] != "token"]
    rl = RevocationList()
    for kind, ident, when in subjects:
        rl.revoke_subject(kind, ident, now=when, token_ttl=ttl)
    before = rl.is_revoked(token)
    rl.prune(now)
    if token.expires_at > now and token.expires_at <= token.issued_at + ttl:
        assert rl.is_revoked(token) == before


def _last_per_key(events):
    last = {}
    for kind, ident, when in events:
        last[(kind, ident)] = when
    return [(kind, ident, when) for (kind, ident), when in last.items()]
