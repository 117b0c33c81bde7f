"""Operational parameter negotiation (RFC 7143 6.2, 13): one table of keys, one result record.

Each key has a kind (list, min, max, and, or, declarative) and this target's offer; respond()
computes the answer to an initiator's proposal and records the outcome. The outcome is the frozen
SessionParams the full-feature phase uses.
"""
from __future__ import annotations

from dataclasses import dataclass

from .constants import MAX_RECV_DATA_SEGMENT

NOT_UNDERSTOOD = "NotUnderstood"
IRRELEVANT = "Irrelevant"
REJECT = "Reject"


@dataclass(frozen=True)
class SessionParams:
    header_digest: bool = False
    data_digest: bool = False
    max_send_data_segment: int = 8192         # the initiator's MaxRecvDataSegmentLength
    max_recv_data_segment: int = MAX_RECV_DATA_SEGMENT
    max_burst_length: int = 262144
    first_burst_length: int = 65536
    immediate_data: bool = True
    initial_r2t: bool = True
    max_outstanding_r2t: int = 1
    error_recovery_level: int = 0
    max_connections: int = 1
    default_time2wait: int = 2
    default_time2retain: int = 20
    data_pdu_in_order: bool = True
    data_sequence_in_order: bool = True


@dataclass(frozen=True)
class Key:
    attr: str           # SessionParams field
    kind: str           # list | min | max | and | or | declare
    offer: object       # this target's value (for list: the values it supports, best first)
    low: int = 0
    high: int = 0


_MAX24 = (1 << 24) - 1
# Keys this target negotiates, with its own offer. Time2Retain 0: at ErrorRecoveryLevel 0 no
# task outlives its connection, so there is nothing to retain.
KEYS: dict[str, Key] = {
    "HeaderDigest": Key("header_digest", "list", ("CRC32C", "None")),
    "DataDigest": Key("data_digest", "list", ("CRC32C", "None")),
    "MaxRecvDataSegmentLength": Key("max_send_data_segment", "declare", None, 512, _MAX24),
    "MaxBurstLength": Key("max_burst_length", "min", 16776192, 512, _MAX24),
    "FirstBurstLength": Key("first_burst_length", "min", 16776192, 512, _MAX24),
    "ImmediateData": Key("immediate_data", "and", True),
    "InitialR2T": Key("initial_r2t", "or", False),
    "MaxOutstandingR2T": Key("max_outstanding_r2t", "min", 16, 1, 65535),
    "ErrorRecoveryLevel": Key("error_recovery_level", "min", 0, 0, 2),
    "MaxConnections": Key("max_connections", "min", 8, 1, 65535),
    "DefaultTime2Wait": Key("default_time2wait", "max", 2, 0, 3600),
    "DefaultTime2Retain": Key("default_time2retain", "min", 0, 0, 3600),
    "DataPDUInOrder": Key("data_pdu_in_order", "or", True),
    "DataSequenceInOrder": Key("data_sequence_in_order", "or", True),
}
# Keys from RFC 3720 that RFC 7143 dropped; old initiators still offer "No".
LEGACY_OFF = {"IFMarker": "No", "OFMarker": "No", "IFMarkInt": REJECT, "OFMarkInt": REJECT}
# Keys the login machine handles itself (names, session type, security).
LOGIN_KEYS = {"InitiatorName", "InitiatorAlias", "TargetName", "SessionType", "AuthMethod",
              "TargetAlias", "TargetAddress", "TargetPortalGroupTag", "CHAP_A", "CHAP_I",
              "CHAP_C", "CHAP_N", "CHAP_R", "SendTargets"}


def _yes_no(value: str) -> bool | None:
    return {"Yes": True, "No": False}.get(value)


def _number(value: str, key: Key) -> int | None:
    if not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if key.low <= number <= key.high else None


class Negotiator:
    """Negotiation state of one login: respond() per key, then params() for the outcome."""

    def __init__(self, base: SessionParams | None = None):
        self.values = dict(vars(base or SessionParams()))
        self.answered: set[str] = set()

    def respond(self, name: str, value: str) -> str | None:
        """The value to answer `name=value` with; None when no answer is due (declarations)."""
        self.answered.add(name)
        if name in LEGACY_OFF:
            return LEGACY_OFF[name]
        key = KEYS.get(name)
        if key is None:
            return NOT_UNDERSTOOD
        if value in (NOT_UNDERSTOOD, IRRELEVANT, REJECT):
            return None
        if key.kind == "list":
            offered = [v.strip() for v in value.split(",")]
            for choice in offered:
                if choice in key.offer:
                    self.values[key.attr] = choice == "CRC32C"
                    return choice
            return REJECT
        if key.kind in ("and", "or"):
            mine = _yes_no(value)
            if mine is None:
                return REJECT
            result = (mine and key.offer) if key.kind == "and" else (mine or key.offer)
            self.values[key.attr] = result
            return "Yes" if result else "No"
        number = _number(value, key)
        if number is None:
            return REJECT
        if key.kind == "declare":
            self.values[key.attr] = number
            return None
        result = min(number, key.offer) if key.kind == "min" else max(number, key.offer)
        self.values[key.attr] = result
        return str(result)

    def declarations(self) -> list[tuple[str, str]]:
        """What the target declares of its own accord in the operational stage."""
        return [("MaxRecvDataSegmentLength", str(self.values["max_recv_data_segment"]))]

    def params(self) -> SessionParams:
        values = dict(self.values)
        # FirstBurstLength may not exceed MaxBurstLength (13.14); clamp instead of failing.
        values["first_burst_length"] = min(values["first_burst_length"],
                                           values["max_burst_length"])
        return SessionParams(**values)
