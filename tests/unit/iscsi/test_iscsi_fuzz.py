"""Hostile input: malformed PDUs never crash the core, every answer is a well-formed target PDU,
and nothing ever reaches a target other than the one the session logged in to."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blockserver.iscsi.constants import Opcode
from blockserver.iscsi.events import Execute, TaskManagement

u32 = st.integers(0, 0xFFFFFFFF)
opcodes = st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x1C, 0x21, 0x3F])
cdbs = st.sampled_from([bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]),
                        bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 8, 0]), bytes(6)]).map(
    lambda c: c.ljust(16, b"\0")) | st.binary(min_size=16, max_size=16)
pdu = st.builds(
    lambda op, imm, flags, b2, itt, w20, w24, w28, w36, w40, cdb, data, ahs: (
        op, imm, flags, b2, itt, w20, w24, w28, w36, w40, cdb, data, ahs),
    opcodes, st.integers(0, 1), st.integers(0, 255), st.integers(0, 255),
    st.integers(0, 40) | u32, st.integers(0, 70000) | u32, st.integers(0, 200) | u32, u32,
    st.integers(0, 4) | u32, st.integers(0, 70000) | u32, cdbs,
    st.binary(max_size=600), st.sampled_from([b"", b"\x00\x05\x01\x00" + bytes(8), b"\xff" * 4]))


def _wire(tools, p):
    op, imm, flags, b2, itt, w20, w24, w28, w36, w40, cdb, data, ahs = p
    return tools.bhs(op, flags, immediate=imm, byte2=b2, itt=itt, w20=w20, w24=w24, w28=w28,
                     w36=w36, w40=w40, cdb=cdb, data=data, ahs=ahs)


def _check(ini, registry, tools, answers):
    target = registry.get(tools.IQN)
    for ev in ini.events():
        if isinstance(ev, Execute):
            assert ev.task.conn.session.target is target       # never another volume
            if not ev.task.conn.closed:
                ini.conn.complete(ev.task, 0, b"r" * 64, b"")
        elif isinstance(ev, TaskManagement):
            assert all(t.conn.session.target is target for t in ev.tasks)
            assert all(u is target.lun_unit for u in ev.units)
            ini.conn.tmf_done(ev)
    out = b"".join(bytes(x) for x in ini.conn.outbox)
    ini.conn.outbox.clear()
    for r in tools.split_pdus(out, *ini.digests):            # well-formed target PDUs only
        assert r.h.opcode in {int(o) for o in Opcode} and r.h.opcode >= 0x20
        answers.append(r)


# The registry fixture is read-only here (each example builds its own sessions and connection).
_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
EXAMPLES = int(os.environ.get("ISCSI_FUZZ_EXAMPLES", 150))   # more for a long local fuzz run


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=_OK)
@given(st.lists(pdu, max_size=12), st.integers(1, 97))
def test_full_feature_fuzz(registry, tools, pdus, chunk):
    ini = tools.Initiator(registry)
    assert ini.login().h.w36 == 0
    answers = []
    wire = b"".join(_wire(tools, p) for p in pdus)
    for i in range(0, len(wire), chunk):
        if ini.conn.closed:
            break
        ini.conn.receive(wire[i:i + chunk])
        _check(ini, registry, tools, answers)
    ini.conn.connection_lost()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=_OK)
@given(st.lists(pdu, max_size=6))
def test_login_phase_fuzz(registry, tools, pdus):
    ini = tools.Initiator(registry)
    for p in pdus:
        if ini.conn.closed:
            break
        ini.conn.receive(_wire(tools, p))
        _check(ini, registry, tools, [])
    assert ini.conn.session is None or ini.conn.session.target is not \
        registry.get(tools.OTHER_IQN)                           # CHAP target never reached


@settings(max_examples=100, deadline=None, suppress_health_check=_OK)
@given(st.binary(max_size=400))
def test_random_bytes(registry, tools, raw):
    ini = tools.Initiator(registry)
    ini.login()
    ini.events()
    ini.conn.receive(raw)
    _check(ini, registry, tools, [])
