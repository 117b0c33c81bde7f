"""native.iscsiread: the iSCSI READ fast path, on the pure twin and the compiled module.

Every rule of the contract (native/_iscsiread_py.py) has a case: what is answered, byte for byte,
and every PDU that must be left to the general path. Hypothesis checks that the two
implementations agree on arbitrary mixes of good, bent and random PDUs.
"""
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NATIVE_MODULE = "iscsiread"
BS = 512
NUM_BLOCKS = 64          # the file holds 64 blocks
WINDOW = 128


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    """A 32 KiB file whose block i is filled with byte i (in the page cache: just written)."""
    path = tmp_path_factory.mktemp("iscsiread") / "vol"
    path.write_bytes(b"".join(bytes([i]) * BS for i in range(NUM_BLOCKS)))
    fd = os.open(path, os.O_RDONLY)
    os.pread(fd, NUM_BLOCKS * BS, 0)     # make sure every page is cached
    yield fd
    os.close(fd)


def read_pdu(lba=0, blocks=8, *, itt=1, cmdsn=1, edtl=None, op=0x28, b0=0x01, flags=0xC1,
             lengths=0, lun=0, cdb1=0, control=0, data=b""):
    """A SCSI Command PDU carrying READ(10) (op 0x28) or READ(16) (op 0x88)."""
    edtl = blocks * BS if edtl is None else edtl
    if op == 0x88:
        cdb = struct.pack(">BBQIBB", op, cdb1, lba, blocks, 0, control)
    else:
        cdb = struct.pack(">BBIBHB", op, cdb1, lba, 0, blocks, control).ljust(16, b"\0")
    head = struct.pack(">BBxxIQIIII", b0, flags, lengths, lun, itt, edtl, cmdsn, 0)
    return head + cdb + data


def serve(impl, fd, wire, *, tasks=None, exp=1, high=WINDOW, stat=100, max_data=262144,
          max_blocks=1 << 16, num_blocks=NUM_BLOCKS, start=0):
    out = []
    buf = bytearray(wire)
    result = impl.serve_reads(memoryview(buf), start, len(buf), fd, BS, num_blocks, max_blocks,
                              max_data, tasks if tasks is not None else {}, exp, high, stat,
                              WINDOW, out)
    return result, [bytes(p) for p in out]


def expected_data_in(itt, lba, blocks, statsn, exp, high):
    head = struct.pack(">BBBBIQIIIIIIII", 0x25, 0x81, 0, 0, blocks * BS, 0, itt, 0xFFFFFFFF,
                       statsn, exp, high, 0, 0, 0)
    return head + b"".join(bytes([i]) * BS for i in range(lba, lba + blocks))


def test_read10_and_read16_answered_in_order(native_impl, volume):
    wire = (read_pdu(3, 2, itt=7, cmdsn=1) + read_pdu(60, 4, itt=8, cmdsn=2, op=0x88)
            + read_pdu(0, 1, itt=9, cmdsn=3, flags=0xC5))   # task attribute bits are ignored
    (pos, exp, high, stat), out = serve(native_impl, volume, wire)
    assert (pos, exp, stat) == (len(wire), 4, 103)
    assert high == 4 + WINDOW - 1
    assert out == [expected_data_in(7, 3, 2, 100, 2, 129), expected_data_in(8, 60, 4, 101, 3, 130),
                   expected_data_in(9, 0, 1, 102, 4, 131)]


def test_stops_at_the_first_pdu_for_the_general_path(native_impl, volume):
    wire = read_pdu(1, 1, itt=1, cmdsn=1) + read_pdu(70, 1, itt=2, cmdsn=2) + read_pdu(cmdsn=3)
    (pos, exp, high, stat), out = serve(native_impl, volume, wire)
    assert (pos, exp, high, stat) == (48, 2, WINDOW + 1, 101) and len(out) == 1


def test_window_counts_tasks_in_flight_and_never_moves_back(native_impl, volume):
    (_, exp, high, _), _ = serve(native_impl, volume, read_pdu(), tasks={5: None, 6: None},
                                 high=100)
    assert (exp, high) == (2, 2 + WINDOW - 1 - 2)
    (_, _, high, _), _ = serve(native_impl, volume, read_pdu(), high=500)
    assert high == 500
    # serial arithmetic across the 2^32 wrap
    (_, exp, high, _), out = serve(native_impl, volume, read_pdu(cmdsn=0xFFFFFFFF),
                                   exp=0xFFFFFFFF, high=0xFFFFFFFF)
    assert (exp, high) == (0, WINDOW - 1) and out[0][28:36] == struct.pack(">II", 0, WINDOW - 1)


@pytest.mark.parametrize("kwargs,why", [
    (dict(b0=0x41), "immediate"),
    (dict(b0=0x05), "not a SCSI Command"),
    (dict(flags=0xE1), "read and write"),
    (dict(flags=0x41), "not final"),
    (dict(flags=0xA1), "write"),
    (dict(lengths=0x01000000), "AHS"),
    (dict(lengths=4, data=b"abcd"), "data segment"),
    (dict(lun=1 << 48), "LUN 1"),
    (dict(itt=0xFFFFFFFF), "reserved ITT"),
    (dict(itt=42), "ITT in use"),
    (dict(cmdsn=2), "CmdSN ahead"),
    (dict(op=0x2A), "WRITE(10)"),
    (dict(op=0x08), "READ(6)"),
    (dict(cdb1=0x20), "RDPROTECT"),
    (dict(control=0x04), "NACA"),
    (dict(control=0x04, op=0x88), "NACA (16)"),
    (dict(blocks=0), "zero blocks"),
    (dict(lba=64, blocks=1), "LBA past the end"),
    (dict(lba=60, blocks=5), "range past the end"),
    (dict(lba=1 << 40, blocks=1, op=0x88), "LBA far past the end"),
    (dict(blocks=8, edtl=4095), "EDTL short: residual"),
    (dict(blocks=8, edtl=8192), "EDTL long: residual"),
])
def test_declined(native_impl, volume, kwargs, why):
    (pos, exp, high, stat), out = serve(native_impl, volume, read_pdu(**kwargs), tasks={42: None})
    assert (pos, exp, high, stat, out) == (0, 1, WINDOW, 100, []), why


def test_declined_by_limits_and_failed_reads(native_impl, volume, tmp_path):
    wire = read_pdu(0, 16)
    assert serve(native_impl, volume, wire, max_blocks=15)[0][0] == 0       # > MAXIMUM TRANSFER
    assert serve(native_impl, volume, wire, max_data=16 * BS - 4)[0][0] == 0  # > one Data-In
    assert serve(native_impl, -1, wire)[0][0] == 0                           # EBADF
    short = tmp_path / "short"
    short.write_bytes(bytes(BS))
    fd = os.open(short, os.O_RDONLY)
    try:   # the LU says 64 blocks but the file ends after one: a short read is not answered
        assert serve(native_impl, fd, wire)[0][0] == 0
    finally:
        os.close(fd)


def test_partial_header_and_offsets(native_impl, volume):
    wire = b"\0" * 5 + read_pdu() + read_pdu(cmdsn=2, itt=2)[:47]
    (pos, exp, _, _), out = serve(native_impl, volume, wire, start=5)
    assert (pos, exp, len(out)) == (53, 2, 1)
    with pytest.raises(ValueError):
        native_impl.serve_reads(memoryview(bytearray(10)), 0, 11, volume, BS, 1, 1, 1, {}, 0, 0,
                                0, WINDOW, [])


# -- agreement ------------------------------------------------------------------------------------

pdus = st.one_of(
    st.builds(read_pdu, st.integers(0, 70), st.integers(0, 9), itt=st.integers(0, 3),
              cmdsn=st.integers(1, 4), op=st.sampled_from([0x28, 0x88, 0x2A]),
              flags=st.sampled_from([0xC1, 0xC0, 0xE1, 0x81]), control=st.sampled_from([0, 4]),
              cdb1=st.sampled_from([0, 0x08, 0x20])),
    st.binary(min_size=0, max_size=60),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pdus, max_size=6), st.integers(1, 3), st.sampled_from([2048, 4096, 262144]))
def test_twins_agree(both_impls, volume, parts, exp, max_data):
    wire = b"".join(parts)
    results = [serve(both_impls[k], volume, wire, exp=exp, tasks={2: None}, max_data=max_data)
               for k in ("py", "c")]
    assert results[0] == results[1]
