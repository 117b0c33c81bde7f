"""Full feature phase through the connection core: Data-In/phase collapse/residuals, writes with
immediate, unsolicited and solicited data, CmdSN window, NOP, Text, TMF, Logout, Reject."""
import pytest

from blockserver.iscsi.constants import Opcode, RejectReason, TmfFunction
from blockserver.iscsi.events import Close, DropConnection, Execute, TaskManagement  # noqa

READ10 = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0])          # 8 blocks
WRITE10 = bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 64, 0])        # 64 blocks = 32 KiB
SENSE = bytes([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0])


def good(data):
    return lambda task: (0, data, b"")


def test_read_phase_collapsed(logged_in):
    itt, out = logged_in.command(READ10, read=True, edtl=4096)
    assert out == []
    (ev,) = [e for e in logged_in.conn.events if isinstance(e, Execute)]
    assert ev.task.cdb[:10] == READ10 and ev.task.edtl == 4096
    (r,) = logged_in.run(good(b"\xab" * 4096))
    assert r.op is Opcode.DATA_IN and r.h.flags == 0x81 and r.h.byte3 == 0
    assert r.h.itt == itt and r.data == b"\xab" * 4096 and r.h.w24 == logged_in.statsn


def test_read_split_at_initiator_mrdsl(logged_in):
    itt, _ = logged_in.command(READ10 * 0 + bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 40, 0]),
                               read=True, edtl=20480)
    data = bytes(range(256)) * 80
    out = logged_in.run(good(data))
    assert [r.h.data_length for r in out] == [8192, 8192, 4096]   # MRDSL 8192
    assert [r.h.w36 for r in out] == [0, 1, 2] and [r.h.w40 for r in out] == [0, 8192, 16384]
    assert out[-1].h.flags & 0x01 and not out[0].h.flags & 0x01
    assert b"".join(r.data for r in out) == data


@pytest.mark.parametrize("edtl,length,flag,residual", [
    (10000, 512, 0x02, 10000 - 512),     # underflow
    (200, 512, 0x04, 312),               # overflow: only EDTL bytes go out
    (0, 512, 0x04, 512),
])
def test_read_residuals(logged_in, edtl, length, flag, residual):
    logged_in.command(READ10, read=True, edtl=edtl)
    out = logged_in.run(good(b"z" * length))
    last = out[-1]
    assert last.h.flags & 0x06 == flag and last.h.w44 == residual
    assert sum(r.h.data_length for r in out if r.op is Opcode.DATA_IN) == min(edtl, length)


def test_check_condition_sends_sense_in_scsi_response(logged_in):
    logged_in.command(READ10, read=True, edtl=4096)
    (r,) = logged_in.run(lambda t: (2, b"", SENSE))
    assert r.op is Opcode.SCSI_RESPONSE and r.h.byte3 == 2
    assert r.data == len(SENSE).to_bytes(2, "big") + SENSE
    assert r.h.flags & 0x02 and r.h.w44 == 4096


def test_write_with_immediate_data_only(logged_in):
    data = bytes(range(256)) * 32                     # 8 KiB, all immediate
    logged_in.command(bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 16, 0]), write=True, edtl=8192,
                      data=data)
    (ev,) = logged_in.events()
    assert bytes(ev.task.data_out) == data


def test_write_immediate_unsolicited_then_r2t(logged_in):
    conn = logged_in.conn
    payload = bytes(i % 251 for i in range(32768 * 4))    # 128 KiB, FirstBurst 64 KiB
    cdb = bytes([0x2A, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    itt, out = logged_in.command(cdb, write=True, edtl=len(payload), data=payload[:8192],
                                 final=False)
    assert out == []
    out = logged_in.data_out(itt, payload[8192:16384], offset=8192, datasn=0, final=False)
    assert out == []
    out = logged_in.data_out(itt, payload[16384:65536], offset=16384, datasn=1)
    (r2t,) = out                                          # MaxOutstandingR2T 1
    assert r2t.op is Opcode.R2T and r2t.h.w40 == 65536 and r2t.h.w44 == 65536
    assert r2t.h.w36 == 0
    ttt = r2t.h.w20
    for i, off in enumerate(range(65536, 131072, 8192)):
        out = logged_in.data_out(itt, payload[off:off + 8192], offset=off, datasn=i, ttt=ttt,
                                 final=off + 8192 == 131072)
    assert out == []
    (ev,) = [e for e in conn.events if isinstance(e, Execute)]
    assert bytes(ev.task.data_out) == payload
    (r,) = logged_in.run(good(b""))
    assert r.op is Opcode.SCSI_RESPONSE and r.h.byte3 == 0 and r.h.w36 == 1   # ExpDataSN=R2Ts


@pytest.mark.parametrize("datasn,offset,asc_ascq", [(5, 0, (0x4B, 0)), (0, 512, (0x4B, 5))])
def test_bad_data_out_fails_the_command_not_the_connection(logged_in, datasn, offset,
                                                            asc_ascq):
    itt, _ = logged_in.command(WRITE10, write=True, edtl=32768, data=b"", final=False)
    out = logged_in.data_out(itt, b"x" * 8192, offset=offset, datasn=datasn, final=False)
    (r,) = out
    assert r.op is Opcode.SCSI_RESPONSE and r.h.byte3 == 2 and r.h.itt == itt
    assert r.data[2 + 2] == 0x0B and tuple(r.data[2 + 12:2 + 14]) == asc_ascq
    assert logged_in.events() == []                       # never executed
    assert logged_in.data_out(itt, b"x" * 8192, offset=8192, datasn=1) == []   # discarded
    assert not logged_in.conn.closed


def test_unknown_ttt_fails_the_command(logged_in):
    itt, (r2t,) = logged_in.command(bytes([0x2A, 0, 0, 0, 0, 0, 0, 1, 0, 0]), write=True,
                                    edtl=131072, data=b"a" * 8192)
    assert r2t.op is Opcode.R2T and r2t.h.w40 == 8192
    (r,) = logged_in.data_out(itt, b"c" * 8192, offset=8192, datasn=0, ttt=r2t.h.w20 + 9)
    assert r.op is Opcode.SCSI_RESPONSE and tuple(r.data[14:16]) == (0x4B, 1)


def test_cmdsn_outside_window_ignored(logged_in):
    exp = logged_in.cmdsn
    high = logged_in.conn.session.max_cmdsn
    _, out = logged_in.command(bytes(6), cmdsn=high + 1)
    _, out2 = logged_in.command(bytes(6), cmdsn=exp - 1)
    assert out == out2 == [] and logged_in.events() == []
    logged_in.cmdsn = exp
    logged_in.command(bytes(6))
    (r,) = logged_in.run(good(b""))
    assert r.op is Opcode.SCSI_RESPONSE
    assert r.h.w28 == exp + 1                           # ExpCmdSN advanced once


def test_window_never_moves_back_and_bounds_in_flight(logged_in):
    session = logged_in.conn.session
    exp0, high0 = session.window()
    for _ in range(20):
        logged_in.command(bytes(6))
    exp1, high1 = session.window()
    assert exp1 == exp0 + 20 and high1 == high0
    assert ((high1 - exp1 + 1) + len(session.tasks)) == 128


def test_nop_ping(logged_in, tools):
    (r,) = logged_in.send(tools.bhs(Opcode.NOP_OUT, immediate=1, itt=99, w20=0xFFFFFFFF,
                                    w24=logged_in.cmdsn, data=b"ping", lun=0))
    assert r.op is Opcode.NOP_IN and r.h.itt == 99 and r.data == b"ping"
    assert r.h.w20 == 0xFFFFFFFF
    assert logged_in.send(tools.bhs(Opcode.NOP_OUT, immediate=1, itt=0xFFFFFFFF)) == []


def test_unknown_opcode_rejected_connection_survives(logged_in, tools):
    wire = tools.bhs(0x1C, itt=5, immediate=1)
    (r,) = logged_in.send(wire)
    assert r.op is Opcode.REJECT and r.h.byte2 == RejectReason.COMMAND_NOT_SUPPORTED
    assert r.data == wire[:48] and not logged_in.conn.closed


def test_snack_rejected(logged_in, tools):
    (r,) = logged_in.send(tools.bhs(Opcode.SNACK_REQUEST, itt=5))
    assert r.op is Opcode.REJECT and r.h.byte2 == RejectReason.SNACK_REJECT


def test_duplicate_itt_rejected(logged_in, tools):
    logged_in.command(READ10, read=True, edtl=4096)
    itt = logged_in.itt
    wire = tools.bhs(Opcode.SCSI_COMMAND, 0xC1, itt=itt, w20=4096, w24=logged_in.cmdsn,
                     cdb=READ10)
    (r,) = logged_in.send(wire)
    assert r.op is Opcode.REJECT and r.h.byte2 == RejectReason.TASK_IN_PROGRESS


def test_send_targets_in_discovery(registry, tools):
    ini = tools.Initiator(registry)
    assert ini.login(discovery=True).h.w36 == 0
    (r,) = ini.send(tools.bhs(Opcode.TEXT_REQUEST, 0x80, itt=7, w20=0xFFFFFFFF,
                              w24=ini.cmdsn, data=b"SendTargets=All\0"))
    assert r.op is Opcode.TEXT_RESPONSE and r.h.flags & 0x80
    text = r.data.split(b"\0")
    assert text.count(b"TargetAddress=127.0.0.1:3260,1") == 2
    assert b"TargetName=" + tools.IQN.encode() in text
    # SCSI commands have no place in a discovery session
    ini.cmdsn += 1
    _, out = ini.command(bytes(6))
    assert out[0].op is Opcode.REJECT


def test_abort_task(logged_in, tools):
    itt, _ = logged_in.command(READ10, read=True, edtl=4096)
    (ev,) = logged_in.events()
    task = ev.task
    (none,) = [logged_in.send(tools.bhs(Opcode.TASK_MGMT_REQUEST, 0x80 | 1, immediate=1,
                                        itt=500, w20=itt, w24=logged_in.cmdsn))]
    assert none == []
    (tmf,) = logged_in.events()
    assert isinstance(tmf, TaskManagement) and tmf.tasks == (task,) and task.aborted
    logged_in.conn.tmf_done(tmf)
    logged_in.conn.complete(task, 0, b"late", b"")       # the aborted task says nothing
    out = tools.split_pdus(b"".join(bytes(p) for p in logged_in.conn.outbox))
    assert [r.op for r in out] == [Opcode.TASK_MGMT_RESPONSE] and out[0].h.byte2 == 0


def test_abort_unknown_task(logged_in, tools):
    logged_in.send(tools.bhs(Opcode.TASK_MGMT_REQUEST, 0x80 | 1, immediate=1, itt=500,
                             w20=0x999, w24=logged_in.cmdsn, w32=logged_in.cmdsn - 1))
    (tmf,) = logged_in.events()
    assert tmf.response == 1                             # task does not exist


@pytest.mark.parametrize("function,response", [
    (TmfFunction.LOGICAL_UNIT_RESET, 0), (TmfFunction.TARGET_WARM_RESET, 0),
    (TmfFunction.CLEAR_ACA, 5), (TmfFunction.TASK_REASSIGN, 4), (9, 255)])
def test_tmf_functions(logged_in, tools, function, response):
    logged_in.command(READ10, read=True, edtl=4096)
    logged_in.events()
    logged_in.send(tools.bhs(Opcode.TASK_MGMT_REQUEST, 0x80 | function, immediate=1, itt=501,
                             w24=logged_in.cmdsn))
    (tmf,) = logged_in.events()
    assert tmf.response == response
    if function == TmfFunction.LOGICAL_UNIT_RESET:
        assert len(tmf.tasks) == 1 and tmf.units


def test_logout_waits_for_tasks(logged_in, tools):
    logged_in.command(READ10, read=True, edtl=4096)
    (ev,) = logged_in.events()
    out = logged_in.send(tools.bhs(Opcode.LOGOUT_REQUEST, 0x80, itt=600, w24=logged_in.cmdsn))
    assert out == []                                     # one task still running
    logged_in.conn.complete(ev.task, 0, b"d" * 4096, b"")
    out = tools.split_pdus(b"".join(bytes(p) for p in logged_in.conn.outbox))
    assert [r.op for r in out] == [Opcode.DATA_IN, Opcode.LOGOUT_RESPONSE]
    assert out[1].h.byte2 == 0 and out[1].h.w40 >> 16 == 2      # Time2Wait
    assert any(isinstance(e, Close) for e in logged_in.events())


def test_logout_other_connection(registry, tools):
    a = tools.Initiator(registry)
    a.login(op_keys=[("MaxConnections", "2")])
    b = tools.Initiator(registry, a.sessions)
    b.tsih, b.cid = a.tsih, 1
    b.login(op_keys=[])
    (r,) = a.send(tools.bhs(Opcode.LOGOUT_REQUEST, 0x81, itt=601, w20=1 << 16, w24=a.cmdsn))
    assert r.op is Opcode.LOGOUT_RESPONSE and r.h.byte2 == 0
    assert any(isinstance(e, DropConnection) and e.connection is b.conn for e in a.events())
    (r,) = a.send(tools.bhs(Opcode.LOGOUT_REQUEST, 0x81, itt=602, w20=5 << 16, w24=a.cmdsn + 1))
    assert r.h.byte2 == 1                                # CID not found


def test_commands_across_connections_run_in_cmdsn_order(registry, tools):
    a = tools.Initiator(registry)
    a.login(op_keys=[("MaxConnections", "2")])
    b = tools.Initiator(registry, a.sessions)
    b.tsih, b.cid = a.tsih, 1
    b.login(op_keys=[])
    a.events()
    b.itt = 0x1000                                       # ITTs are unique per session
    first = a.cmdsn
    b.command(bytes(6), cmdsn=first + 1)
    assert b.events() == []                              # waits for CmdSN `first`
    a.command(bytes(6), cmdsn=first)
    assert len(a.events()) == 1 and len(b.events()) == 1


def test_connection_lost_ends_session(logged_in):
    session = logged_in.conn.session
    events = logged_in.conn.connection_lost()
    assert session.ended and events and events[0].session is session


def test_digests_on_data_in_and_data_out(initiator, tools):
    from blockserver.iscsi.digest import digest
    r = initiator.login(op_keys=[("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C"),
                                 ("MaxRecvDataSegmentLength", "4096")])
    assert r.h.w36 == 0
    initiator.events()
    initiator.command(READ10, read=True, edtl=10000)
    out = initiator.run(good(b"q" * 9999))          # split_pdus checks every digest
    assert [p.h.data_length for p in out] == [4096, 4096, 1807]
    # a write whose PDU carries both digests
    data = b"w" * 1024
    wire = tools.bhs(Opcode.SCSI_COMMAND, 0xA1, data=data, itt=0x777, w20=1024,
                     w24=initiator.cmdsn, cdb=bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0]))
    header, body = wire[:48], wire[48:]
    initiator.conn.receive(header + digest(header) + body + digest(body))
    (ev,) = initiator.events()
    assert bytes(ev.task.data_out) == data


def test_data_in_sequences_end_at_max_burst(initiator):
    r = initiator.login(op_keys=[("MaxBurstLength", "16384"), ("FirstBurstLength", "16384"),
                                 ("MaxRecvDataSegmentLength", "8192")])
    assert r.h.w36 == 0
    initiator.events()
    initiator.command(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 80, 0]), read=True, edtl=40960)
    out = initiator.run(good(b"s" * 40960))
    assert [p.h.flags & 0x81 for p in out] == [0, 0x80, 0, 0x80, 0x81]
    assert [p.h.w40 for p in out] == [0, 8192, 16384, 24576, 32768]


def test_unsolicited_data_of_an_early_command_waits_with_it(registry, tools):
    a = tools.Initiator(registry)
    a.login(op_keys=[("MaxConnections", "2"), ("InitialR2T", "No")])
    b = tools.Initiator(registry, a.sessions)
    b.tsih, b.cid, b.itt = a.tsih, 1, 0x1000
    b.login(op_keys=[])
    a.events()
    first = a.cmdsn
    itt, _ = b.command(bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 16, 0]), write=True, edtl=8192,
                       data=b"1" * 4096, final=False, cmdsn=first + 1)
    b.data_out(itt, b"2" * 4096, offset=4096, datasn=0)
    assert b.events() == []
    a.command(bytes(6), cmdsn=first)
    (ev,) = b.events()
    assert bytes(ev.task.data_out) == b"1" * 4096 + b"2" * 4096


def test_solicited_only_write_with_two_outstanding_r2ts(initiator):
    r = initiator.login(op_keys=[("InitialR2T", "Yes"), ("ImmediateData", "No"),
                                 ("MaxBurstLength", "16384"), ("MaxOutstandingR2T", "2"),
                                 ("MaxRecvDataSegmentLength", "8192")])
    assert r.h.w36 == 0 and r.text["MaxOutstandingR2T"] == "2"
    initiator.events()
    payload = bytes(i % 253 for i in range(40960))
    itt, r2ts = initiator.command(bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 80, 0]), write=True,
                                  edtl=len(payload))
    assert [(p.h.w36, p.h.w40, p.h.w44) for p in r2ts] == [(0, 0, 16384), (1, 16384, 16384)]
    more = []
    for r2t in r2ts:
        base = r2t.h.w40
        for i, off in enumerate(range(base, base + 16384, 8192)):
            more += initiator.data_out(itt, payload[off:off + 8192], offset=off, datasn=i,
                                       ttt=r2t.h.w20, final=off + 8192 == base + 16384)
    (third,) = more
    assert (third.h.w36, third.h.w40, third.h.w44) == (2, 32768, 8192)
    assert initiator.data_out(itt, payload[32768:], offset=32768, datasn=0,
                              ttt=third.h.w20) == []
    (ev,) = initiator.events()
    assert bytes(ev.task.data_out) == payload


def test_text_request_and_answer_spanning_pdus(registry, tools):
    for i in range(40):                                   # a long SendTargets answer
        registry.add(f"iqn.2026-11.org.strato:volume-with-a-long-name-{i:04d}", object())
    ini = tools.Initiator(registry)
    assert ini.login(discovery=True, op_keys=[("MaxRecvDataSegmentLength", "512")]).h.w36 == 0
    text = b"SendTargets=All\0"
    (r,) = ini.send(tools.bhs(Opcode.TEXT_REQUEST, 0x40, itt=7, w20=0xFFFFFFFF,
                              w24=ini.cmdsn, data=text[:6]))           # C: more request
    assert r.op is Opcode.TEXT_RESPONSE and r.data == b"" and r.h.w20 != 0xFFFFFFFF
    answer = b""
    (r,) = ini.send(tools.bhs(Opcode.TEXT_REQUEST, 0x80, itt=7, w20=r.h.w20,
                              w24=ini.cmdsn + 1, data=text[6:]))
    answer += r.data
    n = 2
    while not r.h.flags & 0x80:                           # C set: ask for the rest
        assert r.h.flags & 0x40 and len(r.data) == 512
        (r,) = ini.send(tools.bhs(Opcode.TEXT_REQUEST, 0x80, itt=7, w20=r.h.w20,
                                  w24=ini.cmdsn + n))
        n += 1
        answer += r.data
    names = [p for p in answer.split(b"\0") if p.startswith(b"TargetName=")]
    assert len(names) == 42 and n > 3
    (r,) = ini.send(tools.bhs(Opcode.TEXT_REQUEST, 0x80, itt=8, w20=12345, w24=ini.cmdsn + n))
    assert r.op is Opcode.REJECT
