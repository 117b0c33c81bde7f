"""The proxy's container/account info cache sends ONE backend HEAD for concurrent misses.

Since storage policies, every object GET/PUT looks its container up (cached info_cache_ttl). When
the entry is missing or expired, each request that arrived meanwhile used to send its own
container HEAD (and account HEAD): at concurrency 16 that was 16 HEADs per expiry per worker.
Real storage nodes on loopback; the SwiftCore under test runs in this process over the real
Backend, whose read() is counted on its way through (a spy, every call reaches the nodes).
"""
import asyncio

import pytest

from proxy.backend import Backend, node_session
from proxy.core import SwiftCore
from proxy.nodes import ErrorLimiter
from proxy.rings import Rings


# `cluster` is this folder's conftest one (its port search already keeps runs apart).
async def _core(cluster, ttl, hold_first=None):
    """hold_first: (answered, release) events; the first read, once the node answered it, sets
    `answered` and keeps its answer until `release` is set (a lookup overtaken by a write)."""
    session = node_session()  # the proxy's own node client
    backend = Backend(session, ErrorLimiter(3, 3.0), 0.5, 5.0)
    core = SwiftCore(backend, Rings.from_config(cluster.config), info_ttl=ttl)
    heads = []
    real_read = backend.read

    async def counting_read(method, ring, role, *args, **kwargs):
        heads.append((method, role))
        number = len(heads)
        resp = await real_read(method, ring, role, *args, **kwargs)
        if hold_first is not None and number == 1:
            hold_first[0].set()
            await hold_first[1].wait()
        return resp

    backend.read = counting_read
    return core, session, heads


@pytest.mark.timeout(60)
async def test_concurrent_misses_share_one_head(cluster):
    import requests
    url, token = cluster.login()
    assert requests.put(url + "/coalesce", headers={"X-Auth-Token": token}).status_code in (201, 202)
    account = url.rsplit("/", 1)[1]
    core, session, heads = await _core(cluster, ttl=5.0)
    try:
        infos = await asyncio.gather(*(core.container_info(account, "coalesce") for _ in range(16)))
        assert {i.status for i in infos} == {204}
        assert heads == [("HEAD", "container")]
        infos = await asyncio.gather(*(core.account_info(account) for _ in range(16)))
        assert {i.status // 100 for i in infos} == {2}
        assert heads[1:] == [("HEAD", "account")]
        await core.container_info(account, "coalesce")  # cached now: no request
        assert len(heads) == 2
    finally:
        await session.close()


@pytest.mark.timeout(60)
async def test_invalidate_during_lookup_starts_a_new_one(cluster):
    import requests
    url, token = cluster.login()
    account = url.rsplit("/", 1)[1]
    answered, release = asyncio.Event(), asyncio.Event()
    core, session, heads = await _core(cluster, ttl=5.0, hold_first=(answered, release))
    try:
        first = asyncio.ensure_future(core.container_info(account, "later"))
        # the first lookup is in flight, and the node already answered it: no container yet
        await asyncio.wait_for(answered.wait(), 10)
        assert requests.put(url + "/later", headers={"X-Auth-Token": token}).status_code in (201, 202)
        core.invalidate(account, "later")  # what a write through this core does
        second = await core.container_info(account, "later")
        assert second.status == 204
        release.set()
        await first
        assert first.result().status == 404  # the stale answer this test is about
        # the first (pre-write) answer was not cached: a third call sees the container
        assert (await core.container_info(account, "later")).status == 204
        assert heads == [("HEAD", "container")] * 2
    finally:
        await session.close()


@pytest.mark.timeout(60)
async def test_put_counts_into_the_cached_info_without_a_new_head(cluster):
    """An object PUT updates the cached container info (count, bytes) in place, so a stream of
    PUTs into one container costs no container HEAD each (core._count_put)."""
    import requests
    url, token = cluster.login()
    assert requests.put(url + "/counted", headers={"X-Auth-Token": token}).status_code in (201, 202)
    account = url.rsplit("/", 1)[1]
    core, session, heads = await _core(cluster, ttl=30.0)

    async def body():
        yield b"12345"

    try:
        before = await core.container_info(account, "counted")
        result = await core.object_put(account, "counted", "o", {}, body(), 5)
        assert result.status == 201
        after = await core.container_info(account, "counted")
        assert heads == [("HEAD", "container")]  # the PUT and the lookup after it sent none
        assert after.int("X-Container-Object-Count") == before.int("X-Container-Object-Count") + 1
        assert after.int("X-Container-Bytes-Used") == before.int("X-Container-Bytes-Used") + 5
    finally:
        await session.close()


@pytest.mark.timeout(60)
async def test_invalidate_drops_exactly_the_written_entries(cluster):
    """invalidate(account, container) drops that container's entry; invalidate(account) drops
    the account's own entry and every container of it (an account write changes what they
    report), and no other account's entries (core keeps them per account: one pop, no scan)."""
    import requests
    url, token = cluster.login()
    for name in ("inv1", "inv2"):
        assert requests.put(f"{url}/{name}", headers={"X-Auth-Token": token}).status_code in (201, 202)
    account = url.rsplit("/", 1)[1]
    other = account + "_someone_else"  # a 404 answer is cached like any other
    core, session, heads = await _core(cluster, ttl=30.0)

    async def lookups():
        await core.account_info(account)
        await core.container_info(account, "inv1")
        await core.container_info(account, "inv2")
        await core.container_info(other, "inv1")

    try:
        await lookups()
        assert len(heads) == 4
        await lookups()
        assert len(heads) == 4  # all cached
        core.invalidate(account, "inv1")
        await lookups()
        assert heads[4:] == [("HEAD", "container")]  # inv1 only
        core.invalidate(account)
        await lookups()
        assert heads[5:] == [("HEAD", "account"), ("HEAD", "container"), ("HEAD", "container")]
        await lookups()
        assert len(heads) == 8  # cached again; the other account's entry never left
    finally:
        await session.close()
