"""Hostile input: random JSON bodies, actions and query strings never get a 500, and the answer is
always Cinder's fault body. The app runs in-process on an ephemeral loopback port."""
import json

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

from blockserver.api import create_app
from strato import config as config_mod

pytestmark = pytest.mark.timeout(300)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=4),
    max_leaves=12)
KEYS = st.sampled_from(["size", "name", "description", "metadata", "snapshot_id",
                        "source_volid", "volume_type", "availability_zone", "force", "volume_id",
                        "new_size", "connector", "status", "instance_uuid", "mode",
                        "volume_uuid", "imageRef", "multiattach"])
BODY = st.dictionaries(KEYS, JSON, max_size=5)
ACTIONS = st.sampled_from(["os-extend", "os-reset_status", "os-reserve", "os-unreserve",
                           "os-initialize_connection", "os-attach", "os-begin_detaching",
                           "os-roll_detaching", "os-detach", "os-terminate_connection",
                           "os-set_bootable", "os-force_delete", "os-nonsense"])
QUERY = st.dictionaries(st.sampled_from(["limit", "marker", "sort", "sort_key", "sort_dir",
                                         "offset", "metadata", "name", "status", "bootable",
                                         "all_tenants", "with_count", "cascade", "force"]),
                        st.text(max_size=15), max_size=4)
FAULTS = {"badRequest", "itemNotFound", "forbidden", "overLimit", "computeFault", "badMethod",
          "conflictingRequest", "serviceUnavailable"}


@pytest.fixture
async def client(tmp_path):
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path)},
        "blockserver": {"auth_strategy": "noauth", "quota_volumes": 20, "quota_gigabytes": 40}},
        environ={})
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}",
                                     headers={"OpenStack-API-Version": "volume 3.70"}) as session:
        r = await session.post("/v3/p/volumes", json={"volume": {"size": 1, "name": "seed"}})
        session.volume_id = (await r.json())["volume"]["id"]
        yield session
    await runner.cleanup()


async def check(response):
    assert response.status < 500 or response.status == 503, await response.text()
    if response.status >= 400:
        body = await response.json()
        assert set(body) <= FAULTS and len(body) == 1
        (fault,) = body.values()
        assert fault["code"] == response.status and isinstance(fault["message"], str)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODY, action=ACTIONS, args=JSON, query=QUERY, raw=st.binary(max_size=40))
async def test_random_requests_get_cinder_faults_never_500(client, body, action, args, query, raw):
    vid = client.volume_id
    for method, path, kw in (
            ("POST", "/v3/p/volumes", {"json": {"volume": body}}),
            ("POST", "/v3/p/snapshots", {"json": {"snapshot": dict(body, volume_id=vid)}}),
            ("PUT", f"/v3/p/volumes/{vid}", {"json": {"volume": body}}),
            ("POST", f"/v3/p/volumes/{vid}/action", {"json": {action: args}}),
            ("POST", "/v3/p/attachments", {"json": {"attachment": dict(body, volume_uuid=vid)}}),
            ("PUT", "/v3/p/os-quota-sets/p", {"json": {"quota_set": body}}),
            ("GET", "/v3/p/volumes/detail", {"params": query}),
            ("GET", "/v3/p/snapshots/detail", {"params": query}),
            ("POST", "/v3/p/volumes", {"data": raw}),
            ("POST", f"/v3/p/volumes/{vid}/metadata", {"data": json.dumps(args)})):
        async with client.request(method, path, **kw) as response:
            await check(response)
    # Put the seed volume back where the next example expects it.
    async with client.post(f"/v3/p/volumes/{vid}/action",
                           json={"os-reset_status": {"status": "available"}}):
        pass
    async with client.put("/v3/p/os-quota-sets/p", json={"quota_set": {
            "volumes": 20, "gigabytes": 40, "snapshots": 20}}):
        pass
