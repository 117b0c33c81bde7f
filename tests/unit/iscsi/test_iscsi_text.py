"""Text key=value parsing limits and negotiation outcomes."""
import pytest

from blockserver.iscsi.params import Negotiator, SessionParams
from blockserver.iscsi.text import TextError, encode_text, parse_text


def test_round_trip():
    pairs = [("InitiatorName", "iqn.x"), ("X-com.example.key", "a=b"), ("Empty", "")]
    assert parse_text(encode_text(pairs)) == pairs
    assert parse_text(b"") == [] and parse_text(b"\0\0") == []


@pytest.mark.parametrize("raw", [
    b"A=1",                     # no NUL terminator
    b"A\0",                     # no '='
    b"A=1\0A=2\0",              # repeated key
    b"bad key=1\0",             # space in key
    b"=1\0",                    # empty key
    b"K" * 64 + b"=1\0",        # key too long
    b"A=" + b"v" * 8193 + b"\0",
    b"A=\xff\0",                # not UTF-8
    b"".join(b"K%d=1\0" % i for i in range(257)),
])
def test_refused(raw):
    with pytest.raises(TextError):
        parse_text(raw)


def test_total_limit():
    with pytest.raises(TextError):
        parse_text(b"A=" + b"x" * 100 + b"\0", limit=50)


def test_negotiation_rules():
    n = Negotiator()
    assert n.respond("HeaderDigest", "CRC32C,None") == "CRC32C"
    assert n.respond("DataDigest", "None") == "None"
    assert n.respond("MaxBurstLength", "999999999") == "Reject"      # out of range
    assert n.respond("MaxBurstLength", "1048576") == "1048576"
    assert n.respond("FirstBurstLength", "2097152") == "2097152"
    assert n.respond("InitialR2T", "No") == "No"
    assert n.respond("ImmediateData", "No") == "No"
    assert n.respond("MaxOutstandingR2T", "64") == "16"
    assert n.respond("ErrorRecoveryLevel", "2") == "0"
    assert n.respond("DefaultTime2Wait", "0") == "2"
    assert n.respond("MaxRecvDataSegmentLength", "4096") is None
    assert n.respond("IFMarker", "No") == "No"
    assert n.respond("X-vendor-thing", "1") == "NotUnderstood"
    assert n.respond("DataPDUInOrder", "maybe") == "Reject"
    p = n.params()
    assert p.header_digest and not p.data_digest
    assert p.max_send_data_segment == 4096
    assert p.first_burst_length == 1048576          # clamped to MaxBurstLength
    assert not p.initial_r2t and not p.immediate_data
    assert p.max_outstanding_r2t == 16 and p.error_recovery_level == 0


def test_defaults():
    p = Negotiator().params()
    assert p == SessionParams()
    assert p.initial_r2t and p.immediate_data and p.max_send_data_segment == 8192
