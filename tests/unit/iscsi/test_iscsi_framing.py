"""PduReader framing: whole, byte at a time, with trailing garbage; digests and padding by value."""
import pytest

from blockserver.iscsi.constants import Opcode, RejectReason
from blockserver.iscsi.digest import digest
from blockserver.iscsi.errors import DigestError, ProtocolError
from blockserver.iscsi.pdu import Framer, PduReader, field_to_lun, lun_to_field


def _nop(tools, data=b"", itt=1):
    return tools.bhs(Opcode.NOP_OUT, itt=itt, data=data, immediate=1)


def _feed_all(reader, wire, step):
    out = []
    for i in range(0, len(wire), step):
        out += reader.feed(wire[i:i + step])
    return out


@pytest.mark.parametrize("step", [1, 3, 47, 48, 49, 10_000])
def test_whole_and_split(tools, step):
    wire = _nop(tools, b"hello", 1) + _nop(tools, b"", 2) + _nop(tools, b"x" * 8, 3)
    pdus = _feed_all(PduReader(), wire, step)
    assert [(p.bhs.itt, p.data) for p in pdus] == [(1, b"hello"), (2, b""), (3, b"x" * 8)]


def test_trailing_garbage_stays_buffered(tools):
    reader = PduReader()
    pdus = reader.feed(_nop(tools, b"abc") + b"\x00" * 20)
    assert len(pdus) == 1 and reader.buffered == 20


def test_oversized_segment_is_fatal(tools):
    reader = PduReader(max_data_segment=1024)
    with pytest.raises(ProtocolError) as info:
        reader.feed(_nop(tools, b"x" * 1028))
    assert info.value.fatal and info.value.reason == RejectReason.PROTOCOL_ERROR


def test_nonzero_padding_refused_and_stream_stays_in_sync(tools):
    bad = bytearray(_nop(tools, b"abc", 1))
    bad[-1] = 0x55
    reader = PduReader()
    with pytest.raises(ProtocolError) as info:
        reader.feed(bytes(bad) + _nop(tools, b"", 2))
    assert not info.value.fatal
    assert [p.bhs.itt for p in reader.feed(b"")] == [2]


def test_target_opcode_from_initiator_refused(tools):
    reader = PduReader()
    with pytest.raises(ProtocolError) as info:
        reader.feed(tools.bhs(Opcode.SCSI_RESPONSE, itt=5))
    assert info.value.reason == RejectReason.COMMAND_NOT_SUPPORTED


def _with_digests(tools, data, itt=1):
    raw = _nop(tools, data, itt)
    header, body = raw[:48], raw[48:]
    return header + digest(header) + body + (digest(body) if data else b"")


def test_digests_checked(tools):
    reader = PduReader()
    reader.header_digest = reader.data_digest = True
    wire = _with_digests(tools, b"payload!") + _with_digests(tools, b"", 2)
    assert [p.data for p in _feed_all(reader, wire, 5)] == [b"payload!", b""]
    broken = bytearray(_with_digests(tools, b"payload!"))
    broken[50] ^= 1                       # header digest
    with pytest.raises(DigestError) as info:
        reader.feed(bytes(broken))
    assert info.value.fatal
    reader = PduReader()
    reader.header_digest = reader.data_digest = True
    broken = bytearray(_with_digests(tools, b"payload!"))
    broken[-1] ^= 1                       # data digest
    with pytest.raises(DigestError) as info:
        reader.feed(bytes(broken))
    assert info.value.reason == RejectReason.DATA_DIGEST_ERROR and info.value.fatal


def test_framer_pads_and_digests():
    framer = Framer()
    assert b"".join(framer.frame(b"h" * 48, b"abcde")) == b"h" * 48 + b"abcde\0\0\0"
    framer.header_digest = framer.data_digest = True
    parts = b"".join(framer.frame(b"h" * 48, b"abcde"))
    assert parts[48:52] == digest(b"h" * 48)
    assert parts[-4:] == digest(b"abcde\0\0\0")


def test_lun_field():
    for lun in (0, 1, 255, 256, 16383):
        assert field_to_lun(lun_to_field(lun)) == lun
    assert field_to_lun(0x0001_0000_0000_0001) == -1     # second level used
    assert field_to_lun(0xC000 << 48) == -1              # extended addressing


def _feed_buffered(reader, wire, step):
    """What asyncio.BufferedProtocol does: fill get_buffer(), then buffer_updated(n)."""
    out, pos = [], 0
    while pos < len(wire):
        target = reader.get_buffer(-1)
        n = min(len(target), step, len(wire) - pos)
        target[:n] = wire[pos:pos + n]
        out += reader.buffer_updated(n)
        pos += n
    return out


def _mixed_wire(tools, digests=False):
    pdus = [_nop(tools, b"small", 1), _nop(tools, bytes(range(256)) * 160 + b"xyz", 2),
            _nop(tools, b"", 3), _nop(tools, b"L" * 65536, 4), _nop(tools, b"t", 5)]
    if digests:
        pdus = [_with_digests(tools, p[48:48 + int.from_bytes(p[5:8], "big")], i + 1)
                for i, p in enumerate(pdus)]
    return b"".join(pdus)


@pytest.mark.parametrize("digests", [False, True])
@pytest.mark.parametrize("step", [1, 7, 48, 1000, 16384, 70000, 1 << 20])
def test_large_segments_same_through_feed_and_buffered(tools, step, digests):
    wire = _mixed_wire(tools, digests)
    results = []
    for how in (_feed_all, _feed_buffered):
        reader = PduReader()
        reader.header_digest = reader.data_digest = digests
        results.append([(p.bhs.itt, bytes(p.data)) for p in how(reader, wire, step)])
        assert reader.buffered == 0
    assert results[0] == results[1]
    assert [itt for itt, _ in results[0]] == [1, 2, 3, 4, 5]
    assert results[0][1][1] == bytes(range(256)) * 160 + b"xyz"


@pytest.mark.parametrize("buffered", [False, True])
def test_bad_padding_of_a_large_segment_keeps_the_stream(tools, buffered):
    bad = bytearray(_nop(tools, b"p" * 20001, 1))
    bad[-1] = 7
    wire = bytes(bad) + _nop(tools, b"next", 2)
    reader = PduReader()
    errors, got, pos = [], [], 0
    while pos < len(wire):                       # keep delivering after an error, as a socket
        n = min(4096, len(wire) - pos)
        try:
            if buffered:
                target = reader.get_buffer(-1)
                n = min(n, len(target))
                target[:n] = wire[pos:pos + n]
                got += reader.buffer_updated(n)
            else:
                got += reader.feed(wire[pos:pos + n])
        except ProtocolError as exc:
            errors.append(exc)
            got += reader.take_pending()
        pos += n
    got += reader.feed(b"")
    assert len(errors) == 1 and not errors[0].fatal
    assert [p.bhs.itt for p in got] == [2]


def test_after_a_large_segment_the_next_read_is_short(tools):
    # a stream of big writes: each PDU after a large segment is read with a short first read,
    # so at most HEADER_READ bytes of its segment go through the scratch buffer (and get copied);
    # a small PDU brings back full-size reads for streams of small PDUs
    from blockserver.iscsi.pdu import HEADER_READ, SCRATCH_LEN
    big = [_nop(tools, bytes([i]) * 131072, i + 1) for i in range(3)]
    wire = b"".join(big) + _nop(tools, b"s", 4) + _nop(tools, b"t", 5)
    reader = PduReader()
    offered, got, pos = [], [], 0
    while pos < len(wire):
        target = reader.get_buffer(-1)
        offered.append(len(target))
        n = min(len(target), len(wire) - pos)
        target[:n] = wire[pos:pos + n]
        got += reader.buffer_updated(n)
        pos += n
    assert [(p.bhs.itt, bytes(p.data)) for p in got] == \
        [(i + 1, bytes([i]) * 131072) for i in range(3)] + [(4, b"s"), (5, b"t")]
    assert offered[0] == SCRATCH_LEN and offered.count(HEADER_READ) == 3
    assert reader.get_buffer(-1).nbytes == SCRATCH_LEN
