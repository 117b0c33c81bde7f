"""iSCSI wire constants (RFC 7143): opcodes, flag bits, reason and status codes, framing limits.

Enums for every code that appears on the wire, so logs and tests say names, not numbers.
"""
from __future__ import annotations

import enum


class Opcode(enum.IntEnum):
    # initiator -> target
    NOP_OUT = 0x00
    SCSI_COMMAND = 0x01
    TASK_MGMT_REQUEST = 0x02
    LOGIN_REQUEST = 0x03
    TEXT_REQUEST = 0x04
    DATA_OUT = 0x05
    LOGOUT_REQUEST = 0x06
    SNACK_REQUEST = 0x10
    # target -> initiator
    NOP_IN = 0x20
    SCSI_RESPONSE = 0x21
    TASK_MGMT_RESPONSE = 0x22
    LOGIN_RESPONSE = 0x23
    TEXT_RESPONSE = 0x24
    DATA_IN = 0x25
    LOGOUT_RESPONSE = 0x26
    R2T = 0x31
    ASYNC_MESSAGE = 0x32
    REJECT = 0x3F


INITIATOR_OPCODES = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10})

# Byte-1 flag bits
FINAL = 0x80
CONTINUE = 0x40          # Text and Login requests/responses
CMD_READ = 0x40          # SCSI Command R
CMD_WRITE = 0x20         # SCSI Command W
CMD_ATTR_MASK = 0x07
LOGIN_TRANSIT = 0x80
LOGIN_CONTINUE = 0x40
RESP_OVERFLOW = 0x04     # SCSI Response / Data-In O
RESP_UNDERFLOW = 0x02    # SCSI Response / Data-In U
DATAIN_STATUS = 0x01     # Data-In S
DATAIN_ACK = 0x40        # Data-In A

RESERVED_TAG = 0xFFFFFFFF
BHS_LEN = 48
DIGEST_LEN = 4

# Framing limits: what this target accepts before it refuses a PDU.
MAX_RECV_DATA_SEGMENT = 262144       # our MaxRecvDataSegmentLength (declared)
LOGIN_MAX_TEXT = 65536               # all text of one login/text exchange, across C-bit PDUs
MAX_AHS = 1020                       # TotalAHSLength is one byte of 4-byte words
MAX_KEY_LEN = 63                     # RFC 7143 6.1: keys are at most 63 bytes
MAX_VALUE_LEN = 8192                 # 255 for most keys; CHAP values may be long (6.1)
MAX_KEYS = 256
CMD_WINDOW = 128                     # CmdSN window one session gets (MaxCmdSN - ExpCmdSN + 1)


class Stage(enum.IntEnum):
    SECURITY = 0
    OPERATIONAL = 1
    FULL_FEATURE = 3


class RejectReason(enum.IntEnum):
    DATA_DIGEST_ERROR = 0x02
    SNACK_REJECT = 0x03
    PROTOCOL_ERROR = 0x04
    COMMAND_NOT_SUPPORTED = 0x05
    IMMEDIATE_COMMAND_REJECT = 0x06
    TASK_IN_PROGRESS = 0x07
    INVALID_DATA_ACK = 0x08
    INVALID_PDU_FIELD = 0x09
    LONG_OP_REJECT = 0x0A
    WAITING_FOR_LOGOUT = 0x0C


class LoginStatus(enum.IntEnum):
    """Status-Class << 8 | Status-Detail (RFC 7143 11.13.5)."""
    SUCCESS = 0x0000
    INITIATOR_ERROR = 0x0200
    AUTH_FAILURE = 0x0201
    AUTHORIZATION_FAILURE = 0x0202
    NOT_FOUND = 0x0203
    TARGET_REMOVED = 0x0204
    UNSUPPORTED_VERSION = 0x0205
    TOO_MANY_CONNECTIONS = 0x0206
    MISSING_PARAMETER = 0x0207
    CANT_INCLUDE_IN_SESSION = 0x0208
    SESSION_TYPE_NOT_SUPPORTED = 0x0209
    SESSION_DOES_NOT_EXIST = 0x020A
    INVALID_DURING_LOGIN = 0x020B
    TARGET_ERROR = 0x0300
    SERVICE_UNAVAILABLE = 0x0301
    OUT_OF_RESOURCES = 0x0302


class TmfFunction(enum.IntEnum):
    ABORT_TASK = 1
    ABORT_TASK_SET = 2
    CLEAR_ACA = 3
    CLEAR_TASK_SET = 4
    LOGICAL_UNIT_RESET = 5
    TARGET_WARM_RESET = 6
    TARGET_COLD_RESET = 7
    TASK_REASSIGN = 8


class TmfResponse(enum.IntEnum):
    COMPLETE = 0
    TASK_DOES_NOT_EXIST = 1
    LUN_DOES_NOT_EXIST = 2
    TASK_STILL_ALLEGIANT = 3
    REASSIGNMENT_NOT_SUPPORTED = 4
    NOT_SUPPORTED = 5
    AUTHORIZATION_FAILED = 6
    REJECTED = 255


class LogoutReason(enum.IntEnum):
    CLOSE_SESSION = 0
    CLOSE_CONNECTION = 1
    REMOVE_FOR_RECOVERY = 2


class LogoutResponse(enum.IntEnum):
    CLOSED = 0
    CID_NOT_FOUND = 1
    RECOVERY_NOT_SUPPORTED = 2
    CLEANUP_FAILED = 3


class AsyncEvent(enum.IntEnum):
    SCSI_EVENT = 0
    LOGOUT_REQUEST = 1
    CONNECTION_DROP = 2
    SESSION_DROP = 3
    NEGOTIATION_REQUEST = 4
