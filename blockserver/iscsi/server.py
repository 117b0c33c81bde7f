"""The asyncio iSCSI target portal: a thin adapter that moves bytes between sockets and the core.

One asyncio.BufferedProtocol per TCP connection feeds blockserver.iscsi.connection.Connection
(large write data lands straight in its final buffer) and writes its outbox with writelines()
(payloads are not joined). Back-pressure: while the socket's write
buffer is above the high-water mark the protocol stops reading, so no new commands start. SCSI
commands run as tasks calling LogicalUnit.execute(); task management waits for the commands it
aborts to finish before answering, so no write lands after its abort was acknowledged.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import socket

from blockserver.scsi import GOOD, TASK_ABORTED, ItNexus, ScsiCommand

from . import heap, nolun
from .connection import Connection, ConnState
from .constants import TmfFunction
from .events import (Close, DropConnection, Execute, SessionEnded, SessionStarted,
                     TaskManagement)
from .registry import Target, TargetRegistry
from .session import SessionTable

log = logging.getLogger(__name__)

WRITE_HIGH_WATER = 16 << 20
WRITE_LOW_WATER = 4 << 20
LOGIN_TIMEOUT = 30.0          # seconds a connection may take to reach full feature phase


async def _maybe_await(value):
    if inspect.isawaitable(value):
        return await value
    return value


class _Result:
    """The ScsiResult fields the transport reads, for answers made here (no LU involved)."""
    __slots__ = ("status", "data_in", "sense")

    def __init__(self, status, data_in=b"", sense=b""):
        self.status = status
        self.data_in = data_in
        self.sense = sense


# what a command that failed inside the target (a bug, not the medium) is answered with
_INTERNAL_FAILURE = _Result(nolun.CHECK_CONDITION, b"",
                            nolun.fixed_sense(nolun.HARDWARE_ERROR, *nolun.INTERNAL_TARGET_FAILURE))


class IscsiProtocol(asyncio.BufferedProtocol):
    def __init__(self, server: "TargetServer"):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.core: Connection | None = None
        self._paused = False
        self._closing = False
        self._flush_pending = False
        self._loop = asyncio.get_running_loop()

    # -- asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)
        sock = transport.get_extra_info("socket")
        if sock is not None:      # a vanished initiator must not pin its session forever
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        host, port = transport.get_extra_info("sockname")[:2]
        portal = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.core = Connection(self.server.registry, self.server.sessions, portal,
                               self.server.tpgt)
        self.core.owner = self
        self.server.protocols.add(self)
        self._login_timer = self._loop.call_later(self.server.login_timeout, self._login_expired)

    def _login_expired(self) -> None:
        if self.core.state is ConnState.LOGIN:
            log.info("login not finished in %.0f s: closing", self.server.login_timeout)
            self.close()

    def get_buffer(self, sizehint: int) -> memoryview:
        # large write data is received straight into the buffer that becomes the PDU's data
        return self.core.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        core = self.core
        core.buffer_updated(nbytes)
        if core.outbox or core.events:
            self.flush()

    def pause_writing(self) -> None:
        self._paused = True
        if not self._closing:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if not self._closing and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc) -> None:
        self._login_timer.cancel()
        self.server.protocols.discard(self)
        self._closing = True
        for event in self.core.connection_lost():
            self._handle(event)

    # -- core output -------------------------------------------------------------------------
    def flush_soon(self) -> None:
        """Flush at the end of this loop iteration: completions that land together (a queue
        of reads finishing in the executor) leave in one writev instead of one each."""
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        core = self.core
        if core.outbox:
            if not self._closing:
                self.transport.writelines(core.outbox)
            core.outbox.clear()
        while core.events:
            events = core.events[:]
            core.events.clear()
            for event in events:
                self._handle(event)

    def _handle(self, event) -> None:
        kind = type(event)
        if kind is Execute:
            task = event.task
            if task.write and not task.read and task.lun == 0 and self._fast_write(task):
                return
            # the protocol's own loop: asyncio.ensure_future() would ask for the running loop,
            # and on Python 3.11 every such lookup is a getpid() system call
            task.handle = handle = self._loop.create_task(self._execute(task))
            self.server.track(handle, self.core.session.target)
        elif kind is TaskManagement:
            self._loop.create_task(self._task_management(event))
        elif kind is SessionStarted:
            self.server.session_started(event.session)
        elif kind is SessionEnded:
            self.server.session_ended(event.session)
        elif kind is DropConnection:
            owner = event.connection.owner
            if owner is not None:
                owner.close()
        elif kind is Close:
            self.close()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self.transport.close()       # flushes what is buffered, then closes

    # -- work ------------------------------------------------------------------------------
    async def _execute(self, task) -> None:
        core = self.core
        session = core.session
        target = session.target
        transfer = None
        try:
            if task.lun == 0 and target is not None:
                unit = target.lun_unit
                command = ScsiCommand(cdb=task.cdb, data_out=task.buf, nexus=session.nexus,
                                      lun=0, task_tag=task.itt, expected_length=task.edtl,
                                      read=task.read, write=task.write)
                result = await unit.execute(command)
                if task.write and not task.read:
                    # read residuals follow from the data-in; a write's from what the CDB
                    # asked to move (the LU writes only the whole blocks that arrived)
                    transfer = unit.transfer_length(task.cdb)
            else:
                result = _Result(*nolun.respond(task.cdb))
        except Exception:
            log.exception("SCSI command %s failed", task)
            result = _INTERNAL_FAILURE
        finally:
            task.handle = None
        if core.closed:
            return
        core.complete(task, result.status, result.data_in, result.sense, transfer)
        self.flush_soon()

    def _fast_write(self, task) -> bool:
        """Start a plain WRITE on the LU's fast_write() (no coroutine, no task, no dispatch:
        about half of a 4 KiB write's CPU on this thread); False leaves it to _execute()."""
        session = self.core.session
        target = session.target
        if target is None or session.nexus is None or len(task.buf) != task.edtl:
            return False
        start = getattr(target.lun_unit, "fast_write", None)
        if start is None:
            return False
        try:
            done = start(session.nexus, task.cdb, task.buf)
        except OSError:           # a closed backing, say: execute() gives the answer
            return False
        if done is None:
            return False
        task.handle = done        # task management waits for it like for a running command
        self.server.track(done, target)
        done.add_done_callback(lambda future: self._write_done(task, target.lun_unit, future))
        return True

    def _write_done(self, task, unit, future) -> None:
        task.handle = None
        core = self.core
        if core.closed:
            return
        if future.cancelled():
            result = _Result(TASK_ABORTED)
        elif future.exception() is None:
            result = _Result(GOOD)
        elif isinstance(future.exception(), OSError):
            result = unit.write_failed(future.exception())
        else:
            log.error("SCSI command %s failed", task, exc_info=future.exception())
            result = _INTERNAL_FAILURE
        core.complete(task, result.status, b"", result.sense, task.edtl)
        self.flush_soon()

    async def _task_management(self, event: TaskManagement) -> None:
        core = self.core
        try:
            for task in event.tasks:
                unit = self._unit_of(task)
                nexus = task.conn.session.nexus if task.conn.session else None
                if unit is not None and nexus is not None:
                    await _maybe_await(unit.abort_task(task.itt, nexus))
            running = [t.handle for t in event.tasks if t.handle is not None]
            if running:
                await asyncio.wait(running)
            for unit in event.units:
                if event.function == TmfFunction.LOGICAL_UNIT_RESET or event.function in (
                        TmfFunction.TARGET_WARM_RESET, TmfFunction.TARGET_COLD_RESET):
                    await _maybe_await(unit.reset())
        except Exception:
            log.exception("task management function %d failed", event.function)
        if not core.closed:
            core.tmf_done(event)
            self.flush()

    def _unit_of(self, task):
        session = task.conn.session
        if task.lun == 0 and session is not None and session.target is not None:
            return session.target.lun_unit
        return None


class TargetServer:
    """One target portal group listening on one address."""

    def __init__(self, registry: TargetRegistry, tpgt: int = 1,
                 login_timeout: float = LOGIN_TIMEOUT):
        self.registry = registry
        self.tpgt = tpgt
        self.login_timeout = login_timeout
        self.sessions = SessionTable()
        self.protocols: set[IscsiProtocol] = set()
        self._running: dict[asyncio.Future, Target | None] = {}   # SCSI commands in flight
        self._server: asyncio.AbstractServer | None = None
        self._unsubscribe = registry.on_remove(self._target_removed)

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    @property
    def sockets(self):
        return self._server.sockets

    async def start(self, host: str, port: int) -> "TargetServer":
        heap.apply()  # per-command I/O buffers from the heap, not mmap + page faults
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: IscsiProtocol(self), host, port,
                                                reuse_address=True, backlog=256)
        return self

    def session_started(self, session) -> None:
        session.nexus = ItNexus(session.initiator_name, session.isid, session.tpgt)

    def session_ended(self, session) -> None:
        self.sessions.remove(session)
        for conn in list(session.connections.values()):
            conn.abandon()
            if conn.owner is not None:
                conn.owner.close()
        target = session.target
        if target is not None and session.nexus is not None:
            unit = target.lun_unit
            if hasattr(unit, "nexus_lost"):
                try:
                    result = unit.nexus_lost(session.nexus)
                    if inspect.isawaitable(result):
                        asyncio.ensure_future(result)
                except Exception:
                    log.exception("nexus_lost failed")

    def _target_removed(self, target: Target) -> None:
        for session in self.sessions.for_target(target.iqn):
            self.session_ended(session)

    def track(self, future: asyncio.Future, target) -> None:
        self._running[future] = target
        future.add_done_callback(self._running.pop)

    async def wait_idle(self, iqn: str | None = None, timeout: float = 30.0) -> bool:
        """Wait until no SCSI command of target `iqn` (or of any target) is running, e.g.
        after registry.remove(iqn) and before closing that volume's backing file, so that no
        late read or write reaches a file descriptor that was closed (and maybe reused).
        Returns False on timeout."""
        running = [f for f, t in self._running.items()
                   if iqn is None or (t is not None and t.iqn == iqn.lower())]
        if not running:
            return True
        _, pending = await asyncio.wait(running, timeout=timeout)
        return not pending

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._server is not None:
            self._server.close()
        for protocol in list(self.protocols):
            protocol.close()
        if self._server is not None:
            await self._server.wait_closed()
        # commands already handed to the LUs finish (their answers go nowhere), so the
        # owner can close backings safely once close() returns
        await self.wait_idle()


async def start_target_server(registry: TargetRegistry, host: str = "127.0.0.1",
                              port: int = 3260, *, tpgt: int = 1,
                              login_timeout: float = LOGIN_TIMEOUT) -> TargetServer:
    """Listen for initiators on host:port and serve the registry's targets."""
    return await TargetServer(registry, tpgt, login_timeout).start(host, port)
