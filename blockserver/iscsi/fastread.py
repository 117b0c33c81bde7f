"""The READ fast path of one connection: plain READ(10/16) PDUs answered as they are received.

At queue depth a target spends most of a 4 KiB read's CPU on per-command Python: a Pdu, a Task,
an asyncio task, the LU's dispatch, a ScsiResult, the Data-In assembly. For the command that
dominates block I/O - a READ of LUN 0, in CmdSN order, of blocks already in the page cache - this
path does all of it in one call into native.iscsiread (compiled, or its pure twin) for every such
PDU at the head of the receive buffer, and leaves the rest to the general path, which still
answers every case the fast path declines (see native/_iscsiread_py.py for the rules).

It runs only when the LU says a READ from this I_T nexus could not get any answer but GOOD with
data (LogicalUnit.fast_read_source: no unit attention pending, started, no reservation), and only
without digests. The read itself is preadv2(RWF_NOWAIT): the page cache or nothing, so the event
loop never waits for the disk; a miss falls back to the general path and its disk threads.
"""
from __future__ import annotations

from native.iscsiread import serve_reads

from .constants import CMD_WINDOW


class ReadFastPath:
    __slots__ = ("conn", "unit", "max_data")

    def __init__(self, conn, unit):
        self.conn = conn
        self.unit = unit
        params = conn.params
        self.max_data = min(params.max_send_data_segment, params.max_burst_length)

    @classmethod
    def for_connection(cls, conn) -> "ReadFastPath | None":
        """The fast path for a connection entering full feature phase, or None where it does
        not apply (discovery, digests, an LU without a page-cache read source)."""
        session = conn.session
        params = conn.params
        if session.discovery or session.target is None or params.header_digest or \
                params.data_digest:
            return None
        unit = session.target.lun_unit
        if getattr(unit, "fast_read_source", None) is None:
            return None
        return cls(conn, unit)

    def __call__(self, buf, start: int, end: int) -> int:
        """Answer the plain READs at buf[start:end] into the connection's outbox; returns the
        offset where the general path must continue."""
        # a write or anything else at the head: not worth asking the LU (one byte test here)
        if end - start < 48 or buf[start] != 0x01 or buf[start + 1] & 0xE0 != 0xC0:
            return start
        conn = self.conn
        session = conn.session
        if session.pending or session.nexus is None:
            return start
        source = self.unit.fast_read_source(session.nexus)
        if source is None:
            return start
        fd, block_size, num_blocks, max_blocks = source
        pos, exp, high, stat_sn = serve_reads(
            buf, start, end, fd, block_size, num_blocks, max_blocks, self.max_data,
            session.tasks, session.exp_cmdsn, session.max_cmdsn, conn.stat_sn, CMD_WINDOW,
            conn.outbox)
        if pos != start:
            session.exp_cmdsn = exp
            session.max_cmdsn = high
            conn.stat_sn = stat_sn
        return pos
