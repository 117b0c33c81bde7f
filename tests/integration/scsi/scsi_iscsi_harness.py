"""A deliberately minimal iSCSI front end for testing the SCSI layer with real initiators.

Test tooling, not the product: the production target lives in blockserver/iscsi/. This harness
exists so the SCSI emulation can be driven by libiscsi (iscsi-inq, iscsi-test-cu) on its own,
which separates SCSI-layer failures from transport ones. It speaks just enough RFC 7143: login
without authentication or digests, one connection per session, immediate data and R2T for
writes, Data-In with phase-collapsed status, NOP, task management (to reach the LU's reset and
abort entry points) and logout. Run standalone: python scsi_iscsi_harness.py FILE [PORT]
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import struct
import sys

from blockserver.backing import FileBacking
from blockserver.scsi import CHECK_CONDITION, GOOD, ItNexus, LogicalUnit, ScsiCommand

TARGET_IQN = "iqn.2026-11.org.strato:harness"
MAX_RECV = 262144
MAX_BURST = 262144
FIRST_BURST = 65536
BHS = 48


def _pad(n: int) -> int:
    return -n % 4


def _kv(data: bytes) -> dict[str, str]:
    out = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v.decode()
    return out


def _text(pairs: dict[str, str]) -> bytes:
    return b"".join(f"{k}={v}".encode() + b"\0" for k, v in pairs.items())


class Connection:
    def __init__(self, target: "HarnessTarget", reader, writer):
        self.t = target
        self.reader, self.writer = reader, writer
        self.stat_sn = 0
        self.exp_cmd_sn = 0
        self.nexus: ItNexus | None = None
        self.max_send = 8192
        self.discovery = False
        self.isid = b""
        self.r2t: dict[int, asyncio.Queue] = {}
        self.ttt = 0
        self.tasks: set[asyncio.Task] = set()
        self.wlock = asyncio.Lock()

    async def send(self, bhs: bytearray, data: bytes = b"") -> None:
        bhs[5:8] = len(data).to_bytes(3, "big")
        async with self.wlock:
            self.writer.write(bytes(bhs) + data + bytes(_pad(len(data))))
            await self.writer.drain()

    def _sn(self, bhs: bytearray, status: bool = True) -> None:
        bhs[24:28] = self.stat_sn.to_bytes(4, "big")
        if status:
            self.stat_sn = (self.stat_sn + 1) & 0xFFFFFFFF
        bhs[28:32] = self.exp_cmd_sn.to_bytes(4, "big")
        bhs[32:36] = ((self.exp_cmd_sn + 64) & 0xFFFFFFFF).to_bytes(4, "big")

    async def read_pdu(self):
        hdr = await self.reader.readexactly(BHS)
        ahs = hdr[4] * 4
        dlen = int.from_bytes(hdr[5:8], "big")
        if ahs:
            await self.reader.readexactly(ahs)
        data = await self.reader.readexactly(dlen + _pad(dlen)) if dlen else b""
        return hdr, data[:dlen]

    async def run(self) -> None:
        try:
            while True:
                hdr, data = await self.read_pdu()
                op = hdr[0] & 0x3F
                immediate = bool(hdr[0] & 0x40)
                if op in (0x01, 0x00, 0x02, 0x06, 0x04) and not immediate and op != 0x00:
                    self.exp_cmd_sn = (int.from_bytes(hdr[24:28], "big") + 1) & 0xFFFFFFFF
                if op == 0x03:
                    if not await self.login(hdr, data):
                        return
                elif op == 0x01:
                    task = asyncio.ensure_future(self.scsi(hdr, data))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
                elif op == 0x05:
                    q = self.r2t.get(int.from_bytes(hdr[20:24], "big"))
                    if q is not None:
                        q.put_nowait((int.from_bytes(hdr[40:44], "big"), data, bool(hdr[1] & 0x80)))
                elif op == 0x00:
                    if int.from_bytes(hdr[16:20], "big") != 0xFFFFFFFF:
                        out = bytearray(BHS)
                        out[0], out[1] = 0x20, 0x80
                        out[16:20] = hdr[16:20]
                        out[20:24] = b"\xff" * 4
                        self._sn(out)
                        await self.send(out, data)
                elif op == 0x04:
                    await self.text(hdr, data)
                elif op == 0x02:
                    await self.tmf(hdr)
                elif op == 0x06:
                    out = bytearray(BHS)
                    out[0], out[1] = 0x26, 0x80
                    out[16:20] = hdr[16:20]
                    self._sn(out)
                    await self.send(out)
                    return
                else:
                    out = bytearray(BHS)
                    out[0], out[1], out[2] = 0x3F, 0x80, 0x04  # Reject: command not supported
                    out[16:20] = b"\xff" * 4
                    self._sn(out)
                    await self.send(out, bytes(hdr))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for task in list(self.tasks):
                task.cancel()
            if self.nexus is not None:
                self.t.lu.nexus_lost(self.nexus)
            self.writer.close()

    async def login(self, hdr: bytes, data: bytes) -> bool:
        keys = _kv(data)
        csg, nsg, transit = (hdr[1] >> 2) & 3, hdr[1] & 3, bool(hdr[1] & 0x80)
        self.isid = bytes(hdr[8:14])
        self.exp_cmd_sn = int.from_bytes(hdr[24:28], "big")
        reply: dict[str, str] = {}
        if "InitiatorName" in keys:
            self.nexus = ItNexus(keys["InitiatorName"], self.isid, 1)
        if keys.get("SessionType") == "Discovery":
            self.discovery = True
        if "AuthMethod" in keys:
            reply["AuthMethod"] = "None"
        if csg == 0 or "TargetName" in keys:
            reply["TargetPortalGroupTag"] = "1"
        answers = {"HeaderDigest": "None", "DataDigest": "None", "InitialR2T": "Yes",
                   "ImmediateData": "Yes", "MaxBurstLength": str(MAX_BURST),
                   "FirstBurstLength": str(FIRST_BURST), "DefaultTime2Wait": "2",
                   "DefaultTime2Retain": "0", "MaxOutstandingR2T": "1", "DataPDUInOrder": "Yes",
                   "DataSequenceInOrder": "Yes", "ErrorRecoveryLevel": "0", "MaxConnections": "1",
                   "IFMarker": "No", "OFMarker": "No"}
        for k, v in answers.items():
            if k in keys:
                reply[k] = v
        if "MaxRecvDataSegmentLength" in keys:
            self.max_send = int(keys["MaxRecvDataSegmentLength"])
            reply["MaxRecvDataSegmentLength"] = str(MAX_RECV)
        out = bytearray(BHS)
        out[0] = 0x23
        out[1] = (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0)
        out[8:14] = self.isid
        out[14:16] = (1).to_bytes(2, "big") if transit and nsg == 3 else b"\0\0"
        out[16:20] = hdr[16:20]
        self._sn(out)
        await self.send(out, _text(reply))
        return True

    async def text(self, hdr: bytes, data: bytes) -> None:
        keys = _kv(data)
        reply = {}
        if keys.get("SendTargets") is not None:
            host, port = self.writer.get_extra_info("sockname")[:2]
            reply = {"TargetName": TARGET_IQN, "TargetAddress": f"{host}:{port},1"}
        out = bytearray(BHS)
        out[0], out[1] = 0x24, 0x80
        out[16:20] = hdr[16:20]
        out[20:24] = b"\xff" * 4
        self._sn(out)
        await self.send(out, _text(reply))

    async def tmf(self, hdr: bytes) -> None:
        fn = hdr[1] & 0x7F
        lu, response = self.t.lu, 0
        if fn == 1:
            if not lu.abort_task(int.from_bytes(hdr[20:24], "big"), self.nexus):
                response = 1  # task does not exist
        elif fn in (2, 4):
            lu.abort_task_set(self.nexus)
        elif fn in (5, 6, 7):
            lu.reset()
        else:
            response = 5  # function not supported
        out = bytearray(BHS)
        out[0], out[1], out[2] = 0x22, 0x80, response
        out[16:20] = hdr[16:20]
        self._sn(out)
        await self.send(out)
        if fn == 7:  # TARGET COLD RESET ends the connection
            self.writer.close()

    async def collect(self, itt: int, edtl: int, data: bytes) -> bytes:
        buf = bytearray(data)
        if len(buf) >= edtl:
            return bytes(buf)
        q: asyncio.Queue = asyncio.Queue()
        self.ttt += 1
        ttt = self.ttt
        self.r2t[ttt] = q
        r2tsn = 0
        try:
            while len(buf) < edtl:
                want = min(MAX_BURST, edtl - len(buf))
                out = bytearray(BHS)
                out[0], out[1] = 0x31, 0x80
                out[16:20] = itt.to_bytes(4, "big")
                out[20:24] = ttt.to_bytes(4, "big")
                self._sn(out, status=False)
                out[36:40] = r2tsn.to_bytes(4, "big")
                out[40:44] = len(buf).to_bytes(4, "big")
                out[44:48] = want.to_bytes(4, "big")
                r2tsn += 1
                await self.send(out)
                while True:
                    offset, chunk, final = await q.get()
                    buf[offset:offset + len(chunk)] = chunk
                    if final:
                        break
        finally:
            del self.r2t[ttt]
        return bytes(buf)

    async def scsi(self, hdr: bytes, data: bytes) -> None:
        itt = int.from_bytes(hdr[16:20], "big")
        edtl = int.from_bytes(hdr[20:24], "big")
        lun = int.from_bytes(hdr[8:10], "big") & 0x3FFF
        read, write = bool(hdr[1] & 0x40), bool(hdr[1] & 0x20)
        cdb = bytes(hdr[32:48])
        if write:
            data = await self.collect(itt, edtl, data)
        if lun != 0:
            sense = bytes([0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x25, 0, 0, 0, 0, 0])
            return await self.respond(itt, CHECK_CONDITION, sense, 0, 0)
        res = await self.t.lu.execute(ScsiCommand(cdb, data, self.nexus, lun, itt, edtl,
                                                  read, write))
        din = res.data_in if read else b""
        flags, residual = 0, 0
        wanted = self.t.lu.transfer_length(cdb) if write else None
        if wanted is not None and wanted != edtl:
            flags, residual = (0x02, edtl - wanted) if edtl > wanted else (0x04, wanted - edtl)
        elif len(din) > edtl:
            flags, residual, din = 0x04, len(din) - edtl, din[:edtl]
        elif read and len(din) < edtl:
            flags, residual = 0x02, edtl - len(din)
        if res.status == GOOD and din:
            sn = 0
            for off in range(0, len(din), self.max_send):
                chunk = din[off:off + self.max_send]
                last = off + len(chunk) >= len(din)
                out = bytearray(BHS)
                out[0] = 0x25
                out[1] = (0x81 | flags) if last else 0
                out[3] = res.status
                out[8:16] = hdr[8:16]
                out[16:20] = itt.to_bytes(4, "big")
                out[20:24] = b"\xff" * 4
                self._sn(out, status=last)
                out[36:40] = sn.to_bytes(4, "big")
                out[40:44] = off.to_bytes(4, "big")
                if last:
                    out[44:48] = residual.to_bytes(4, "big")
                sn += 1
                await self.send(out, chunk)
            return
        await self.respond(itt, res.status, res.sense, flags, residual)

    async def respond(self, itt, status, sense, flags, residual) -> None:
        out = bytearray(BHS)
        out[0], out[1], out[3] = 0x21, 0x80 | flags, status
        out[16:20] = itt.to_bytes(4, "big")
        self._sn(out)
        out[44:48] = residual.to_bytes(4, "big")
        payload = struct.pack(">H", len(sense)) + sense if sense else b""
        await self.send(out, payload)


class HarnessTarget:
    def __init__(self, path: str, **lu_args):
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=4)
        self.backing = FileBacking(path, self.executor)
        lu_args.setdefault("serial", "harness-0001")
        lu_args.setdefault("device_id", bytes.fromhex("6001405f00d0000100000000000000a1"))
        self.lu = LogicalUnit(self.backing, **lu_args)
        self.server = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"iscsi://127.0.0.1:{self.port}/{TARGET_IQN}/0"

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(
            lambda r, w: Connection(self, r, w).run(), "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        self.backing.close()
        self.executor.shutdown(wait=True)


async def _main(path: str, port: int) -> None:
    target = HarnessTarget(path)
    await target.start(port)
    print(target.url, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
