"""Which storage nodes to ask: primaries first, then handoffs, skipping error-limited nodes.

A node (ip, port, device) that fails `error_limit_count` times in a row (connection errors,
timeouts, 5xx, 507) is error-limited: skipped for `error_limit_seconds`, then tried again. A
success resets its count. Time is injected so the rules are testable without sleeping.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator


def node_key(node) -> tuple:
    return (node.ip, node.port, node.device)


class ErrorLimiter:
    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.count = count
        self.seconds = seconds
        self.clock = clock
        self._errors: dict[tuple, int] = {}
        self._until: dict[tuple, float] = {}

    def limited(self, node) -> bool:
        key = node_key(node)
        until = self._until.get(key)
        if until is None:
            return False
        if self.clock() >= until:
            del self._until[key]
            self._errors.pop(key, None)
            return False
        return True

    def error(self, node) -> None:
        key = node_key(node)
        errors = self._errors.get(key, 0) + 1
        self._errors[key] = errors
        if errors >= self.count:
            self._until[key] = self.clock() + self.seconds

    def limit_now(self, node) -> None:
        """Limit at once (a 507: the device is gone or full, retrying soon is pointless)."""
        key = node_key(node)
        self._errors[key] = self.count
        self._until[key] = self.clock() + self.seconds

    def success(self, node) -> None:
        key = node_key(node)
        if key in self._errors:
            del self._errors[key]


class NodeIter:
    """Primaries that are not error-limited, then handoffs (also not limited), each at most once.

    Limited primaries are replaced by handoffs; if every candidate is limited the limited
    primaries are still tried last, rather than failing without asking anyone.
    """

    def __init__(self, ring, part: int, primaries: list, limiter: ErrorLimiter,
                 max_handoffs: int | None = None):
        self.ring = ring
        self.part = part
        self.primaries = primaries
        self.limiter = limiter
        self.max_handoffs = len(primaries) * 2 if max_handoffs is None else max_handoffs
        self._it = self._generate()

    def _generate(self) -> Iterator:
        skipped = []
        for node in self.primaries:
            if self.limiter.limited(node):
                skipped.append(node)
            else:
                yield node
        handed = 0
        for node in self._handoffs():
            if handed >= self.max_handoffs:
                break
            handed += 1
            if self.limiter.limited(node):
                skipped.append(node)
            else:
                yield node
        yield from skipped

    def _handoffs(self) -> Iterable:
        try:
            return self.ring.get_more_nodes(self.part)
        except Exception:  # a ring with no spare devices has no handoffs
            return ()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def take(self, n: int) -> list:
        out = []
        for node in self:
            out.append(node)
            if len(out) == n:
                break
        return out
