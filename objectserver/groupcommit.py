"""Group commit of object-row updates: one LMDB write transaction (one fsync) for every row that
arrived while the previous transaction was committing. Under load this turns N fsyncs into one;
alone, a row waits for nothing but its own commit."""
from __future__ import annotations

import asyncio


class RowCommitter:
    def __init__(self, node, device: str):
        self.node = node
        self.device = device
        self.queue: list[tuple[tuple, asyncio.Future]] = []
        self.running = False

    async def merge(self, account: str, container: str, row: list):
        """The container record after the row merged, or None when there is no container."""
        return await self.merge_rows(account, container, [row])

    async def merge_rows(self, account: str, container: str, rows: list):
        """merge() for several rows of one container (a batch of container updates). The rows
        must be well formed (see container_role.valid_row): they share a transaction with others."""
        future = asyncio.get_running_loop().create_future()
        self.queue.append(((account, container, rows), future))
        if not self.running:
            self.running = True
            asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                try:
                    db = await self.node.db(self.device)
                    results = await self.node.io(self.device, db.merge_object_rows_many,
                                                 [item for item, _ in batch])
                except Exception as exc:  # the whole transaction failed: every waiter learns it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.running = False
