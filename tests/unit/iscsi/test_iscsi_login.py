"""The login phase through the connection core: no auth, CHAP one-way and mutual, failures,
negotiation, session creation, reinstatement and the state table."""
import pytest

from blockserver.iscsi.constants import LoginStatus, Opcode
from blockserver.iscsi.events import Close, SessionEnded, SessionStarted
from blockserver.iscsi.login import TRANSITIONS, LoginState


def status(r):
    return r.h.w36 >> 16


def test_login_without_auth(initiator, tools):
    r = initiator.login()
    assert r.op is Opcode.LOGIN_RESPONSE and status(r) == 0
    assert r.h.flags & 0x83 == 0x83                 # T, NSG=3
    assert r.text["MaxRecvDataSegmentLength"] == "262144"
    assert r.text["InitialR2T"] == "No" and r.text["ImmediateData"] == "Yes"
    assert initiator.tsih != 0
    assert any(isinstance(e, SessionStarted) for e in initiator.events())
    assert initiator.conn.session.target.iqn == tools.IQN


def test_first_response_carries_tpgt(initiator):
    pdu = initiator.login_pdu([("InitiatorName", "iqn.i"), ("TargetName",
                                                             "iqn.2026-11.org.strato:unit"),
                               ("AuthMethod", "None")], csg=0, nsg=1, transit=False)
    (r,) = initiator.send(pdu)
    assert r.text["TargetPortalGroupTag"] == "1" and r.text["AuthMethod"] == "None"


def test_chap_one_way_and_mutual(registry, tools):
    ini = tools.Initiator(registry)
    r = ini.login(tools.OTHER_IQN, chap=("alice", "wonderland12"))
    assert status(r) == 0
    ini = tools.Initiator(registry, isid=0x400001370001)
    r = ini.login(tools.OTHER_IQN, chap=("alice", "wonderland12"),
                  mutual=("tgt", "looking-glass"))
    assert status(r) == 0


@pytest.mark.parametrize("chap", [("alice", "wrong-secret"), ("mallory", "wonderland12")])
def test_wrong_chap_refused(registry, tools, chap):
    ini = tools.Initiator(registry)
    r = ini.login(tools.OTHER_IQN, chap=chap)
    assert status(r) == LoginStatus.AUTH_FAILURE
    assert any(isinstance(e, Close) for e in ini.events())
    assert ini.conn.closed


def test_chap_target_refuses_no_auth(registry, tools):
    ini = tools.Initiator(registry)
    r = ini.login(tools.OTHER_IQN)
    assert status(r) == LoginStatus.AUTH_FAILURE


def test_chap_target_refuses_skipping_security(registry, tools):
    ini = tools.Initiator(registry)
    (r,) = ini.send(ini.login_pdu([("InitiatorName", "iqn.i"), ("TargetName", tools.OTHER_IQN)],
                                  csg=1, nsg=3))
    assert status(r) == LoginStatus.AUTH_FAILURE


def test_reflected_mutual_challenge_refused(registry, tools):
    ini = tools.Initiator(registry)
    first = [("InitiatorName", "iqn.i"), ("TargetName", tools.OTHER_IQN),
             ("AuthMethod", "CHAP")]
    ini.send(ini.login_pdu(first, csg=0, nsg=1, transit=False))
    (r,) = ini.send(ini.login_pdu([("CHAP_A", "5")], csg=0, nsg=1, transit=False))
    import hashlib
    challenge = bytes.fromhex(r.text["CHAP_C"][2:])
    ident = int(r.text["CHAP_I"])
    resp = hashlib.md5(bytes([ident]) + b"wonderland12" + challenge).hexdigest()
    (r,) = ini.send(ini.login_pdu([("CHAP_N", "alice"), ("CHAP_R", "0x" + resp),
                                   ("CHAP_I", str(ident)), ("CHAP_C", "0x" + challenge.hex())],
                                  csg=0, nsg=1))
    assert status(r) == LoginStatus.AUTH_FAILURE


@pytest.mark.parametrize("keys,expected", [
    ([("TargetName", "iqn.2026-11.org.strato:unit")], LoginStatus.MISSING_PARAMETER),
    ([("InitiatorName", "iqn.i")], LoginStatus.MISSING_PARAMETER),
    ([("InitiatorName", "iqn.i"), ("TargetName", "iqn.nope")], LoginStatus.NOT_FOUND),
    ([("InitiatorName", "iqn.i"), ("SessionType", "Weird")],
     LoginStatus.SESSION_TYPE_NOT_SUPPORTED),
])
def test_bad_first_pdu(initiator, keys, expected):
    (r,) = initiator.send(initiator.login_pdu(keys, csg=0, nsg=1))
    assert status(r) == expected


def test_bad_stage_transitions(initiator):
    keys = [("InitiatorName", "iqn.i"), ("TargetName", "iqn.2026-11.org.strato:unit")]
    (r,) = initiator.send(initiator.login_pdu(keys, csg=1, nsg=1))     # NSG must be > CSG
    assert status(r) == LoginStatus.INITIATOR_ERROR


def test_unknown_tsih_refused(initiator):
    keys = [("InitiatorName", "iqn.i"), ("TargetName", "iqn.2026-11.org.strato:unit")]
    (r,) = initiator.send(initiator.login_pdu(keys, csg=0, nsg=1, tsih=77))
    assert status(r) == LoginStatus.SESSION_DOES_NOT_EXIST


def test_text_continuation(initiator):
    text = b"InitiatorName=iqn.i\0TargetName=iqn.2026-11.org.strato:unit\0AuthMethod=None\0"
    (r,) = initiator.send(initiator.login_pdu(text[:10], csg=0, nsg=1, transit=False,
                                              cont=True))
    assert status(r) == 0 and r.data == b""
    (r,) = initiator.send(initiator.login_pdu(text[10:], csg=0, nsg=1))
    assert status(r) == 0 and r.text["AuthMethod"] == "None" and r.h.flags & 0x80


def test_digest_negotiation_switches_framing(initiator):
    r = initiator.login(op_keys=[("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")])
    assert r.text["HeaderDigest"] == "CRC32C" and r.text["DataDigest"] == "CRC32C"
    conn = initiator.conn
    assert conn.reader.header_digest and conn.framer.data_digest


def test_second_connection_joins_session(registry, tools):
    a = tools.Initiator(registry)
    a.login(op_keys=[("MaxConnections", "2")])
    b = tools.Initiator(registry, a.sessions)
    b.tsih, b.cid = a.tsih, 1
    r = b.login(op_keys=[])
    assert status(r) == 0 and b.conn.session is a.conn.session
    c = tools.Initiator(registry, a.sessions)
    c.tsih, c.cid = a.tsih, 2
    assert status(c.login(op_keys=[])) == LoginStatus.TOO_MANY_CONNECTIONS


def test_session_reinstatement(registry, tools):
    a = tools.Initiator(registry)
    a.login()
    b = tools.Initiator(registry, a.sessions)
    assert status(b.login()) == 0
    old = a.conn.session
    assert any(isinstance(e, SessionEnded) and e.session is old for e in b.events())
    assert a.sessions.by_tsih.get(old.tsih) is None


def test_state_table_is_closed():
    for state, targets in TRANSITIONS.items():
        assert targets <= set(LoginState)
    assert TRANSITIONS[LoginState.FULL_FEATURE] == frozenset()


def test_connection_reinstatement_keeps_session(registry, tools):
    from blockserver.iscsi.events import DropConnection
    a = tools.Initiator(registry)
    a.login()
    session = a.conn.session
    b = tools.Initiator(registry, a.sessions)          # same ISID, same TSIH, same CID
    b.tsih = a.tsih
    assert status(b.login(op_keys=[])) == 0
    assert b.conn.session is session and not session.ended
    assert session.connections == {0: b.conn} and a.conn.closed
    assert any(isinstance(e, DropConnection) and e.connection is a.conn for e in b.events())


def test_target_removed_during_login(registry, tools):
    ini = tools.Initiator(registry)
    first = [("InitiatorName", "iqn.i"), ("TargetName", tools.IQN), ("AuthMethod", "None")]
    (r,) = ini.send(ini.login_pdu(first, csg=0, nsg=1))
    assert status(r) == 0
    registry.remove(tools.IQN)
    (r,) = ini.send(ini.login_pdu([], csg=1, nsg=3))
    assert status(r) == LoginStatus.TARGET_REMOVED
