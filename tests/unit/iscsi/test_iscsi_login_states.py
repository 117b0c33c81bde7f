"""Property test of the login state machine: every state meets every kind of input; each step
either follows TRANSITIONS or ends in FAILED with a failure status and a closed connection."""
import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blockserver.iscsi.login import TRANSITIONS, LoginState

STEPS = ["first-none", "first-chap", "first-chap-target", "chap-a", "chap-a-bad", "chap-r-good",
         "chap-r-bad", "op-keys", "op-transit", "sec-transit", "bad-csg", "continue",
         "garbage-text", "repeat-key", "skip-to-ffp"]


def _step(ini, tools, name):
    base = [("InitiatorName", "iqn.i")]
    if name == "first-none":
        return ini.login_pdu(base + [("TargetName", tools.IQN), ("AuthMethod", "None")],
                             csg=0, nsg=1, transit=False)
    if name == "first-chap":
        return ini.login_pdu(base + [("TargetName", tools.IQN), ("AuthMethod", "CHAP,None")],
                             csg=0, nsg=1, transit=False)
    if name == "first-chap-target":
        return ini.login_pdu(base + [("TargetName", tools.OTHER_IQN), ("AuthMethod", "CHAP")],
                             csg=0, nsg=1, transit=False)
    if name == "chap-a":
        return ini.login_pdu([("CHAP_A", "5")], csg=0, nsg=1, transit=False)
    if name == "chap-a-bad":
        return ini.login_pdu([("CHAP_A", "7")], csg=0, nsg=1, transit=False)
    if name in ("chap-r-good", "chap-r-bad"):
        chap = ini.conn.login.chap
        if chap is None or chap.challenge is None:
            response = "0x" + "00" * 16
        else:
            secret = b"wonderland12" if name == "chap-r-good" else b"nope"
            response = "0x" + hashlib.md5(bytes([chap.identifier]) + secret +
                                          chap.challenge).hexdigest()
        return ini.login_pdu([("CHAP_N", "alice"), ("CHAP_R", response)], csg=0, nsg=1)
    if name == "op-keys":
        return ini.login_pdu([("MaxBurstLength", "65536")], csg=1, nsg=3, transit=False)
    if name == "op-transit":
        return ini.login_pdu([("ImmediateData", "Yes")], csg=1, nsg=3)
    if name == "sec-transit":
        return ini.login_pdu([], csg=0, nsg=1)
    if name == "bad-csg":
        return ini.login_pdu([], csg=2, nsg=3)
    if name == "continue":
        return ini.login_pdu(b"MaxBurst", csg=1, nsg=0, transit=False, cont=True)
    if name == "garbage-text":
        return ini.login_pdu(b"\xff\xfe=\0", csg=0, nsg=1, transit=False)
    if name == "repeat-key":
        return ini.login_pdu(b"A=1\0A=2\0", csg=0, nsg=1, transit=False)
    return ini.login_pdu(base + [("TargetName", tools.IQN)], csg=1, nsg=3)   # skip-to-ffp


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=8))
def test_every_state_every_input(registry, tools, steps):
    ini = tools.Initiator(registry)
    machine = ini.conn.login
    for name in steps:
        if ini.conn.closed or ini.conn.session is not None:
            break
        before = machine.state
        responses = ini.send(_step(ini, tools, name))
        after = machine.state
        assert after == before or after in TRANSITIONS[before], (before, name, after)
        assert len(responses) == 1 and responses[0].h.opcode == 0x23
        failed = responses[0].h.w36 >> 16
        if after is LoginState.FAILED:
            assert failed and ini.conn.closed
        else:
            assert not failed
        if after is LoginState.FULL_FEATURE:
            assert ini.conn.session is not None
            # the CHAP-protected target is reached only through a verified CHAP response
            if ini.conn.session.target is registry.get(tools.OTHER_IQN):
                assert "chap-r-good" in steps
