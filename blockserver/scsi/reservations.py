"""Reservations: SPC-4 persistent reservations (PR IN / PR OUT) and the older RESERVE(6)/RELEASE(6).

Sans-I/O: one Reservations object per LU holds registrations (per I_T nexus), the reservation, the
PR generation and the SPC-2 holder. check_access() says whether a command class may run for a
nexus; the PR service actions return the data-in bytes and the unit attentions to queue for others.
Not offered (and refused with the SPC error): APTPL, SPEC_I_PT, ALL_TG_PT, REGISTER AND MOVE.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .sense import (ILLEGAL_REQUEST, ScsiError, UA_REGISTRATIONS_PREEMPTED,
                    UA_RESERVATIONS_PREEMPTED, UA_RESERVATIONS_RELEASED, invalid_field_in_cdb,
                    invalid_field_in_param, param_list_length_error)
from .types import ItNexus

# PR types
WRITE_EXCLUSIVE = 0x1
EXCLUSIVE_ACCESS = 0x3
WRITE_EXCLUSIVE_RO = 0x5
EXCLUSIVE_ACCESS_RO = 0x6
WRITE_EXCLUSIVE_AR = 0x7
EXCLUSIVE_ACCESS_AR = 0x8
PR_TYPES = (WRITE_EXCLUSIVE, EXCLUSIVE_ACCESS, WRITE_EXCLUSIVE_RO, EXCLUSIVE_ACCESS_RO,
            WRITE_EXCLUSIVE_AR, EXCLUSIVE_ACCESS_AR)
_ALL_REGISTRANTS = (WRITE_EXCLUSIVE_AR, EXCLUSIVE_ACCESS_AR)
_REGISTRANTS_ONLY = (WRITE_EXCLUSIVE_RO, EXCLUSIVE_ACCESS_RO) + _ALL_REGISTRANTS
_EXCLUSIVE = (EXCLUSIVE_ACCESS, EXCLUSIVE_ACCESS_RO, EXCLUSIVE_ACCESS_AR)

# PR IN service actions
READ_KEYS, READ_RESERVATION, REPORT_CAPABILITIES, READ_FULL_STATUS = range(4)
# PR OUT service actions
(REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT, PREEMPT_AND_ABORT, REGISTER_AND_IGNORE,
 REGISTER_AND_MOVE, REPLACE_LOST) = range(9)

# Command classes for conflict checks (SPC-4 table "commands allowed in the presence of ...")
ALWAYS, READ, WRITE, LEGACY = "always", "read", "write", "legacy"

PROUT_PARAM_LEN = 24


class ReservationConflict(Exception):
    """The command ends with status RESERVATION CONFLICT (no sense data)."""


@dataclass(frozen=True)
class ProutParams:
    key: int
    sa_key: int
    spec_i_pt: bool
    all_tg_pt: bool
    aptpl: bool


def decode_prout(cdb: bytes, data: bytes) -> tuple[int, int, int, ProutParams]:
    """(service action, scope, type, parameters) of a PERSISTENT RESERVE OUT, or ScsiError."""
    sa = cdb[1] & 0x1F
    scope, pr_type = cdb[2] >> 4, cdb[2] & 0x0F
    plen = int.from_bytes(cdb[5:9], "big")
    if sa > REGISTER_AND_IGNORE:
        raise invalid_field_in_cdb(1, 4)
    if plen != PROUT_PARAM_LEN:
        raise param_list_length_error()
    if len(data) < plen:
        raise param_list_length_error()
    p = ProutParams(int.from_bytes(data[0:8], "big"), int.from_bytes(data[8:16], "big"),
                    bool(data[20] & 0x08), bool(data[20] & 0x04), bool(data[20] & 0x01))
    if p.spec_i_pt:
        raise invalid_field_in_param(20, 3)
    if p.all_tg_pt:
        raise invalid_field_in_param(20, 2)
    if p.aptpl:
        raise invalid_field_in_param(20, 0)
    if sa in (RESERVE, RELEASE, PREEMPT, PREEMPT_AND_ABORT):
        if scope != 0:
            raise invalid_field_in_cdb(2, 7)
        if pr_type not in PR_TYPES:
            raise invalid_field_in_cdb(2, 3)
    return sa, scope, pr_type, p


@dataclass
class Reservations:
    registrations: dict[ItNexus, int] = field(default_factory=dict)
    generation: int = 0
    holder: ItNexus | None = None   # for all-registrants types: the nexus that reserved
    pr_type: int = 0
    legacy_holder: ItNexus | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def reserved(self) -> bool:
        return self.pr_type != 0

    def is_holder(self, nexus: ItNexus) -> bool:
        if not self.reserved:
            return False
        if self.pr_type in _ALL_REGISTRANTS:
            return nexus in self.registrations
        return nexus == self.holder

    def check_access(self, nexus: ItNexus, klass: str) -> None:
        """Raise ReservationConflict when a command of klass may not run for nexus."""
        if klass == ALWAYS:
            return
        if klass == LEGACY:  # RESERVE(6)/RELEASE(6) never mix with persistent reservations
            if self.reserved or self.registrations:
                raise ReservationConflict()
            return
        if self.legacy_holder is not None and self.legacy_holder != nexus:
            raise ReservationConflict()
        if not self.reserved or self.is_holder(nexus):
            return
        if self.pr_type in _REGISTRANTS_ONLY and nexus in self.registrations:
            return
        if klass == READ and self.pr_type not in _EXCLUSIVE:
            return
        raise ReservationConflict()

    # -- RESERVE(6) / RELEASE(6) ----------------------------------------------------------------

    def legacy_reserve(self, nexus: ItNexus) -> None:
        if self.legacy_holder not in (None, nexus):
            raise ReservationConflict()
        self.legacy_holder = nexus

    def legacy_release(self, nexus: ItNexus) -> None:
        if self.legacy_holder == nexus:  # from anyone else: GOOD, no effect (SPC-2)
            self.legacy_holder = None

    def nexus_lost(self, nexus: ItNexus) -> None:
        # SPC-2 reservations end with the nexus; persistent ones persist by definition.
        if self.legacy_holder == nexus:
            self.legacy_holder = None

    def lun_reset(self) -> None:
        self.legacy_holder = None

    # -- PERSISTENT RESERVE IN --------------------------------------------------------------------

    def prin(self, service_action: int) -> bytes:
        gen = self.generation.to_bytes(4, "big")
        if service_action == READ_KEYS:
            keys = b"".join(k.to_bytes(8, "big") for k in self.registrations.values())
            return gen + len(keys).to_bytes(4, "big") + keys
        if service_action == READ_RESERVATION:
            if not self.reserved:
                return gen + bytes(4)
            key = 0 if self.pr_type in _ALL_REGISTRANTS else self.registrations.get(self.holder, 0)
            desc = key.to_bytes(8, "big") + bytes(4) + bytes([0, self.pr_type]) + bytes(2)
            return gen + len(desc).to_bytes(4, "big") + desc
        if service_action == REPORT_CAPABILITIES:
            out = bytearray(8)
            out[1] = 8
            out[2] = 0x10            # CRH: RESERVE(6)/RELEASE(6) from registrants follow SPC-4 rules
            out[3] = 0x80 | 0x10     # TMV; ALLOW COMMANDS 001
            out[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02  # WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX
            out[5] = 0x01                              # EX_AC_AR
            return bytes(out)
        if service_action == READ_FULL_STATUS:
            descs = b""
            for nexus, key in self.registrations.items():
                holder = self.is_holder(nexus)
                tid = nexus.transport_id
                descs += (key.to_bytes(8, "big") + bytes(4)
                          + bytes([0x01 if holder else 0, self.pr_type if holder else 0])
                          + bytes(4) + (1).to_bytes(2, "big") + len(tid).to_bytes(4, "big") + tid)
            return gen + len(descs).to_bytes(4, "big") + descs
        raise invalid_field_in_cdb(1, 4)

    # -- PERSISTENT RESERVE OUT -------------------------------------------------------------------

    def prout(self, nexus: ItNexus, sa: int, pr_type: int,
              p: ProutParams) -> list[tuple[ItNexus, tuple[int, int]]]:
        """Apply one PR OUT; returns [(nexus, (asc, ascq))] unit attentions to queue."""
        current = self.registrations.get(nexus)
        if sa in (REGISTER, REGISTER_AND_IGNORE):
            return self._register(nexus, current, p, ignore=sa == REGISTER_AND_IGNORE)
        if current is None or current != p.key:
            raise ReservationConflict()
        if sa == RESERVE:
            if self.reserved:
                if not self.is_holder(nexus) or self.pr_type != pr_type:
                    raise ReservationConflict()
                return []
            self.holder, self.pr_type = nexus, pr_type
            return []
        if sa == RELEASE:
            if not self.reserved or not self.is_holder(nexus):
                return []
            if self.pr_type != pr_type:
                raise ScsiError(ILLEGAL_REQUEST, 0x26, 0x04)  # INVALID RELEASE OF PR
            released_type = self.pr_type
            self._drop_reservation()
            if released_type in _REGISTRANTS_ONLY:
                return [(n, UA_RESERVATIONS_RELEASED) for n in self.registrations if n != nexus]
            return []
        if sa == CLEAR:
            others = [n for n in self.registrations if n != nexus]
            self.registrations.clear()
            self._drop_reservation()
            self.generation += 1
            return [(n, UA_RESERVATIONS_PREEMPTED) for n in others]
        return self._preempt(nexus, pr_type, p)

    def _drop_reservation(self) -> None:
        self.holder, self.pr_type = None, 0

    def _register(self, nexus, current, p: ProutParams, ignore: bool):
        if current is None:
            if not ignore and p.key != 0:
                raise ReservationConflict()
            if p.sa_key == 0:
                return []
            self.registrations[nexus] = p.sa_key
            self.generation += 1
            return []
        if not ignore and p.key != current:
            raise ReservationConflict()
        self.generation += 1
        if p.sa_key != 0:
            self.registrations[nexus] = p.sa_key
            return []
        return self._unregister(nexus)

    def _unregister(self, nexus: ItNexus):
        ua = []
        del self.registrations[nexus]
        if self.reserved:
            if self.pr_type in _ALL_REGISTRANTS:
                if not self.registrations:
                    self._drop_reservation()
                elif self.holder == nexus:
                    self.holder = next(iter(self.registrations))
            elif self.holder == nexus:
                released_type = self.pr_type
                self._drop_reservation()
                if released_type in _REGISTRANTS_ONLY:
                    ua = [(n, UA_RESERVATIONS_RELEASED) for n in self.registrations]
        return ua

    def _preempt(self, nexus: ItNexus, pr_type: int, p: ProutParams):
        victims: list[ItNexus]
        if self.reserved and self.pr_type in _ALL_REGISTRANTS:
            if p.sa_key == 0:
                victims = [n for n in self.registrations if n != nexus]
                for n in victims:
                    del self.registrations[n]
                self.holder, self.pr_type = nexus, pr_type
            else:
                victims = [n for n, k in self.registrations.items() if k == p.sa_key]
                if not victims:
                    raise ReservationConflict()
                for n in victims:
                    self._unregister(n)
        elif self.reserved and self.registrations.get(self.holder) == p.sa_key:
            victims = [n for n, k in self.registrations.items() if k == p.sa_key and n != nexus]
            for n in victims:
                del self.registrations[n]
            self.holder, self.pr_type = nexus, pr_type
        else:
            if p.sa_key == 0:
                raise invalid_field_in_param(8)
            victims = [n for n, k in self.registrations.items() if k == p.sa_key]
            if not victims:
                raise ReservationConflict()
            for n in victims:
                self._unregister(n)
        self.generation += 1
        return [(n, UA_REGISTRATIONS_PREEMPTED) for n in victims if n != nexus]
