"""The read/write path: executes decoded block commands (BlockCdb) against the backing.

Range and transfer-size checks come first, so a refused command never touches the medium.
Writes honour FUA (and WCE=0) by asking the backing for a durable write; COMPARE AND WRITE
runs under the LU's compare lock so two of them cannot interleave between compare and write.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from . import cdb as C
from .cdb import BlockCdb
from .sense import invalid_field_in_cdb, lba_out_of_range, miscompare_verify

# WRITE SAME of a pattern is written in pieces of about this many bytes.
_PATTERN_CHUNK = 1 << 20


@dataclass(frozen=True)
class IoLimits:
    max_transfer_blocks: int
    max_compare_write_blocks: int
    max_write_same_blocks: int  # 0: no limit


def check_range(cmd: BlockCdb, num_blocks: int) -> None:
    if cmd.lba >= num_blocks or cmd.lba + cmd.blocks > num_blocks:
        raise lba_out_of_range()


def _need_data(cmd: BlockCdb, data, length: int):
    """The first `length` bytes of the data-out buffer; too little data is an invalid CDB."""
    if len(data) < length:
        # field pointer: the TRANSFER LENGTH field of the 10/12/16-byte forms
        raise invalid_field_in_cdb({10: 7, 12: 6, 16: 10}.get(C.cdb_length(cmd.opcode)))
    return memoryview(data)[:length] if len(data) != length else data


def _whole_blocks(data, length: int, block_size: int):
    """The data-out to write: the CDB's length, cut to the whole blocks the initiator sent.

    iSCSI lets the expected data transfer length be smaller than the CDB's transfer length;
    the target then writes only what arrived (the transport reports the overflow residual),
    as libiscsi's residual tests expect. A partial block is never written.
    """
    if len(data) >= length:
        return memoryview(data)[:length] if len(data) != length else data
    return memoryview(data)[:len(data) - len(data) % block_size]


def _first_difference(a: bytes, b: bytes) -> int:
    if a == b:
        return -1
    n = len(a)
    lo, step = 0, 4096
    while lo < n and a[lo:lo + step] == b[lo:lo + step]:
        lo += step
    for i in range(lo, min(lo + step, n)):
        if a[i] != b[i]:
            return i
    return n


class BlockIo:
    def __init__(self, backing, block_size: int, limits: IoLimits, thin: bool):
        self.backing = backing
        self.bs = block_size
        self.limits = limits
        self.thin = thin
        self.compare_lock = asyncio.Lock()

    @property
    def num_blocks(self) -> int:
        return self.backing.size // self.bs

    def _check_transfer(self, cmd: BlockCdb) -> None:
        if cmd.blocks > self.limits.max_transfer_blocks:
            raise invalid_field_in_cdb(7 if cmd.opcode < 0x80 else 10)

    async def read(self, cmd: BlockCdb) -> bytes:
        check_range(cmd, self.num_blocks)
        self._check_transfer(cmd)
        if cmd.blocks == 0:
            return b""
        return await self.backing.read(cmd.lba * self.bs, cmd.blocks * self.bs)

    async def write(self, cmd: BlockCdb, data, durable: bool) -> None:
        check_range(cmd, self.num_blocks)
        self._check_transfer(cmd)
        if cmd.blocks == 0:
            return
        payload = _whole_blocks(data, cmd.blocks * self.bs, self.bs)
        await self.backing.write(cmd.lba * self.bs, payload, fua=durable or cmd.fua)

    async def verify(self, cmd: BlockCdb, data) -> None:
        """VERIFY: BYTCHK 0 checks the medium reads; 1 compares it with the data-out buffer."""
        check_range(cmd, self.num_blocks)
        self._check_transfer(cmd)
        if cmd.blocks == 0:
            return
        medium = await self.backing.read(cmd.lba * self.bs, cmd.blocks * self.bs)
        if cmd.bytchk == 1:
            expected = bytes(_need_data(cmd, data, cmd.blocks * self.bs))
            diff = _first_difference(medium, expected)
            if diff >= 0:
                raise miscompare_verify(diff)

    async def write_verify(self, cmd: BlockCdb, data) -> None:
        check_range(cmd, self.num_blocks)
        self._check_transfer(cmd)
        if cmd.blocks == 0:
            return
        payload = bytes(_whole_blocks(data, cmd.blocks * self.bs, self.bs))
        if not payload:
            return
        # The verify reads back from stable storage, so the write goes there first.
        await self.backing.write(cmd.lba * self.bs, payload, fua=True)
        medium = await self.backing.read(cmd.lba * self.bs, len(payload))
        diff = _first_difference(medium, payload)
        if diff >= 0:
            raise miscompare_verify(diff)

    async def orwrite(self, cmd: BlockCdb, data, durable: bool) -> None:
        check_range(cmd, self.num_blocks)
        self._check_transfer(cmd)
        if cmd.blocks == 0:
            return
        payload = bytes(_need_data(cmd, data, cmd.blocks * self.bs))
        async with self.compare_lock:
            medium = await self.backing.read(cmd.lba * self.bs, len(payload))
            merged = (int.from_bytes(medium, "big") | int.from_bytes(payload, "big")).to_bytes(
                len(payload), "big")
            await self.backing.write(cmd.lba * self.bs, merged, fua=durable or cmd.fua)

    async def compare_and_write(self, cmd: BlockCdb, data, durable: bool) -> None:
        if cmd.blocks > self.limits.max_compare_write_blocks:
            raise invalid_field_in_cdb(13)
        check_range(cmd, self.num_blocks)
        if cmd.blocks == 0:
            # The 8-bit NUMBER OF LOGICAL BLOCKS cannot say 256: data for more blocks than
            # the CDB names is a mismatch, not a no-op.
            if len(data):
                raise invalid_field_in_cdb(13)
            return
        length = cmd.blocks * self.bs
        if len(data) != 2 * length:
            raise invalid_field_in_cdb(13)
        data = bytes(data)
        verify, new = data[:length], data[length:]
        async with self.compare_lock:
            medium = await self.backing.read(cmd.lba * self.bs, length)
            diff = _first_difference(medium, verify)
            if diff >= 0:
                raise miscompare_verify(diff)
            await self.backing.write(cmd.lba * self.bs, new, fua=durable or cmd.fua)

    async def prefetch(self, cmd: BlockCdb) -> None:
        check_range(cmd, self.num_blocks)

    async def synchronize(self, cmd: BlockCdb) -> None:
        # NUMBER OF LOGICAL BLOCKS 0 means "to the end"; the range still has to exist.
        if cmd.lba >= self.num_blocks or cmd.lba + cmd.blocks > self.num_blocks:
            raise lba_out_of_range()
        await self.backing.flush()

    async def write_same(self, cmd: BlockCdb, data, durable: bool) -> None:
        if cmd.anchor:  # ANC_SUP is 0: anchored blocks are not offered
            raise invalid_field_in_cdb(1, 4)
        if cmd.unmap and not self.thin:
            raise invalid_field_in_cdb(1, 3)
        limit = self.limits.max_write_same_blocks
        if limit and cmd.blocks > limit:
            raise invalid_field_in_cdb(7 if cmd.opcode == C.WRITE_SAME_10 else 10)
        if cmd.ndob:
            pattern = bytes(self.bs)
        else:
            if len(data) != self.bs:
                raise invalid_field_in_cdb(7 if cmd.opcode == C.WRITE_SAME_10 else 10)
            pattern = bytes(data)
        check_range(cmd, self.num_blocks)
        if cmd.blocks == 0:  # WSNZ=0: zero blocks means "from LBA to the end of the medium"
            cmd = replace(cmd, blocks=self.num_blocks - cmd.lba)
            if limit and cmd.blocks > limit:
                raise invalid_field_in_cdb(7 if cmd.opcode == C.WRITE_SAME_10 else 10)
        offset, length = cmd.lba * self.bs, cmd.blocks * self.bs
        if cmd.unmap:
            # LBPRZ=1: a deallocated block reads as zeroes whatever the data-out held.
            await self.backing.unmap(offset, length)
        elif self.thin and not any(pattern):
            await self.backing.write_zeroes(offset, length)
        else:
            reps = max(1, _PATTERN_CHUNK // self.bs)
            end = offset + length
            chunk = pattern * reps
            while offset < end:
                n = min(len(chunk), end - offset)
                await self.backing.write(offset, chunk[:n] if n != len(chunk) else chunk)
                offset += n
        if durable:
            await self.backing.flush()

    async def unmap(self, ranges: list[tuple[int, int]]) -> None:
        for lba, blocks in ranges:
            await self.backing.unmap(lba * self.bs, blocks * self.bs)

