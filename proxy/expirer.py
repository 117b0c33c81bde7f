"""The object expirer: deletes objects whose X-Delete-At has passed.

Object PUT/POST with X-Delete-At index the object as a row named
"<delete_at:010d>-<account>/<container>/<object>" in container "<day bucket>" of the hidden
account .expiring_objects (core.SwiftCore._note_expiring). Each pass lists the buckets that are due,
deletes each due object with X-If-Delete-At (so an object re-written without the header, or with
another time, survives: the node answers 412), then drops the row. Reads already hide expired
objects, so a late pass is never visible to clients. Only one proxy worker runs it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from proxy.core import EXPIRING_ACCOUNT, SwiftCore
from proxy.errors import SwiftError
from strato.timestamps import Timestamp

log = logging.getLogger("strato.proxy.expirer")


def parse_row(name: str) -> tuple[int, str, str, str] | None:
    """'0001700000000-AUTH_a/c/o/x' -> (1700000000, 'AUTH_a', 'c', 'o/x'); None if malformed."""
    stamp, sep, rest = name.partition("-")
    if not sep or not stamp.isdigit():
        return None
    parts = rest.split("/", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return int(stamp), parts[0], parts[1], parts[2]


class Expirer:
    def __init__(self, core: SwiftCore, interval: float):
        self.core = core
        self.interval = interval

    def start(self) -> asyncio.Task:
        return asyncio.create_task(self.run(), name="strato-proxy-expirer")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep expiring on the next pass
                log.exception("expirer pass failed")

    async def _list(self, container: str | None, marker: str = "") -> list[dict]:
        query = {"format": "json", "marker": marker}
        if container is None:
            result = await self.core.account_read("GET", EXPIRING_ACCOUNT, query)
        else:
            result = await self.core.container_read("GET", EXPIRING_ACCOUNT, container, query)
        if result.status != 200 or not result.body:
            return []
        return json.loads(result.body)

    async def run_once(self, now: float | None = None) -> int:
        """One pass; returns how many objects were deleted."""
        now = time.time() if now is None else now
        deleted = 0
        for bucket in await self._list(None):
            name = bucket.get("name", "")
            if not name.isdigit() or int(name) > now:
                continue
            marker = ""
            while True:
                rows = await self._list(name, marker)
                if not rows:
                    break
                for row in rows:
                    marker = row["name"]
                    parsed = parse_row(marker)
                    if parsed is None:
                        continue
                    at, account, container, obj = parsed
                    if at > now:
                        break
                    if await self._expire(at, account, container, obj):
                        deleted += 1
                    await self.core.container_row("DELETE", EXPIRING_ACCOUNT, name, marker,
                                                  Timestamp.now())
                else:
                    continue
                break
        return deleted

    async def _expire(self, at: int, account: str, container: str, obj: str) -> bool:
        try:
            result = await self.core.object_write(
                "DELETE", account, container, obj, {"X-If-Delete-At": str(at)},
                timestamp=Timestamp(at), versioned=False)  # as Swift's: no delete marker
        except SwiftError as exc:
            log.warning("expiring /%s/%s/%s: %s", account, container, obj, exc.status)
            return False
        if result.status // 100 != 2 and result.status != 404:
            log.warning("expiring /%s/%s/%s: %s", account, container, obj, result.status)
        return result.status // 100 == 2
