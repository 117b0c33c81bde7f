"""The node's background daemons, started as asyncio tasks inside the node process."""
from __future__ import annotations

import asyncio


def start(node) -> list[asyncio.Task]:
    from . import updater

    return [asyncio.create_task(updater.run(node), name="updater")]
