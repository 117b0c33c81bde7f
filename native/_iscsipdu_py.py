"""Pure-Python reference for native.iscsipdu: the iSCSI Basic Header Segment (RFC 7143 11.2).

A BHS is 48 bytes; parse_bhs() turns it into one flat tuple of its generic fields and build_bhs()
does the reverse, so the opcode-specific meaning of each word stays in blockserver/iscsi/pdu.py.
Tuple layout (FIELDS): opcode, immediate, flags (byte 1), byte2, byte3, ahs_length (bytes, always a
multiple of 4), data_length (24 bits), lun (bytes 8-15 as a big-endian u64), itt, then the seven
big-endian words at offsets 20, 24, ..., 44. The compiled twin must agree bit for bit.
"""
import struct

BHS_LEN = 48
FIELDS = ("opcode", "immediate", "flags", "byte2", "byte3", "ahs_length", "data_length", "lun",
          "itt", "w20", "w24", "w28", "w32", "w36", "w40", "w44")

_BHS = struct.Struct(">BBBBIQI7I")


def parse_bhs(buf, offset: int = 0) -> tuple:
    """The fields of the 48-byte BHS at buf[offset:]; ValueError when fewer bytes are there."""
    if offset < 0 or len(buf) - offset < BHS_LEN:
        raise ValueError("a BHS needs 48 bytes")
    (b0, flags, b2, b3, lens, lun, itt, w20, w24, w28, w32, w36, w40,
     w44) = _BHS.unpack_from(buf, offset)
    return (b0 & 0x3F, (b0 >> 6) & 1, flags, b2, b3, (lens >> 24) * 4, lens & 0xFFFFFF, lun, itt,
            w20, w24, w28, w32, w36, w40, w44)


def _check(opcode, immediate, ahs_length, data_length):
    if not 0 <= opcode <= 0x3F:
        raise ValueError("opcode out of range")
    if immediate not in (0, 1, True, False):
        raise ValueError("immediate is a bit")
    if ahs_length % 4 or not 0 <= ahs_length <= 255 * 4:
        raise ValueError("ahs_length must be a multiple of 4 below 1024")
    if not 0 <= data_length <= 0xFFFFFF:
        raise ValueError("data_length is 24 bits")


def build_bhs(opcode, immediate, flags, byte2, byte3, ahs_length, data_length, lun, itt,
              w20, w24, w28, w32, w36, w40, w44) -> bytes:
    """48 bytes of BHS from the fields parse_bhs() returns (OverflowError: a word out of range)."""
    _check(opcode, immediate, ahs_length, data_length)
    try:
        return _BHS.pack((immediate << 6) | opcode, flags, byte2, byte3,
                         (ahs_length // 4) << 24 | data_length, lun, itt,
                         w20, w24, w28, w32, w36, w40, w44)
    except struct.error as exc:
        raise OverflowError(str(exc)) from None


def build_bhs_into(buf, offset, opcode, immediate, flags, byte2, byte3, ahs_length, data_length,
                   lun, itt, w20, w24, w28, w32, w36, w40, w44) -> None:
    """build_bhs() written into the writable buffer buf at offset (no allocation)."""
    _check(opcode, immediate, ahs_length, data_length)
    if offset < 0 or len(buf) - offset < BHS_LEN:
        raise ValueError("a BHS needs 48 bytes")
    try:
        _BHS.pack_into(buf, offset, (immediate << 6) | opcode, flags, byte2, byte3,
                       (ahs_length // 4) << 24 | data_length, lun, itt,
                       w20, w24, w28, w32, w36, w40, w44)
    except struct.error as exc:
        raise OverflowError(str(exc)) from None


def pad_length(length: int) -> int:
    """Bytes of zero padding after a data segment of `length` bytes (segments end on 4 bytes)."""
    return -length & 3


def segment_lengths(ahs_length: int, data_length: int, header_digest: bool,
                    data_digest: bool) -> int:
    """Bytes that follow the BHS on the wire: AHS, header digest, padded data, data digest."""
    total = ahs_length + (4 if header_digest else 0)
    if data_length:
        total += data_length + (-data_length & 3) + (4 if data_digest else 0)
    return total
