"""PUT with the proxy's footer (strato/put_footer.py): the node checks xxh3, stores the sent MD5,
and every object-role answer advertises the feature."""
import hashlib
import os
import time

import pytest
import xxhash

from strato import put_footer
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
OBJ = "/object/d0/7/acc/cont/obj"
HDR = {put_footer.HEADER: put_footer.VERSION, "Content-Type": "text/plain"}


async def _put(node, payload, **headers):
    headers = {**HDR, "X-Timestamp": Timestamp.now().internal, **headers}
    async with node.request("PUT", OBJ, data=payload, headers=headers) as resp:
        return resp.status, resp.headers.copy()


def _footer(body, md5=None, xxh3=None):
    return put_footer.encode(md5 or hashlib.md5(body).hexdigest(),
                             xxh3 or xxhash.xxh3_64(body).hexdigest())


def _nothing_stored(node):
    assert os.listdir(os.path.join(node.root, "d0", "tmp")) == []
    objects = os.path.join(node.root, "d0", "objects")
    assert [f for _, _, files in os.walk(objects) for f in files] == []


@pytest.mark.parametrize("size", [0, 1, 65536, 300_001, 2 << 20])
async def test_footer_put_stores_the_sent_md5(node, size):
    body = os.urandom(size)
    status, headers = await _put(node, body + _footer(body))
    assert status == 201
    assert headers["ETag"] == hashlib.md5(body).hexdigest()
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 200 and await resp.read() == body
        assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
        assert resp.headers["Content-Length"] == str(size)


async def test_footer_xxh3_mismatch_422_leaves_nothing(node):
    body = os.urandom(100_000)
    bad = body[:-1] + bytes([body[-1] ^ 1])  # a byte changed between proxy and node
    assert (await _put(node, bad + _footer(body)))[0] == 422
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404
    _nothing_stored(node)


async def test_big_footer_xxh3_mismatch_422_leaves_nothing(node):
    body = os.urandom(3 << 20)  # written in several batches before the check
    assert (await _put(node, body + _footer(body, xxh3="0" * 16)))[0] == 422
    _nothing_stored(node)


@pytest.mark.parametrize("footer", [b"X" * put_footer.FOOTER_LEN,
                                    put_footer.MAGIC + b"G" * 48,
                                    put_footer.MAGIC + b"A" * 48])
async def test_malformed_footer_400(node, footer):
    assert (await _put(node, b"abc" + footer))[0] == 400
    _nothing_stored(node)


async def test_footer_needs_room_and_a_known_version(node):
    assert (await _put(node, b"short"))[0] == 400
    body = b"abc"
    assert (await _put(node, body + _footer(body), **{put_footer.HEADER: "md5xxh3-9"}))[0] == 400
    _nothing_stored(node)


async def test_the_sentinel_etag_is_ignored_with_a_footer_only(node):
    body = os.urandom(1000)
    status, headers = await _put(node, body + _footer(body), ETag=put_footer.ETAG_SENTINEL)
    assert status == 201 and headers["ETag"] == hashlib.md5(body).hexdigest()
    plain = {"X-Timestamp": Timestamp.now().internal, "ETag": put_footer.ETAG_SENTINEL}
    async with node.request("PUT", OBJ, data=body, headers=plain) as resp:
        assert resp.status == 422  # without the footer it is just a wrong ETag


async def test_footer_put_checks_a_given_etag_against_the_footer(node):
    body = b"abc"
    assert (await _put(node, body + _footer(body), ETag="0" * 32))[0] == 422
    _nothing_stored(node)


async def test_footer_counts_against_nothing_but_the_object(tmp_path, node_factory):
    small = await node_factory("small", max_object_size=10)
    body = b"0123456789"  # exactly the limit; the footer makes the request longer
    async with small.request("PUT", OBJ, data=body + _footer(body),
                             headers={**HDR, "X-Timestamp": Timestamp.now().internal}) as resp:
        assert resp.status == 201


@pytest.mark.parametrize("piece", [13, 7919])
@pytest.mark.parametrize("size", [0, 10, 56, 200_001])
async def test_chunked_footer_put(node, size, piece):
    body = os.urandom(size)
    payload = body + _footer(body)

    async def pieces():  # odd piece sizes so the footer straddles pieces
        for i in range(0, len(payload), piece):
            yield payload[i:i + piece]

    headers = {**HDR, "X-Timestamp": Timestamp.now().internal}
    async with node.request("PUT", OBJ, data=pieces(), headers=headers) as resp:
        assert resp.status == 201
        assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == body


async def test_chunked_footer_too_short_400(node):
    async def pieces():
        yield b"abc"
    headers = {**HDR, "X-Timestamp": Timestamp.now().internal}
    async with node.request("PUT", OBJ, data=pieces(), headers=headers) as resp:
        assert resp.status == 400
    _nothing_stored(node)


async def test_plain_put_still_hashes_md5(node):
    body = os.urandom(5000)
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "text/plain"}
    async with node.request("PUT", OBJ, data=body, headers=headers) as resp:
        assert resp.status == 201 and resp.headers["ETag"] == hashlib.md5(body).hexdigest()


async def test_every_object_answer_advertises_the_feature(node):
    feature = {put_footer.FEATURES_HEADER: put_footer.FEATURE}
    now = time.time()
    # distinct and ordered: Timestamp.now() twice while this list is built can give the same
    # 10 us tick, and the DELETE would then be a 409 against the POST's .meta
    ts, post_ts, delete_ts = (Timestamp(now + i * 0.001).internal for i in range(3))
    answers = []
    for method, headers, data in [
            ("GET", {}, None),  # 404
            ("PUT", {"X-Timestamp": ts, "Content-Type": "a/b"}, os.urandom(10 << 20)),
            ("PUT", {"X-Timestamp": ts, "Content-Type": "a/b"}, b"x"),  # 409
            ("GET", {}, None),  # streamed (larger than one window)
            ("GET", {"Range": "bytes=1-2,5-6"}, None),  # multipart/byteranges
            ("GET", {"Range": "bytes=99999999-"}, None),  # 416
            ("HEAD", {}, None),
            ("POST", {"X-Timestamp": post_ts}, None),
            ("DELETE", {"X-Timestamp": delete_ts}, None)]:
        async with node.request(method, OBJ, headers=headers, data=data) as resp:
            await resp.read()
            answers.append((method, resp.status, resp.headers.get(put_footer.FEATURES_HEADER)))
    assert [a[1] for a in answers] == [404, 201, 409, 200, 206, 416, 200, 202, 204]
    assert all(a[2] == feature[put_footer.FEATURES_HEADER] for a in answers), answers
    # the container role says nothing about it (the proxy only learns from object answers)
    async with node.request("HEAD", "/container/d0/7/acc/cont") as resp:
        assert put_footer.FEATURES_HEADER not in resp.headers


async def test_replicator_and_auditor_take_the_stored_etag_as_the_md5(node_factory):
    """A footer PUT's object audits clean (xxh3) and replicates by the old form: the receiving
    node hashes MD5 itself and checks it against the pushed ETag (422 if they differed)."""
    import dataclasses

    from objectserver import auditor, diskfile, replicator
    from objectserver.app import NODE

    a = await node_factory("a", devices=("n0",))
    b = await node_factory("b", devices=("n1",))
    body = os.urandom(300_000)
    async with a.request("PUT", "/object/n0/7/acc/cont/obj", data=body + _footer(body),
                         headers={**HDR, "X-Timestamp": Timestamp.now().internal}) as resp:
        assert resp.status == 201
    node_a = a.app[NODE]
    assert await auditor.audit_device(node_a, "n0") == (1, 0)
    name_hash = node_a.object_hash("acc", "cont", "obj")
    found = diskfile.current(node_a.device_path("n0"), 7, name_hash)

    @dataclasses.dataclass
    class Peer:
        device: str
        ip: str
        port: int

    assert await replicator.push_hash_dir(node_a, "n0", 7, name_hash, [found.data],
                                          Peer("n1", "127.0.0.1", b.server.port))
    async with b.request("GET", "/object/n1/7/acc/cont/obj") as resp:
        assert resp.status == 200 and await resp.read() == body
        assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
