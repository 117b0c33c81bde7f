"""Sense data building (fixed and descriptor formats) and the sans-I/O import rule."""
import ast
import pathlib

import blockserver.scsi
from blockserver.scsi.sense import ScsiError, build_sense, invalid_field_in_cdb, \
    invalid_field_in_param, miscompare_verify

SANS_IO = ("cdb", "sense", "inquiry", "modepages", "reservations", "provisioning", "opcodes",
           "xcopy", "types")
FORBIDDEN = {"asyncio", "socket", "os", "aiohttp", "threading", "concurrent", "selectors"}


def test_fixed_format_with_field_pointer():
    s = build_sense(invalid_field_in_cdb(4, 1))
    assert len(s) == 18 and s[0] == 0x70 and s[2] == 0x5 and s[7] == 10
    assert (s[12], s[13]) == (0x24, 0x00)
    assert s[15] == 0x80 | 0x40 | 0x08 | 1 and s[16:18] == b"\x00\x04"


def test_parameter_list_pointer_has_cd_clear():
    s = build_sense(invalid_field_in_param(20))
    assert s[15] == 0x80 and s[16:18] == b"\x00\x14"


def test_information_field_and_valid_bit():
    s = build_sense(miscompare_verify(1234))
    assert s[0] == 0xF0 and int.from_bytes(s[3:7], "big") == 1234 and s[2] == 0xE


def test_descriptor_format():
    s = build_sense(ScsiError(0x5, 0x24, 0x00, field_byte=2, information=7), descriptor=True)
    assert s[0] == 0x72 and (s[1], s[2], s[3]) == (0x5, 0x24, 0x00)
    assert s[7] == len(s) - 8 == 12 + 8
    assert s[8:12] == bytes([0x00, 0x0A, 0x80, 0]) and int.from_bytes(s[12:20], "big") == 7
    assert s[20:23] == bytes([0x02, 0x06, 0]) and s[24] & 0x80 and s[25:27] == b"\x00\x02"
    bare = build_sense(ScsiError(0x6, 0x29, 0x00), descriptor=True)
    assert bare == bytes([0x72, 0x6, 0x29, 0, 0, 0, 0, 0])


def test_decoders_import_no_io():
    root = pathlib.Path(blockserver.scsi.__file__).parent
    for name in SANS_IO:
        tree = ast.parse((root / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not FORBIDDEN & set(mods), (name, mods)
