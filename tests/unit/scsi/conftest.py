"""Fixtures for the SCSI unit tests: a LogicalUnit over a real FileBacking on a sparse temp file."""
from __future__ import annotations

import concurrent.futures
import os
import sys

import pytest

# --import-mode=importlib: make the shared helper module of this folder importable.
sys.path.insert(0, os.path.dirname(__file__))

from blockserver.backing import FileBacking  # noqa: E402
from blockserver.scsi import LogicalUnit  # noqa: E402
from scsi_unit_support import BLOCK_SIZE, BLOCKS, NEXUS2, Driver  # noqa: E402


@pytest.fixture
def executor():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def volume_path(tmp_path):
    path = tmp_path / "vol.img"
    with open(path, "wb") as f:
        f.truncate(BLOCKS * BLOCK_SIZE)
    return str(path)


@pytest.fixture
def backing(volume_path, executor):
    b = FileBacking(volume_path, executor)
    yield b
    b.close()


@pytest.fixture
async def lu(backing):
    unit = LogicalUnit(backing, serial="vol-0001", device_id=bytes.fromhex("6001405deadbeef0"
                                                                           "0123456789abcdef"))
    d = Driver(unit)
    await d.login()
    await d.login(NEXUS2)
    return d


@pytest.fixture
def file_bytes(volume_path):
    def read(offset: int = 0, length: int | None = None) -> bytes:
        with open(volume_path, "rb") as f:
            f.seek(offset)
            return f.read(length if length is not None else os.path.getsize(volume_path))
    return read
