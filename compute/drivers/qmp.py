"""A minimal QMP (QEMU Machine Protocol) client over a unix socket, for hot-plugging disks.

One command at a time: send {"execute": ...}, read lines until its "return" or "error"; events
that arrive meanwhile are kept so wait_event() can find one that came early.
"""
from __future__ import annotations

import asyncio
import json


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader, self._writer = reader, writer
        self.events: list[dict] = []

    @classmethod
    async def connect(cls, path: str, timeout: float = 10.0) -> "Qmp":
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), timeout)
        qmp = cls(reader, writer)
        await qmp._message(timeout)  # the greeting
        await qmp.execute("qmp_capabilities")
        return qmp

    async def _message(self, timeout: float) -> dict:
        line = await asyncio.wait_for(self._reader.readline(), timeout)
        if not line:
            raise QmpError("qemu closed the monitor")
        return json.loads(line)

    async def execute(self, command: str, timeout: float = 30.0, **arguments):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._writer.write(json.dumps(message).encode() + b"\n")
        await self._writer.drain()
        while True:
            reply = await self._message(timeout)
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            elif "return" in reply:
                return reply["return"]

    async def wait_event(self, name: str, timeout: float, **data) -> dict:
        def wanted(event):
            return event["event"] == name and all(
                event.get("data", {}).get(k) == v for k, v in data.items())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events:
                if wanted(event):
                    self.events.remove(event)
                    return event
            left = deadline - loop.time()
            if left <= 0:
                raise QmpError(f"no {name} event within {timeout}s")
            reply = await self._message(left)
            if "event" in reply:
                self.events.append(reply)

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
