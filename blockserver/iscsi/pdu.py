"""iSCSI PDU framing, sans-I/O: bytes in -> Pdu objects out, target PDUs -> lists of buffers out.

PduReader reassembles PDUs from a byte stream (BHS, AHS, header digest, data segment, padding,
data digest), checking lengths against named limits, padding and digests by value. The builders
return the wire parts of one target PDU as a list (header [+digest], data, pad [, digest]) so the
server can writelines() them without joining payloads. The BHS itself is parsed and built by
native.iscsipdu (compiled, or its pure twin).
"""
from __future__ import annotations

from collections import namedtuple

from native.chunkio import recv_buffer
from native.iscsipdu import build_bhs, parse_bhs

from .constants import (BHS_LEN, INITIATOR_OPCODES, MAX_RECV_DATA_SEGMENT, Opcode,
                        RejectReason)
from .digest import digest, digest_of_parts
from .errors import DigestError, ProtocolError

Bhs = namedtuple("Bhs", ("opcode", "immediate", "flags", "byte2", "byte3", "ahs_length",
                         "data_length", "lun", "itt", "w20", "w24", "w28", "w32", "w36", "w40",
                         "w44"))
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")   # indexed by length % 4
SEGMENT_MIN = 16384      # data segments at least this long are received into their own buffer
SCRATCH_LEN = 65536      # receive buffer for everything else
# After a PDU with a large segment, the next read asks for this much only: the next PDU is likely
# large too (a stream of big writes), and whatever of its segment lands in the scratch buffer
# has to be copied into the segment's own buffer (up to 64 KiB per 128 KiB write otherwise).
HEADER_READ = 4096
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
    bad padding raises after the PDU has been consumed (a data digest error is fatal at
    ErrorRecoveryLevel 0: nothing can ask for the data again), so the stream stays in sync.

    Large data segments (write data) skip the reassembly buffer: once a PDU's header is in, its
    segment gets a buffer of its own that get_buffer()/buffer_updated() let the socket fill
    directly, and that becomes the PDU's data without another copy.
    """

    def __init__(self, max_data_segment: int = MAX_RECV_DATA_SEGMENT):
        self.max_data_segment = max_data_segment
        self.header_digest = False
        self.data_digest = False
        self._buf = bytearray()
        self._pending: list[Pdu] = []
        self._seg: bytearray | None = None    # data + padding + digest of the PDU in progress
        self._seg_filled = 0
        self._seg_meta: tuple = ()            # (fields, header, ahs) of that PDU
        self._scratch = memoryview(bytearray(SCRATCH_LEN))
        self._gave_segment = False
        self._after_segment = False           # the last PDU had a large segment
        # fastread.ReadFastPath, set by the connection in full feature phase: answers the plain
        # READs at the head of freshly received bytes before they are parsed into Pdu objects
        self.fast = None

    @property
    def buffered(self) -> int:
        return len(self._buf) + self._seg_filled

    # -- buffered-protocol entry points ----------------------------------------------------------
    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Where the next received bytes should go (then call buffer_updated(n))."""
        if self._seg is not None:
            self._gave_segment = True
            return memoryview(self._seg)[self._seg_filled:]
        self._gave_segment = False
        if self._after_segment:
            return self._scratch[:HEADER_READ]
        return self._scratch

    def buffer_updated(self, nbytes: int) -> list[Pdu]:
        """nbytes landed in the buffer get_buffer() returned: parse them like feed()."""
        if self._gave_segment:
            self._gave_segment = False
            out = self._pending = []
            self._seg_filled += nbytes
            if self._seg_filled == len(self._seg):
                out.append(self._complete_segment())
                self._after_segment = True
            self._pending = []
            return out
        self._after_segment = False
        fast = self.fast
        if fast is not None and not self._buf and self._seg is None:
            start = fast(self._scratch, 0, nbytes)
            if start:
                if start == nbytes:
                    return []
                return self.feed(self._scratch[start:nbytes])
        return self.feed(self._scratch[:nbytes])

    # -- parsing -------------------------------------------------------------------------------
    def feed(self, data) -> list[Pdu]:
        """Append bytes; return the PDUs completed. Raises ProtocolError for a bad PDU (the PDUs
        completed before it are then available from take_pending())."""
        out = self._pending = []
        if self._seg is not None:
            data = memoryview(data)
            room = len(self._seg) - self._seg_filled
            take = data[:room]
            self._seg[self._seg_filled:self._seg_filled + len(take)] = take
            self._seg_filled += len(take)
            data = data[room:]
            if self._seg_filled < len(self._seg):
                self._pending = []
                return out
            self._buf += data                # what follows is safe even if the segment is bad
            data = b""
            out.append(self._complete_segment())
        buf = self._buf
        buf += data
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
                complete = end - pos >= total
                if not complete and (dlen < SEGMENT_MIN or end < data_start):
                    break
                header = bytes(view[pos:pos + BHS_LEN])
                if hd and digest(view[pos:hdr_end]) != view[hdr_end:data_start]:
                    raise DigestError(RejectReason.PROTOCOL_ERROR, "header digest mismatch",
                                      fatal=True, header=header)
                ahs = bytes(view[pos + BHS_LEN:hdr_end]) if ahs_len else b""
                if not complete:
                    # a large segment still on its way: give it its own buffer
                    # not zeroed: every byte is received before the segment is used
                    seg = recv_buffer(padded + dd)
                    have = end - data_start
                    seg[:have] = view[data_start:end]
                    self._seg, self._seg_filled = seg, have
                    self._seg_meta = (fields, header, ahs)
                    pos = end
                    break
                data = b""
                bad = None
                if dlen:
                    data = bytes(view[data_start:data_start + dlen])
                    bad = _check_segment(view[data_start:data_start + padded + dd], dlen, dd,
                                         header)
                pos += total
                if bad is None and fields[0] not in INITIATOR_OPCODES:
                    bad = _not_initiator(fields[0], header)
                if bad is not None:
                    raise bad
                out.append(Pdu(_new_bhs(Bhs, fields), header, ahs, data))
        finally:
            view.release()
            if pos:
                del buf[:pos]
        self._pending = []
        return out

    def _complete_segment(self) -> Pdu:
        seg = self._seg
        fields, header, ahs = self._seg_meta
        self._seg, self._seg_filled, self._seg_meta = None, 0, ()
        dlen = fields[6]
        dd = 4 if self.data_digest else 0
        bad = _check_segment(memoryview(seg), dlen, dd, header)
        if bad is None and fields[0] not in INITIATOR_OPCODES:
            bad = _not_initiator(fields[0], header)
        if bad is not None:
            raise bad
        data = seg if len(seg) == dlen else memoryview(seg)[:dlen]
        return Pdu(_new_bhs(Bhs, fields), header, ahs, data)

    def take_pending(self) -> list[Pdu]:
        """After feed() raised: the PDUs that were complete before the bad one."""
        out, self._pending = self._pending, []
        return out


def _check_segment(seg, dlen: int, dd: int, header: bytes):
    """The error for a data segment (data + padding [+ digest]) with bad padding or digest."""
    padded = len(seg) - dd
    if padded != dlen and any(seg[dlen:padded]):
        return ProtocolError(RejectReason.PROTOCOL_ERROR, "non-zero padding", header=header)
    if dd and digest(seg[:padded]) != seg[padded:padded + 4]:
        # ERL 0: the data cannot be asked for again, so the connection ends
        return DigestError(RejectReason.DATA_DIGEST_ERROR, "data digest mismatch", fatal=True,
                           header=header)
    return None


def _not_initiator(opcode: int, header: bytes) -> ProtocolError:
    return ProtocolError(RejectReason.COMMAND_NOT_SUPPORTED,
                         f"opcode {opcode:#x} is not an initiator opcode", header=header)


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
