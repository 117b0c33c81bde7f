"""Mode pages: current values with their changeable masks and defaults, MODE SENSE data building
and MODE SELECT parameter-list validation. Sans-I/O: the LU owns one ModePages per logical unit
(values are shared by every I_T nexus) and reads the switches it honours (WCE, D_SENSE, SWP).
Saving is not offered: SP=1 and page control "saved" get SAVING PARAMETERS NOT SUPPORTED.
"""
from __future__ import annotations

from .cdb import MODE_SELECT_6, MODE_SENSE_6, ModeSelectCdb, ModeSenseCdb
from .sense import (ILLEGAL_REQUEST, ScsiError, invalid_field_in_cdb, invalid_field_in_param,
                    param_list_length_error)

PAGE_RW_ERROR_RECOVERY = 0x01
PAGE_CACHING = 0x08
PAGE_CONTROL = 0x0A
PAGE_INFO_EXCEPTIONS = 0x1C
ALL_PAGES = 0x3F

PC_CURRENT, PC_CHANGEABLE, PC_DEFAULT, PC_SAVED = range(4)


def _page(code: int, body: bytes) -> bytes:
    return bytes([code, len(body)]) + body


def _defaults() -> dict[int, bytes]:
    rw = bytearray(10)
    rw[0] = 0x80                         # AWRE: automatic write reallocation (nothing to do)
    caching = bytearray(18)
    caching[0] = 0x04                    # WCE: the write cache (page cache) is on
    caching[2:4] = b"\xff\xff"           # disable pre-fetch transfer length
    caching[6:8] = b"\xff\xff"           # maximum pre-fetch
    caching[8:10] = b"\xff\xff"          # maximum pre-fetch ceiling
    control = bytearray(10)
    control[0] = 0x00                    # TST 0 (one task set), D_SENSE 0
    control[1] = 0x10                    # QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
    control[3] = 0x00                    # ATO/TAS 0
    control[6:8] = b"\xff\xff"           # BUSY TIMEOUT PERIOD: unlimited
    iec = bytearray(10)
    iec[0] = 0x08                        # DEXCPT: no informational exception reporting
    return {PAGE_RW_ERROR_RECOVERY: bytes(rw), PAGE_CACHING: bytes(caching),
            PAGE_CONTROL: bytes(control), PAGE_INFO_EXCEPTIONS: bytes(iec)}


def _changeable() -> dict[int, bytes]:
    caching = bytearray(18)
    caching[0] = 0x04                    # WCE (WCE=0 makes every write FUA)
    control = bytearray(10)
    control[0] = 0x04                    # D_SENSE
    control[2] = 0x08                    # SWP: software write protect
    iec = bytearray(10)
    iec[0] = 0x08                        # DEXCPT
    iec[1] = 0x0F                        # MRIE
    return {PAGE_RW_ERROR_RECOVERY: bytes(10), PAGE_CACHING: bytes(caching),
            PAGE_CONTROL: bytes(control), PAGE_INFO_EXCEPTIONS: bytes(iec)}


DEFAULTS = _defaults()
CHANGEABLE = _changeable()
PAGE_ORDER = (PAGE_RW_ERROR_RECOVERY, PAGE_CACHING, PAGE_CONTROL, PAGE_INFO_EXCEPTIONS)


class ModePages:
    def __init__(self) -> None:
        self.current: dict[int, bytes] = dict(DEFAULTS)

    # the switches the LU honours
    @property
    def wce(self) -> bool:
        return bool(self.current[PAGE_CACHING][0] & 0x04)

    @property
    def d_sense(self) -> bool:
        return bool(self.current[PAGE_CONTROL][0] & 0x04)

    @property
    def swp(self) -> bool:
        return bool(self.current[PAGE_CONTROL][2] & 0x08)

    def reset(self) -> None:
        self.current = dict(DEFAULTS)

    def _values(self, pc: int) -> dict[int, bytes]:
        if pc == PC_CURRENT:
            return self.current
        if pc == PC_CHANGEABLE:
            return CHANGEABLE
        if pc == PC_DEFAULT:
            return DEFAULTS
        raise ScsiError(ILLEGAL_REQUEST, 0x39, 0x00)  # SAVING PARAMETERS NOT SUPPORTED

    def sense(self, cmd: ModeSenseCdb, *, num_blocks: int, block_size: int,
              write_protect: bool) -> bytes:
        """The whole MODE SENSE answer (the caller trims it to the allocation length)."""
        values = self._values(cmd.pc)
        if cmd.page == ALL_PAGES:
            if cmd.subpage not in (0x00, 0xFF):
                raise invalid_field_in_cdb(3)
            pages = b"".join(_page(code, values[code]) for code in PAGE_ORDER)
        else:
            if cmd.page not in values or cmd.subpage not in (0x00, 0xFF):
                raise invalid_field_in_cdb(2 if cmd.page not in values else 3, 5)
            pages = _page(cmd.page, values[cmd.page])
        # DPOFUA: DPO and FUA are honoured; WP mirrors a read-only LU or SWP.
        dsp = 0x10 | (0x80 if write_protect else 0)
        long_lba = cmd.llbaa
        if cmd.dbd:
            bdesc = b""
        elif long_lba:
            bdesc = (num_blocks.to_bytes(8, "big") + bytes(4) + block_size.to_bytes(4, "big"))
        else:
            bdesc = (min(num_blocks, 0xFFFFFFFF).to_bytes(4, "big") + b"\0"
                     + block_size.to_bytes(3, "big"))
        if cmd.opcode == MODE_SENSE_6:
            body = bytes([0, dsp, len(bdesc)]) + bdesc + pages
            return bytes([min(len(body), 255)]) + body
        body = bytes([0, dsp, 0x01 if long_lba and bdesc else 0, 0]) + \
            len(bdesc).to_bytes(2, "big") + bdesc + pages
        return min(len(body), 0xFFFF).to_bytes(2, "big") + body

    def select(self, cmd: ModeSelectCdb, data: bytes, *, block_size: int) -> bool:
        """Apply a MODE SELECT parameter list; True when a current value changed."""
        if cmd.sp:
            raise invalid_field_in_cdb(1, 0)
        if not cmd.pf:
            raise invalid_field_in_cdb(1, 4)
        if len(data) < cmd.param_len:
            raise param_list_length_error()
        data = bytes(data[:cmd.param_len])
        hdr = 4 if cmd.opcode == MODE_SELECT_6 else 8
        if not data:
            return False
        if len(data) < hdr:
            raise param_list_length_error()
        if cmd.opcode == MODE_SELECT_6:
            bd_len = data[3]
        else:
            bd_len = int.from_bytes(data[6:8], "big")
        pos = hdr
        if bd_len:
            if bd_len not in (8, 16) or pos + bd_len > len(data):
                raise invalid_field_in_param(hdr - 1)
            bd = data[pos:pos + bd_len]
            length = int.from_bytes(bd[5:8] if bd_len == 8 else bd[12:16], "big")
            if length not in (0, block_size):  # the block size is fixed at creation
                raise invalid_field_in_param(pos + (5 if bd_len == 8 else 12))
            pos += bd_len
        staged = dict(self.current)
        while pos < len(data):
            if pos + 2 > len(data):
                raise param_list_length_error()
            code = data[pos] & 0x3F
            if data[pos] & 0x40:  # SPF: no sub-pages here
                raise invalid_field_in_param(pos, 6)
            plen = data[pos + 1]
            if code not in CHANGEABLE:
                raise invalid_field_in_param(pos)
            if plen != len(DEFAULTS[code]):
                raise invalid_field_in_param(pos + 1)
            if pos + 2 + plen > len(data):
                raise param_list_length_error()
            new = data[pos + 2:pos + 2 + plen]
            mask, cur = CHANGEABLE[code], staged[code]
            for i, (n, c, m) in enumerate(zip(new, cur, mask)):
                if (n ^ c) & ~m & 0xFF:
                    raise invalid_field_in_param(pos + 2 + i)
            staged[code] = bytes(new)
            pos += 2 + plen
        changed = staged != self.current
        self.current = staged
        return changed
