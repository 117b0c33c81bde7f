"""Shared pieces of the iSCSI unit tests: both BHS implementations, and an in-memory initiator
that drives the sans-I/O connection core (no sockets: bytes in, parsed target PDUs out)."""
from __future__ import annotations

import hashlib

import pytest

import native
from blockserver.iscsi.connection import Connection
from blockserver.iscsi.constants import Opcode
from blockserver.iscsi.digest import digest
from blockserver.iscsi.events import Execute
from blockserver.iscsi.pdu import parse_header
from blockserver.iscsi.registry import TargetRegistry
from blockserver.iscsi.session import SessionTable
from blockserver.iscsi.text import encode_text, parse_text

IQN = "iqn.2026-11.org.strato:unit"
OTHER_IQN = "iqn.2026-11.org.strato:other"
INITIATOR = "iqn.2026-11.org.test:initiator"
_impls = native.load_both("iscsipdu")


@pytest.fixture(params=["py", "c"])
def native_impl(request):
    """Each test runs against the pure twin and the compiled module."""
    impl = _impls[request.param]
    if impl is None:
        if native.extensions_disabled():
            pytest.skip("STRATO_NO_EXTENSIONS=1: compiled module not wanted")
        pytest.fail("native._iscsipdu_c did not build")
    return impl


def bhs(opcode, flags=0x80, *, immediate=0, byte2=0, byte3=0, ahs=b"", data=b"", lun=0,
        itt=0, w20=0, w24=0, w28=0, w32=0, w36=0, w40=0, w44=0, cdb=None) -> bytes:
    """An initiator PDU: BHS + AHS + padded data (no digests)."""
    from native.iscsipdu import build_bhs
    header = bytearray(build_bhs(opcode, immediate, flags, byte2, byte3, len(ahs), len(data),
                                 lun, itt, w20, w24, w28, w32, w36, w40, w44))
    if cdb is not None:
        header[32:48] = cdb.ljust(16, b"\0")[:16]
    return bytes(header) + ahs + data + bytes(-len(data) & 3)


class Received:
    """One target PDU as the initiator sees it."""

    def __init__(self, header: bytes, data: bytes):
        self.header = header
        self.h = parse_header(header)
        self.data = data

    @property
    def op(self):
        return Opcode(self.h.opcode)

    @property
    def text(self) -> dict:
        return dict(parse_text(self.data))

    def __repr__(self):
        return f"<Received {self.op.name} {self.h}>"


def split_pdus(wire: bytes, header_digest=False, data_digest=False) -> list[Received]:
    out = []
    pos = 0
    while pos < len(wire):
        h = parse_header(wire[pos:pos + 48])
        end = pos + 48 + h.ahs_length
        if header_digest:
            assert wire[end:end + 4] == digest(wire[pos:end]), "bad header digest from target"
            end += 4
        n = h.data_length
        data = wire[end:end + n]
        padded = n + (-n & 3)
        if n and data_digest:
            assert wire[end + padded:end + padded + 4] == digest(wire[end:end + padded])
            padded += 4
        out.append(Received(wire[pos:pos + 48], data))
        pos = end + padded
    assert pos == len(wire)
    return out


class Initiator:
    """A scripted initiator wired to one Connection core in memory."""

    def __init__(self, registry, sessions=None, name=INITIATOR, isid=0x400001370000):
        self.registry = registry
        self.sessions = sessions if sessions is not None else SessionTable()
        self.conn = Connection(registry, self.sessions, "127.0.0.1:3260",
                               random_bytes=lambda n: bytes(range(1, n + 1)))
        self.name = name
        self.isid = isid
        self.tsih = 0
        self.cid = 0
        self.itt = 0x10
        self.cmdsn = 1
        self.statsn = 0
        self.digests = (False, False)

    def send(self, wire: bytes) -> list[Received]:
        self.conn.receive(wire)
        out = b"".join(bytes(p) for p in self.conn.outbox)
        self.conn.outbox.clear()
        return split_pdus(out, *self.digests)

    def wrap(self, wire: bytes) -> bytes:
        """Add the negotiated digests to one PDU built by bhs()."""
        hd, dd = self.digests
        if not (hd or dd):
            return wire
        h = parse_header(wire[:48])
        end = 48 + h.ahs_length
        header, body = wire[:end], wire[end:]
        out = header + (digest(header) if hd else b"")
        if body:
            out += body + (digest(body) if dd else b"")
        return out

    def events(self):
        ev, self.conn.events[:] = list(self.conn.events), []
        return ev

    def next_itt(self) -> int:
        self.itt += 1
        return self.itt

    def login_pdu(self, keys, *, csg, nsg, transit=True, cont=False, tsih=None) -> bytes:
        flags = (0x80 if transit else 0) | (0x40 if cont else 0) | (csg << 2) | nsg
        tsih = self.tsih if tsih is None else tsih
        data = encode_text(keys) if isinstance(keys, list) else keys
        return bhs(Opcode.LOGIN_REQUEST, flags, immediate=1, data=data,
                   lun=(self.isid << 16) | tsih, itt=self.next_itt(), w20=self.cid << 16,
                   w24=self.cmdsn, w28=self.statsn)

    def login(self, target=IQN, *, chap=None, mutual=None, discovery=False, op_keys=None):
        """Full login; returns the last Login Response (raises AssertionError on failure)."""
        first = [("InitiatorName", self.name)]
        if discovery:
            first.append(("SessionType", "Discovery"))
        else:
            first.append(("TargetName", target))
        if chap:
            (r,) = self.send(self.login_pdu(first + [("AuthMethod", "CHAP,None")], csg=0,
                                            nsg=1, transit=False))
            assert r.h.w36 == 0, hex(r.h.w36)
            assert r.text["AuthMethod"] == "CHAP"
            (r,) = self.send(self.login_pdu([("CHAP_A", "5")], csg=0, nsg=1, transit=False))
            ident = int(r.text["CHAP_I"])
            challenge = bytes.fromhex(r.text["CHAP_C"][2:])
            user, secret = chap
            answer = hashlib.md5(bytes([ident]) + secret.encode() + challenge).hexdigest()
            keys = [("CHAP_N", user), ("CHAP_R", "0x" + answer)]
            if mutual:
                keys += [("CHAP_I", "7"), ("CHAP_C", "0x" + "ab" * 16)]
            (r,) = self.send(self.login_pdu(keys, csg=0, nsg=1))
            if r.h.w36:
                return r
            if mutual:
                expect = hashlib.md5(bytes([7]) + mutual[1].encode() + b"\xab" * 16).hexdigest()
                assert r.text["CHAP_N"] == mutual[0]
                assert r.text["CHAP_R"] == "0x" + expect
        else:
            (r,) = self.send(self.login_pdu(first + [("AuthMethod", "None")], csg=0, nsg=1))
            if r.h.w36:
                return r
        assert r.h.flags & 0x80, "target did not transit"
        keys = op_keys if op_keys is not None else [
            ("HeaderDigest", "None"), ("DataDigest", "None"), ("InitialR2T", "No"),
            ("ImmediateData", "Yes"), ("MaxBurstLength", "262144"),
            ("FirstBurstLength", "65536"), ("MaxRecvDataSegmentLength", "8192"),
            ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]
        (r,) = self.send(self.login_pdu(keys, csg=1, nsg=3))
        if r.h.w36 == 0:
            self.tsih = r.h.lun & 0xFFFF
            self.statsn = (r.h.w24 + 1) & 0xFFFFFFFF
            self.digests = (self.conn.params.header_digest, self.conn.params.data_digest)
        return r

    def command(self, cdb: bytes, *, read=False, write=False, edtl=0, data=b"", final=True,
                immediate=0, cmdsn=None, lun=0) -> tuple[int, list[Received]]:
        itt = self.next_itt()
        flags = (0x80 if final else 0) | (0x40 if read else 0) | (0x20 if write else 0) | 1
        sn = self.cmdsn if cmdsn is None else cmdsn
        if cmdsn is None and not immediate:
            self.cmdsn += 1
        wire = bhs(Opcode.SCSI_COMMAND, flags, immediate=immediate, data=data, lun=lun << 48,
                   itt=itt, w20=edtl, w24=sn, w28=self.statsn, cdb=cdb)
        return itt, self.send(self.wrap(wire))

    def data_out(self, itt, data, *, offset, datasn, ttt=0xFFFFFFFF, final=True):
        return self.send(self.wrap(bhs(Opcode.DATA_OUT, 0x80 if final else 0, data=data,
                                       itt=itt, w20=ttt, w28=self.statsn, w36=datasn,
                                       w40=offset)))

    def run(self, respond) -> list[Received]:
        """Complete every Execute event with respond(task) -> (status, data_in, sense)."""
        out = []
        for ev in self.events():
            if isinstance(ev, Execute):
                status, data_in, sense = respond(ev.task)
                self.conn.complete(ev.task, status, data_in, sense)
                out += split_pdus(b"".join(bytes(p) for p in self.conn.outbox), *self.digests)
                self.conn.outbox.clear()
        return out


@pytest.fixture
def registry():
    reg = TargetRegistry("iqn.2026-11.org.strato")
    reg.add(IQN, object())
    reg.add(OTHER_IQN, object(), chap_user="alice", chap_secret="wonderland12",
            mutual_user="tgt", mutual_secret="looking-glass")
    return reg


@pytest.fixture
def initiator(registry):
    return Initiator(registry)


@pytest.fixture
def logged_in(initiator):
    r = initiator.login()
    assert r.h.w36 == 0
    initiator.events()
    return initiator


@pytest.fixture
def tools():
    """The helpers above, for tests that build raw PDUs or extra initiators."""
    import types
    return types.SimpleNamespace(bhs=bhs, split_pdus=split_pdus, Initiator=Initiator, IQN=IQN,
                                 OTHER_IQN=OTHER_IQN)
