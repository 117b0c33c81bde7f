"""The node's background daemons, started as asyncio tasks inside the node process."""
from __future__ import annotations

import asyncio


def start(node) -> list[asyncio.Task]:
    from . import auditor, replicator, updater

    return [asyncio.create_task(updater.run(node), name="updater"),
            asyncio.create_task(replicator.run(node), name="replicator"),
            asyncio.create_task(auditor.run(node), name="auditor")]
