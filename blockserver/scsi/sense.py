"""The SCSI error model: ScsiError carries the sense key, ASC/ASCQ and optional field pointer or
INFORMATION of a CHECK CONDITION, and build_sense() turns it into fixed (70h) or descriptor (72h)
sense data at the one boundary (LogicalUnit.execute). Nothing else becomes a CHECK CONDITION.
"""
from __future__ import annotations

from dataclasses import dataclass

# Sense keys (SPC-4 table 45)
NO_SENSE = 0x0
RECOVERED_ERROR = 0x1
NOT_READY = 0x2
MEDIUM_ERROR = 0x3
HARDWARE_ERROR = 0x4
ILLEGAL_REQUEST = 0x5
UNIT_ATTENTION = 0x6
DATA_PROTECT = 0x7
ABORTED_COMMAND = 0xB
MISCOMPARE = 0xE

FIXED_SENSE_LEN = 18


@dataclass(eq=False)
class ScsiError(Exception):
    """A command that ends in CHECK CONDITION with this sense.

    Not frozen: the interpreter sets __traceback__ on exceptions as they propagate."""
    key: int
    asc: int
    ascq: int = 0
    field_byte: int | None = None   # sense-key specific field pointer: byte of the CDB/parameters
    field_bit: int | None = None    # ... and bit within it (None: whole byte)
    in_cdb: bool = True             # C/D bit: pointer into the CDB (True) or parameter data
    information: int | None = None  # INFORMATION field (MISCOMPARE offset, ...)

    def __str__(self) -> str:
        return f"sense {self.key:x}/{self.asc:02x}/{self.ascq:02x}"


def _sks(err: ScsiError) -> bytes | None:
    if err.field_byte is None:
        return None
    b = 0x80 | (0x40 if err.in_cdb else 0)
    if err.field_bit is not None:
        b |= 0x08 | (err.field_bit & 7)
    return bytes([b]) + (err.field_byte & 0xFFFF).to_bytes(2, "big")


def build_sense(err: ScsiError, descriptor: bool = False) -> bytes:
    sks = _sks(err)
    if descriptor:
        body = b""
        if err.information is not None:
            body += bytes([0x00, 0x0A, 0x80, 0]) + (err.information & (2**64 - 1)).to_bytes(8, "big")
        if sks is not None:
            body += bytes([0x02, 0x06, 0, 0]) + sks + b"\0"
        return bytes([0x72, err.key, err.asc, err.ascq, 0, 0, 0, len(body)]) + body
    out = bytearray(FIXED_SENSE_LEN)
    out[0] = 0x70
    out[2] = err.key
    if err.information is not None:
        out[0] |= 0x80  # VALID: INFORMATION is meaningful
        out[3:7] = (err.information & 0xFFFFFFFF).to_bytes(4, "big")
    out[7] = FIXED_SENSE_LEN - 8
    out[12] = err.asc
    out[13] = err.ascq
    if sks is not None:
        out[15:18] = sks
    return bytes(out)


# -- the errors this device reports, named once ------------------------------------------------

def invalid_opcode() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x20, 0x00, field_byte=0)


def invalid_field_in_cdb(byte: int | None = None, bit: int | None = None) -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x24, 0x00, field_byte=byte, field_bit=bit)


def invalid_field_in_param(byte: int | None = None, bit: int | None = None) -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x26, 0x00, field_byte=byte, field_bit=bit, in_cdb=False)


def param_list_length_error() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x1A, 0x00)


def lba_out_of_range() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x21, 0x00)


def lun_not_supported() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x25, 0x00)


def write_protected() -> ScsiError:
    return ScsiError(DATA_PROTECT, 0x27, 0x00)


def miscompare_verify(offset: int) -> ScsiError:
    return ScsiError(MISCOMPARE, 0x1D, 0x00, information=offset)


def medium_not_present() -> ScsiError:
    return ScsiError(NOT_READY, 0x3A, 0x00)


def not_ready_stopped() -> ScsiError:
    # LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED (START STOP UNIT with START=1)
    return ScsiError(NOT_READY, 0x04, 0x02)


def medium_removal_prevented() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x53, 0x02)


def io_error() -> ScsiError:
    return ScsiError(MEDIUM_ERROR, 0x11, 0x00)  # UNRECOVERED READ ERROR


def write_error() -> ScsiError:
    return ScsiError(MEDIUM_ERROR, 0x0C, 0x00)


def internal_target_failure() -> ScsiError:
    return ScsiError(HARDWARE_ERROR, 0x44, 0x00)


# Unit attentions (key 6)
UA_POWER_ON = (0x29, 0x00)
UA_POWER_ON_OCCURRED = (0x29, 0x01)
UA_BUS_RESET = (0x29, 0x02)
UA_LUN_RESET = (0x29, 0x03)
UA_NEXUS_LOSS = (0x29, 0x07)
UA_MODE_PARAMS_CHANGED = (0x2A, 0x01)
UA_RESERVATIONS_PREEMPTED = (0x2A, 0x03)
UA_RESERVATIONS_RELEASED = (0x2A, 0x04)
UA_REGISTRATIONS_PREEMPTED = (0x2A, 0x05)
UA_CAPACITY_CHANGED = (0x2A, 0x09)
UA_COMMANDS_CLEARED_BY_ANOTHER = (0x2F, 0x00)
UA_REPORTED_LUNS_CHANGED = (0x3F, 0x0E)
