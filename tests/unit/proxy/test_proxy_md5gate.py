"""proxy/md5gate.py: a complete body waits for the other open bodies, never longer than `wait`."""
import asyncio

import pytest

from proxy.md5gate import Md5Gate


async def _ready_at(gate, body, log, loop):
    await gate.ready(body)
    log.append((body, loop.time()))


async def test_a_body_alone_does_not_wait():
    gate = Md5Gate(wait=5.0)
    gate.open("a")
    await asyncio.wait_for(gate.ready("a"), 0.5)
    assert gate.open_count == 0


async def test_the_last_body_in_lets_every_waiter_go():
    loop = asyncio.get_running_loop()
    gate, log = Md5Gate(wait=5.0), []
    for body in "abc":
        gate.open(body)
    waiting = [asyncio.ensure_future(_ready_at(gate, body, log, loop)) for body in "ab"]
    await asyncio.sleep(0.05)
    assert log == []  # c is still on its way
    started = loop.time()
    await asyncio.wait_for(gate.ready("c"), 0.5)
    await asyncio.wait_for(asyncio.gather(*waiting), 0.5)
    assert sorted(body for body, _ in log) == ["a", "b"]
    assert all(at - started < 0.5 for _, at in log)


async def test_a_body_that_never_ends_holds_the_others_for_wait_only():
    loop = asyncio.get_running_loop()
    gate, log = Md5Gate(wait=0.1), []
    for body in ("slow", "a", "b"):
        gate.open(body)
    started = loop.time()
    await asyncio.wait_for(asyncio.gather(_ready_at(gate, "a", log, loop),
                                          _ready_at(gate, "b", log, loop)), 2.0)
    # the first waiter's timer releases both; "slow" is still open
    assert [body for body, _ in log] == ["a", "b"]
    assert all(0.09 <= at - started < 1.0 for _, at in log)
    assert gate.open_count == 1


async def test_a_failed_body_leaving_releases_the_waiters():
    loop = asyncio.get_running_loop()
    gate, log = Md5Gate(wait=5.0), []
    gate.open("a")
    gate.open("failing")
    waiter = asyncio.ensure_future(_ready_at(gate, "a", log, loop))
    await asyncio.sleep(0.02)
    assert not waiter.done()
    gate.close("failing")
    await asyncio.wait_for(waiter, 0.5)
    assert [body for body, _ in log] == ["a"]


async def test_a_cancelled_waiter_leaves_the_others_working():
    loop = asyncio.get_running_loop()
    gate, log = Md5Gate(wait=5.0), []
    for body in "abc":
        gate.open(body)
    cancelled = asyncio.ensure_future(gate.ready("a"))
    kept = asyncio.ensure_future(_ready_at(gate, "b", log, loop))
    await asyncio.sleep(0.02)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    gate.close("a")  # its PUT aborts: put_stream closes it
    assert not kept.done()  # c is still open
    gate.close("c")
    await asyncio.wait_for(kept, 0.5)
    assert [body for body, _ in log] == ["b"]
    assert gate.open_count == 0
