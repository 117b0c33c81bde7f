"""A real iSCSI target (blockserver.iscsi) on loopback exporting one LogicalUnit over a sparse
file, for driving the SCSI emulation with libiscsi's command-line tools and compliance suite."""
from __future__ import annotations

import asyncio
import concurrent.futures
import shutil

import pytest

from blockserver.backing import FileBacking
from blockserver.iscsi import TargetRegistry, start_target_server
from blockserver.scsi import LogicalUnit

IQN = "iqn.2026-11.org.strato:scsi-it"
LUN_BYTES = 64 << 20


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed (Debian libiscsi-bin)")
    return path


class Exported:
    def __init__(self, lu: LogicalUnit, port: int, path: str):
        self.lu, self.port, self.path = lu, port, path

    @property
    def url(self) -> str:
        return f"iscsi://127.0.0.1:{self.port}/{IQN}/0"

    async def tool(self, *argv: str, timeout: float = 60) -> tuple[int, str]:
        """Run a libiscsi tool while this event loop keeps serving the target."""
        proc = await asyncio.create_subprocess_exec(
            need(argv[0]), *argv[1:], stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        return proc.returncode, out.decode(errors="replace")


@pytest.fixture
async def exported(tmp_path):
    path = tmp_path / "lun.img"
    with open(path, "wb") as f:
        f.truncate(LUN_BYTES)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    backing = FileBacking(str(path), pool)
    lu = LogicalUnit(backing, serial="scsiit0001",
                     device_id=bytes.fromhex("60014050000000000000000000abcdef"))
    registry = TargetRegistry("iqn.2026-11.org.strato")
    registry.add(IQN, lu)
    server = await start_target_server(registry, "127.0.0.1", 0)
    try:
        yield Exported(lu, server.port, str(path))
    finally:
        await server.close()
        backing.close()
        pool.shutdown(wait=True)
