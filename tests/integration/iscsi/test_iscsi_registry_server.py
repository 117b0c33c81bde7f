"""The public API the volume service uses, in process: TargetRegistry + start_target_server,
several targets on one portal, removal ending live sessions, and clean shutdown."""
import asyncio
import concurrent.futures
import shutil

import pytest

from blockserver.backing import FileBacking
from blockserver.iscsi import TargetRegistry, start_target_server
from blockserver.iscsi.text import encode_text, parse_text
from blockserver.scsi import LogicalUnit
from native.iscsipdu import build_bhs, parse_bhs

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def portal(tmp_path):
    pool = concurrent.futures.ThreadPoolExecutor(4)
    registry = TargetRegistry("iqn.2026-11.org.strato")
    backings = []
    for i, name in enumerate(("vol-a", "vol-b")):
        path = tmp_path / f"{name}.img"
        with open(path, "wb") as f:
            f.truncate(8 << 20)
        backing = FileBacking(str(path), pool)
        backings.append(backing)
        unit = LogicalUnit(backing, serial=f"serial{i}", device_id=bytes([0x60 + i]) * 16)
        registry.add(registry.make_iqn(name), unit)
    server = await start_target_server(registry, "127.0.0.1", 0)
    yield registry, server
    await server.close()
    for b in backings:
        b.close()
    pool.shutdown()


async def _login(port: int, iqn: str):
    """A hand-rolled initiator: one Login Request straight to full feature phase."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    text = encode_text([("InitiatorName", "iqn.2026-11.org.test:raw"), ("TargetName", iqn),
                        ("AuthMethod", "None")])
    text += bytes(-len(text) & 3)
    hdr = build_bhs(0x03, 1, 0x80 | 0x03, 0, 0, 0, len(text.rstrip(b"\0")) + 1,
                    0x400001230000 << 16, 1, 0, 1, 0, 0, 0, 0, 0)
    writer.write(hdr + text)
    header = await reader.readexactly(48)
    fields = parse_bhs(header)
    body = await reader.readexactly(fields[6] + (-fields[6] & 3))
    return reader, writer, fields, dict(parse_text(body[:fields[6]]))


async def test_two_targets_one_portal_and_removal(portal):
    registry, server = portal
    iqn_a, iqn_b = registry.make_iqn("vol-a"), registry.make_iqn("vol-b")
    reader, writer, fields, keys = await _login(server.port, iqn_a)
    assert fields[0] == 0x23 and fields[13] >> 16 == 0        # Login Response, success
    assert keys["TargetPortalGroupTag"] == "1"
    _, writer_b, fields_b, _ = await _login(server.port, iqn_b)
    assert fields_b[13] >> 16 == 0
    assert len(server.sessions) == 2
    registry.remove(iqn_a)                                     # ends vol-a's session only
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert len(server.sessions) == 1
    _, w, fields, _ = await _login(server.port, iqn_a)
    assert fields[13] >> 16 == 0x0203                          # now: not found
    for wr in (writer, writer_b, w):
        wr.close()


async def test_discovery_lists_every_target(portal):
    registry, server = portal
    if shutil.which("iscsi-ls") is None:
        pytest.skip("iscsi-ls is not installed")
    proc = await asyncio.create_subprocess_exec(
        "iscsi-ls", f"iscsi://127.0.0.1:{server.port}", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    names = sorted(line.split()[0] for line in out.decode().splitlines())
    assert names == [f"Target:{registry.make_iqn('vol-a')}",
                     f"Target:{registry.make_iqn('vol-b')}"]


async def test_close_ends_connections(portal):
    registry, server = portal
    reader, writer, fields, _ = await _login(server.port, registry.make_iqn("vol-b"))
    await server.close()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_wait_idle_waits_for_running_commands(portal):
    registry, server = portal
    unit = registry.get(registry.make_iqn("vol-a")).lun_unit
    gate = asyncio.Event()
    real = unit.execute

    async def slow_execute(cmd):
        await gate.wait()
        return await real(cmd)

    unit.execute = slow_execute                 # a command that is still running on the LU
    reader, writer, fields, _ = await _login(server.port, registry.make_iqn("vol-a"))
    cdb = bytes([0x00] * 16)                    # TEST UNIT READY
    writer.write(build_bhs(0x01, 0, 0x81, 0, 0, 0, 0, 0, 7, 0, 1, fields[10] + 1, 0, 0, 0, 0)[:32]
                 + cdb)
    await asyncio.sleep(0.2)
    registry.remove(registry.make_iqn("vol-a"))
    assert not await server.wait_idle(registry.make_iqn("vol-a"), timeout=0.2)
    gate.set()
    assert await server.wait_idle(registry.make_iqn("vol-a"), timeout=5)
    writer.close()


async def test_silent_connection_closed_after_login_timeout(tmp_path):
    registry = TargetRegistry()
    server = await start_target_server(registry, "127.0.0.1", 0, login_timeout=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    assert await asyncio.wait_for(reader.read(), 5) == b""      # no login: dropped
    writer.close()
    await server.close()


async def test_back_pressure_bounds_the_write_buffer(portal, monkeypatch):
    """A reader that stops reading: the target stops reading commands once its socket buffer
    passes the high-water mark, and everything arrives once the reader resumes."""
    import blockserver.iscsi.server as srv
    monkeypatch.setattr(srv, "WRITE_HIGH_WATER", 512 << 10)
    monkeypatch.setattr(srv, "WRITE_LOW_WATER", 128 << 10)
    registry, server = portal
    reader, writer, fields, _ = await _login(server.port, registry.make_iqn("vol-b"))
    (protocol,) = server.protocols
    n, size = 100, 128 << 10
    for i in range(n):
        cdb = bytes([0x28, 0, 0, 0, (i * 256) >> 8 & 0xFF, 0, 0, 1, 0, 0]).ljust(16, b"\0")
        hdr = build_bhs(0x01, 0, 0xC1, 0, 0, 0, 0, 0, 100 + i, size, 1 + i, fields[10] + 1, 0, 0,
                        0, 0)
        writer.write(hdr[:32] + cdb)
    await writer.drain()
    peak = 0
    for _ in range(30):
        await asyncio.sleep(0.05)
        peak = max(peak, protocol.transport.get_write_buffer_size())
    # stopped taking commands; what is buffered is bounded by the commands already accepted
    # (the CmdSN window), not by what the initiator keeps sending
    assert protocol._paused and not protocol.transport.is_reading()
    assert peak <= n * size + 64 * n
    got = 0
    while got < n:
        header = await asyncio.wait_for(reader.readexactly(48), 10)
        f = parse_bhs(header)
        await reader.readexactly(f[6] + (-f[6] & 3))
        if (f[0] == 0x25 and f[2] & 0x01) or f[0] == 0x21:   # status: Data-In S, Response
            got += 1                                 # (the first one is a unit attention)
    assert got == n
    await asyncio.sleep(0.05)
    assert not protocol._paused and protocol.transport.is_reading()
    writer.close()
