"""iSCSI Basic Header Segment parse/build: the compiled module when built, else the pure twin.

API (see native/_iscsipdu_py.py for the field layout): parse_bhs(buf, offset=0) -> tuple,
build_bhs(*fields) -> bytes, build_bhs_into(buf, offset, *fields), pad_length(n),
segment_lengths(ahs_length, data_length, header_digest, data_digest), BHS_LEN, FIELDS.
"""
from native import load

_impl = load("iscsipdu")

BHS_LEN = _impl.BHS_LEN
FIELDS = _impl.FIELDS
parse_bhs = _impl.parse_bhs
build_bhs = _impl.build_bhs
build_bhs_into = _impl.build_bhs_into
pad_length = _impl.pad_length
segment_lengths = _impl.segment_lengths
IMPLEMENTATION = _impl.__name__
