"""LogicalUnit: one exported volume as an SBC-3 direct-access block device.

execute() is the one boundary of the SCSI error model: decoders and executors raise ScsiError
(or ReservationConflict) and only here do they become a status with sense data, fixed format
unless the initiator set D_SENSE. Unit attentions are queued per I_T nexus; a nexus seen for
the first time starts with POWER ON, RESET OR BUS DEVICE RESET OCCURRED (libiscsi and Linux
clear it with TEST UNIT READY right after login).
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from . import cdb as C
from . import opcodes, provisioning, xcopy
from . import reservations as R
from .blockio import BlockIo, IoLimits
from .inquiry import LimitsInfo, LuIdentity, lu_designators, standard_inquiry, vpd_page
from .modepages import ModePages
from .sense import (NO_SENSE, UA_CAPACITY_CHANGED, UA_LUN_RESET, UA_MODE_PARAMS_CHANGED,
                    UA_POWER_ON, UA_REGISTRATIONS_PREEMPTED, UNIT_ATTENTION, ScsiError,
                    build_sense, invalid_field_in_cdb, invalid_opcode, io_error,
                    lba_out_of_range, not_ready_stopped, write_error, write_protected)
from .types import (CHECK_CONDITION, GOOD, RESERVATION_CONFLICT, TASK_ABORTED, ItNexus,
                    ScsiCommand, ScsiResult)

log = logging.getLogger("strato.scsi")

# Limits advertised in the Block Limits VPD page (in bytes, turned into blocks per LU).
# 32 MiB: libiscsi's WRITE SAME tests write 65536 blocks with one WRITE(16) when the write-same
# length is unlimited, so anything smaller fails them at 512-byte blocks.
MAX_TRANSFER_BYTES = 32 << 20
OPTIMAL_TRANSFER_BYTES = 1 << 20
MAX_COMPARE_WRITE_BLOCKS = 255
MAX_UNMAP_DESCRIPTORS = 2048
UNLIMITED = 0xFFFFFFFF
FS_BLOCK = 4096  # hole punching is exact at this granularity; smaller ranges are zeroed


def _write_same_limit(max_transfer_blocks: int) -> int:
    """MAXIMUM WRITE SAME LENGTH (0 = none). Initiators (libiscsi's suite among them) take a
    limit of 0 or >= 65536 blocks to mean that 65536-block transfers work; where MAXIMUM
    TRANSFER LENGTH is shorter than that (blocks above 512 bytes) keep the two consistent."""
    return 0 if max_transfer_blocks >= 0x10000 else 0xFFFF


# Commands that neither report nor clear a unit attention (SPC-4 5.14).
_UA_EXEMPT = frozenset({C.INQUIRY, C.REPORT_LUNS, C.REQUEST_SENSE})
# Commands a stopped LU still serves.
_STOPPED_OK = frozenset({C.INQUIRY, C.REPORT_LUNS, C.REQUEST_SENSE, C.START_STOP_UNIT,
                         C.MODE_SENSE_6, C.MODE_SENSE_10, C.MODE_SELECT_6, C.MODE_SELECT_10,
                         C.PERSISTENT_RESERVE_IN, C.PERSISTENT_RESERVE_OUT, C.RESERVE_6,
                         C.RELEASE_6, C.MAINTENANCE_IN, C.PREVENT_ALLOW})
_READ_CLASS = C.READ_OPCODES | C.VERIFY_OPCODES | frozenset({
    C.READ_DEFECT_DATA_10, C.READ_DEFECT_DATA_12, C.RECEIVE_COPY_RESULTS,
    C.PRE_FETCH_10, C.PRE_FETCH_16, C.MODE_SENSE_6, C.MODE_SENSE_10, C.SERVICE_ACTION_IN_16})
_ALWAYS_CLASS = frozenset({C.INQUIRY, C.REPORT_LUNS, C.REQUEST_SENSE, C.TEST_UNIT_READY,
                           C.PERSISTENT_RESERVE_IN, C.PERSISTENT_RESERVE_OUT, C.MAINTENANCE_IN,
                           C.READ_CAPACITY_10})


def _access_class(cdb: bytes) -> str:
    op = cdb[0]
    if op in (C.RESERVE_6, C.RELEASE_6):
        return R.LEGACY
    if op in _ALWAYS_CLASS:
        return R.ALWAYS
    if op == C.SERVICE_ACTION_IN_16 and len(cdb) > 1 and cdb[1] & 0x1F == C.SAI_READ_CAPACITY_16:
        return R.ALWAYS
    if op in _READ_CLASS:
        return R.READ
    return R.WRITE


def _trim(data: bytes, alloc_len: int) -> bytes:
    return data[:alloc_len] if len(data) > alloc_len else data


class LogicalUnit:
    def __init__(self, backing, *, serial: str, device_id: bytes, vendor: str = "STRATO",
                 product: str = "VOLUME", block_size: int = 512, thin: bool = True,
                 read_only: bool = False, lun: int = 0, revision: str = "0001"):
        if block_size not in (512, 1024, 2048, 4096):
            raise ValueError(f"unsupported block size {block_size}")
        self.backing = backing
        self.block_size = block_size
        self.thin = thin
        self.read_only = read_only
        self.lun = lun
        self.identity = LuIdentity(vendor, product, revision, serial, device_id, thin)
        bs = block_size
        self.limits = LimitsInfo(
            max_transfer_blocks=MAX_TRANSFER_BYTES // bs,
            optimal_transfer_blocks=OPTIMAL_TRANSFER_BYTES // bs,
            max_compare_write_blocks=MAX_COMPARE_WRITE_BLOCKS,
            max_unmap_blocks=UNLIMITED,
            max_unmap_descriptors=MAX_UNMAP_DESCRIPTORS,
            unmap_granularity=max(1, FS_BLOCK // bs),
            max_write_same_blocks=_write_same_limit(MAX_TRANSFER_BYTES // bs), wsnz=False)
        self.io = BlockIo(backing, bs, IoLimits(self.limits.max_transfer_blocks,
                                                MAX_COMPARE_WRITE_BLOCKS,
                                                self.limits.max_write_same_blocks), thin)
        self.mode = ModePages()
        self.pr = R.Reservations()
        self._ua: dict[ItNexus, deque[tuple[int, int]]] = {}
        self._tasks: dict[tuple[ItNexus, int], asyncio.Task] = {}
        self._aborting: set[tuple[ItNexus, int]] = set()
        self._prevent: set[ItNexus] = set()
        self._copy_results: dict[tuple[ItNexus, int], bytes] = {}
        self.stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None   # where execute() last ran

    # -- unit attentions and task management (called by the transport) ---------------------------

    def _queue(self, nexus: ItNexus) -> deque:
        q = self._ua.get(nexus)
        if q is None:
            q = self._ua[nexus] = deque([UA_POWER_ON])
        return q

    def _post(self, nexus: ItNexus, ua: tuple[int, int]) -> None:
        q = self._queue(nexus)
        if ua not in q:
            q.append(ua)

    def _post_all(self, ua: tuple[int, int], *, except_nexus: ItNexus | None = None) -> None:
        for nexus in list(self._ua):
            if nexus != except_nexus:
                self._post(nexus, ua)

    def capacity_changed(self) -> None:
        """After an extend (the caller has awaited backing.refresh()): tell every nexus."""
        self._post_all(UA_CAPACITY_CHANGED)

    def abort_task(self, task_tag: int, nexus: ItNexus) -> bool:
        """Cancel a running command; its execute() returns TASK ABORTED (the transport then
        sends no status for it). Blocking I/O already handed to a thread may still land, as
        SAM allows for an aborted command."""
        key = (nexus, task_tag)
        task = self._tasks.get(key)
        if task is None or task.done():
            return False
        self._aborting.add(key)
        task.cancel()
        return True

    def abort_task_set(self, nexus: ItNexus) -> int:
        n = 0
        for (owner, tag) in list(self._tasks):
            if owner == nexus and self.abort_task(tag, nexus):
                n += 1
        return n

    def reset(self) -> None:
        """LOGICAL UNIT RESET: abort every task, drop RESERVE(6) and PREVENT, restore mode
        pages, and tell every nexus (29h/03h). Persistent reservations survive."""
        for (nexus, tag) in list(self._tasks):
            self.abort_task(tag, nexus)
        self.pr.lun_reset()
        self._prevent.clear()
        self.mode.reset()
        self.stopped = False
        for nexus in list(self._ua):
            self._ua[nexus] = deque([UA_LUN_RESET])

    async def close(self, timeout: float | None = 30.0) -> None:
        """End of export: let running commands finish (up to timeout), then close the backing,
        which itself waits for any disk operation a thread is still doing."""
        me = asyncio.current_task()
        running = [t for t in self._tasks.values() if not t.done() and t is not me]
        if running:
            await asyncio.wait(running, timeout=timeout)
        await self.backing.aclose()

    def nexus_lost(self, nexus: ItNexus) -> None:
        self.abort_task_set(nexus)
        self.pr.nexus_lost(nexus)
        self._prevent.discard(nexus)
        self._ua.pop(nexus, None)
        for key in [k for k in self._copy_results if k[0] == nexus]:
            del self._copy_results[key]

    # -- the boundary ---------------------------------------------------------------------------

    async def execute(self, cmd: ScsiCommand) -> ScsiResult:
        key = (cmd.nexus, cmd.task_tag)
        # current_task(loop) with the loop known skips asyncio's running-loop lookup, a getpid()
        # system call per command on Python 3.11; a stale loop (an LU reused by another loop,
        # as tests do) finds no task there and the lookup is made once
        task = asyncio.current_task(self._loop) if self._loop is not None else None
        if task is None:
            task = asyncio.current_task()
            self._loop = task.get_loop() if task is not None else None
        if task is not None:
            self._tasks[key] = task
        try:
            return await self._execute(cmd)
        except asyncio.CancelledError:
            if key not in self._aborting:
                raise  # the caller itself is being cancelled: not ours to swallow
            self._aborting.discard(key)
            if task is not None:
                task.uncancel()
            return ScsiResult(TASK_ABORTED)
        except R.ReservationConflict:
            return ScsiResult(RESERVATION_CONFLICT)
        except ScsiError as err:
            return self._check_condition(err)
        except OSError as exc:
            return self._io_failed(exc, bool(cmd.cdb) and cmd.cdb[0] in C.MEDIUM_WRITERS)
        finally:
            if task is not None and self._tasks.get(key) is task:
                del self._tasks[key]

    def _check_condition(self, err: ScsiError) -> ScsiResult:
        return ScsiResult(CHECK_CONDITION, b"", build_sense(err, self.mode.d_sense))

    async def _execute(self, cmd: ScsiCommand) -> ScsiResult:
        cdb = bytes(cmd.cdb)
        if not cdb:
            raise invalid_opcode()
        op = cdb[0]
        length = C.cdb_length(op)
        if len(cdb) < length:
            raise invalid_field_in_cdb(0)
        queue = self._queue(cmd.nexus)
        if op == C.REQUEST_SENSE:
            return self._request_sense(cdb, queue)
        if queue and op not in _UA_EXEMPT:
            asc, ascq = queue.popleft()
            raise ScsiError(UNIT_ATTENTION, asc, ascq)
        handler = _HANDLERS.get(op)
        if handler is None:
            raise invalid_opcode()
        if cdb[length - 1] & 0x04:  # NACA: auto contingent allegiance is not offered (SAM-5)
            raise invalid_field_in_cdb(length - 1, 2)
        self.pr.check_access(cmd.nexus, _access_class(cdb))
        if self.stopped and op not in _STOPPED_OK:
            raise not_ready_stopped()
        data = await handler(self, cmd, cdb)
        if isinstance(data, ScsiResult):
            return data
        return ScsiResult(GOOD, data or b"")

    def fast_read_source(self, nexus: ItNexus) -> tuple[int, int, int, int] | None:
        """(fd, block_size, num_blocks, max_transfer_blocks) when a READ from nexus can only be
        answered with GOOD and the blocks - no unit attention queued (a nexus not seen yet has
        POWER ON pending), started, no reservation at all - so the transport's fast path may
        read the page cache itself (blockserver/iscsi/fastread.py); None sends READs here."""
        if not self._fast_io_ok(nexus):
            return None
        nowait_fd = getattr(self.backing, "nowait_fd", None)
        fd = nowait_fd() if nowait_fd is not None else -1
        if fd < 0:
            return None
        bs = self.block_size
        return fd, bs, self.backing.size // bs, self.limits.max_transfer_blocks

    def fast_write(self, nexus: ItNexus, cdb: bytes, data) -> asyncio.Future | None:
        """Start a plain WRITE(10)/WRITE(16) without execute()'s dispatch, when its only
        possible answers are GOOD or a medium error: no unit attention queued, started, no
        reservation, writable, a valid CDB (no WRPROTECT, no NACA), blocks in range and within
        MAXIMUM TRANSFER LENGTH, and exactly the CDB's bytes of data. Returns the backing's
        future (FUA or WCE=0 honoured as in execute()); None sends the command to execute().
        A failed future is answered with write_failed()."""
        op = cdb[0]
        if op == C.WRITE_10:
            lba = int.from_bytes(cdb[2:6], "big")
            blocks = (cdb[7] << 8) | cdb[8]
            control = cdb[9]
        elif op == C.WRITE_16:
            lba = int.from_bytes(cdb[2:10], "big")
            blocks = int.from_bytes(cdb[10:14], "big")
            control = cdb[15]
        else:
            return None
        if self.write_protected or not self._fast_io_ok(nexus):
            return None
        if cdb[1] & 0xE0 or control & 0x04 or not blocks or \
                blocks > self.limits.max_transfer_blocks:
            return None
        bs = self.block_size
        if lba + blocks > self.backing.size // bs or len(data) != blocks * bs:
            return None
        return self.backing.start_write(lba * bs, data, bool(cdb[1] & 0x08) or self._durable)

    def _fast_io_ok(self, nexus: ItNexus) -> bool:
        """What both fast paths need: no unit attention queued for nexus (a nexus not seen yet
        has POWER ON pending), started, and no reservation at all (execute() decides then)."""
        queue = self._ua.get(nexus)
        if queue is None or queue or self.stopped:
            return False
        pr = self.pr
        return pr.legacy_holder is None and not pr.reserved

    def write_failed(self, exc: BaseException) -> ScsiResult:
        """The answer to a fast_write() whose future failed, as execute() gives it."""
        return self._io_failed(exc, write=True)

    def _io_failed(self, exc: OSError, write: bool) -> ScsiResult:
        log.warning("scsi: I/O error on %s: %s", getattr(self.backing, "path", "?"), exc)
        return self._check_condition(write_error() if write else io_error())

    def transfer_length(self, cdb: bytes) -> int | None:
        """Bytes the CDB asks to move, for the transport's residual accounting (None: unknown)."""
        return C.transfer_length(bytes(cdb), self.block_size)

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def num_blocks(self) -> int:
        return self.backing.size // self.block_size

    @property
    def write_protected(self) -> bool:
        return self.read_only or self.mode.swp

    def _check_writable(self) -> None:
        if self.write_protected:
            raise write_protected()

    @property
    def _durable(self) -> bool:
        return not self.mode.wce  # with the write cache off every write is write-through

    def _request_sense(self, cdb: bytes, queue: deque) -> ScsiResult:
        desc = bool(cdb[1] & 0x01)
        if queue:
            asc, ascq = queue.popleft()
            err = ScsiError(UNIT_ATTENTION, asc, ascq)
        elif self.stopped:
            err = not_ready_stopped()
        else:
            err = ScsiError(NO_SENSE, 0x00, 0x00)
        return ScsiResult(GOOD, _trim(build_sense(err, desc), cdb[4]))


# -- command handlers: (lu, cmd, cdb) -> data-in bytes or a ScsiResult ------------------------------

async def _test_unit_ready(lu: LogicalUnit, cmd, cdb):
    return b""


async def _inquiry(lu: LogicalUnit, cmd, cdb):
    req = C.decode_inquiry(cdb)
    if req.evpd:
        data = vpd_page(req.page, lu.identity, lu.limits)
    else:
        data = standard_inquiry(lu.identity)
    return _trim(data, req.alloc_len)


async def _report_luns(lu: LogicalUnit, cmd, cdb):
    req = C.decode_report_luns(cdb)
    # SELECT REPORT 00h/02h list this LU; the well-known, administrative and subsidiary
    # selections (01h, 10h-12h) are empty: this target has no such logical units.
    luns = _lun_entry(lu.lun) if req.page in (0x00, 0x02) else b""
    return _trim(len(luns).to_bytes(4, "big") + bytes(4) + luns, req.alloc_len)


def _lun_entry(lun: int) -> bytes:
    if lun < 256:
        return bytes([0, lun]) + bytes(6)
    return bytes([0x40 | (lun >> 8), lun & 0xFF]) + bytes(6)  # flat space addressing


async def _read_capacity_10(lu: LogicalUnit, cmd, cdb):
    lba = int.from_bytes(cdb[2:6], "big")
    if not cdb[8] & 0x01 and lba:  # PMI 0 requires LOGICAL BLOCK ADDRESS 0
        raise invalid_field_in_cdb(2)
    last = lu.num_blocks - 1
    return min(last, 0xFFFFFFFF).to_bytes(4, "big") + lu.block_size.to_bytes(4, "big")


async def _service_action_in(lu: LogicalUnit, cmd, cdb):
    sa = cdb[1] & 0x1F
    alloc = int.from_bytes(cdb[10:14], "big")
    if sa == C.SAI_READ_CAPACITY_16:
        out = bytearray(32)
        out[0:8] = (lu.num_blocks - 1).to_bytes(8, "big")
        out[8:12] = lu.block_size.to_bytes(4, "big")
        if lu.thin:
            out[14] = 0x80 | 0x40  # LBPME, LBPRZ
        return _trim(bytes(out), alloc)
    if sa == C.SAI_GET_LBA_STATUS:
        lba = int.from_bytes(cdb[2:10], "big")
        if lba >= lu.num_blocks:
            raise lba_out_of_range()
        if alloc < 8:
            return _trim(bytes(8), alloc)  # nothing but (part of) the header fits
        room = max(1, (alloc - 8) // 16)
        bs = lu.block_size
        if lu.thin:
            extents = await lu.backing.mapped_extents(lba * bs, (lu.num_blocks - lba) * bs)
            descs = provisioning.block_status(extents, lba, lu.num_blocks, bs)
        else:  # fully provisioned: every block is mapped, whatever the file's holes say
            descs = [(lba, lu.num_blocks - lba, provisioning.LBA_STATUS_MAPPED)]
        return _trim(provisioning.lba_status_data(descs, room), alloc)
    raise invalid_field_in_cdb(1, 4)


def _block_handler(kind: str):
    async def handler(lu: LogicalUnit, cmd: ScsiCommand, cdb: bytes):
        req = C.decode_block(cdb)
        if kind == "read":
            return await lu.io.read(req)
        if kind == "verify":
            return await lu.io.verify(req, cmd.data_out) or b""
        if kind == "prefetch":
            await lu.io.prefetch(req)
            return b""
        if kind == "sync":
            await lu.io.synchronize(req)
            return b""
        lu._check_writable()
        if kind == "write":
            await lu.io.write(req, cmd.data_out, lu._durable)
        elif kind == "write_verify":
            await lu.io.write_verify(req, cmd.data_out)
        elif kind == "write_same":
            await lu.io.write_same(req, cmd.data_out, lu._durable)
        elif kind == "compare_and_write":
            await lu.io.compare_and_write(req, cmd.data_out, lu._durable)
        elif kind == "orwrite":
            await lu.io.orwrite(req, cmd.data_out, lu._durable)
        return b""
    return handler


async def _unmap(lu: LogicalUnit, cmd, cdb):
    if not lu.thin:
        raise invalid_opcode()
    req = provisioning.decode_unmap_cdb(cdb)
    if req.anchor:
        raise invalid_field_in_cdb(1, 0)
    lu._check_writable()
    ranges = provisioning.decode_unmap_params(
        cmd.data_out, req.param_len, num_blocks=lu.num_blocks,
        max_descriptors=lu.limits.max_unmap_descriptors, max_blocks=lu.limits.max_unmap_blocks)
    await lu.io.unmap(ranges)
    return b""


async def _mode_sense(lu: LogicalUnit, cmd, cdb):
    req = C.decode_mode_sense(cdb)
    data = lu.mode.sense(req, num_blocks=lu.num_blocks, block_size=lu.block_size,
                         write_protect=lu.write_protected)
    return _trim(data, req.alloc_len)


async def _mode_select(lu: LogicalUnit, cmd, cdb):
    req = C.decode_mode_select(cdb)
    if lu.mode.select(req, bytes(cmd.data_out), block_size=lu.block_size):
        lu._post_all(UA_MODE_PARAMS_CHANGED, except_nexus=cmd.nexus)
    return b""


async def _start_stop_unit(lu: LogicalUnit, cmd, cdb):
    power_condition = cdb[4] >> 4
    loej, start = bool(cdb[4] & 0x02), bool(cdb[4] & 0x01)
    if loej:  # the medium is not removable (RMB=0): there is nothing to load or eject
        raise invalid_field_in_cdb(4, 1)
    if power_condition:  # only START_VALID (0) is offered
        raise invalid_field_in_cdb(4, 7)
    if not start and not cdb[4] & 0x04:  # NO_FLUSH clear: stopping writes the cache back
        await lu.backing.flush()
    lu.stopped = not start
    return b""


async def _prevent_allow(lu: LogicalUnit, cmd, cdb):
    prevent = cdb[4] & 0x03
    if prevent not in (0, 1):  # 10b/11b are obsolete (media changer)
        raise invalid_field_in_cdb(4, 1)
    if prevent:
        lu._prevent.add(cmd.nexus)
    else:
        lu._prevent.discard(cmd.nexus)
    return b""


async def _reserve_6(lu: LogicalUnit, cmd, cdb):
    if cdb[1] & 0x01:  # LONGID / third-party (obsolete): not offered
        raise invalid_field_in_cdb(1, 0)
    lu.pr.legacy_reserve(cmd.nexus)
    return b""


async def _release_6(lu: LogicalUnit, cmd, cdb):
    lu.pr.legacy_release(cmd.nexus)
    return b""


async def _prin(lu: LogicalUnit, cmd, cdb):
    sa = cdb[1] & 0x1F
    alloc = int.from_bytes(cdb[7:9], "big")
    if sa > R.READ_FULL_STATUS:
        raise invalid_field_in_cdb(1, 4)
    return _trim(lu.pr.prin(sa), alloc)


async def _prout(lu: LogicalUnit, cmd, cdb):
    sa, _scope, pr_type, params = R.decode_prout(cdb, bytes(cmd.data_out))
    for nexus, ua in lu.pr.prout(cmd.nexus, sa, pr_type, params):
        lu._post(nexus, ua)
        if sa == R.PREEMPT_AND_ABORT and ua == UA_REGISTRATIONS_PREEMPTED:
            lu.abort_task_set(nexus)  # the preempted initiators' tasks end too
    return b""


# Copies move this many bytes per read/write pair.
_COPY_CHUNK = 1 << 20


async def _extended_copy(lu: LogicalUnit, cmd, cdb):
    plan = xcopy.decode_xcopy(cdb, bytes(cmd.data_out), designators=lu_designators(lu.identity),
                              block_size=lu.block_size, num_blocks=lu.num_blocks)
    if plan is None:
        return b""
    lu._check_writable()
    bs, moved = lu.block_size, 0
    for seg in plan.segments:
        await _copy_range(lu.backing, seg.src_lba * bs, seg.dst_lba * bs, seg.blocks * bs,
                          durable=lu._durable)
        moved += seg.blocks * bs
    if plan.list_id_usage in xcopy.LIST_ID_HOLD:
        held = lu._copy_results
        held.pop((cmd.nexus, plan.list_id), None)
        held[(cmd.nexus, plan.list_id)] = xcopy.copy_status(len(plan.segments), moved)
        while len(held) > xcopy.HELD_RESULTS:
            del held[next(iter(held))]
    return b""


async def _copy_range(backing, src: int, dst: int, length: int, durable: bool) -> None:
    # Overlapping ranges copy back to front when the destination is ahead, so no source
    # byte is overwritten before it has been read.
    starts = range(0, length, _COPY_CHUNK)
    if src < dst < src + length:
        starts = reversed(starts)
    for off in starts:
        n = min(_COPY_CHUNK, length - off)
        await backing.write(dst + off, await backing.read(src + off, n), fua=durable)


async def _receive_copy_results(lu: LogicalUnit, cmd, cdb):
    sa, list_id = cdb[1] & 0x1F, cdb[2]
    alloc = int.from_bytes(cdb[10:14], "big")
    if sa == xcopy.RCR_OPERATING_PARAMETERS:
        return _trim(xcopy.operating_parameters(), alloc)
    if sa == xcopy.RCR_COPY_STATUS:
        status = lu._copy_results.pop((cmd.nexus, list_id), None)
        if status is None:  # no copy with this list identifier from this nexus
            raise invalid_field_in_cdb(2)
        return _trim(status, alloc)
    raise invalid_field_in_cdb(1, 4)


async def _read_defect_data(lu: LogicalUnit, cmd, cdb):
    # A file-backed volume has no grown or primary defects: answer an empty list in the
    # requested format, with PLISTV/GLISTV saying which lists that empty answer covers.
    if cdb[0] == C.READ_DEFECT_DATA_10:
        flags, alloc = cdb[2] & 0x1F, int.from_bytes(cdb[7:9], "big")
        return _trim(bytes([0, flags, 0, 0]), alloc)
    flags, alloc = cdb[1] & 0x1F, int.from_bytes(cdb[6:10], "big")
    return _trim(bytes([0, flags]) + bytes(6), alloc)


async def _maintenance_in(lu: LogicalUnit, cmd, cdb):
    sa = cdb[1] & 0x1F
    alloc = int.from_bytes(cdb[6:10], "big")
    if sa == C.MI_REPORT_SUPPORTED_OPCODES:
        exclude = frozenset() if lu.thin else frozenset({C.UNMAP})
        return _trim(opcodes.report_supported_opcodes(cdb, exclude), alloc)
    if sa == C.MI_REPORT_SUPPORTED_TMFS:
        return _trim(opcodes.report_supported_tmfs(cdb), alloc)
    raise invalid_field_in_cdb(1, 4)


_HANDLERS = {
    C.TEST_UNIT_READY: _test_unit_ready,
    C.INQUIRY: _inquiry,
    C.REPORT_LUNS: _report_luns,
    C.READ_CAPACITY_10: _read_capacity_10,
    C.SERVICE_ACTION_IN_16: _service_action_in,
    C.MODE_SENSE_6: _mode_sense,
    C.MODE_SENSE_10: _mode_sense,
    C.MODE_SELECT_6: _mode_select,
    C.MODE_SELECT_10: _mode_select,
    C.START_STOP_UNIT: _start_stop_unit,
    C.PREVENT_ALLOW: _prevent_allow,
    C.RESERVE_6: _reserve_6,
    C.RELEASE_6: _release_6,
    C.PERSISTENT_RESERVE_IN: _prin,
    C.PERSISTENT_RESERVE_OUT: _prout,
    C.MAINTENANCE_IN: _maintenance_in,
    C.UNMAP: _unmap,
    C.READ_DEFECT_DATA_10: _read_defect_data,
    C.EXTENDED_COPY: _extended_copy,
    C.RECEIVE_COPY_RESULTS: _receive_copy_results,
    C.READ_DEFECT_DATA_12: _read_defect_data,
    **{op: _block_handler("read") for op in C.READ_OPCODES},
    **{op: _block_handler("write") for op in C.WRITE_OPCODES},
    **{op: _block_handler("verify") for op in C.VERIFY_OPCODES},
    **{op: _block_handler("write_verify") for op in C.WRITE_VERIFY_OPCODES},
    C.PRE_FETCH_10: _block_handler("prefetch"),
    C.PRE_FETCH_16: _block_handler("prefetch"),
    C.SYNCHRONIZE_CACHE_10: _block_handler("sync"),
    C.SYNCHRONIZE_CACHE_16: _block_handler("sync"),
    C.WRITE_SAME_10: _block_handler("write_same"),
    C.WRITE_SAME_16: _block_handler("write_same"),
    C.COMPARE_AND_WRITE: _block_handler("compare_and_write"),
    C.ORWRITE_16: _block_handler("orwrite"),
}
