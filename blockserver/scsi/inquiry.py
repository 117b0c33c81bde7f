"""INQUIRY data: the standard page and the vital product data pages this LU offers.

Pure functions of an LuIdentity (what the LU is) and LimitsInfo (what it accepts); the LU picks
the page and trims to the allocation length.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sense import invalid_field_in_cdb

# Version descriptors (SPC-4 table 30): SAM-5, SPC-4, SBC-3, iSCSI.
VERSION_DESCRIPTORS = (0x00A0, 0x0460, 0x04C0, 0x0960)

VPD_SUPPORTED = 0x00
VPD_UNIT_SERIAL = 0x80
VPD_DEVICE_ID = 0x83
VPD_EXTENDED_INQUIRY = 0x86
VPD_THIRD_PARTY_COPY = 0x8F
VPD_BLOCK_LIMITS = 0xB0
VPD_BLOCK_CHARACTERISTICS = 0xB1
VPD_LB_PROVISIONING = 0xB2
VPD_PAGES = (VPD_SUPPORTED, VPD_UNIT_SERIAL, VPD_DEVICE_ID, VPD_EXTENDED_INQUIRY,
             VPD_THIRD_PARTY_COPY, VPD_BLOCK_LIMITS, VPD_BLOCK_CHARACTERISTICS, VPD_LB_PROVISIONING)


@dataclass(frozen=True)
class LuIdentity:
    vendor: str
    product: str
    revision: str
    serial: str
    device_id: bytes
    thin: bool
    relative_port: int = 1


@dataclass(frozen=True)
class LimitsInfo:
    max_transfer_blocks: int
    optimal_transfer_blocks: int
    max_compare_write_blocks: int
    max_unmap_blocks: int
    max_unmap_descriptors: int
    unmap_granularity: int
    max_write_same_blocks: int
    wsnz: bool = True


def _ascii(text: str, width: int) -> bytes:
    return text.encode("ascii", "replace")[:width].ljust(width, b" ")


def standard_inquiry(ident: LuIdentity) -> bytes:
    out = bytearray(96)
    out[0] = 0x00                # peripheral qualifier 0 (connected), device type 0 (block)
    out[2] = 0x06                # VERSION: SPC-4
    out[3] = 0x10 | 0x02         # HISUP, RESPONSE DATA FORMAT 2
    out[4] = len(out) - 5
    out[5] = 0x08                # 3PC: EXTENDED COPY (LID1) within this LU; no ACC/TPGS/PROTECT
    out[6] = 0x00
    out[7] = 0x02                # CMDQUE: the LU keeps a task set
    out[8:16] = _ascii(ident.vendor, 8)
    out[16:32] = _ascii(ident.product, 16)
    out[32:36] = _ascii(ident.revision, 4)
    for i, desc in enumerate(VERSION_DESCRIPTORS):
        out[58 + 2 * i:60 + 2 * i] = desc.to_bytes(2, "big")
    return bytes(out)


def _vpd(page: int, body: bytes) -> bytes:
    return bytes([0x00, page]) + len(body).to_bytes(2, "big") + body


def _designator(code_set: int, piv_assoc_type: int, value: bytes, protocol: int = 0) -> bytes:
    return bytes([(protocol << 4) | code_set, piv_assoc_type, 0, len(value)]) + value


def _lu_designator(device_id: bytes) -> bytes:
    # NAA (type 3) when the id carries an NAA nibble of 2/3/5/6, else EUI-64 (type 2).
    naa = device_id[0] >> 4 if device_id else 0
    if len(device_id) in (8, 16) and naa in (2, 3, 5, 6):
        return _designator(1, 0x03, device_id)
    return _designator(1, 0x02, device_id)


def lu_designators(ident: LuIdentity) -> list[bytes]:
    """The designators that name this logical unit (association 0), as VPD 83h lists them."""
    # T10 vendor id (type 1, ASCII): vendor padded to 8, then the serial, unique per volume.
    t10 = _ascii(ident.vendor, 8) + ident.serial.encode("ascii", "replace")
    return [_lu_designator(ident.device_id), _designator(2, 0x01, t10)]


def device_identification(ident: LuIdentity) -> bytes:
    body = b"".join(lu_designators(ident))
    # Relative target port (type 4, association 1 = target port, PIV so the protocol counts).
    body += _designator(1, 0x80 | 0x10 | 0x04, ident.relative_port.to_bytes(4, "big"), protocol=5)
    return _vpd(VPD_DEVICE_ID, body)


def block_limits(lim: LimitsInfo, thin: bool) -> bytes:
    body = bytearray(0x3C)
    body[0] = 0x01 if lim.wsnz else 0x00
    body[1] = lim.max_compare_write_blocks
    body[2:4] = (1).to_bytes(2, "big")  # optimal transfer length granularity
    body[4:8] = lim.max_transfer_blocks.to_bytes(4, "big")
    body[8:12] = lim.optimal_transfer_blocks.to_bytes(4, "big")
    body[12:16] = lim.max_transfer_blocks.to_bytes(4, "big")  # maximum prefetch length
    if thin:
        body[16:20] = lim.max_unmap_blocks.to_bytes(4, "big")
        body[20:24] = lim.max_unmap_descriptors.to_bytes(4, "big")
        body[24:28] = lim.unmap_granularity.to_bytes(4, "big")
        body[28:32] = (0x80000000).to_bytes(4, "big")  # UGAVALID, alignment 0
    body[32:40] = lim.max_write_same_blocks.to_bytes(8, "big")
    return _vpd(VPD_BLOCK_LIMITS, bytes(body))


def block_characteristics() -> bytes:
    body = bytearray(0x3C)
    body[0:2] = (0x0001).to_bytes(2, "big")  # MEDIUM ROTATION RATE: non-rotating (solid state)
    body[3] = 0x00                           # nominal form factor not reported
    return _vpd(VPD_BLOCK_CHARACTERISTICS, bytes(body))


def lb_provisioning(thin: bool) -> bytes:
    body = bytearray(4)
    body[0] = 0  # THRESHOLD EXPONENT
    if thin:
        # LBPU (UNMAP), LBPWS (WRITE SAME 16 unmap), LBPWS10, LBPRZ: holes read back as zeroes.
        # No ANC_SUP: a file hole cannot be "anchored" (kept allocated), so ANCHOR is refused.
        body[1] = 0x80 | 0x40 | 0x20 | 0x04
        body[2] = 0x02  # PROVISIONING TYPE: thin
    else:
        body[2] = 0x00
    return _vpd(VPD_LB_PROVISIONING, bytes(body))


def extended_inquiry() -> bytes:
    body = bytearray(0x3C)
    body[1] = 0x01          # SIMPSUP: simple task attribute
    body[3] = 0x01          # LUICLR: unit attentions are per I_T nexus
    return _vpd(VPD_EXTENDED_INQUIRY, bytes(body))


def vpd_page(page: int, ident: LuIdentity, lim: LimitsInfo) -> bytes:
    if page == VPD_SUPPORTED:
        return _vpd(page, bytes(VPD_PAGES))
    if page == VPD_UNIT_SERIAL:
        return _vpd(page, ident.serial.encode("ascii", "replace"))
    if page == VPD_DEVICE_ID:
        return device_identification(ident)
    if page == VPD_EXTENDED_INQUIRY:
        return extended_inquiry()
    if page == VPD_THIRD_PARTY_COPY:
        from .xcopy import third_party_copy_vpd
        return _vpd(page, third_party_copy_vpd())
    if page == VPD_BLOCK_LIMITS:
        return block_limits(lim, ident.thin)
    if page == VPD_BLOCK_CHARACTERISTICS:
        return block_characteristics()
    if page == VPD_LB_PROVISIONING:
        return lb_provisioning(ident.thin)
    raise invalid_field_in_cdb(2)
