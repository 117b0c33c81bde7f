"""Two PUTs of one name racing: the one with the older timestamp reaches the nodes after the newer
one is stored, and they refuse it (409 with X-Backend-Timestamp). Swift's proxy answers that PUT
202 Accepted, not an error: the name holds the newer write, as if this one had come first and
been overwritten (s3api passes the 202 on as a 200, and S3's last writer wins). Real storage
nodes on loopback; the SwiftCore under test runs in this process (test_proxy_info_coalesce.py).
"""
import os
import time

import pytest
import requests

from proxy.backend import Backend, node_session
from proxy.core import SwiftCore
from proxy.nodes import ErrorLimiter
from proxy.rings import Rings
from strato.timestamps import Timestamp


async def _body(data: bytes):
    for off in range(0, len(data), 65536):
        yield data[off:off + 65536]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [100, 300 * 1024])  # refused at commit / before the body
async def test_the_older_of_two_racing_puts_is_accepted_and_stores_nothing(cluster, size):
    url, token = cluster.login()
    auth = {"X-Auth-Token": token}
    assert requests.put(url + "/race", headers=auth).status_code in (201, 202)
    account = url.rsplit("/", 1)[1]
    session = node_session()
    core = SwiftCore(Backend(session, ErrorLimiter(3, 3.0), 0.5, 5.0),
                     Rings.from_config(cluster.config))
    older, newer = os.urandom(size), os.urandom(size)
    older_stamp = Timestamp.now()
    time.sleep(0.01)
    newer_stamp = Timestamp.now()
    name = f"o{size}"
    try:
        stored = await core.object_put(account, "race", name, {}, _body(newer), size,
                                       timestamp=newer_stamp)
        assert stored.status == 201
        late = await core.object_put(account, "race", name, {}, _body(older), size,
                                     timestamp=older_stamp)
        assert late.status == 202
    finally:
        await session.close()
    got = requests.get(f"{url}/race/{name}", headers=auth)
    assert got.status_code == 200 and got.content == newer
