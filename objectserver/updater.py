"""The updater: retries the container updates kept in <device>/async_pending/ until they land."""
from __future__ import annotations

import asyncio
import logging
import time

from . import updates

log = logging.getLogger("objectserver.updater")


async def sweep(node, device: str) -> tuple[int, int]:
    """One pass over a device's pending updates: (sent, still pending)."""
    path = node.device_path(device)
    sent = left = 0
    give_up_before = time.time() - node.storage.reclaim_age
    for pending in await node.io(device, updates.list_pending, path):
        update = await node.io(device, updates.load_pending, pending)
        if update is None:
            continue
        if float(update["headers"]["X-Timestamp"].split("_")[0]) < give_up_before:
            # older than any tombstone we keep: the container is gone for good
            await node.io(device, updates.remove_pending, pending)
            continue
        if await node.updates.send_one(update):
            await node.io(device, updates.remove_pending, pending)
            sent += 1
        else:
            left += 1
    return sent, left


async def run(node) -> None:
    while True:
        await asyncio.sleep(node.storage.updater_interval)
        for device in sorted(node.devices):
            try:
                sent, left = await sweep(node, device)
                if sent or left:
                    log.info("%s: %d pending container updates sent, %d left", device, sent, left)
            except Exception:
                log.exception("%s: updater pass failed", device)
