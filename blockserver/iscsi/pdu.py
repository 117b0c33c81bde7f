"""iSCSI PDU framing, sans-I/O: bytes in -> Pdu objects out, target PDUs -> lists of buffers out.

PduReader reassembles PDUs from a byte stream (BHS, AHS, header digest, data segment, padding,
data digest), checking lengths against named limits, padding and digests by value. The builders
return the wire parts of one target PDU as a list (header [+digest], data, pad [, digest]) so the
server can writelines() them without joining payloads. The BHS itself is parsed and built by
native.iscsipdu (compiled, or its pure twin).
"""
from __future__ import annotations

from collections import namedtuple

from native.iscsipdu import build_bhs, parse_bhs

from .constants import (BHS_LEN, INITIATOR_OPCODES, MAX_RECV_DATA_SEGMENT, Opcode,
                        RejectReason)
from .digest import digest, digest_of_parts
from .errors import DigestError, ProtocolError

Bhs = namedtuple("Bhs", ("opcode", "immediate", "flags", "byte2", "byte3", "ahs_length",
                         "data_length", "lun", "itt", "w20", "w24", "w28", "w32", "w36", "w40",
                         "w44"))
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")   # indexed by length % 4
_new_bhs = tuple.__new__


class Pdu:
    """One received PDU: parsed header fields, the raw 48-byte BHS, AHS bytes and data segment."""
    __slots__ = ("bhs", "header", "ahs", "data")

    def __init__(self, bhs: Bhs, header: bytes, ahs: bytes, data):
        self.bhs = bhs
        self.header = header
        self.ahs = ahs
        self.data = data

    def __repr__(self) -> str:
        try:
            name = Opcode(self.bhs.opcode).name
        except ValueError:
            name = hex(self.bhs.opcode)
        return f"<Pdu {name} itt={self.bhs.itt:#x} dlen={self.bhs.data_length}>"


def parse_header(header) -> Bhs:
    return _new_bhs(Bhs, parse_bhs(header))


class PduReader:
    """Incremental PDU parser for one connection. feed() returns the complete PDUs received.

    A header digest error is fatal (the framing can no longer be trusted); a data digest error or
    bad padding raises after the PDU has been consumed (a data digest error is
    fatal at ErrorRecoveryLevel 0: nothing can ask for the data again), so the stream stays in sync.
    """

    def __init__(self, max_data_segment: int = MAX_RECV_DATA_SEGMENT):
        self.max_data_segment = max_data_segment
        self.header_digest = False
        self.data_digest = False
        self._buf = bytearray()
        self._pending: list[Pdu] = []

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data) -> list[Pdu]:
        """Append bytes; return the PDUs completed. Raises ProtocolError for a bad PDU (the PDUs
        completed before it are then available from take_pending())."""
        buf = self._buf
        buf += data
        out = self._pending = []
        pos = 0
        end = len(buf)
        hd = 4 if self.header_digest else 0
        dd = 4 if self.data_digest else 0
        view = memoryview(buf)          # slices of it copy once (a bytearray slice copies twice)
        try:
            while end - pos >= BHS_LEN:
                fields = parse_bhs(buf, pos)
                ahs_len = fields[5]
                dlen = fields[6]
                if dlen > self.max_data_segment:
                    raise ProtocolError(RejectReason.PROTOCOL_ERROR,
                                        f"data segment of {dlen} bytes exceeds "
                                        f"MaxRecvDataSegmentLength {self.max_data_segment}",
                                        fatal=True, header=bytes(view[pos:pos + BHS_LEN]))
                hdr_end = pos + BHS_LEN + ahs_len
                data_start = hdr_end + hd
                padded = dlen + (-dlen & 3)
                total = data_start - pos + (padded + dd if dlen else 0)
                if end - pos < total:
                    break
                header = bytes(view[pos:pos + BHS_LEN])
                if hd and digest(view[pos:hdr_end]) != view[hdr_end:data_start]:
                    raise DigestError(RejectReason.PROTOCOL_ERROR, "header digest mismatch",
                                      fatal=True, header=header)
                ahs = bytes(view[pos + BHS_LEN:hdr_end]) if ahs_len else b""
                data = b""
                bad = None
                if dlen:
                    data = bytes(view[data_start:data_start + dlen])
                    pad_end = data_start + padded
                    if padded != dlen and any(buf[data_start + dlen:pad_end]):
                        bad = ProtocolError(RejectReason.PROTOCOL_ERROR,
                                            "non-zero padding", header=header)
                    elif dd and digest(view[data_start:pad_end]) != view[pad_end:pad_end + 4]:
                        # ERL 0: the data cannot be asked for again, so the connection ends
                        bad = DigestError(RejectReason.DATA_DIGEST_ERROR, "data digest mismatch",
                                          fatal=True, header=header)
                pos += total
                if fields[0] not in INITIATOR_OPCODES:
                    bad = bad or ProtocolError(RejectReason.COMMAND_NOT_SUPPORTED,
                                               f"opcode {fields[0]:#x} is not an initiator "
                                               "opcode", header=header)
                if bad is not None:
                    raise bad
                out.append(Pdu(_new_bhs(Bhs, fields), header, ahs, data))
        finally:
            view.release()
            if pos:
                del buf[:pos]
        self._pending = []
        return out

    def take_pending(self) -> list[Pdu]:
        """After feed() raised: the PDUs that were complete before the bad one."""
        out, self._pending = self._pending, []
        return out


class Framer:
    """Builds target PDUs as wire parts, with the connection's negotiated digests."""
    __slots__ = ("header_digest", "data_digest")

    def __init__(self):
        self.header_digest = False
        self.data_digest = False

    def frame(self, header: bytes, data=b"") -> list:
        parts = [header + digest(header)] if self.header_digest else [header]
        n = len(data)
        if n:
            parts.append(data)
            pad = _PADS[n & 3]
            if pad:
                parts.append(pad)
            if self.data_digest:
                parts.append(digest_of_parts(data, pad))
        return parts


def lun_to_field(lun: int) -> int:
    """The 8-byte LUN field (SAM single-level: peripheral below 256, flat space above)."""
    if lun < 256:
        return lun << 48
    return (0x4000 | (lun & 0x3FFF)) << 48


def field_to_lun(field: int) -> int:
    """LUN number from the 8-byte field; -1 when it uses an addressing method we do not serve."""
    top = field >> 48
    method = top >> 14
    if field & 0xFFFFFFFFFFFF:
        return -1
    if method == 0:
        return -1 if top >> 8 else top & 0xFF
    if method == 1:
        return top & 0x3FFF
    return -1


def build(opcode: int, flags: int = 0x80, byte2: int = 0, byte3: int = 0, data_length: int = 0,
          lun: int = 0, itt: int = 0xFFFFFFFF, w20: int = 0, w24: int = 0, w28: int = 0,
          w32: int = 0, w36: int = 0, w40: int = 0, w44: int = 0) -> bytes:
    """A target BHS (never immediate, never with AHS)."""
    return build_bhs(opcode, 0, flags, byte2, byte3, 0, data_length, lun, itt, w20, w24, w28,
                     w32, w36, w40, w44)
