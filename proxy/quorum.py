"""Quorum arithmetic for replicated writes and reads: pure functions, pinned by table tests.

The rule (objects, containers and accounts alike):
  * A request fanned out to N replicas needs a *quorum* of Q = N // 2 + 1 agreeing answers
    (a strict majority: 1->1, 2->2, 3->2, 4->3, 5->3).
  * Answers are grouped by status class (2xx, 3xx, 4xx, 5xx). The client gets the answer of the
    first class, in that order, that has at least Q members; within the class the most common
    status wins (ties: the lowest status, so 201 beats 202 and 204 beats 404 never happens across
    classes). A failed connection or timeout counts as 503.
  * No class reaching Q means the cluster could not agree: 503.
  * A PUT is acknowledged (201) only when Q storage nodes answered 201, each of which fsynced and
    renamed the object before answering, and all of their ETags agree; differing ETags are a 500
    (a node stored different bytes than the others) even with a 2xx quorum.
Handoffs stand in for missing primaries, so they count like primaries.
"""
from __future__ import annotations

import collections
from typing import Iterable, Sequence

FAILED = 503  # what a connection error or timeout counts as


def quorum_size(replicas: int) -> int:
    """Agreeing answers needed out of `replicas`: a strict majority."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    return replicas // 2 + 1


def status_class(status: int) -> int:
    return status // 100 * 100


def best_status(statuses: Sequence[int], replicas: int) -> int:
    """The status to answer given the nodes' statuses (FAILED for errors), per the rule above."""
    quorum = quorum_size(replicas)
    for hundred in (200, 300, 400, 500):
        members = [s for s in statuses if status_class(s) == hundred]
        if len(members) >= quorum:
            counts = collections.Counter(members)
            return min(counts, key=lambda s: (-counts[s], s))
    return 503


def have_quorum(statuses: Iterable[int], replicas: int, wanted=(200, 299)) -> bool:
    """Whether at least a quorum of `statuses` falls in [wanted[0], wanted[1]]."""
    low, high = wanted
    return sum(1 for s in statuses if low <= s <= high) >= quorum_size(replicas)


def etags_agree(etags: Iterable[str | None]) -> bool:
    """All successful PUTs reported the same ETag (None values, from nodes that sent none, ignored)."""
    seen = {e.strip('"').lower() for e in etags if e}
    return len(seen) <= 1


def write_outcome(statuses: Sequence[int], etags: Sequence[str | None], replicas: int) -> int:
    """The status of a replicated object PUT: best_status, demoted to 500 if 2xx ETags disagree."""
    status = best_status(statuses, replicas)
    if 200 <= status < 300:
        good = [e for s, e in zip(statuses, etags) if 200 <= s < 300]
        if not etags_agree(good):
            return 500
    return status
