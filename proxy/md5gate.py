"""When a PUT asks for its MD5: once the other large PUT bodies of its event loop are in too.

native.md5lanes hashes the bodies its pool holds side by side (AVX-512 lanes): a batch costs
about what one MD5 alone does, however many streams go along, so a digest is cheapest when it is
asked with the most bodies in the pool. A PUT whose body is complete waits here while other large
PUTs are open (their bodies on the way: arriving, or not sent yet, as S3 clients' bodies after
the 100 Continue), for at most `wait` seconds; the last of them to finish its body, a failed one
leaving, or the first waiter's timer lets every waiter go, and the first digest asked then hashes
them all in one batch. With no other large PUT open nothing waits but one turn of the loop.

Why not just a turn of the loop (the first form): a body that has arrived whole before its
handler reads it (boto3's PUT after `Expect: 100-continue`) is consumed in one task step, so a
turn found it alone in the pool; 1 MiB PUTs at c16 on two workers were hashed 1.4-1.8 a batch
(S3) and 2.4-2.8 (Swift API).
"""
from __future__ import annotations

import asyncio

# Longest wait for the other open bodies: a few percent of a 1 MiB PUT's latency under load
# (~50-100 ms at c16 on the 2-core box), nothing when the PUT is alone.
WAIT = 0.010


class Md5Gate:
    """The large PUT bodies of one event loop (one per Backend; not thread-safe)."""

    def __init__(self, wait: float = WAIT):
        self.wait = wait
        self._open: set = set()
        self._waiters: list[asyncio.Future] = []

    @property
    def open_count(self) -> int:
        return len(self._open)

    def open(self, body) -> None:
        """`body` (any hashable token) is on its way: complete bodies wait for it."""
        self._open.add(body)

    def close(self, body) -> None:
        """`body` is done (its digest taken, or it failed): nobody waits for it any more."""
        self._open.discard(body)
        if not self._open:
            self._release()

    async def ready(self, body) -> None:
        """`body` is complete: return when its MD5 is worth asking (see the module docstring)."""
        self._open.discard(body)
        if not self._open:
            self._release()
            await asyncio.sleep(0)  # bodies that are ready in this turn still join the batch
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self.wait, self._release)
        try:
            await waiter
        finally:
            timer.cancel()

    def _release(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():  # a cancelled waiter's PUT is being aborted
                waiter.set_result(None)
